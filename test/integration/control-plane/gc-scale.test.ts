/**
 * The garbage collector with many dependents, against a real nats-server: a foreground deletion of
 * an owner of a thousand pods reads each dependent a bounded number of times, not once per event
 * of every other dependent (which would make the cascade quadratic in store reads), and its graph
 * keeps nothing of what is gone.
 */
import { start, stop } from 'nact';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { startGarbageCollector, type GarbageCollector } from '../../../actors/garbage-collector';
import { KIND_MODULES } from '../../../actors/kinds';
import { FOREGROUND_FINALIZER, objectKey, timestamp, type KubeObject } from '../../../messages';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(120_000);

const DEPENDENTS = 1_000;

describe('garbage collection at scale', () => {
  let server: NatsServer;
  let bus: Bus;
  let store: ObjectStore;
  let system: ReturnType<typeof start> | undefined;
  let gc: GarbageCollector | undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'gc-scale' });
    store = await ObjectStore.open(bus);
  });
  afterAll(async () => {
    await gc?.stop();
    if (system) stop(system);
    await bus?.close();
    await server?.stop();
  });

  it(`deletes an owner of ${DEPENDENTS} blocking dependents in the foreground with O(n) store reads`, async () => {
    const pod = (name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}`, ...meta },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const ownerKey = objectKey('pods', 'default', 'owner');
    await store.create(ownerKey, pod('owner'));
    const ref = { apiVersion: 'v1', kind: 'Pod', name: 'owner', uid: 'uid-owner', blockOwnerDeletion: true };
    for (let i = 0; i < DEPENDENTS; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => store.create(objectKey('pods', 'default', `d${i + j}`), pod(`d${i + j}`, { ownerReferences: [ref] }))));
    }
    let gets = 0;
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'get') return (...args: unknown[]) => { gets++; return (v as (...a: unknown[]) => unknown).apply(target, args); };
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    system = start();
    gc = await startGarbageCollector(system, counting, KIND_MODULES);
    await store.mutate<KubeObject>(ownerKey, (o) => {
      o.metadata.deletionTimestamp = timestamp();
      o.metadata.deletionGracePeriodSeconds = 0;
      o.metadata.finalizers = [FOREGROUND_FINALIZER];
      return o;
    });
    await waitFor(async () => (await store.get(ownerKey)) === null, 'the owner gone', 100_000);
    expect((await store.list('pods.>')).items).toHaveLength(0);
    // Each dependent is read when it is deleted and on its own few turns (5 reads each); the owner's
    // turns read none of them again (they did: 8 reads each here, more as events outpace turns).
    expect(gets).toBeLessThan(6 * DEPENDENTS);
  });

  it('keeps nothing in its graph of the owners and objects that are gone', async () => {
    await waitFor(() => gc!.graphSize().objects === 0, 'the graph emptied', 20_000);
    expect(gc!.graphSize()).toEqual({ objects: 0, owners: 0 });
  });
});
