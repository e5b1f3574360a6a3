/**
 * The StatefulSet controller's decisions, as pure functions of a set and its pods (after
 * Kubernetes' pkg/controller/statefulset/stateful_set_control.go,
 * https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/): the pod of each
 * ordinal, which pods to make and delete under OrderedReady or Parallel management, which pod a
 * rolling update replaces next, and the status it reports. controller.ts performs them.
 *
 * Revisions are ControllerRevisions (actors/controller-revision/history.ts), named
 * `<set>-<hash>`; each pod carries its revision's name in controller-revision-hash. A pod below
 * the partition is made from the current revision's stored template, the others from the update
 * revision's (Kubernetes' newVersionedStatefulSetPod).
 */
import type { OwnerReference, Pod, StatefulSet, StatefulSetStatus } from '../../messages';
import { controllerRevisionName } from '../controller-revision/history';
import { CONTROLLER_REVISION_HASH_LABEL } from '../daemonset/reconcile';
import { podTemplateHash } from '../deployment/rollout';
import { isReady, msUntilAvailable } from '../replicaset/reconcile';

export { CONTROLLER_REVISION_HASH_LABEL };

/** The label that names a pod of a set (lets a Service select one replica). */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** The label that carries a pod's ordinal. */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/**
 * The name of the revision of the set's current template, `<set>-<hash>` (the hash salted with
 * the status' collisionCount, as Kubernetes does after a name collision): what its pods carry in
 * controller-revision-hash.
 */
export function statefulSetRevision(sts: StatefulSet, collisionCount = sts.status?.collisionCount ?? 0): string {
  return controllerRevisionName(sts.metadata.name, statefulSetTemplateHash(sts, collisionCount));
}

/** The hash of the set's current template (the suffix of its revision's name). */
export function statefulSetTemplateHash(sts: StatefulSet, collisionCount = sts.status?.collisionCount ?? 0): string {
  return podTemplateHash(sts.spec.template, collisionCount);
}

/**
 * The revision name a pod or status value stands for. Older mk wrote the bare template hash (no
 * revision objects); hashes never hold a `-`, so such a value is read as `<set>-<hash>`.
 */
export function asRevisionName(sts: StatefulSet, value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.includes('-') ? value : controllerRevisionName(sts.metadata.name, value);
}

/** The revision a pod of the set was made from (its controller-revision-hash, as asRevisionName reads it). */
export function podRevision(sts: StatefulSet, pod: Pod): string | undefined {
  return asRevisionName(sts, pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL]);
}

/** The first ordinal a RollingUpdate replaces: the start plus the partition. */
export function partitionOrdinal(sts: StatefulSet): number {
  const strategy = sts.spec.updateStrategy;
  if (strategy?.type === 'OnDelete') return ordinalRange(sts).start;
  return ordinalRange(sts).start + (strategy?.rollingUpdate?.partition ?? 0);
}

/**
 * True when a new pod of `ordinal` is made from the current revision rather than the update
 * revision (Kubernetes' newVersionedStatefulSetPod): under RollingUpdate, an ordinal below the
 * partition keeps the current revision, so a deleted replica there comes back as it was. Under
 * OnDelete every new pod gets the update revision: that is how a user rolls one out.
 */
