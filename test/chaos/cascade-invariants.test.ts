/**
 * The cascade, leadership and eviction invariants judge made-up worlds: a world where everything
 * went right passes, and each way it can go wrong is reported under its invariant.
 */
import type { KubeObject, Lease, Pod } from '../../messages';
import type { PodSandbox } from '../../node-agent/cri/types';
import type { FaultEvent } from '../helpers/chaos-faults';
import { holderPid } from '../helpers/chaos-faults';
import { createRng } from '../helpers/chaos-random';
import { planCascade } from './cascade';
import {
  checkBinding, checkDanglingOwners, checkFinalizerPods, checkNamespaces, checkOwnerGroups, foregroundOrder, holdViolation,
  type OwnerGroup,
} from './cascade-invariants';
import { checkEvictions, checkLeader, cleanPauses, controlPlaneLease } from './cluster-invariants';
import type { WorldSnapshot } from './kind';

const pod = (name: string, uid: string, o: { ns?: string; owner?: string; node?: string; deleting?: boolean; finalizers?: string[] } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name, namespace: o.ns ?? 'default', uid,
    ...(o.owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'owner', uid: o.owner, blockOwnerDeletion: true }] } : {}),
    ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    ...(o.finalizers ? { finalizers: o.finalizers } : {}),
  },
  spec: { nodeName: o.node ?? 'n1', containers: [{ name: 'main', image: 'busybox' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'main', image: 'busybox', ready: true, restartCount: 0, lastState: {}, state: { running: { startedAt: 'x' } } }] },
} as Pod);

const world = (objects: Record<string, KubeObject[]>, sandboxes: PodSandbox[] = []): WorldSnapshot => ({
  atMs: 100_000, objects: new Map(Object.entries(objects)), cri: { atMs: 0, sandboxes, containers: [] }, seenContainers: [], seenSandboxes: [],
});
const sandbox = (id: string, uid: string, state: PodSandbox['state'] = 'SANDBOX_READY'): PodSandbox => ({
  id, metadata: { name: 'x', uid, namespace: 'default', attempt: 0 }, state, createdAt: 1, labels: { 'mk.io/pod-uid': uid }, annotations: {}, runtimeHandler: '',
});
const names = (vs: { invariant: string }[]) => vs.map((v) => v.invariant).sort();

const group = (policy: OwnerGroup['policy'], deleted = true): OwnerGroup => ({
  namespace: 'default', owner: { name: 'owner', uid: 'o1' }, dependents: [{ name: 'd0', uid: 'd0' }, { name: 'd1', uid: 'd1' }], policy,
  ...(deleted ? { deleteRequestedAtMs: 1 } : {}),
});

describe('planCascade', () => {
  it('draws one owner per policy and one kept, deletions inside the window, the same plan for the same seed', () => {
    const a = planCascade(createRng(7), { tag: 't', windowMs: 10_000 });
    expect(a.groups.map((g) => g.policy).sort()).toEqual(['Background', 'Foreground', 'Orphan', 'kept']);
    expect(a.groups.find((g) => g.policy === 'kept')!.deleteAtMs).toBeUndefined();
    const times = [...a.groups.flatMap((g) => (g.deleteAtMs === undefined ? [] : [g.deleteAtMs])), ...a.namespaces.map((n) => n.deleteAtMs), ...a.finalizerPods.map((f) => f.deleteAtMs)];
    for (const t of times) expect(t).toBeGreaterThanOrEqual(2_500);
    for (const t of times) expect(t).toBeLessThanOrEqual(8_000);
    expect(a.finalizerPods.map((f) => f.inManifest)).toEqual([true, false]);
    expect(planCascade(createRng(7), { tag: 't', windowMs: 10_000 })).toEqual(a);
  });
});

