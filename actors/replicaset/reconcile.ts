/**
 * The ReplicaSet controller's decisions, as pure functions of a set and the pods of its namespace
 * (after Kubernetes' pkg/controller/replicaset/replica_set.go and pkg/controller/controller_utils.go,
 * https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/): which pods it owns,
 * adopts and releases, how many to make or delete and which ones, in what batches, and the status
 * it reports. controller.ts performs them.
 */
import {
  selectorMatches, type KubeObject, type OwnerReference, type Pod, type ReplicaSet, type ReplicaSetCondition, type ReplicaSetStatus,
} from '../../messages';

/**
 * The most pods one reconcile makes or deletes (Kubernetes' burstReplicas); the rest follow on
 * the next reconcile, which the created pods' events bring on.
 */
export const BURST_REPLICAS = 500;
/** The first batch of a slow start (Kubernetes' SlowStartInitialBatchSize). */
export const SLOW_START_INITIAL_BATCH = 1;

/** The reference a set writes into the pods it controls. */
export function controllerRef(rs: ReplicaSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** The owner reference marked controller, if any. */
export function controllerOf(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

/** A pod that counts: not being deleted and not finished (Kubernetes' FilterActivePods). */
export function isActive(pod: Pod): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** The pod's Ready condition when it is True, else undefined. */
function readyCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
}

/** True when the pod is ready. */
export function isReady(pod: Pod): boolean {
  return !!readyCondition(pod);
}

/**
 * Milliseconds until a ready pod becomes available (ready for minReadySeconds): 0 when it is,
 * undefined when it is not ready at all.
 */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now: number): number | undefined {
  const ready = readyCondition(pod);
  if (!ready) return undefined;
  if (minReadySeconds <= 0) return 0;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  if (Number.isNaN(since)) return 0;
  return Math.max(0, since + minReadySeconds * 1000 - now);
}

/** What a set does about the pods of its namespace before counting. */
export interface Claims {
  /** Pods it controls whose labels it selects (adopted ones included). */
  owned: Pod[];
  /** Pods without a controller that it selects: it becomes their controller. */
  adopt: Pod[];
  /** Pods it controls whose labels it no longer selects: its reference goes. */
  release: Pod[];
}

/**
 * Sorts the namespace's pods for `rs` (Kubernetes' PodControllerRefManager.ClaimPods): its own
 * pods it still selects are kept, those it no longer selects released (unless already being
 * deleted); an orphan it selects is adopted, unless the orphan or the set is being deleted. Pods
 * controlled by anything else are never touched.
 */
export function claimPods(rs: ReplicaSet, pods: readonly Pod[]): Claims {
  const out: Claims = { owned: [], adopt: [], release: [] };
  const uid = rs.metadata.uid;
  for (const pod of pods) {
    const ref = controllerOf(pod);
    const selected = selectorMatches(rs.spec.selector, pod.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (selected) out.owned.push(pod);
      else if (!pod.metadata.deletionTimestamp) out.release.push(pod);
    } else if (selected && !pod.metadata.deletionTimestamp && !rs.metadata.deletionTimestamp) {
      out.adopt.push(pod);
    }
  }
  return out;
}

/** The pod with `rs` as its controller (an adoption). */
export function adopted(pod: Pod, rs: ReplicaSet): Pod {
  return { ...pod, metadata: { ...pod.metadata, ownerReferences: [...(pod.metadata.ownerReferences ?? []), controllerRef(rs)] } };
}

/** The pod without its reference to `rs` (a release). */
export function released(pod: Pod, rs: ReplicaSet): Pod {
  const refs = (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata.uid);
  const metadata: Pod['metadata'] = { ...pod.metadata, ownerReferences: refs };
  if (refs.length === 0) delete metadata.ownerReferences;
  return { ...pod, metadata };
}

/**
 * The batch sizes of a slow start of `count` creations (Kubernetes' slowStartBatch): 1, 2, 4, ...
 * until all are made. The controller stops at the first batch with a failure, so a template that
 * cannot make pods fails once, not `count` times.
 */
