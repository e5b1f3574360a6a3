import type { Pod, StatefulSet } from '../../messages';
import {
  asRevisionName, CONTROLLER_REVISION_HASH_LABEL, isHealthy, madeFromCurrent, ordinalOf, planStatefulSet, POD_INDEX_LABEL, POD_NAME_LABEL,
  podRevision, rollingUpdateVictim, statefulPod, statefulSetRevision, statefulSetStatus, statefulSetTemplateHash,
} from './reconcile';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const T0 = '2026-01-01T00:00:00Z';

const sts = (spec: Partial<StatefulSet['spec']> = {}, image = 'v1'): StatefulSet => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'default', uid: 'sts-uid', generation: 2 },
  spec: {
    serviceName: 'nginx', replicas: 3, podManagementPolicy: 'OrderedReady',
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    ...spec,
  },
});

type Phase = NonNullable<Pod['status']>['phase'];
/** The pod of `ordinal`: Running and Ready unless told otherwise. */
const pod = (ordinal: number, hash: string, opts: { ready?: boolean; deleting?: boolean; phase?: Phase; readyAt?: string } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name: `web-${ordinal}`, namespace: 'default', uid: `u${ordinal}`, creationTimestamp: T0,
    labels: { app: 'web', [CONTROLLER_REVISION_HASH_LABEL]: hash },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true }],
    ...(opts.deleting ? { deletionTimestamp: T0 } : {}),
  },
  spec: { containers: [{ name: 'c', image: 'v1' }] },
  status: {
    phase: opts.phase ?? 'Running',
    conditions: opts.ready === false ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: opts.readyAt ?? T0 }],
  },
});

const H1 = statefulSetRevision(sts());
const H2 = statefulSetRevision(sts({}, 'v2'));
const names = (pods: Pod[]) => pods.map((p) => p.metadata.name);

describe('statefulPod', () => {
  it('names the pod <set>-<ordinal>, makes that its hostname and the service its subdomain, and labels it', () => {
    const p = statefulPod(sts({ template: { metadata: { labels: { app: 'web' }, annotations: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } } }), 2, H1);
    expect(p.metadata.name).toBe('web-2');
    expect(p.spec.hostname).toBe('web-2');
    expect(p.spec.subdomain).toBe('nginx');
    expect(p.metadata.labels).toEqual({ app: 'web', [POD_NAME_LABEL]: 'web-2', [POD_INDEX_LABEL]: '2', [CONTROLLER_REVISION_HASH_LABEL]: H1 });
    expect(p.metadata.annotations).toEqual({ a: 'b' });
    expect(p.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true, blockOwnerDeletion: true }]);
    expect(statefulPod(sts({ serviceName: undefined }), 0, H1).spec.subdomain).toBeUndefined();
  });

  it('reads the ordinal back from a member name only', () => {
    const s = sts();
    expect(ordinalOf(s, pod(7, H1))).toBe(7);
    for (const name of ['web-07', 'web-x', 'webby-1', 'web-', 'web-1-2']) {
      expect(ordinalOf(s, { ...pod(0, H1), metadata: { ...pod(0, H1).metadata, name } })).toBeUndefined();
    }
  });

  it('gives a new revision for a new template', () => {
    expect(H1).not.toBe(H2);
    expect(statefulSetRevision(sts())).toBe(H1);
  });
});

