import type { Pod, PodStatus, ReplicaSet } from '../../messages';
import {
  adopted, BURST_REPLICAS, claimPods, controllerRef, isActive, podFromTemplate, podName, podsToDelete, released, replicaDiff,
  replicaSetStatus, slowStartBatches,
} from './reconcile';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function set(over: Partial<ReplicaSet['spec']> = {}, meta: Partial<ReplicaSet['metadata']> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: 3, ...meta },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      ...over,
    },
  };
}

function pod(name: string, opts: {
  labels?: Record<string, string>; owner?: string | null; node?: string; phase?: PodStatus['phase']; readySince?: number;
  created?: number; restarts?: number; deleting?: boolean;
} = {}): Pod {
  const owner = opts.owner === undefined ? 'rs-uid' : opts.owner;
  const conditions = opts.readySince !== undefined ? [{ type: 'Ready' as const, status: 'True' as const, lastTransitionTime: iso(opts.readySince) }] : [];
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `${name}-uid`, labels: opts.labels ?? { app: 'web', tier: 'front' },
      creationTimestamp: iso(opts.created ?? T0),
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: owner, controller: true }] } : {}),
      ...(opts.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...(opts.node ? { nodeName: opts.node } : {}) },
    status: {
      phase: opts.phase ?? 'Pending', conditions,
      containerStatuses: [{ name: 'c', image: 'busybox', ready: false, restartCount: opts.restarts ?? 0, state: {}, lastState: {} }],
    },
  };
}

