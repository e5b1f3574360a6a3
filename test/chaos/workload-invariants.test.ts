/**
 * The workload-controller invariants judge made-up worlds: a settled ReplicaSet, Deployment,
 * DaemonSet and Job pass, and each way they can be wrong is reported under its invariant.
 */
import { templateHash } from '../../actors/daemonset/reconcile';
import type { DaemonSet, Deployment, Job, KubeObject, Pod, ReplicaSet } from '../../messages';
import type { PodSandbox } from '../../node-agent/cri/types';
import type { SeenContainer } from '../helpers/chaos-observer';
import { createRng } from '../helpers/chaos-random';
import type { WorldSnapshot } from './kind';
import {
  checkDaemonSet, checkDeployment, checkJob, checkNodeLeftovers, checkOwners, checkReplicaSet, checkWorkloadContainers, type WorkloadRecord,
} from './workload-invariants';
import { daemonSetManifest, deploymentManifest, jobManifest, planWorkloads, replicaSetManifest } from './workloads';

const ref = (kind: string, name: string, uid: string) => [{ apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1', kind, name, uid, controller: true }];

function pod(name: string, owner: { kind: string; name: string; uid: string } | undefined, o: { phase?: string; hash?: string; revision?: string; node?: string; deleting?: boolean; never?: boolean; restartCount?: number } = {}): Pod {
  const phase = o.phase ?? 'Running';
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `u-${name}`, labels: {
        'chaos-workloads': 't', ...(o.hash ? { 'pod-template-hash': o.hash } : {}), ...(o.revision ? { 'controller-revision-hash': o.revision } : {}),
      },
      ...(owner ? { ownerReferences: ref(owner.kind, owner.name, owner.uid) } : {}),
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: o.node ?? 'n1', restartPolicy: o.never ? 'Never' : 'Always', containers: [{ name: 'main', image: 'busybox' }] },
    status: {
      phase,
      containerStatuses: [{
        name: 'main', image: 'busybox', ready: phase === 'Running', restartCount: o.restartCount ?? 0, lastState: {},
        state: phase === 'Running' ? { running: { startedAt: 'x' } } : phase === 'Succeeded' ? { terminated: { exitCode: 0, reason: 'Completed' } } : { waiting: { reason: 'ContainerCreating' } },
      }],
    },
  } as Pod;
}

function rs(name: string, uid: string, replicas: number, o: { ready?: number; owner?: string; revision?: number; hash?: string } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name, namespace: 'default', uid, generation: 1,
      labels: o.hash ? { 'pod-template-hash': o.hash } : {},
      ...(o.revision !== undefined ? { annotations: { 'deployment.kubernetes.io/revision': String(o.revision) } } : {}),
      ...(o.owner ? { ownerReferences: ref('Deployment', 'd', o.owner) } : {}),
    },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
    status: { replicas: o.ready ?? replicas, readyReplicas: o.ready ?? replicas, observedGeneration: 1 },
  } as ReplicaSet;
}

function deployment(replicas: number, status: { replicas?: number; updatedReplicas?: number; readyReplicas?: number } = {}): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'd', namespace: 'default', uid: 'D', generation: 3 },
    spec: { replicas, selector: { matchLabels: { app: 'd' } }, template: { spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
    status: { replicas, updatedReplicas: replicas, readyReplicas: replicas, observedGeneration: 3, ...status },
  } as Deployment;
}

function daemonSet(o: { restartedAt?: string; status?: Partial<NonNullable<DaemonSet['status']>> } = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'ds', namespace: 'default', uid: 'DS', generation: 2 },
    spec: {
      selector: { matchLabels: { app: 'ds' } },
      template: {
        metadata: { labels: { app: 'ds' }, ...(o.restartedAt ? { annotations: { 'kubectl.kubernetes.io/restartedAt': o.restartedAt } } : {}) },
        spec: { containers: [{ name: 'main', image: 'busybox' }] },
      },
    },
    status: {
      desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, numberAvailable: 1, numberMisscheduled: 0,
      updatedNumberScheduled: 1, observedGeneration: 2, ...o.status,
    },
  } as DaemonSet;
}

