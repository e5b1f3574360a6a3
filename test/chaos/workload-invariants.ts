/**
 * The workload-controller invariants of a chaos round (ReplicaSet, Deployment, DaemonSet, Job), as pure
 * functions of what the round made (WorkloadRecord) and what it saw (WorldSnapshot):
 *
 * - a ReplicaSet has exactly spec.replicas active pods it controls, all Running, and its status
 *   counts them (replicas, readyReplicas);
 * - a Deployment's status says every replica is updated and ready; its newest ReplicaSet (the
 *   highest revision) has all the replicas and the older ones none; every active pod carries the
 *   newest pod-template-hash;
 * - a DaemonSet runs exactly one active pod on each node (one node here), Running, carrying the
 *   current template's controller-revision-hash; its status counts it as desired, current, ready
 *   and updated, for its current generation; an acknowledged restart left its restartedAt on the
 *   template;
 * - a Job is Complete with succeeded = completions, has that many Succeeded pods and none running;
 * - every pod of the workloads has a controller that is one of them;
 * - a container of a long-running pod ran once plus the pod's restartCount and never exited; one
 *   of a Job's pods (restartPolicy Never) ran at most once;
 * - no sandbox or container of a workload pod outlives the pod in the store.
 */
import { CONTROLLER_REVISION_HASH_LABEL, templateHash } from '../../actors/daemonset/reconcile';
import type { DaemonSet, Deployment, Job, KubeObject, Pod, ReplicaSet } from '../../messages';
import { LABEL_POD_NAME, LABEL_POD_UID } from '../../node-agent/pods';
import type { Violation, WorldSnapshot } from './kind';
import { describePodStatus, isRunning, ran } from './pod-invariants';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** The template annotation `mk rollout restart` stamps. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** One object the workload made: its kind, name, and what the round did to it. */
export interface WorkloadRecord {
  kind: 'ReplicaSet' | 'Deployment' | 'DaemonSet' | 'Job';
  name: string;
  namespace: string;
  /** The uid right after its apply (undefined: the apply never went through). */
  uid?: string;
  /** The replicas the last acknowledged change asked for (ReplicaSet, Deployment). */
  replicas?: number;
  /** Job: how many pods must succeed. */
  completions?: number;
  /** DaemonSet: a `mk rollout restart` of it was acknowledged. */
  restarted?: boolean;
}

const isTrue = (j: Job, type: string): boolean => !!j.status?.conditions?.some((c) => c.type === type && c.status === 'True');
const controllerOf = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller);
const finished = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
/** A pod that counts for its ReplicaSet: not being deleted, not finished. */
export const isActive = (p: Pod): boolean => !p.metadata.deletionTimestamp && !finished(p);

/** The revision of a ReplicaSet a Deployment made (0 when it has none). */
export const revisionOf = (rs: ReplicaSet): number => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;

function find<T extends KubeObject>(world: WorldSnapshot, plural: string, r: WorkloadRecord): T | undefined {
  return (world.objects?.get(plural) as T[] | undefined)?.find((o) => o.metadata.name === r.name && (o.metadata.namespace ?? 'default') === r.namespace);
}

/** The object of a record, or a `lost` violation (permanent: it was made and never deleted). */
function present<T extends KubeObject>(world: WorldSnapshot, plural: string, r: WorkloadRecord, out: Violation[]): T | undefined {
  const subject = `${r.kind} ${r.namespace}/${r.name}`;
  const o = find<T>(world, plural, r);
  if (!o) out.push({ invariant: 'lost', subject, permanent: true, detail: `applied (uid ${r.uid}) and never deleted, but not in the store` });
  else if (o.metadata.uid !== r.uid) out.push({ invariant: 'lost', subject, permanent: true, detail: `created with uid ${r.uid}, the store now has uid ${o.metadata.uid}` });
  else return o;
  return undefined;
}

/** The pods a controller (by uid) controls. */
const podsOf = (pods: readonly Pod[], uid: string | undefined): Pod[] => pods.filter((p) => controllerOf(p)?.uid === uid);