describe('owner groups', () => {
  it('pass when background and foreground took the dependents, orphan left them unowned, kept kept them', () => {
    expect(checkOwnerGroups([group('Background'), group('Foreground')], world({ pods: [] }))).toEqual([]);
    expect(checkOwnerGroups([group('Orphan')], world({ pods: [pod('d0', 'd0'), pod('d1', 'd1')] }))).toEqual([]);
    expect(checkOwnerGroups([group('kept', false)], world({ pods: [pod('owner', 'o1'), pod('d0', 'd0', { owner: 'o1' }), pod('d1', 'd1', { owner: 'o1' })] }))).toEqual([]);
  });

  it('report an owner still there, a dependent left behind, an orphan gone or still owned, a kept dependent lost', () => {
    expect(names(checkOwnerGroups([group('Background')], world({ pods: [pod('owner', 'o1'), pod('d0', 'd0', { owner: 'o1' })] })))).toEqual(['cascade', 'gone']);
    const orphan = checkOwnerGroups([group('Orphan')], world({ pods: [pod('d0', 'd0', { owner: 'o1' })] }));
    expect(orphan.map((v) => [v.invariant, v.permanent])).toEqual([['orphan', false], ['orphan', true]]);
    expect(names(checkOwnerGroups([group('kept', false)], world({ pods: [pod('owner', 'o1'), pod('d0', 'd0')] })))).toEqual(['lost', 'owner-ref']);
  });

  it('report a foreground owner that went while a blocking dependent remained', () => {
    const g = { ...group('Foreground'), observed: [{ atMs: 1, owner: true, dependents: ['d0', 'd1'] }, { atMs: 2, owner: true, dependents: ['d1'] }, { atMs: 3, owner: false, dependents: [] }] };
    expect(foregroundOrder(g)).toEqual([]);
    const bad = { ...g, observed: [{ atMs: 1, owner: true, dependents: ['d0', 'd1'] }, { atMs: 2_000, owner: false, dependents: ['d1'] }] };
    expect(foregroundOrder(bad)).toEqual([expect.objectContaining({ invariant: 'foreground-order', permanent: true })]);
    expect(names(checkOwnerGroups([bad], world({ pods: [] })))).toEqual(['foreground-order']);
  });
});

describe('dangling owners', () => {
  it('report an object whose owner is gone by uid, not one whose owner is there or of a kind not listed', () => {
    const w = world({ pods: [pod('owner', 'o1'), pod('a', 'a', { owner: 'o1' }), pod('b', 'b', { owner: 'o-gone' })] });
    expect(checkDanglingOwners(w)).toEqual([expect.objectContaining({ invariant: 'dangling', subject: 'pods default/b' })]);
    const other = pod('c', 'c');
    other.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'n-gone' }];
    expect(checkDanglingOwners(world({ pods: [other] }))).toEqual([]);
  });
});

describe('namespaces', () => {
  it('pass when a deleted namespace and everything in it is gone; report what is left', () => {
    const rec = [{ name: 'ns1', pods: [], created: true, deleteRequestedAtMs: 5 }];
    expect(checkNamespaces(rec, world({ namespaces: [], pods: [pod('x', 'x')] }))).toEqual([]);
    const left = checkNamespaces(rec, world({
      namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' }, status: { phase: 'Terminating' } } as KubeObject],
      pods: [pod('p', 'p', { ns: 'ns1' })], events: [{ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'ns1' } } as KubeObject],
    }));
    expect(left.map((v) => v.detail)).toEqual([
      'deleted, but still in the store (phase Terminating)', 'deleted, but pods p is still in it', 'deleted, but events e is still in it',
    ]);
  });
});

describe('finalizers', () => {
  const rec = { name: 'f', namespace: 'default', uid: 'f1', finalizer: 'chaos.mk.io/hold', deleteRequestedAtMs: 1 };
  it('want the pod Terminating with its finalizer until it is freed', () => {
    expect(holdViolation(rec, pod('f', 'f1', { deleting: true, finalizers: ['chaos.mk.io/hold'] }))).toBeUndefined();
    expect(holdViolation(rec, undefined)?.detail).toMatch(/gone from the store/);
    expect(holdViolation(rec, pod('f', 'f1', { finalizers: ['chaos.mk.io/hold'] }))?.detail).toMatch(/not marked for deletion/);
    expect(holdViolation(rec, pod('f', 'f1', { deleting: true }))?.detail).toMatch(/finalizers are \[\]/);
  });
  it('want it gone once freed', () => {
    expect(checkFinalizerPods([{ ...rec, releasedAtMs: 5 }], world({ pods: [] }))).toEqual([]);
    expect(names(checkFinalizerPods([{ ...rec, releasedAtMs: 5 }], world({ pods: [pod('f', 'f1', { deleting: true })] })))).toEqual(['finalizer']);
    expect(checkFinalizerPods([rec], world({ pods: [pod('f', 'f1', { deleting: true, finalizers: ['chaos.mk.io/hold'] })] }))).toEqual([]);
  });
});