function job(succeeded: number, condition?: 'Complete' | 'Failed'): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name: 'j', namespace: 'default', uid: 'J' },
    spec: { completions: 3, parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
    status: { succeeded, active: 0, failed: 0, ...(condition ? { conditions: [{ type: condition, status: 'True' }] } : {}) },
  } as Job;
}

const world = (objects: Record<string, KubeObject[]>, o: { sandboxes?: PodSandbox[]; seen?: SeenContainer[] } = {}): WorldSnapshot => ({
  atMs: 1, objects: new Map(Object.entries(objects)), cri: { atMs: 1, sandboxes: o.sandboxes ?? [], containers: [] }, seenContainers: o.seen ?? [], seenSandboxes: [],
});
const names = (vs: { invariant: string }[]) => vs.map((v) => v.invariant).sort();

const RS: WorkloadRecord = { kind: 'ReplicaSet', name: 'r', namespace: 'default', uid: 'R', replicas: 2 };
const D: WorkloadRecord = { kind: 'Deployment', name: 'd', namespace: 'default', uid: 'D', replicas: 2 };
const DS: WorkloadRecord = { kind: 'DaemonSet', name: 'ds', namespace: 'default', uid: 'DS', restarted: true };
const J: WorkloadRecord = { kind: 'Job', name: 'j', namespace: 'default', uid: 'J', completions: 3 };
const ownR = { kind: 'ReplicaSet', name: 'r', uid: 'R' };

describe('planWorkloads', () => {
  it('draws the shapes asked for, one scale up and one down, steps inside the window, the same plan for the same seed', () => {
    for (let seed = 1; seed < 200; seed++) {
      const p = planWorkloads(createRng(seed), { tag: 't', windowMs: 10_000 });
      expect(p.replicaSet.replicas).toBeGreaterThanOrEqual(2);
      expect(p.replicaSet.replicas).toBeLessThanOrEqual(4);
      expect(p.deployment.replicas).toBeGreaterThanOrEqual(2);
      expect(p.deployment.replicas).toBeLessThanOrEqual(3);
      const [a, b] = p.replicaSet.scales;
      const counts = [p.replicaSet.replicas, a.replicas, b.replicas];
      expect(counts.every((n) => n >= 1)).toBe(true);
      expect(Math.sign(counts[1] - counts[0]) * Math.sign(counts[2] - counts[1])).toBe(-1);
      expect(a.atMs).toBeLessThan(b.atMs);
      expect(p.deployment.roll.atMs).toBeGreaterThanOrEqual(2_500);
      if (p.deployment.undoAtMs !== undefined) expect(p.deployment.undoAtMs).toBeLessThanOrEqual(8_000);
      expect(p.daemonSet.rollAtMs).toBeGreaterThanOrEqual(3_000);
      expect(p.daemonSet.rollAtMs).toBeLessThanOrEqual(7_000);
      expect(p.makeAtMs).toBeLessThanOrEqual(1_000);
    }
    expect(planWorkloads(createRng(7), { tag: 't', windowMs: 10_000 })).toEqual(planWorkloads(createRng(7), { tag: 't', windowMs: 10_000 }));
  });

  it('writes manifests whose pod templates carry the label, and a Deployment whose env changes the template', () => {
    expect(replicaSetManifest('r', 't', 3)).toMatch(/replicas: 3\n[\s\S]*template:[\s\S]*chaos-workloads: "t"/);
    expect(jobManifest('j', 't')).toMatch(/completions: 3\n {2}parallelism: 2\n[\s\S]*restartPolicy: Never[\s\S]*"sleep", "1"/);
    expect(deploymentManifest('d', 't', 2, 0)).not.toEqual(deploymentManifest('d', 't', 2, 1));
    expect(deploymentManifest('d', 't', 2, 1)).toMatch(/name: CHAOS_GENERATION\n\s+value: "1"/);
    expect(daemonSetManifest('ds', 't')).toMatch(/kind: DaemonSet\n[\s\S]*template:[\s\S]*chaos-workloads: "t"[\s\S]*terminationGracePeriodSeconds: 1\n[\s\S]*"sleep", "86400"/);
  });
});