/** The replicas of a ReplicaSet: spec.replicas active pods controlled by it, all Running, counted by its status. */
export function checkReplicaSet(r: WorkloadRecord, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  if (!world.objects || r.uid === undefined) return out;
  const rs = present<ReplicaSet>(world, 'replicasets', r, out);
  if (!rs) return out;
  const subject = `ReplicaSet ${r.namespace}/${r.name}`;
  const want = rs.spec.replicas ?? 1;
  if (r.replicas !== undefined && want !== r.replicas) {
    out.push({ invariant: 'scale', subject, permanent: true, detail: `the last scale acknowledged asked for ${r.replicas} replicas; spec.replicas is ${want}` });
  }
  out.push(...replicasOf(subject, want, podsOf((world.objects.get('pods') ?? []) as Pod[], rs.metadata.uid)));
  const s = rs.status;
  if (s?.replicas !== want || (s.readyReplicas ?? 0) !== want || (rs.metadata.generation !== undefined && s.observedGeneration !== rs.metadata.generation)) {
    out.push({
      invariant: 'status', subject, permanent: false,
      detail: `spec.replicas ${want} (generation ${rs.metadata.generation ?? '?'}); status replicas ${s?.replicas}, readyReplicas ${s?.readyReplicas}, `
        + `observedGeneration ${s?.observedGeneration}`,
    });
  }
  return out;
}

/** `want` active pods, all Running. */
function replicasOf(subject: string, want: number, pods: readonly Pod[]): Violation[] {
  const out: Violation[] = [];
  const active = pods.filter(isActive);
  if (active.length !== want) {
    out.push({ invariant: 'replicas', subject, permanent: false, detail: `${active.length} active pod(s) (${active.map((p) => p.metadata.name).join(', ') || 'none'}), spec.replicas ${want}` });
  }
  for (const p of active) {
    if (!isRunning(p)) out.push({ invariant: 'running', subject: `pod ${p.metadata.namespace ?? 'default'}/${p.metadata.name}`, permanent: false, detail: `of ${subject}, not Running: ${describePodStatus(p)}` });
  }
  return out;
}

/**
 * A rolled-out Deployment: status replicas = updatedReplicas = readyReplicas = spec.replicas; the
 * newest ReplicaSet it controls has them all, older ones none; its pods all carry the newest hash.
 */
export function checkDeployment(r: WorkloadRecord, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  if (!world.objects || r.uid === undefined) return out;
  const d = present<Deployment>(world, 'deployments', r, out);
  if (!d) return out;
  const subject = `Deployment ${r.namespace}/${r.name}`;
  const want = d.spec.replicas ?? 1;
  const s = d.status;
  if (s?.replicas !== want || s.updatedReplicas !== want || s.readyReplicas !== want
    || (d.metadata.generation !== undefined && s.observedGeneration !== d.metadata.generation)) {
    out.push({
      invariant: 'status', subject, permanent: false,
      detail: `spec.replicas ${want} (generation ${d.metadata.generation ?? '?'}); status replicas ${s?.replicas}, updatedReplicas ${s?.updatedReplicas}, `
        + `readyReplicas ${s?.readyReplicas}, observedGeneration ${s?.observedGeneration}`,
    });
  }
  const sets = ((world.objects.get('replicasets') ?? []) as ReplicaSet[]).filter((x) => controllerOf(x)?.uid === d.metadata.uid)
    .sort((a, b) => revisionOf(b) - revisionOf(a));
  const [newest, ...older] = sets;
  if (!newest) {
    out.push({ invariant: 'rollout', subject, permanent: false, detail: 'it controls no ReplicaSet' });
    return out;
  }
  const hash = newest.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
  if ((newest.spec.replicas ?? 1) !== want) {
    out.push({ invariant: 'rollout', subject, permanent: false, detail: `its newest ReplicaSet ${newest.metadata.name} (revision ${revisionOf(newest)}) has spec.replicas ${newest.spec.replicas}, not ${want}` });
  }
  for (const o of older) {
    if ((o.spec.replicas ?? 1) !== 0 || (o.status?.replicas ?? 0) !== 0) {
      out.push({ invariant: 'rollout', subject, permanent: false, detail: `its older ReplicaSet ${o.metadata.name} (revision ${revisionOf(o)}) has spec.replicas ${o.spec.replicas}, status.replicas ${o.status?.replicas}, not 0` });
    }
  }
  const pods = (world.objects.get('pods') ?? []) as Pod[];
  const active = sets.flatMap((x) => podsOf(pods, x.metadata.uid)).filter(isActive);
  out.push(...replicasOf(subject, want, active));
  for (const p of active) {
    const h = p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
    if (h !== hash) out.push({ invariant: 'rollout', subject: `pod ${p.metadata.namespace ?? 'default'}/${p.metadata.name}`, permanent: false, detail: `of ${subject}, has pod-template-hash ${h}, the newest ReplicaSet ${newest.metadata.name} has ${hash}` });
  }
  return out;
}

