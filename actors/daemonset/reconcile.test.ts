import type { DaemonSet, Node, Pod } from '../../messages';
import {
  CONTROLLER_REVISION_HASH_LABEL, daemonPod, daemonSetStatus, daemonTolerations, DAEMON_TOLERATIONS, failedPodBackoffMs, nodeFit, planNodes,
  templateHash,
} from './reconcile';
import { rollingUpdateStep, rollingUpdateVictims, scaledValue } from './rolling';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const T0 = '2026-01-01T00:00:00Z';

const ds = (spec: Partial<DaemonSet['spec']> = {}, podSpec: Partial<Pod['spec']> = {}): DaemonSet => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 2 },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'v1' }], ...podSpec } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    ...spec,
  },
});

const node = (name: string, extra: { labels?: Record<string, string>; taints?: Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never; unschedulable?: boolean; ready?: 'True' | 'False' | 'Unknown' } = {}): Node => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(extra.labels ?? {}) } },
  spec: { taints: extra.taints, unschedulable: extra.unschedulable },
  status: { conditions: [{ type: 'Ready', status: extra.ready ?? 'True' }] },
} as Node);

let seq = 0;
const pod = (nodeName: string, hash: string, opts: { ready?: boolean; deleting?: boolean; readyAt?: string; phase?: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; created?: string } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name: `agent-${nodeName}-${seq++}`, namespace: 'default', uid: `u${seq}`, creationTimestamp: opts.created ?? T0,
    labels: { app: 'agent', [CONTROLLER_REVISION_HASH_LABEL]: hash },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true }],
    ...(opts.deleting ? { deletionTimestamp: T0 } : {}),
  },
  spec: { nodeName, containers: [{ name: 'c', image: 'v1' }] },
  status: {
    phase: opts.phase ?? 'Running',
    conditions: opts.ready === false ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: opts.readyAt ?? T0 }],
  },
} as Pod);

describe('nodeFit', () => {
  it('runs on a plain ready node', () => {
    expect(nodeFit(ds(), node('n1'))).toEqual({ shouldRun: true, shouldContinueRunning: true });
  });

  it('neither runs nor stays where the nodeSelector or the required node affinity fails', () => {
    const sel = ds({}, { nodeSelector: { disk: 'ssd' } });
    expect(nodeFit(sel, node('n1'))).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(nodeFit(sel, node('n1', { labels: { disk: 'ssd' } })).shouldRun).toBe(true);
    const aff = ds({}, {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }] } } },
    });
    expect(nodeFit(aff, node('n1')).shouldContinueRunning).toBe(false);
    expect(nodeFit(aff, node('n2')).shouldRun).toBe(true);
  });

  it('keeps new pods off an untolerated NoSchedule taint but lets a running one stay; NoExecute removes it', () => {
    expect(nodeFit(ds(), node('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })))
      .toEqual({ shouldRun: false, shouldContinueRunning: true });
    expect(nodeFit(ds(), node('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] })))
      .toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(nodeFit(ds(), node('n1', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] })).shouldRun).toBe(true);
    const tolerant = ds({}, { tolerations: [{ key: 'dedicated', operator: 'Exists' }] });
    expect(nodeFit(tolerant, node('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] })).shouldRun).toBe(true);
  });

  it('tolerates what Kubernetes adds to daemon pods: cordon, pressure, unreachable NoExecute', () => {
    expect(nodeFit(ds(), node('n1', { unschedulable: true })).shouldRun).toBe(true);
    expect(nodeFit(ds(), node('n1', { taints: [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }] })).shouldRun).toBe(true);
    // Unreachable: the NoExecute taint is tolerated, the NoSchedule the condition stands for is not.
    expect(nodeFit(ds(), node('n1', { ready: 'Unknown', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] })))
      .toEqual({ shouldRun: true, shouldContinueRunning: true });
    expect(nodeFit(ds(), node('n1', { ready: 'False' }))).toEqual({ shouldRun: false, shouldContinueRunning: true });
  });
});

describe('daemonPod', () => {
  it('is bound to its node, labelled with the revision, owned by the set, with the daemon tolerations', () => {
    const p = daemonPod(ds({}, { tolerations: [{ key: 'x', operator: 'Exists' }] }), 'n1', 'agent-abcde', 'h1');
    expect(p.spec.nodeName).toBe('n1');
    expect(p.metadata.labels).toEqual({ app: 'agent', [CONTROLLER_REVISION_HASH_LABEL]: 'h1' });
    expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'DaemonSet', uid: 'ds-uid', controller: true })]);
    expect(p.spec.tolerations).toHaveLength(1 + DAEMON_TOLERATIONS.length);
  });

  it('does not repeat a daemon toleration the template already has, and drops its tolerationSeconds', () => {
    expect(daemonTolerations([{ ...DAEMON_TOLERATIONS[0] }])).toHaveLength(DAEMON_TOLERATIONS.length);
    const timed = { key: 'node.kubernetes.io/unreachable', operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 30 };
    const out = daemonTolerations([timed]);
    expect(out).toHaveLength(DAEMON_TOLERATIONS.length);
    expect(out.find((t) => t.key === timed.key)).toEqual({ key: timed.key, operator: 'Exists', effect: 'NoExecute' });
  });

  it('has a revision that changes with the template only', () => {
    const a = ds();
    const b = ds({}, { containers: [{ name: 'c', image: 'v2' }] });
    expect(templateHash(a)).toBe(templateHash(ds()));
    expect(templateHash(a)).not.toBe(templateHash(b));
  });
});