export function slowStartBatches(count: number, initial = SLOW_START_INITIAL_BATCH): number[] {
  const out: number[] = [];
  let left = count;
  let size = Math.max(1, initial);
  while (left > 0) {
    const n = Math.min(size, left);
    out.push(n);
    left -= n;
    size *= 2;
  }
  return out;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * The `count` pods to delete first, by Kubernetes' ActivePodsWithRanks: unscheduled before
 * scheduled; Pending before Unknown before Running; not ready before ready; pods sharing a node
 * with more of the set's pods before others; ready for less time before longer; more restarts
 * before fewer; newer before older; then by name, so the choice is stable.
 */
export function podsToDelete(pods: readonly Pod[], count: number): Pod[] {
  if (count <= 0) return [];
  const onNode = new Map<string, number>();
  for (const p of pods) if (p.spec.nodeName) onNode.set(p.spec.nodeName, (onNode.get(p.spec.nodeName) ?? 0) + 1);
  const readySince = (p: Pod): number => {
    const t = readyCondition(p)?.lastTransitionTime;
    return t ? Date.parse(t) : Number.POSITIVE_INFINITY;
  };
  const restarts = (p: Pod): number => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount));
  const created = (p: Pod): number => (p.metadata.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : Number.POSITIVE_INFINITY);
  const cmp = (a: Pod, b: Pod): number => {
    const aBound = a.spec.nodeName ? 1 : 0;
    const bBound = b.spec.nodeName ? 1 : 0;
    if (aBound !== bBound) return aBound - bBound;
    const ap = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
    const bp = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
    if (ap !== bp) return ap - bp;
    const ar = isReady(a) ? 1 : 0;
    const br = isReady(b) ? 1 : 0;
    if (ar !== br) return ar - br;
    const an = a.spec.nodeName ? onNode.get(a.spec.nodeName) ?? 0 : 0;
    const bn = b.spec.nodeName ? onNode.get(b.spec.nodeName) ?? 0 : 0;
    if (an !== bn) return bn - an;
    if (ar && br && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    if (created(a) !== created(b)) return created(b) - created(a);
    return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
  };
  return [...pods].sort(cmp).slice(0, count);
}

/** How many pods to make (positive) or delete (negative), at most BURST_REPLICAS either way. */
export function replicaDiff(rs: ReplicaSet, active: number): number {
  if (rs.metadata.deletionTimestamp) return 0;
  const want = rs.spec.replicas ?? 1;
  return Math.max(-BURST_REPLICAS, Math.min(BURST_REPLICAS, want - active));
}

/** Why pods could not be made or deleted in this reconcile, for the ReplicaFailure condition. */
export interface ManageFailure { reason: 'FailedCreate' | 'FailedDelete'; message: string }

/** The status and when to look again (a ready pod that becomes available later). */
export interface StatusResult { status: ReplicaSetStatus; requeueAfterMs?: number }

/**
 * The status of `rs` from its active pods (Kubernetes' calculateStatus): replicas counts them,
 * fullyLabeledReplicas those that carry every template label, readyReplicas the ready ones,
 * availableReplicas those ready for minReadySeconds. A failure sets ReplicaFailure; a reconcile
 * without one removes it.
 */
export function replicaSetStatus(rs: ReplicaSet, active: readonly Pod[], failure: ManageFailure | undefined, now: number): StatusResult {
  const templateLabels = rs.spec.template.metadata?.labels ?? {};
  const minReady = rs.spec.minReadySeconds ?? 0;
  let fully = 0;
  let ready = 0;
  let available = 0;
  let nextMs: number | undefined;
  for (const p of active) {
    const labels = p.metadata.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fully++;
    const wait = msUntilAvailable(p, minReady, now);
    if (wait === undefined) continue;
    ready++;
    if (wait === 0) available++;
    else nextMs = Math.min(nextMs ?? wait, wait);
  }
  const old = rs.status?.conditions ?? [];
  let conditions: ReplicaSetCondition[] = old.filter((c) => c.type !== 'ReplicaFailure');
  if (failure) {
    const was = old.find((c) => c.type === 'ReplicaFailure');
    const same = was && was.status === 'True' && was.reason === failure.reason && was.message === failure.message;
    conditions = [...conditions, same ? was : {
      type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message,
      lastTransitionTime: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z'),
    }];
  }
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: fully,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  if (conditions.length > 0) status.conditions = conditions;
  // A little past the moment, so the pod is available when the set looks again.
  return nextMs === undefined ? { status } : { status, requeueAfterMs: nextMs + 50 };
}

/** The random part of a pod's name: Kubernetes' alphabet without vowels and look-alikes. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** The longest base a generated name keeps (Kubernetes' maxGeneratedNameLength: 63 - 5). */
const MAX_BASE = 58;

/** A name for a new pod of `rs`: `<rs>-<5 random characters>` (the base cut to 58 characters). */
export function podName(rsName: string, random: () => number = Math.random): string {
  let base = `${rsName}-`;
  if (base.length > MAX_BASE) base = base.slice(0, MAX_BASE);
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[Math.floor(random() * SUFFIX_ALPHABET.length)];
  return base + suffix;
}

/** A new pod of `rs`, before admission: the template with its labels, annotations and the controller reference. */
export function podFromTemplate(rs: ReplicaSet, name: string): Pod {
  const t = rs.spec.template;
  const metadata: Pod['metadata'] = { name, namespace: rs.metadata.namespace, ownerReferences: [controllerRef(rs)] };
  if (t.metadata?.labels) metadata.labels = { ...t.metadata.labels };
  if (t.metadata?.annotations) metadata.annotations = { ...t.metadata.annotations };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(t.spec) };
}