describe('binding', () => {
  it('reports a pod bound to another node than before, and two ready sandboxes of one pod', () => {
    const seen = new Map<string, string>();
    expect(checkBinding(seen, world({ pods: [pod('a', 'a', { node: 'n1' })] }))).toEqual([]);
    expect(names(checkBinding(seen, world({ pods: [pod('a', 'a', { node: 'n2' })] })))).toEqual(['bound-twice']);
    expect(checkBinding(new Map(), world({ pods: [] }, [sandbox('s1', 'a'), sandbox('s2', 'a', 'SANDBOX_NOTREADY')]))).toEqual([]);
    expect(names(checkBinding(new Map(), world({ pods: [] }, [sandbox('s1', 'a'), sandbox('s2', 'a')])))).toEqual(['bound-twice']);
  });
});

describe('leadership', () => {
  const lease = (holder: string, renewedAgoMs: number): Lease => ({
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'mk-control-plane', namespace: 'mk-system' },
    spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: new Date(100_000 - renewedAgoMs).toISOString() },
  });
  const planes = [{ child: 'control-plane', pid: 11, leads: true }, { child: 'control-plane-2', pid: 22, leads: false }];

  it('reads the pid of a holder identity', () => {
    expect(holderPid('host_with_underscores_123_abcd1234')).toBe(123);
    expect(holderPid('nonsense')).toBeUndefined();
  });

  it('passes with one fresh holder that is a live control plane and the only one leading', () => {
    expect(controlPlaneLease([lease('h_11_x', 0)])).toBeDefined();
    expect(checkLeader(lease('h_11_x', 2_000), planes, 100_000)).toEqual([]);
  });

  it('reports no holder, a dead holder, a stale lease, a second leader', () => {
    expect(checkLeader(undefined, planes, 100_000)[0].detail).toMatch(/no control plane leads/);
    expect(checkLeader(lease('h_33_x', 0), planes, 100_000)[0].detail).toMatch(/no running control plane/);
    expect(checkLeader(lease('h_11_x', 20_000), planes, 100_000)[0].detail).toMatch(/last renewed it 20.0 s ago/);
    const two = [{ ...planes[0] }, { ...planes[1], leads: true }];
    expect(checkLeader(lease('h_11_x', 0), two, 100_000)[0].detail).toMatch(/control-plane-2 \(pid 22\) also says it leads/);
    expect(checkLeader(lease('h_22_x', 0), planes, 100_000).map((v) => v.detail)).toEqual([
      expect.stringMatching(/control-plane \(pid 11\) also says it leads/), expect.stringMatching(/whose log does not say it leads/),
    ]);
  });
});

describe('evictions', () => {
  const pause = (atMs: number, lengthMs: number): FaultEvent => ({ target: 'node-pause', plannedAtMs: atMs, atMs, outcome: { killed: true, pid: 1 }, resumedAtMs: atMs + lengthMs, recoveredAfterMs: lengthMs });
  const kill = (atMs: number): FaultEvent => ({ target: 'nats', plannedAtMs: atMs, atMs, outcome: { killed: true, pid: 2 }, recoveredAfterMs: 1_000 });
  const rec = { name: 'e', namespace: 'default', uid: 'e1', runningAtMs: 1_000 };

  it('oblige eviction only after a long pause that no other fault overlapped', () => {
    expect(cleanPauses([pause(5_000, 26_000)], 24_000)).toHaveLength(1);
    expect(cleanPauses([pause(5_000, 10_000)], 24_000)).toHaveLength(0);
    expect(cleanPauses([pause(5_000, 26_000), kill(20_000)], 24_000)).toHaveLength(0);
    expect(cleanPauses([pause(5_000, 26_000), kill(40_000)], 24_000)).toHaveLength(1);
  });

  it('report a pod still there after such a pause, and an evicted pod still on the node', () => {
    expect(names(checkEvictions([rec], [pause(5_000, 26_000)], 24_000, world({ pods: [pod('e', 'e1')] })))).toEqual(['evicted']);
    expect(checkEvictions([rec], [pause(5_000, 26_000)], 24_000, world({ pods: [] }))).toEqual([]);
    expect(names(checkEvictions([rec], [pause(5_000, 26_000)], 24_000, world({ pods: [] }, [sandbox('s', 'e1')])))).toEqual(['evicted']);
    // A pod that only ran after the pause began, or no pause: it stays and runs.
    expect(checkEvictions([{ ...rec, runningAtMs: 6_000 }], [pause(5_000, 26_000)], 24_000, world({ pods: [pod('e', 'e1')] }))).toEqual([]);
    expect(checkEvictions([rec], [], 24_000, world({ pods: [pod('e', 'e1')] }))).toEqual([]);
  });
});