/**
 * A rolled-out DaemonSet on `nodes` nodes (each runs one daemon): exactly one active pod it
 * controls per node, Running and carrying the current template's controller-revision-hash (the
 * controller labels its pods with templateHash of the stored template); status
 * desiredNumberScheduled = currentNumberScheduled = numberReady = updatedNumberScheduled = nodes
 * for the current generation; the restartedAt of an acknowledged restart on its template.
 */
export function checkDaemonSet(r: WorkloadRecord, world: WorldSnapshot, nodes = 1): Violation[] {
  const out: Violation[] = [];
  if (!world.objects || r.uid === undefined) return out;
  const ds = present<DaemonSet>(world, 'daemonsets', r, out);
  if (!ds) return out;
  const subject = `DaemonSet ${r.namespace}/${r.name}`;
  const s = ds.status;
  if (s?.desiredNumberScheduled !== nodes || s.currentNumberScheduled !== nodes || s.numberReady !== nodes
    || s.updatedNumberScheduled !== nodes || (s.numberMisscheduled ?? 0) !== 0
    || (ds.metadata.generation !== undefined && s.observedGeneration !== ds.metadata.generation)) {
    out.push({
      invariant: 'status', subject, permanent: false,
      detail: `${nodes} node(s) (generation ${ds.metadata.generation ?? '?'}); status desiredNumberScheduled ${s?.desiredNumberScheduled}, `
        + `currentNumberScheduled ${s?.currentNumberScheduled}, numberReady ${s?.numberReady}, updatedNumberScheduled ${s?.updatedNumberScheduled}, `
        + `numberMisscheduled ${s?.numberMisscheduled}, observedGeneration ${s?.observedGeneration}`,
    });
  }
  if (r.restarted && !ds.spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]) {
    out.push({ invariant: 'rollout', subject, permanent: true, detail: `its restart was acknowledged, yet its template has no ${RESTARTED_AT_ANNOTATION} annotation` });
  }
  const active = podsOf((world.objects.get('pods') ?? []) as Pod[], ds.metadata.uid).filter(isActive);
  out.push(...replicasOf(subject, nodes, active));
  const byNode = new Map<string, string[]>();
  for (const p of active) {
    const n = p.spec.nodeName ?? '';
    byNode.set(n, [...(byNode.get(n) ?? []), p.metadata.name]);
  }
  for (const [n, names] of byNode) {
    if (n === '') out.push({ invariant: 'replicas', subject, permanent: false, detail: `daemon pod(s) ${names.join(', ')} bound to no node` });
    else if (names.length > 1) out.push({ invariant: 'replicas', subject, permanent: false, detail: `node ${n} runs ${names.length} active daemon pods: ${names.join(', ')}` });
  }
  const hash = templateHash(ds);
  for (const p of active) {
    const h = p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    if (h !== hash) out.push({ invariant: 'rollout', subject: `pod ${p.metadata.namespace ?? 'default'}/${p.metadata.name}`, permanent: false, detail: `of ${subject}, has controller-revision-hash ${h}, its current template has ${hash}` });
  }
  return out;
}

/** A finished Job: Complete, status.succeeded = completions, at least that many Succeeded pods, none running. */
export function checkJob(r: WorkloadRecord, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  if (!world.objects || r.uid === undefined) return out;
  const j = present<Job>(world, 'jobs', r, out);
  if (!j) return out;
  const subject = `Job ${r.namespace}/${r.name}`;
  const want = j.spec.completions ?? r.completions ?? 1;
  if (isTrue(j, 'Failed')) {
    const c = j.status?.conditions?.find((x) => x.type === 'Failed');
    out.push({ invariant: 'job', subject, permanent: true, detail: `Failed: ${c?.reason ?? ''} ${c?.message ?? ''}`.trim() });
  } else if (!isTrue(j, 'Complete') || j.status?.succeeded !== want) {
    out.push({ invariant: 'job', subject, permanent: false, detail: `not Complete with ${want} succeeded: status ${JSON.stringify(j.status ?? {})}` });
  }
  if ((j.status?.succeeded ?? 0) > want) {
    out.push({ invariant: 'job', subject, permanent: true, detail: `status.succeeded ${j.status?.succeeded} is more than completions ${want}` });
  }
  const pods = podsOf((world.objects.get('pods') ?? []) as Pod[], j.metadata.uid);
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded');
  if (succeeded.length < want) out.push({ invariant: 'job', subject, permanent: false, detail: `${succeeded.length} Succeeded pod(s), completions ${want}` });
  for (const p of pods.filter((x) => !finished(x))) {
    out.push({ invariant: 'job', subject: `pod ${p.metadata.namespace ?? 'default'}/${p.metadata.name}`, permanent: false, detail: `of the finished ${subject}, still ${describePodStatus(p)}` });
  }
  return out;
}