describe('ReplicaSet', () => {
  it('passes with spec.replicas Running pods it controls and a status that counts them', () => {
    const w = world({ replicasets: [rs('r', 'R', 2)], pods: [pod('r-a', ownR), pod('r-b', ownR), pod('r-c', ownR, { deleting: true })] });
    expect(checkReplicaSet(RS, w)).toEqual([]);
  });

  it('reports too many or too few pods, one not Running, a stale status, a lost scale, a lost set', () => {
    expect(names(checkReplicaSet(RS, world({ replicasets: [rs('r', 'R', 2)], pods: [pod('r-a', ownR)] })))).toEqual(['replicas']);
    expect(names(checkReplicaSet(RS, world({ replicasets: [rs('r', 'R', 2)], pods: [pod('r-a', ownR), pod('r-b', ownR), pod('r-c', ownR)] })))).toEqual(['replicas']);
    expect(names(checkReplicaSet(RS, world({ replicasets: [rs('r', 'R', 2, { ready: 1 })], pods: [pod('r-a', ownR), pod('r-b', ownR, { phase: 'Pending' })] }))))
      .toEqual(['running', 'status']);
    const scaled = checkReplicaSet({ ...RS, replicas: 3 }, world({ replicasets: [rs('r', 'R', 2)], pods: [pod('r-a', ownR), pod('r-b', ownR)] }));
    expect(scaled.map((v) => [v.invariant, v.permanent])).toEqual([['scale', true]]);
    expect(checkReplicaSet(RS, world({ replicasets: [rs('r', 'R2', 2)], pods: [] })).map((v) => [v.invariant, v.permanent])).toEqual([['lost', true]]);
    expect(checkReplicaSet(RS, world({ replicasets: [], pods: [] })).map((v) => v.invariant)).toEqual(['lost']);
  });
});

describe('Deployment', () => {
  const ownNew = { kind: 'ReplicaSet', name: 'd-new', uid: 'N' };
  const ownOld = { kind: 'ReplicaSet', name: 'd-old', uid: 'O' };
  const settled = () => ({
    deployments: [deployment(2)],
    replicasets: [rs('d-old', 'O', 0, { owner: 'D', revision: 1, hash: 'old' }), rs('d-new', 'N', 2, { owner: 'D', revision: 3, hash: 'new' })],
    pods: [pod('d-new-a', ownNew, { hash: 'new' }), pod('d-new-b', ownNew, { hash: 'new' }), pod('d-old-a', ownOld, { hash: 'old', deleting: true })],
  });

  it('passes when the newest ReplicaSet holds every replica, Running, and the status says so', () => {
    expect(checkDeployment(D, world(settled()))).toEqual([]);
  });

  it('reports a rollout left halfway: an old ReplicaSet with replicas, an old pod active, a status not updated', () => {
    const s = settled();
    s.replicasets[0] = rs('d-old', 'O', 1, { owner: 'D', revision: 1, hash: 'old' });
    s.pods[2] = pod('d-old-a', ownOld, { hash: 'old' });
    s.deployments = [deployment(2, { updatedReplicas: 1, replicas: 3 })];
    expect(names(checkDeployment(D, world(s)))).toEqual(['replicas', 'rollout', 'rollout', 'status']);
  });

  it('takes the highest revision as the newest (a rollback gives an old template a new revision)', () => {
    const s = settled();
    s.replicasets = [rs('d-old', 'O', 2, { owner: 'D', revision: 4, hash: 'old' }), rs('d-new', 'N', 0, { owner: 'D', revision: 3, hash: 'new' })];
    expect(names(checkDeployment(D, world(s)))).toEqual(['rollout', 'rollout']);
    s.pods = [pod('d-old-a', ownOld, { hash: 'old' }), pod('d-old-b', ownOld, { hash: 'old' })];
    expect(checkDeployment(D, world(s))).toEqual([]);
  });
});

