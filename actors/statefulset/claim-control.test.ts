import type { ObjectStore, Stored } from '../../bus';
import {
  AlreadyExistsError, ConflictError, DEFAULT_CLASS_ANNOTATION, isConflict, NotFoundError, objectKey, PVC_PROTECTION_FINALIZER,
  type KubeObject, type PersistentVolumeClaim, type Pod, type StatefulSet,
} from '../../messages';
import { persistentVolumeClaimModule } from '../volume';
import { statefulClaimControl } from './claim-control';

/**
 * A store of revisioned objects with the ObjectStore's create/update/get/list semantics, enough
 * for the claim steps; `failUpdates` makes every update lose a race (Conflict).
 */
function memoryStore(): { store: ObjectStore; data: Map<string, Stored<unknown>>; failUpdates: boolean } {
  const data = new Map<string, Stored<unknown>>();
  let rev = 0;
  const self = { data, failUpdates: false, store: undefined as unknown as ObjectStore };
  const match = (filter: string, key: string) => key.startsWith(filter.replace(/>$/, ''));
  self.store = {
    async get(key: string) { return (data.get(key) as Stored<never>) ?? null; },
    async list(filter: string) { return { items: [...data.values()].filter((s) => match(filter, s.key)), revision: rev }; },
    async create(key: string, object: unknown) {
      if (data.has(key)) throw new AlreadyExistsError(`${key} exists`);
      data.set(key, { key, object, revision: ++rev });
      return rev;
    },
    async update(key: string, object: unknown, expected: number) {
      const cur = data.get(key);
      if (!cur) throw new NotFoundError(`${key} not found`);
      if (self.failUpdates || cur.revision !== expected) throw new ConflictError(`${key} changed`);
      data.set(key, { key, object, revision: ++rev });
      return rev;
    },
  } as unknown as ObjectStore;
  return self;
}

const template = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce' as const], resources: { requests: { storage: '1Gi' } } } };
const sts = (replicas: number, policy?: StatefulSet['spec']['persistentVolumeClaimRetentionPolicy']): StatefulSet => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'ns1', uid: 'sts-uid' },
  spec: {
    replicas, selector: { matchLabels: { app: 'db' } }, volumeClaimTemplates: [template], persistentVolumeClaimRetentionPolicy: policy,
    template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
});
const pod = (ordinal: number, phase?: 'Pending' | 'Running'): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `db-${ordinal}`, namespace: 'ns1', uid: `pod-${ordinal}` },
  spec: { containers: [] }, ...(phase ? { status: { phase } } : {}),
});
const claimKey = (name: string) => objectKey('persistentvolumeclaims', 'ns1', name);

function setup() {
  const mem = memoryStore();
  const events: string[] = [];
  const steps = statefulClaimControl({
    store: mem.store, claims: persistentVolumeClaimModule, now: () => Date.parse('2026-01-01T00:00:00Z'),
    recordEvent: (_o: KubeObject, type, reason, message) => { events.push(`${type} ${reason} ${message}`); },
  });
  const claim = (name: string) => (mem.data.get(claimKey(name))?.object as PersistentVolumeClaim | undefined);
  return { mem, events, steps, claim };
}

