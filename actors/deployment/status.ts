/**
 * A deployment's status as a pure function of its sets (after Kubernetes'
 * pkg/controller/deployment/{sync.go,progress.go}): the counts, and the conditions Available and
 * Progressing with the progress deadline
 * (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status).
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from '../../messages';
import { stableJson } from '../api/stable-json';
import { resolveFenceposts } from './rollout';

const available = (rs: ReplicaSet) => rs.status?.availableReplicas ?? 0;

/** The counts of a deployment's status from its sets (Kubernetes' calculateStatus). */
export function countStatus(d: Deployment, all: readonly ReplicaSet[], newRs: ReplicaSet | undefined): DeploymentStatus {
  const sum = (f: (rs: ReplicaSet) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const replicas = sum((rs) => rs.status?.replicas ?? 0);
  const availableReplicas = sum(available);
  const desired = d.spec.replicas ?? 1;
  return {
    observedGeneration: d.metadata.generation,
    replicas,
    updatedReplicas: newRs?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas,
    unavailableReplicas: Math.max(0, desired - availableReplicas),
  };
}

/** True when every replica is the new template's and available (Kubernetes' DeploymentComplete). */
export function isComplete(d: Deployment, s: DeploymentStatus): boolean {
  const want = d.spec.replicas ?? 1;
  return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want
    && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** True when `next` shows progress over `prev`: more updated, ready or available, or fewer old (Kubernetes' DeploymentProgressing). */
export function isProgressing(prev: DeploymentStatus | undefined, next: DeploymentStatus): boolean {
  const p = prev ?? {};
  const old = (s: DeploymentStatus) => (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (next.updatedReplicas ?? 0) > (p.updatedReplicas ?? 0)
    || (next.readyReplicas ?? 0) > (p.readyReplicas ?? 0)
    || (next.availableReplicas ?? 0) > (p.availableReplicas ?? 0)
    || old(next) < old(p);
}

/**
 * What happened to the new set in this reconcile, for the Progressing condition: made, found
 * for a new revision (a rollback onto an existing set, or no condition yet), or nothing new.
 */
export type NewSetEvent = 'created' | 'found' | 'none';

/** The conditions and when to look again, from the previous status and the counts just made. */
export function withConditions(
  d: Deployment, prev: DeploymentStatus | undefined, counts: DeploymentStatus, newRs: ReplicaSet | undefined, event: NewSetEvent,
  now: number,
): { status: DeploymentStatus; requeueAfterMs?: number } {
  const ts = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const conditions = [...(prev?.conditions ?? [])];
  const set = (c: Omit<DeploymentCondition, 'lastUpdateTime' | 'lastTransitionTime'>, touch = true) => {
    const i = conditions.findIndex((x) => x.type === c.type);
    const before = i >= 0 ? conditions[i] : undefined;
    if (before && before.status === c.status && before.reason === c.reason && before.message === c.message && !touch) return;
    const next: DeploymentCondition = {
      ...c,
      lastUpdateTime: ts,
      lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : ts,
    };
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
  };
  const { maxUnavailable } = resolveFenceposts(d);
  const want = d.spec.replicas ?? 1;
  const minAvailable = want - maxUnavailable;
  if ((counts.availableReplicas ?? 0) >= minAvailable) {
    set({ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, false);
  } else {
    set({ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, false);
  }
  const progressing = conditions.find((c) => c.type === 'Progressing');
  const wasPaused = progressing?.reason === 'DeploymentPaused';
  const rsName = newRs?.metadata.name ?? '';
  let requeueAfterMs: number | undefined;
  if (d.spec.paused) {
    set({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, false);
  } else if (wasPaused) {
    set({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' });
  } else if (isComplete(d, counts)) {
    set({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }, false);
  } else if (event === 'created') {
    set({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` });
  } else if (event === 'found') {
    set({ type: 'Progressing', status: 'True', reason: 'FoundNewReplicaSet', message: `Found new replica set "${rsName}"` });
  } else if (isProgressing(prev, counts)) {
    set({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` });
  }
  const cur = conditions.find((c) => c.type === 'Progressing');
  const clocked = cur && (cur.status === 'True' || cur.reason === 'DeploymentResumed') && cur.reason !== 'NewReplicaSetAvailable';
  if (!d.spec.paused && clocked && !isComplete(d, counts)) {
    const deadline = Date.parse(cur.lastUpdateTime ?? ts) + (d.spec.progressDeadlineSeconds ?? 600) * 1000;
    if (deadline <= now) {
      set({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` });
    } else {
      requeueAfterMs = deadline - now + 1000;
    }
  }
  return { status: { ...counts, collisionCount: prev?.collisionCount, conditions }, requeueAfterMs };
}

/** True when the status differs from `prev` in more than timestamps. */
export function statusChanged(prev: DeploymentStatus | undefined, next: DeploymentStatus): boolean {
  return stableJson(prev ?? null) !== stableJson(next);
}