describe('planNodes', () => {
  const h = templateHash(ds());

  it('makes a pod on each fitting node without one and deletes pods on nodes gone or unfit', () => {
    const nodes = [node('n1'), node('n2'), node('n3', { taints: [{ key: 'k', effect: 'NoExecute' }] })];
    const onGone = pod('gone', h);
    const onTainted = pod('n3', h);
    const plan = planNodes(ds(), nodes, [pod('n1', h), onGone, onTainted]);
    expect(plan.create).toEqual(['n2']);
    expect(plan.delete.map((p) => p.metadata.name).sort()).toEqual([onGone.metadata.name, onTainted.metadata.name].sort());
  });

  it('keeps the oldest of two pods, deletes a failed one and waits while one is being deleted', () => {
    const old = pod('n1', h, { created: '2025-01-01T00:00:00Z' });
    const young = pod('n1', h);
    const failed = pod('n2', h, { phase: 'Failed' });
    const deleting = pod('n3', h, { deleting: true });
    const plan = planNodes(ds(), [node('n1'), node('n2'), node('n3')], [young, old, failed, deleting]);
    expect(plan.delete.map((p) => p.metadata.name).sort()).toEqual([young.metadata.name, failed.metadata.name].sort());
    expect(plan.create).toEqual([]);
  });

  it('makes nothing for a set being deleted', () => {
    const gone = { ...ds(), metadata: { ...ds().metadata, deletionTimestamp: T0 } };
    expect(planNodes(gone, [node('n1')], []).create).toEqual([]);
  });
});

describe('rollingUpdateVictims', () => {
  const cur = templateHash(ds());
  const nodes = ['n1', 'n2', 'n3', 'n4'].map((n) => node(n));

  it('replaces one available old pod at a time with maxUnavailable 1', () => {
    const pods = nodes.map((n) => pod(n.metadata.name, 'old'));
    const v = rollingUpdateVictims(ds(), nodes, pods, cur, NOW);
    expect(v.map((p) => p.spec.nodeName)).toEqual(['n1']);
  });

  it('waits while a node is without an available new pod', () => {
    const pods = [pod('n1', cur, { ready: false }), pod('n2', 'old'), pod('n3', 'old'), pod('n4', 'old')];
    expect(rollingUpdateVictims(ds(), nodes, pods, cur, NOW)).toEqual([]);
    const terminating = [pod('n1', 'old', { deleting: true }), pod('n2', 'old'), pod('n3', 'old'), pod('n4', 'old')];
    expect(rollingUpdateVictims(ds(), nodes, terminating, cur, NOW)).toEqual([]);
    // A node without any pod yet counts too.
    expect(rollingUpdateVictims(ds(), nodes, terminating.slice(1), cur, NOW)).toEqual([]);
  });

  it('replaces old pods that are unavailable anyway at once', () => {
    const pods = [pod('n1', cur, { ready: false }), pod('n2', 'old', { ready: false }), pod('n3', 'old'), pod('n4', 'old')];
    expect(rollingUpdateVictims(ds(), nodes, pods, cur, NOW).map((p) => p.spec.nodeName)).toEqual(['n2']);
  });

  it('counts an unavailable old pod it replaces against maxUnavailable: no healthy pod goes with it', () => {
    const pods = [pod('n1', 'old', { ready: false }), pod('n2', 'old'), pod('n3', 'old'), pod('n4', 'old')];
    expect(rollingUpdateVictims(ds(), nodes, pods, cur, NOW).map((p) => p.spec.nodeName)).toEqual(['n1']);
    // With room for two, one healthy pod goes beside it.
    const two = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2, maxSurge: 0 } } });
    expect(rollingUpdateVictims(two, nodes, pods, cur, NOW).map((p) => p.spec.nodeName)).toEqual(['n1', 'n2']);
  });

  it('takes a percentage of the desired nodes rounded up', () => {
    const set = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '30%', maxSurge: 0 } } });
    const pods = nodes.map((n) => pod(n.metadata.name, 'old'));
    expect(rollingUpdateVictims(set, nodes, pods, cur, NOW).map((p) => p.spec.nodeName)).toEqual(['n1', 'n2']);
    expect(scaledValue('30%', 4, 1)).toBe(2);
    expect(scaledValue(undefined, 4, 1)).toBe(1);
  });

  it('counts minReadySeconds: a new pod ready too recently is not available yet', () => {
    const set = ds({ minReadySeconds: 300 });
    const pods = [pod('n1', cur, { readyAt: new Date(NOW - 10_000).toISOString() }), pod('n2', 'old'), pod('n3', 'old'), pod('n4', 'old')];
    expect(rollingUpdateVictims(set, nodes, pods, cur, NOW)).toEqual([]);
  });

  it('replaces nothing with OnDelete', () => {
    const set = ds({ updateStrategy: { type: 'OnDelete' } });
    expect(rollingUpdateVictims(set, nodes, nodes.map((n) => pod(n.metadata.name, 'old')), cur, NOW)).toEqual([]);
  });
});