describe('DaemonSet', () => {
  const ownDS = { kind: 'DaemonSet', name: 'ds', uid: 'DS' };
  const rolled = () => daemonSet({ restartedAt: '2026-01-01T00:00:05Z' });

  it('passes with one Running pod of the current template on the node and a status that counts it', () => {
    const cur = templateHash(rolled());
    const w = world({ daemonsets: [rolled()], pods: [pod('ds-a', ownDS, { revision: cur }), pod('ds-b', ownDS, { revision: 'old', deleting: true })] });
    expect(checkDaemonSet(DS, w)).toEqual([]);
  });

  it('reports an old-template pod, two on the node, none, one not Running, a stale status, a lost restart, a lost set', () => {
    const cur = templateHash(rolled());
    const check = (pods: Pod[], ds = rolled(), r = DS) => checkDaemonSet(r, world({ daemonsets: [ds], pods }));
    // The pod of the template before the restart: the restart annotation is part of the hash.
    expect(templateHash(daemonSet())).not.toEqual(cur);
    expect(names(check([pod('ds-a', ownDS, { revision: templateHash(daemonSet()) })]))).toEqual(['rollout']);
    expect(names(check([pod('ds-a', ownDS, { revision: cur }), pod('ds-b', ownDS, { revision: cur })]))).toEqual(['replicas', 'replicas']);
    expect(names(check([pod('ds-a', ownDS, { revision: cur, deleting: true })]))).toEqual(['replicas']);
    expect(names(check([pod('ds-a', ownDS, { revision: cur, phase: 'Pending' })]))).toEqual(['running']);
    expect(names(check([pod('ds-a', ownDS, { revision: cur })], daemonSet({ restartedAt: 'x', status: { updatedNumberScheduled: 0 } })))).toEqual(['rollout', 'status']);
    expect(names(check([pod('ds-a', ownDS, { revision: cur })], daemonSet({ restartedAt: '2026-01-01T00:00:05Z', status: { observedGeneration: 1 } })))).toEqual(['status']);
    const lostRestart = check([pod('ds-a', ownDS, { revision: templateHash(daemonSet()) })], daemonSet());
    expect(lostRestart.filter((v) => v.permanent).map((v) => v.invariant)).toEqual(['rollout']);
    expect(check([pod('ds-a', ownDS, { revision: templateHash(daemonSet()) })], daemonSet(), { ...DS, restarted: false })).toEqual([]);
    expect(checkDaemonSet(DS, world({ daemonsets: [], pods: [] })).map((v) => [v.invariant, v.permanent])).toEqual([['lost', true]]);
  });

  it('counts one daemon per node: two nodes with one pod each pass when two are desired', () => {
    const ds = daemonSet({ status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2 } });
    const cur = templateHash(ds);
    const pods = [pod('ds-a', ownDS, { revision: cur, node: 'n1' }), pod('ds-b', ownDS, { revision: cur, node: 'n2' })];
    expect(checkDaemonSet({ ...DS, restarted: false }, world({ daemonsets: [ds], pods }), 2)).toEqual([]);
    pods[1] = pod('ds-b', ownDS, { revision: cur, node: 'n1' });
    expect(names(checkDaemonSet({ ...DS, restarted: false }, world({ daemonsets: [ds], pods }), 2))).toEqual(['replicas']);
  });
});

describe('Job', () => {
  const ownJ = { kind: 'Job', name: 'j', uid: 'J' };
  const done = (n: string) => pod(n, ownJ, { phase: 'Succeeded', never: true });

  it('passes when Complete with every completion Succeeded and nothing running', () => {
    expect(checkJob(J, world({ jobs: [job(3, 'Complete')], pods: [done('a'), done('b'), done('c'), pod('d', ownJ, { phase: 'Failed', never: true })] }))).toEqual([]);
  });

  it('reports a Job not Complete, one Failed (permanent), too few Succeeded pods, a pod still running', () => {
    expect(names(checkJob(J, world({ jobs: [job(2)], pods: [done('a'), done('b'), pod('c', ownJ, { never: true })] })))).toEqual(['job', 'job', 'job']);
    expect(checkJob(J, world({ jobs: [job(1, 'Failed')], pods: [done('a'), done('b'), done('c')] })).map((v) => [v.invariant, v.permanent])).toEqual([['job', true]]);
    expect(names(checkJob(J, world({ jobs: [job(3, 'Complete')], pods: [done('a'), done('b')] })))).toEqual(['job']);
  });
});