describe('planStatefulSet: OrderedReady', () => {
  it('makes ordinal 0 first, then each next one only once all before it are Running and Ready', () => {
    expect(planStatefulSet(sts(), [], H1, NOW)).toMatchObject({ create: [0], delete: [] });
    expect(planStatefulSet(sts(), [pod(0, H1, { ready: false })], H1, NOW)).toMatchObject({ create: [], delete: [], waiting: 'pod web-0 to be Running and Ready' });
    expect(planStatefulSet(sts(), [pod(0, H1, { phase: 'Pending', ready: false })], H1, NOW).create).toEqual([]);
    expect(planStatefulSet(sts(), [pod(0, H1)], H1, NOW).create).toEqual([1]);
    expect(planStatefulSet(sts(), [pod(0, H1), pod(1, H1)], H1, NOW).create).toEqual([2]);
    expect(planStatefulSet(sts(), [pod(0, H1), pod(1, H1), pod(2, H1)], H1, NOW)).toEqual({ create: [], delete: [] });
  });

  it('waits for minReadySeconds before the next ordinal', () => {
    const s = sts({ minReadySeconds: 60 });
    expect(planStatefulSet(s, [pod(0, H1, { readyAt: new Date(NOW - 30_000).toISOString() })], H1, NOW).create).toEqual([]);
    expect(planStatefulSet(s, [pod(0, H1, { readyAt: new Date(NOW - 61_000).toISOString() })], H1, NOW).create).toEqual([1]);
  });

  it('starts at ordinals.start', () => {
    expect(planStatefulSet(sts({ ordinals: { start: 5 }, replicas: 2 }), [], H1, NOW).create).toEqual([5]);
    const plan = planStatefulSet(sts({ ordinals: { start: 5 }, replicas: 2 }), [pod(0, H1), pod(5, H1), pod(6, H1)], H1, NOW);
    expect(names(plan.delete)).toEqual(['web-0']);
  });

  it('re-creates a deleted pod with the same ordinal, and waits while a pod is being deleted', () => {
    expect(planStatefulSet(sts(), [pod(0, H1), pod(2, H1)], H1, NOW).create).toEqual([1]);
    expect(planStatefulSet(sts(), [pod(0, H1), pod(1, H1, { deleting: true }), pod(2, H1)], H1, NOW))
      .toMatchObject({ create: [], delete: [], waiting: 'pod web-1 to be deleted' });
  });

  it('deletes a failed replica (it comes back under the same name once gone)', () => {
    const plan = planStatefulSet(sts(), [pod(0, H1), pod(1, H1, { phase: 'Failed', ready: false }), pod(2, H1)], H1, NOW);
    expect(plan.create).toEqual([]);
    expect(names(plan.delete)).toEqual(['web-1']);
  });

  it('scales down from the highest ordinal, one at a time, waiting for each to go', () => {
    const s = sts({ replicas: 1 });
    const all = [pod(0, H1), pod(1, H1), pod(2, H1)];
    expect(names(planStatefulSet(s, all, H1, NOW).delete)).toEqual(['web-2']);
    expect(planStatefulSet(s, [pod(0, H1), pod(1, H1), pod(2, H1, { deleting: true })], H1, NOW))
      .toMatchObject({ delete: [], waiting: 'a condemned pod to be deleted' });
    expect(names(planStatefulSet(s, [pod(0, H1), pod(1, H1)], H1, NOW).delete)).toEqual(['web-1']);
    expect(planStatefulSet(s, [pod(0, H1)], H1, NOW)).toEqual({ create: [], delete: [] });
  });

  it('does not scale down while another pod is unhealthy, but may remove the unhealthy top one', () => {
    const s = sts({ replicas: 1 });
    expect(planStatefulSet(s, [pod(0, H1), pod(1, H1, { ready: false }), pod(2, H1)], H1, NOW).delete).toEqual([]);
    expect(planStatefulSet(s, [pod(0, H1, { ready: false }), pod(1, H1), pod(2, H1)], H1, NOW).delete).toEqual([]);
    expect(names(planStatefulSet(s, [pod(0, H1), pod(1, H1), pod(2, H1, { ready: false })], H1, NOW).delete)).toEqual(['web-2']);
  });

  it('makes and deletes nothing while the set is being deleted', () => {
    const s = { ...sts(), metadata: { ...sts().metadata, deletionTimestamp: T0 } };
    expect(planStatefulSet(s, [pod(0, H1), pod(5, H1)], H1, NOW)).toEqual({ create: [], delete: [] });
  });
});