describe('daemonSetStatus', () => {
  it('counts per node what kubectl shows', () => {
    const cur = templateHash(ds());
    const nodes = [node('n1'), node('n2'), node('n3'), node('n4', { taints: [{ key: 'k', effect: 'NoSchedule' }] })];
    const pods = [pod('n1', cur), pod('n2', 'old', { ready: false }), pod('n4', 'old')];
    const { status } = daemonSetStatus(ds(), nodes, pods, cur, NOW);
    expect(status).toEqual({
      desiredNumberScheduled: 3, currentNumberScheduled: 2, numberMisscheduled: 1, numberReady: 1,
      numberAvailable: 1, numberUnavailable: 2, updatedNumberScheduled: 1, observedGeneration: 2,
    });
  });

  it('asks to look again when a ready pod becomes available later', () => {
    const cur = templateHash(ds());
    const r = daemonSetStatus(ds({ minReadySeconds: 601 }), [node('n1')], [pod('n1', cur)], cur, NOW);
    expect(r.status.numberAvailable).toBe(0);
    expect(r.requeueAfterMs).toBe(1_050);
  });
});

describe('failedPodBackoffMs', () => {
  it('doubles from 1 s to at most 15 min', () => {
    expect([1, 2, 3, 4].map(failedPodBackoffMs)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(failedPodBackoffMs(30)).toBe(15 * 60_000);
  });
});

describe('surging (maxSurge above 0)', () => {
  const surge = (maxSurge: number | string) => ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge } } });
  const cur = templateHash(surge(1));
  const nodes = ['n1', 'n2', 'n3', 'n4'].map((n) => node(n));

  it('makes new pods beside available old ones on at most maxSurge nodes, and at once where the old one is unavailable', () => {
    const pods = [pod('n1', 'old'), pod('n2', 'old', { ready: false }), pod('n3', 'old'), pod('n4', 'old')];
    expect(rollingUpdateStep(surge(1), nodes, pods, cur, NOW)).toEqual({ delete: [], create: ['n2', 'n1'] });
    expect(rollingUpdateStep(surge('50%'), nodes, pods, cur, NOW).create).toEqual(['n2', 'n1', 'n3']);
  });

  it('waits while maxSurge new pods are not available, and deletes the old pod beside an available new one', () => {
    const oldOnN1 = pod('n1', 'old');
    const pods = [oldOnN1, pod('n1', cur, { ready: false }), pod('n2', 'old'), pod('n3', 'old'), pod('n4', 'old')];
    expect(rollingUpdateStep(surge(1), nodes, pods, cur, NOW)).toEqual({ delete: [], create: [] });
    const ready = [oldOnN1, pod('n1', cur), pod('n2', 'old'), pod('n3', 'old'), pod('n4', 'old')];
    const step = rollingUpdateStep(surge(1), nodes, ready, cur, NOW);
    expect(step.delete).toEqual([oldOnN1]);
    expect(step.create).toEqual(['n2']);
  });

  it('lets an old and a new pod share a node until the new one is available', () => {
    const old = pod('n1', 'old', { created: '2025-01-01T00:00:00Z' });
    const waiting = pod('n1', cur, { ready: false });
    expect(planNodes(surge(1), [node('n1')], [old, waiting], cur, NOW).delete).toEqual([]);
    const ready = pod('n1', cur);
    expect(planNodes(surge(1), [node('n1')], [old, ready], cur, NOW).delete).toEqual([old]);
    // Without surge, the younger goes.
    expect(planNodes(ds(), [node('n1')], [old, waiting], cur, NOW).delete).toEqual([waiting]);
  });
});