describe('slow start', () => {
  it('makes pods in batches of 1, 2, 4, ... up to the count', () => {
    expect(slowStartBatches(0)).toEqual([]);
    expect(slowStartBatches(1)).toEqual([1]);
    expect(slowStartBatches(10)).toEqual([1, 2, 4, 3]);
    expect(slowStartBatches(15)).toEqual([1, 2, 4, 8]);
    expect(slowStartBatches(100).reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('asks for the missing pods, at most a burst at a time, and none while the set is deleted', () => {
    expect(replicaDiff(set({ replicas: 5 }), 2)).toBe(3);
    expect(replicaDiff(set({ replicas: 1 }), 4)).toBe(-3);
    expect(replicaDiff(set({ replicas: 5000 }), 0)).toBe(BURST_REPLICAS);
    expect(replicaDiff(set({ replicas: 5 }, { deletionTimestamp: iso(T0) }), 0)).toBe(0);
  });
});

describe('which pods to delete', () => {
  it('unscheduled first, then pending before running, not ready before ready', () => {
    const pods = [
      pod('running-ready', { node: 'n1', phase: 'Running', readySince: T0 }),
      pod('running', { node: 'n2', phase: 'Running' }),
      pod('pending-bound', { node: 'n3' }),
      pod('unscheduled'),
    ];
    expect(podsToDelete(pods, 4).map((p) => p.metadata.name)).toEqual(['unscheduled', 'pending-bound', 'running', 'running-ready']);
    expect(podsToDelete(pods, 1).map((p) => p.metadata.name)).toEqual(['unscheduled']);
    expect(podsToDelete(pods, 0)).toEqual([]);
  });

  it('among equals: ready for less time first, then more restarts, then the newest', () => {
    const ready = [
      pod('old-ready', { node: 'n1', phase: 'Running', readySince: T0 }),
      pod('new-ready', { node: 'n2', phase: 'Running', readySince: T0 + 60_000 }),
    ];
    expect(podsToDelete(ready, 1)[0].metadata.name).toBe('new-ready');
    const same = [
      pod('older', { node: 'n1', phase: 'Running', created: T0 }),
      pod('newer', { node: 'n2', phase: 'Running', created: T0 + 1000 }),
      pod('crashy', { node: 'n3', phase: 'Running', created: T0, restarts: 4 }),
    ];
    expect(podsToDelete(same, 3).map((p) => p.metadata.name)).toEqual(['crashy', 'newer', 'older']);
  });

  it('prefers pods doubled up on a node', () => {
    const pods = [
      pod('alone', { node: 'n1', phase: 'Running', created: T0 + 5000 }),
      pod('shared-a', { node: 'n2', phase: 'Running' }),
      pod('shared-b', { node: 'n2', phase: 'Running' }),
    ];
    expect(podsToDelete(pods, 1)[0].metadata.name).toMatch(/^shared/);
  });
});

describe('adopt and release', () => {
  it('keeps its pods, adopts selected orphans, releases pods it no longer selects, ignores others', () => {
    const rs = set();
    const pods = [
      pod('mine'),
      pod('orphan', { owner: null }),
      pod('orphan-other-labels', { owner: null, labels: { app: 'db' } }),
      pod('relabelled', { labels: { app: 'debug' } }),
      pod('someone-elses', { owner: 'other-uid' }),
      pod('orphan-deleting', { owner: null, deleting: true }),
    ];
    const c = claimPods(rs, pods);
    expect(c.owned.map((p) => p.metadata.name)).toEqual(['mine']);
    expect(c.adopt.map((p) => p.metadata.name)).toEqual(['orphan']);
    expect(c.release.map((p) => p.metadata.name)).toEqual(['relabelled']);
  });

  it('adopts nothing while it is being deleted', () => {
    expect(claimPods(set({}, { deletionTimestamp: iso(T0) }), [pod('orphan', { owner: null })]).adopt).toEqual([]);
  });

  it('an adoption adds its controller reference; a release removes only its own', () => {
    const rs = set();
    const a = adopted(pod('orphan', { owner: null }), rs);
    expect(a.metadata.ownerReferences).toEqual([controllerRef(rs)]);
    expect(controllerRef(rs)).toMatchObject({ kind: 'ReplicaSet', apiVersion: 'apps/v1', controller: true, blockOwnerDeletion: true, uid: 'rs-uid' });
    expect(released(a, rs).metadata.ownerReferences).toBeUndefined();
  });
});

describe('status', () => {
  it('counts active, fully labelled, ready and available pods', () => {
    const rs = set({ minReadySeconds: 10 });
    const pods = [
      pod('a', { readySince: T0 - 20_000 }),
      pod('b', { readySince: T0 - 4_000 }),
      pod('c', { labels: { app: 'web' } }),
    ];
    const { status, requeueAfterMs } = replicaSetStatus(rs, pods, undefined, T0);
    expect(status).toEqual({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 3 });
    // b becomes available 6 s from now.
    expect(requeueAfterMs).toBeGreaterThanOrEqual(6_000);
    expect(requeueAfterMs).toBeLessThan(7_000);
  });

  it('sets ReplicaFailure on a failure and clears it on success', () => {
    const rs = set();
    const failed = replicaSetStatus(rs, [], { reason: 'FailedCreate', message: 'quota' }, T0).status;
    expect(failed.conditions).toEqual([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: iso(T0) }]);
    const again = replicaSetStatus({ ...rs, status: failed }, [], { reason: 'FailedCreate', message: 'quota' }, T0 + 5000).status;
    expect(again.conditions?.[0].lastTransitionTime).toBe(iso(T0));
    expect(replicaSetStatus({ ...rs, status: failed }, [], undefined, T0).status.conditions).toBeUndefined();
  });

  it('active pods are neither terminating nor finished', () => {
    expect(isActive(pod('a', { phase: 'Running' }))).toBe(true);
    expect(isActive(pod('a', { phase: 'Failed' }))).toBe(false);
    expect(isActive(pod('a', { phase: 'Succeeded' }))).toBe(false);
    expect(isActive(pod('a', { deleting: true }))).toBe(false);
  });
});

describe('new pods', () => {
  it('are named after the set with five random characters, the base cut to 58', () => {
    expect(podName('web')).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const long = podName('a'.repeat(100));
    expect(long).toHaveLength(63);
  });

  it('carry the template labels and the controller reference', () => {
    const rs = set();
    const p = podFromTemplate(rs, 'web-abcde');
    expect(p.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(p.metadata.ownerReferences).toEqual([controllerRef(rs)]);
    expect(p.spec).toEqual(rs.spec.template.spec);
    expect(p.spec).not.toBe(rs.spec.template.spec);
  });
});