describe('planStatefulSet: Parallel', () => {
  it('makes every missing pod at once, without waiting for readiness', () => {
    const s = sts({ podManagementPolicy: 'Parallel' });
    expect(planStatefulSet(s, [], H1, NOW).create).toEqual([0, 1, 2]);
    expect(planStatefulSet(s, [pod(1, H1, { ready: false })], H1, NOW).create).toEqual([0, 2]);
  });

  it('deletes every condemned pod at once, and replaces failed ones', () => {
    const s = sts({ podManagementPolicy: 'Parallel', replicas: 1 });
    const plan = planStatefulSet(s, [pod(0, H1, { phase: 'Failed', ready: false }), pod(1, H1, { ready: false }), pod(2, H1), pod(3, H1, { deleting: true })], H1, NOW);
    expect(names(plan.delete).sort()).toEqual(['web-0', 'web-1', 'web-2']);
  });
});

describe('rolling update', () => {
  const at = (hashes: string[], opts: Parameters<typeof pod>[2] = {}) => hashes.map((h, i) => pod(i, h, opts));

  it('replaces the highest old pod first, one at a time, each once all others are Running and Ready', () => {
    const s = sts({}, 'v2');
    expect(names(planStatefulSet(s, at([H1, H1, H1]), H2, NOW).delete)).toEqual(['web-2']);
    // web-2 came back at H2 but is not ready yet: nothing more goes.
    const waiting = [pod(0, H1), pod(1, H1), pod(2, H2, { ready: false })];
    expect(planStatefulSet(s, waiting, H2, NOW)).toMatchObject({ delete: [], waiting: 'pod web-2 to be Running and Ready' });
    expect(names(planStatefulSet(s, at([H1, H1, H2]), H2, NOW).delete)).toEqual(['web-1']);
    expect(names(planStatefulSet(s, at([H1, H2, H2]), H2, NOW).delete)).toEqual(['web-0']);
    expect(planStatefulSet(s, at([H2, H2, H2]), H2, NOW)).toEqual({ create: [], delete: [] });
  });

  it('updates only ordinals at or above the partition', () => {
    const s = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, 'v2');
    expect(names(planStatefulSet(s, at([H1, H1, H1]), H2, NOW).delete)).toEqual(['web-2']);
    expect(planStatefulSet(s, at([H1, H1, H2]), H2, NOW)).toEqual({ create: [], delete: [] });
    expect(rollingUpdateVictim(s, at([H1, H1, H2]), H2, NOW)).toEqual({});
  });

  it('waits for a missing replica or one being deleted before replacing', () => {
    const s = sts({ podManagementPolicy: 'Parallel' }, 'v2');
    expect(planStatefulSet(s, [pod(0, H1), pod(1, H1, { deleting: true }), pod(2, H1)], H2, NOW).delete).toEqual([]);
    expect(rollingUpdateVictim(s, [pod(0, H1), pod(2, H1)], H2, NOW)).toEqual({ waiting: 'every replica to exist before updating' });
  });

  it('replaces nothing with OnDelete: a pod the user deletes comes back at the new revision', () => {
    const s = sts({ updateStrategy: { type: 'OnDelete' } }, 'v2');
    expect(planStatefulSet(s, at([H1, H1, H1]), H2, NOW)).toEqual({ create: [], delete: [] });
    expect(planStatefulSet(s, [pod(0, H1), pod(2, H1)], H2, NOW).create).toEqual([1]);
    expect(statefulPod(s, 1, H2).metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL]).toBe(H2);
  });
});