export function madeFromCurrent(sts: StatefulSet, ordinal: number): boolean {
  return (sts.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && ordinal < partitionOrdinal(sts);
}

/** The first ordinal and one past the last that the set should have. */
export function ordinalRange(sts: StatefulSet): { start: number; end: number } {
  const start = sts.spec.ordinals?.start ?? 0;
  return { start, end: start + (sts.spec.replicas ?? 1) };
}

/** The name of the pod of `ordinal`: `<set>-<ordinal>`. */
export function statefulPodName(sts: StatefulSet, ordinal: number): string {
  return `${sts.metadata.name}-${ordinal}`;
}

/** The ordinal a pod's name gives it as a member of the set, or undefined when it is not one. */
export function ordinalOf(sts: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${sts.metadata.name}-`;
  const name = pod.metadata.name;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d{0,8})$/.test(rest) ? Number(rest) : undefined;
}

/** The reference a set writes into the pods it controls. */
export function statefulSetRef(sts: StatefulSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name, uid: sts.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * The pod of `ordinal` at revision `hash`, before admission: named `<set>-<ordinal>`, with that
 * name as its hostname and the set's serviceName as its subdomain (so the cluster DNS answers
 * `<pod>.<service>.<namespace>.svc.cluster.local`), labelled with its name, ordinal and revision,
 * controlled by the set. The claims of volumeClaimTemplates are mounted by claims.ts's
 * withClaimVolumes (claims.ts builds on this module, not the other way round).
 */
export function statefulPod(sts: StatefulSet, ordinal: number, hash: string): Pod {
  const t = sts.spec.template;
  const name = statefulPodName(sts, ordinal);
  const metadata: Pod['metadata'] = {
    name, namespace: sts.metadata.namespace, ownerReferences: [statefulSetRef(sts)],
    labels: { ...(t.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [CONTROLLER_REVISION_HASH_LABEL]: hash },
  };
  if (t.metadata?.annotations) metadata.annotations = { ...t.metadata.annotations };
  const spec: Pod['spec'] = { ...structuredClone(t.spec), hostname: name };
  if (sts.spec.serviceName) spec.subdomain = sts.spec.serviceName;
  else delete spec.subdomain;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** Running and Ready, and ready for minReadySeconds (Kubernetes' isRunningAndAvailable). */
export function isHealthy(pod: Pod, minReadySeconds: number, now: number): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running' && msUntilAvailable(pod, minReadySeconds, now) === 0;
}

/** Finished: a replica whose containers will not run again is deleted and made anew. */
function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

/** What one reconcile does about the set's pods. */
export interface StatefulPlan {
  /** Ordinals that get a new pod now. */
  create: number[];
  /** Pods to delete now: finished replicas, condemned ones, the next of a rolling update. */
  delete: Pod[];
  /** Why nothing more is done now (for the log), when something waits. */
  waiting?: string;
}

/**
 * One reconcile's work (Kubernetes' updateStatefulSet, with maxUnavailable 1):
 *
 * - A finished (Failed or Succeeded) replica is deleted; its ordinal gets a new pod of the same
 *   name once the old one is gone.
 * - OrderedReady: ordinals are walked from the first; a missing pod is made and the walk stops;
 *   one being deleted or not yet Running and Ready (and available for minReadySeconds) stops it.
 *   Parallel: every missing pod is made at once and nothing waits.
 * - Pods with an ordinal outside the range (a scale-down) are condemned. OrderedReady deletes the
 *   highest one, and only when no pod of the set is being deleted and all the others are healthy;
 *   Parallel deletes them all.
 * - RollingUpdate, once nothing else is to do: the highest in-range pod at or above the partition
 *   that is not at `hash` is deleted (and made again at `hash`), only when every other pod is
 *   healthy and none is being deleted. OnDelete replaces nothing: a pod a user deletes comes back
 *   at `hash`.
 *
 * A set being deleted makes and deletes nothing (the garbage collector takes its pods).
 */
export function planStatefulSet(sts: StatefulSet, pods: readonly Pod[], hash: string, now: number): StatefulPlan {
  const plan: StatefulPlan = { create: [], delete: [] };
  if (sts.metadata.deletionTimestamp) return plan;
  const { start, end } = ordinalRange(sts);
  const minReady = sts.spec.minReadySeconds ?? 0;
  const monotonic = (sts.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const healthy = (p: Pod) => isHealthy(p, minReady, now);
  const byOrdinal = new Map<number, Pod>();
  const condemned: { ordinal: number; pod: Pod }[] = [];
  for (const pod of pods) {
    const ordinal = ordinalOf(sts, pod);
    // A pod the set owns that is no member (renamed by no one, but adopted by an older mk) goes as an extra.
    if (ordinal === undefined) condemned.push({ ordinal: Number.MAX_SAFE_INTEGER, pod });
    else if (ordinal >= start && ordinal < end) byOrdinal.set(ordinal, pod);
    else condemned.push({ ordinal, pod });
  }
  condemned.sort((a, b) => b.ordinal - a.ordinal);

  for (let ordinal = start; ordinal < end; ordinal++) {
    const pod = byOrdinal.get(ordinal);
    if (!pod) {
      plan.create.push(ordinal);
      if (monotonic) return { ...plan, waiting: `pod ${statefulPodName(sts, ordinal)} to be created and become Running and Ready` };
      continue;
    }
    if (pod.metadata.deletionTimestamp) {
      if (monotonic) return { ...plan, waiting: `pod ${pod.metadata.name} to be deleted` };
      continue;
    }
    if (isFinished(pod)) {
      plan.delete.push(pod);
      if (monotonic) return { ...plan, waiting: `finished pod ${pod.metadata.name} to be deleted and made again` };
      continue;
    }
    if (monotonic && !healthy(pod)) return { ...plan, waiting: `pod ${pod.metadata.name} to be Running and Ready` };
  }

  const live = condemned.filter((c) => !c.pod.metadata.deletionTimestamp);
  if (!monotonic) {
    plan.delete.push(...live.map((c) => c.pod));
  } else if (condemned.length > 0) {
    if (live.length < condemned.length) return { ...plan, waiting: 'a condemned pod to be deleted' };
    const [top, ...rest] = live;
    if (rest.some((c) => !healthy(c.pod))) return { ...plan, waiting: `pod ${rest.find((c) => !healthy(c.pod))!.pod.metadata.name} to be Running and Ready before scaling down` };
    plan.delete.push(top.pod);
    return plan;
  }
  if (plan.create.length > 0 || plan.delete.length > 0) return plan;

  const victim = rollingUpdateVictim(sts, [...byOrdinal.values()], hash, now);
  if (victim.pod) plan.delete.push(victim.pod);
  else if (victim.waiting) plan.waiting = victim.waiting;
  return plan;
}

/**
 * The pod a rolling update replaces next (see planStatefulSet): the highest in-range pod at or
 * above the partition whose revision is not `hash`, when all the set's in-range pods exist, none is
 * being deleted and every other one is healthy. None with OnDelete.
 */
export function rollingUpdateVictim(sts: StatefulSet, inRange: readonly Pod[], hash: string, now: number): { pod?: Pod; waiting?: string } {
  const strategy = sts.spec.updateStrategy;
  if (strategy?.type === 'OnDelete') return {};
  const { start, end } = ordinalRange(sts);
  const partition = partitionOrdinal(sts);
  const minReady = sts.spec.minReadySeconds ?? 0;
  const sorted = [...inRange].sort((a, b) => (ordinalOf(sts, b) ?? 0) - (ordinalOf(sts, a) ?? 0));
  const old = sorted.find((p) => (ordinalOf(sts, p) ?? -1) >= partition && podRevision(sts, p) !== hash);
  if (!old) return {};
  if (sorted.length < end - start) return { waiting: 'every replica to exist before updating' };
  const blocker = sorted.find((p) => p !== old && !isHealthy(p, minReady, now));
  if (blocker || old.metadata.deletionTimestamp) return { waiting: `pod ${(blocker ?? old).metadata.name} to be Running and Ready before updating` };
  return { pod: old };
}

/** The status and when to look again (a ready pod that becomes available later). */
export interface StatefulStatusResult { status: StatefulSetStatus; requeueAfterMs?: number }

/**
 * The status of `sts` (Kubernetes' computeReplicaStatus and completeRollingUpdate): over its pods
 * not being deleted, replicas counts them, readyReplicas the Running and Ready ones,
 * availableReplicas those ready for minReadySeconds, updatedReplicas those at `hash`.
 * updateRevision is `hash`; currentRevision stays what it was until every replica is at `hash`
 * and ready (the rollout is complete), and currentReplicas counts the pods at it.
 */
export function statefulSetStatus(sts: StatefulSet, pods: readonly Pod[], hash: string, now: number): StatefulStatusResult {
  const live = pods.filter((p) => !p.metadata.deletionTimestamp);
  const minReady = sts.spec.minReadySeconds ?? 0;
  let ready = 0;
  let available = 0;
  let nextMs: number | undefined;
  for (const p of live) {
    if (p.status?.phase !== 'Running' || !isReady(p)) continue;
    ready++;
    const wait = msUntilAvailable(p, minReady, now) ?? 0;
    if (wait === 0) available++;
    else nextMs = Math.min(nextMs ?? wait, wait);
  }
  const at = (rev: string) => live.filter((p) => podRevision(sts, p) === rev).length;
  const updated = at(hash);
  const replicas = sts.spec.replicas ?? 1;
  const complete = updated === replicas && live.length === replicas && ready === replicas;
  const currentRevision = complete ? hash : asRevisionName(sts, sts.status?.currentRevision) ?? hash;
  const status: StatefulSetStatus = {
    replicas: live.length,
    readyReplicas: ready,
    currentReplicas: at(currentRevision),
    updatedReplicas: updated,
    availableReplicas: available,
    currentRevision,
    updateRevision: hash,
    observedGeneration: sts.metadata.generation ?? 1,
    collisionCount: sts.status?.collisionCount ?? 0,
  };
  return nextMs === undefined ? { status } : { status, requeueAfterMs: nextMs + 50 };
}