/** The pods of the workloads: selected by `mine` (the label), each controlled by one of `owners` (uids). */
export function checkOwners(mine: (p: Pod) => boolean, owners: ReadonlySet<string>, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  for (const p of ((world.objects?.get('pods') ?? []) as Pod[]).filter(mine)) {
    const c = controllerOf(p);
    const subject = `pod ${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
    if (!c) out.push({ invariant: 'owner', subject, permanent: false, detail: 'a workload pod without a controller' });
    else if (!owners.has(c.uid)) out.push({ invariant: 'owner', subject, permanent: false, detail: `its controller ${c.kind} ${c.name} (uid ${c.uid}) is not one of the workload's objects` });
  }
  return out;
}

/**
 * The containers of the workloads' pods: a long-running pod's container (restartPolicy Always)
 * ran once plus its restartCount, and an active one never exited (its command never ends); a
 * Job pod's container (restartPolicy Never) ran at most once.
 */
export function checkWorkloadContainers(mine: (p: Pod) => boolean, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  for (const p of ((world.objects?.get('pods') ?? []) as Pod[]).filter(mine)) {
    const subject = `pod ${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
    const never = p.spec.restartPolicy === 'Never';
    for (const cs of p.status?.containerStatuses ?? []) {
      const seen = world.seenContainers.filter((c) => c.podUid === p.metadata.uid && c.name === cs.name);
      const runs = seen.filter(ran);
      if (never) {
        if (runs.length > 1) {
          out.push({ invariant: 'ran-twice', subject, permanent: true, detail: `container ${cs.name} of a restartPolicy Never pod ran as ${runs.length} containers: ${runs.map((c) => `${c.id.slice(0, 12)} attempt ${c.attempt}`).join(', ')}` });
        }
        continue;
      }
      if (runs.length > 0 && runs.length - 1 !== cs.restartCount) {
        out.push({ invariant: 'attempt-vs-restarts', subject, permanent: false, detail: `container ${cs.name}: ${runs.length} instance(s) ran, so restartCount should be ${runs.length - 1}; it is ${cs.restartCount}` });
      }
      if (!isActive(p)) continue;
      for (const c of runs.filter((x) => x.states.includes('CONTAINER_EXITED'))) {
        out.push({
          invariant: 'never-exits', subject, permanent: true,
          detail: `container ${cs.name} attempt ${c.attempt} (${c.id.slice(0, 12)}) exited${c.exit ? ` with code ${c.exit.exitCode} (${c.exit.reason || 'no reason'})` : ''}, though its command never ends`,
        });
      }
    }
  }
  return out;
}

/** No sandbox or container of a workload pod (by name prefix) is on the node once the store has no pod of its uid. */
export function checkNodeLeftovers(prefix: string, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  if (!world.objects || !world.cri) return out;
  const uids = new Set(((world.objects.get('pods') ?? []) as Pod[]).map((p) => p.metadata.uid));
  const on = [
    ...world.cri.sandboxes.map((x) => ({ what: 'sandbox', x, name: x.labels[LABEL_POD_NAME] ?? x.metadata?.name ?? '' })),
    ...world.cri.containers.map((x) => ({ what: 'container', x, name: x.labels[LABEL_POD_NAME] ?? '' })),
  ];
  for (const { what, x, name } of on) {
    const uid = x.labels[LABEL_POD_UID];
    if (!name.startsWith(prefix) || uids.has(uid)) continue;
    out.push({ invariant: 'gone', subject: `pod ${name}`, permanent: false, detail: `the store has no pod of uid ${uid}, yet its ${what} ${x.id.slice(0, 12)} (${x.state}) is on the node` });
  }
  return out;
}
