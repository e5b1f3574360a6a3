/**
 * The volume controller's shell against a real nats-server, driven pass by pass (no control plane
 * runs, so nothing else reconciles): a released Delete volume whose data cannot be removed goes
 * Failed with VolumeFailedDelete and is retried without rewriting itself; once removal succeeds the
 * volume is deleted, and its protection finalizer goes since it is no longer Bound.
 */
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { objectKey, PV_PROTECTION_FINALIZER, type PersistentVolume } from '../../../messages';
import { volumeController } from '../../../actors/volume';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(30_000);

let server: NatsServer;
let bus: Bus;
let store: ObjectStore;
beforeAll(async () => {
  server = await startNatsServer();
  bus = await connectBus({ servers: server.url, name: 'volume-reclaim-test' });
  store = await ObjectStore.open(bus);
});
afterAll(async () => {
  await bus?.close();
  await server?.stop();
});

it('a failed data removal leaves the volume Failed and is retried; success deletes the volume', async () => {
  const key = objectKey('persistentvolumes', undefined, 'scratch');
  await store.create<PersistentVolume>(key, {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name: 'scratch', uid: 'pv-uid', creationTimestamp: new Date().toISOString(), finalizers: [PV_PROTECTION_FINALIZER] },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/scratch' }, persistentVolumeReclaimPolicy: 'Delete',
      claimRef: { namespace: 'default', name: 'gone', uid: 'claim-uid' },
    },
    status: { phase: 'Bound' },
  });
  let failures = 2;
  const removed: string[] = [];
  const events: string[] = [];
  const c = volumeController(store, {
    reclaimer: { async deleteData(pv) { if (failures-- > 0) throw new Error('device busy'); removed.push(pv.metadata.name); } },
    recordEvent: (_o, type, reason, message) => events.push(`${type} ${reason} ${message}`),
  });

  expect(await c.reconcile(key, null)).toEqual({ requeueAfterMs: expect.any(Number) });
  const failed = (await store.get<PersistentVolume>(key))!;
  expect(failed.object.status).toMatchObject({ phase: 'Failed', reason: 'VolumeFailedDelete', message: 'device busy' });
  expect(events).toEqual(['Warning VolumeFailedDelete device busy']);

  // Failing again changes nothing stored (a write would wake the volume at once, in a loop).
  await c.reconcile(key, null);
  expect((await store.get<PersistentVolume>(key))!.revision).toBe(failed.revision);
  expect(events).toHaveLength(2);

  await c.reconcile(key, null);
  expect(removed).toEqual(['scratch']);
  const marked = (await store.get<PersistentVolume>(key))!.object;
  expect(marked.metadata.deletionTimestamp).toBeDefined();
  // The next pass (the controller's informer would bring it) lets the object go: not Bound.
  await c.reconcile(key, null);
  expect((await store.get<PersistentVolume>(key))!.object.metadata.finalizers).toBeUndefined();
});