describe('StatefulSet claim steps', () => {
  it("makes a new replica's claim through the claim kind's admission and the default class, and says so", async () => {
    const { mem, events, steps, claim } = setup();
    await mem.store.create(objectKey('storageclasses', undefined, 'fast'), {
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
      provisioner: 'x',
    });
    const s = sts(2);
    expect(await steps.ensureClaims(s, 0, await steps.claimsOf(s))).toEqual({});
    const made = claim('data-db-0')!;
    expect(made.metadata).toMatchObject({ namespace: 'ns1', labels: { app: 'db' }, finalizers: [PVC_PROTECTION_FINALIZER] });
    expect(made.metadata.uid).toBeTruthy();
    expect(made.spec).toMatchObject({ storageClassName: 'fast', volumeMode: 'Filesystem' });
    expect(events).toEqual(['Normal SuccessfulCreate create Claim data-db-0 Pod db-0 in StatefulSet db success']);
  });

  it('reuses an existing claim untouched, and reads no claims for a set without templates', async () => {
    const { mem, events, steps, claim } = setup();
    const mine = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-db-1', namespace: 'ns1', uid: 'old', labels: { keep: 'me' } }, spec: template.spec };
    const rev = await mem.store.create(claimKey('data-db-1'), mine);
    const s = sts(2);
    expect(await steps.ensureClaims(s, 1, await steps.claimsOf(s))).toEqual({});
    expect(claim('data-db-1')).toEqual(mine);
    expect(mem.data.get(claimKey('data-db-1'))!.revision).toBe(rev);
    expect(events).toEqual([]);
    expect((await steps.claimsOf({ ...s, spec: { ...s.spec, volumeClaimTemplates: [] } })).size).toBe(0);
    expect((await steps.claimsOf(s)).size).toBe(1);
  });

  it('fails a replica whose claim is being deleted, and waits when the claim appears meanwhile', async () => {
    const { mem, events, steps } = setup();
    await mem.store.create(claimKey('data-db-0'), { metadata: { name: 'data-db-0', namespace: 'ns1', deletionTimestamp: 'x' }, spec: template.spec });
    const s = sts(2);
    const failed = await steps.ensureClaims(s, 0, await steps.claimsOf(s));
    expect(failed.failure).toBe('create Pod db-0 in StatefulSet db failed error: pvc data-db-0 is being deleted');
    expect(events).toEqual([`Warning FailedCreate ${failed.failure}`]);
    // Listed before someone else made it: the create finds it there, and the pod waits for the next look.
    const stale = await steps.claimsOf(s);
    await mem.store.create(claimKey('data-db-1'), { metadata: { name: 'data-db-1', namespace: 'ns1' }, spec: template.spec });
    expect(await steps.ensureClaims(s, 1, stale)).toEqual({ wait: 'pvc data-db-1 was made meanwhile' });
  });

  it('gives a scale-down its claims to the condemned pod, and lets a lost race throw Conflict', async () => {
    const { mem, steps, claim } = setup();
    const s = sts(1, { whenScaled: 'Delete' });
    for (const n of ['data-db-0', 'data-db-1']) await mem.store.create(claimKey(n), { metadata: { name: n, namespace: 'ns1', uid: n }, spec: template.spec });
    await steps.retainClaims(s, [pod(0), pod(1)], await steps.claimsOf(s));
    expect(claim('data-db-1')!.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'db-1', uid: 'pod-1' }]);
    expect(claim('data-db-0')!.metadata.ownerReferences).toBeUndefined();
    // Scaled back up before it went: the pod no longer owns it.
    const up = sts(2, { whenScaled: 'Delete' });
    await steps.retainClaims(up, [pod(0), pod(1)], await steps.claimsOf(up));
    expect(claim('data-db-1')!.metadata.ownerReferences).toBeUndefined();
    mem.failUpdates = true;
    const err = await steps.retainClaims(s, [pod(1)], await steps.claimsOf(s)).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
  });

  it('makes again a claim missing under a Pending pod, not under a running one, nor in a namespace being deleted', async () => {
    const { mem, events, steps, claim } = setup();
    const s = sts(2);
    const nsKey = objectKey('namespaces', undefined, 'ns1');
    await mem.store.create(nsKey, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1', deletionTimestamp: 'x' } });
    expect(await steps.remakeClaims(s, [pod(1, 'Pending')], await steps.claimsOf(s))).toBeUndefined();
    expect(claim('data-db-1')).toBeUndefined();
    await mem.store.update(nsKey, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } }, mem.data.get(nsKey)!.revision);
    expect(await steps.remakeClaims(s, [pod(0, 'Running'), pod(1, 'Pending')], await steps.claimsOf(s))).toBeUndefined();
    expect(claim('data-db-0')).toBeUndefined();
    expect(claim('data-db-1')?.metadata.name).toBe('data-db-1');
    expect(events).toEqual(['Normal SuccessfulCreate create Claim data-db-1 Pod db-1 in StatefulSet db success']);
  });
});