describe('statefulSetStatus', () => {
  it('counts replicas, ready, available and updated pods, and the revisions', () => {
    const s = { ...sts({ minReadySeconds: 60 }, 'v2'), status: { replicas: 3, currentRevision: H1 } };
    const pods = [
      pod(0, H1, { readyAt: new Date(NOW - 120_000).toISOString() }),
      pod(1, H1, { readyAt: new Date(NOW - 10_000).toISOString() }),
      pod(2, H2, { ready: false }),
      pod(3, H1, { deleting: true }),
    ];
    const { status, requeueAfterMs } = statefulSetStatus(s, pods, H2, NOW);
    expect(status).toEqual({
      replicas: 3, readyReplicas: 2, availableReplicas: 1, updatedReplicas: 1, currentReplicas: 2,
      currentRevision: H1, updateRevision: H2, observedGeneration: 2, collisionCount: 0,
    });
    expect(requeueAfterMs).toBe(50_050);
  });

  it('moves currentRevision to the update revision once every replica is at it and ready', () => {
    const s = { ...sts({}, 'v2'), status: { replicas: 3, currentRevision: H1 } };
    expect(statefulSetStatus(s, [pod(0, H2), pod(1, H2), pod(2, H2, { ready: false })], H2, NOW).status.currentRevision).toBe(H1);
    const done = statefulSetStatus(s, [pod(0, H2), pod(1, H2), pod(2, H2)], H2, NOW).status;
    expect(done).toMatchObject({ currentRevision: H2, currentReplicas: 3, updatedReplicas: 3 });
    expect(statefulSetStatus(sts(), [], H1, NOW).status).toMatchObject({ replicas: 0, currentRevision: H1, updateRevision: H1 });
  });

  it('isHealthy needs Running, Ready and minReadySeconds, and not being deleted', () => {
    expect(isHealthy(pod(0, H1), 0, NOW)).toBe(true);
    expect(isHealthy(pod(0, H1, { deleting: true }), 0, NOW)).toBe(false);
    expect(isHealthy(pod(0, H1, { phase: 'Pending' }), 0, NOW)).toBe(false);
    expect(isHealthy(pod(0, H1, { ready: false }), 0, NOW)).toBe(false);
  });
});

describe('revisions', () => {
  it('names the revision <set>-<hash>, salted by the collision count', () => {
    expect(H1).toBe(`web-${statefulSetTemplateHash(sts())}`);
    expect(statefulSetRevision(sts(), 1)).not.toBe(H1);
    expect(statefulSetRevision({ ...sts(), status: { replicas: 3, collisionCount: 1 } })).toBe(statefulSetRevision(sts(), 1));
  });

  it('reads the bare hash an older mk wrote on pods and in the status as the revision name', () => {
    const bare = statefulSetTemplateHash(sts());
    expect(asRevisionName(sts(), bare)).toBe(H1);
    expect(asRevisionName(sts(), H1)).toBe(H1);
    expect(asRevisionName(sts(), undefined)).toBeUndefined();
    expect(podRevision(sts(), pod(0, bare))).toBe(H1);
    // Pods at the bare hash of the current template are not replaced.
    expect(planStatefulSet(sts(), [pod(0, bare), pod(1, bare), pod(2, bare)], H1, NOW)).toEqual({ create: [], delete: [] });
    expect(statefulSetStatus({ ...sts(), status: { replicas: 3, currentRevision: bare } }, [pod(0, bare)], H1, NOW).status.currentRevision).toBe(H1);
  });

  it('makes ordinals below the partition from the current revision under RollingUpdate, every ordinal from the update revision under OnDelete', () => {
    const partitioned = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    expect([0, 1, 2].map((o) => madeFromCurrent(partitioned, o))).toEqual([true, true, false]);
    expect([0, 1, 2].map((o) => madeFromCurrent(sts(), o))).toEqual([false, false, false]);
    expect([0, 1, 2].map((o) => madeFromCurrent(sts({ updateStrategy: { type: 'OnDelete' } }), o))).toEqual([false, false, false]);
  });

  it('counts the partition from ordinals.start', () => {
    const s = sts({ ordinals: { start: 5 }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, 'v2');
    expect([5, 6, 7].map((o) => madeFromCurrent(s, o))).toEqual([true, false, false]);
    const at5 = [5, 6, 7].map((o) => ({ ...pod(o, H1), metadata: { ...pod(o, H1).metadata, name: `web-${o}` } }));
    expect(names(planStatefulSet(s, at5, H2, NOW).delete)).toEqual(['web-7']);
    const rest = [at5[0], ...[6, 7].map((o) => ({ ...pod(o, H2), metadata: { ...pod(o, H2).metadata, name: `web-${o}` } }))];
    expect(planStatefulSet(s, rest, H2, NOW)).toEqual({ create: [], delete: [] });
  });
});