describe('owners, containers and the node', () => {
  const mine = (p: Pod) => p.metadata.labels?.['chaos-workloads'] === 't';
  const seen = (uid: string, id: string, attempt: number, exited = false): SeenContainer => ({
    id, podUid: uid, pod: 'default/x', name: 'main', attempt, sandboxId: 'sb', firstSeenMs: 0, lastSeenMs: 1,
    states: exited ? ['CONTAINER_RUNNING', 'CONTAINER_EXITED'] : ['CONTAINER_RUNNING'],
  });

  it('reports a workload pod without a controller, or with one that is not the workload\'s', () => {
    const pods = [pod('a', ownR), pod('b', undefined), pod('c', { kind: 'ReplicaSet', name: 'x', uid: 'X' })];
    expect(checkOwners(mine, new Set(['R']), world({ pods })).map((v) => v.subject)).toEqual(['pod default/b', 'pod default/c']);
    const daemon = pod('d', { kind: 'DaemonSet', name: 'ds', uid: 'DS' });
    expect(checkOwners(mine, new Set(['R']), world({ pods: [daemon] })).map((v) => v.subject)).toEqual(['pod default/d']);
    expect(checkOwners(mine, new Set(['R', 'DS']), world({ pods: [daemon] }))).toEqual([]);
  });

  it('accepts a container that ran again when restartCount counts it; reports one that exited or ran uncounted', () => {
    const p = pod('a', ownR, { restartCount: 1 });
    expect(checkWorkloadContainers(mine, world({ pods: [p] }, { seen: [seen('u-a', 'c1', 0, true), seen('u-a', 'c2', 1)] }))).toEqual([
      expect.objectContaining({ invariant: 'never-exits', permanent: true }),
    ]);
    expect(names(checkWorkloadContainers(mine, world({ pods: [pod('a', ownR)] }, { seen: [seen('u-a', 'c1', 0), seen('u-a', 'c2', 1)] })))).toEqual(['attempt-vs-restarts']);
    expect(checkWorkloadContainers(mine, world({ pods: [pod('a', ownR)] }, { seen: [seen('u-a', 'c1', 0)] }))).toEqual([]);
    // A daemon pod is judged the same way.
    const daemon = pod('d', { kind: 'DaemonSet', name: 'ds', uid: 'DS' });
    expect(names(checkWorkloadContainers(mine, world({ pods: [daemon] }, { seen: [seen('u-d', 'c1', 0, true)] })))).toEqual(['never-exits']);
  });

  it('accepts a Job pod that ran once and exited; reports one that ran twice', () => {
    const j = pod('j', { kind: 'Job', name: 'j', uid: 'J' }, { phase: 'Succeeded', never: true });
    expect(checkWorkloadContainers(mine, world({ pods: [j] }, { seen: [seen('u-j', 'c1', 0, true)] }))).toEqual([]);
    expect(checkWorkloadContainers(mine, world({ pods: [j] }, { seen: [seen('u-j', 'c1', 0, true), seen('u-j', 'c2', 1, true)] })))
      .toEqual([expect.objectContaining({ invariant: 'ran-twice', permanent: true })]);
  });

  it('reports a sandbox of a workload pod the store no longer has, not one of a pod it has', () => {
    const sb = (id: string, uid: string, name: string): PodSandbox => ({
      id, metadata: { name, uid, namespace: 'default', attempt: 0 }, state: 'SANDBOX_NOTREADY', createdAt: 1,
      labels: { 'mk.io/pod-uid': uid, 'mk.io/pod-name': name }, annotations: {}, runtimeHandler: '',
    });
    const w = world({ pods: [pod('cw-t-rs-a', ownR)] }, { sandboxes: [sb('s1', 'u-cw-t-rs-a', 'cw-t-rs-a'), sb('s2', 'gone', 'cw-t-rs-b'), sb('s3', 'other', 'cp-t-1')] });
    expect(checkNodeLeftovers('cw-t-', w).map((v) => [v.invariant, v.subject])).toEqual([['gone', 'pod cw-t-rs-b']]);
  });
});
