/**
 * The Deployment controller's rollout math, as pure functions (after Kubernetes'
 * pkg/controller/deployment/{rolling.go,recreate.go,sync.go,progress.go} and
 * pkg/controller/deployment/util/deployment_util.go;
 * https://kubernetes.io/docs/concepts/workloads/controllers/deployment/): the pod-template hash,
 * the surge and unavailability limits, how far one step scales the new and the old ReplicaSets,
 * and how a scaling event sizes them. status.ts makes the status; controller.ts performs the steps.
 */
import type {
  Deployment, IntOrPercent, PodTemplateSpec, ReplicaSet,
} from '../../messages';
import { stableJson } from '../api/stable-json';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** Characters without vowels, so a hash never spells a word (Kubernetes' SafeEncodeString alphabet). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * A stable hash of a pod template (and the deployment's collisionCount, so a name collision gives
 * another): FNV-1a over the template's canonical JSON, written in SAFE's characters. Equal templates
 * always give the same hash, whatever the order of their keys.
 */
export function podTemplateHash(template: PodTemplateSpec, collisionCount = 0): string {
  const text = stableJson(withoutHash(template)) + (collisionCount > 0 ? `#${collisionCount}` : '');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Each decimal digit of the 32-bit hash becomes one safe character, as Kubernetes writes it.
  return [...String(h)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

/** The template without its pod-template-hash label (what compares two revisions' templates). */
export function withoutHash(t: PodTemplateSpec): PodTemplateSpec {
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  const metadata = { ...(t.metadata ?? {}), labels: Object.keys(labels).length > 0 ? labels : undefined };
  return { ...t, metadata };
}

/** True when two templates are the same revision (Kubernetes' EqualIgnoreHash). */
export function sameTemplate(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  return stableJson(withoutHash(a)) === stableJson(withoutHash(b));
}

/** An int, or a percentage of `total` rounded up or down (Kubernetes' GetScaledValueFromIntOrPercent). */
export function scaledValue(v: IntOrPercent | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const pct = parseInt(v, 10);
  const exact = (pct * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * maxSurge (rounded up) and maxUnavailable (rounded down) as pod counts for `replicas`; when both
 * come out 0, maxUnavailable is 1 so the rollout can go on (Kubernetes' ResolveFenceposts).
 */
export function resolveFenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: replicas };
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge ?? '25%', replicas, true);
  let maxUnavailable = scaledValue(ru.maxUnavailable ?? '25%', replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

const specReplicas = (rs: ReplicaSet) => rs.spec.replicas ?? 0;
const available = (rs: ReplicaSet) => rs.status?.availableReplicas ?? 0;
/** Oldest first, then by name (Kubernetes' ReplicaSetsByCreationTimestamp). */
const byAge = (a: ReplicaSet, b: ReplicaSet) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')
  || a.metadata.name.localeCompare(b.metadata.name);

/**
 * The replicas of the new ReplicaSet after one rolling step: up by as many as maxSurge leaves
 * room for, never beyond spec.replicas (Kubernetes' NewRSNewReplicas).
 */
export function newReplicasForRollingUpdate(d: Deployment, all: readonly ReplicaSet[], newRs: ReplicaSet): number {
  const replicas = d.spec.replicas ?? 1;
  const { maxSurge } = resolveFenceposts(d);
  const current = all.reduce((n, rs) => n + specReplicas(rs), 0);
  const maxTotal = replicas + maxSurge;
  if (current >= maxTotal) return specReplicas(newRs);
  const up = Math.min(maxTotal - current, replicas - specReplicas(newRs));
  return specReplicas(newRs) + up;
}

/**
 * The old ReplicaSets' replicas after one rolling step, by name (only those that change): first
 * unhealthy replicas go (they count against availability anyway), then available ones, oldest
 * set first, as far as maxUnavailable allows (Kubernetes' reconcileOldReplicaSets). `all` holds
 * the new set and the old ones; the pod counts are the sets' status.replicas.
 */
export function oldReplicasForRollingUpdate(d: Deployment, all: readonly ReplicaSet[], newRs: ReplicaSet | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const replicas = d.spec.replicas ?? 1;
  const olds = all.filter((rs) => rs !== newRs && specReplicas(rs) > 0).sort(byAge);
  if (olds.length === 0) return out;
  const { maxUnavailable } = resolveFenceposts(d);
  const minAvailable = replicas - maxUnavailable;
  const allPods = all.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
  const newUnavailable = newRs ? specReplicas(newRs) - available(newRs) : 0;
  let maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;
  const now = new Map(olds.map((rs) => [rs.metadata.name, specReplicas(rs)]));
  // Unhealthy replicas first: removing them lowers no availability.
  for (const rs of olds) {
    if (maxScaledDown <= 0) break;
    const cur = now.get(rs.metadata.name)!;
    const unhealthy = cur - available(rs);
    if (unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown, unhealthy);
    now.set(rs.metadata.name, cur - down);
    maxScaledDown -= down;
  }
  // Then available ones, as far as availability stays at minAvailable.
  const availableNow = all.reduce((n, rs) => n + available(rs), 0);
  let toScaleDown = Math.min(availableNow - minAvailable, maxScaledDown);
  for (const rs of olds) {
    if (toScaleDown <= 0) break;
    const cur = now.get(rs.metadata.name)!;
    const down = Math.min(cur, toScaleDown);
    now.set(rs.metadata.name, cur - down);
    toScaleDown -= down;
  }
  for (const rs of olds) if (now.get(rs.metadata.name) !== specReplicas(rs)) out.set(rs.metadata.name, now.get(rs.metadata.name)!);
  return out;
}

/** A set's desired-replicas or max-replicas annotation as a number, or undefined. */
function annotated(rs: ReplicaSet, name: string): number | undefined {
  const n = parseInt(rs.metadata.annotations?.[name] ?? '', 10);
  return Number.isNaN(n) ? undefined : n;
}

/**
 * True when the deployment's replicas changed since its active sets were last sized (their
 * desired-replicas annotation says another number): then the sets are scaled, not rolled
 * (Kubernetes' isScalingEvent).
 */
export function isScalingEvent(d: Deployment, all: readonly ReplicaSet[]): boolean {
  const want = d.spec.replicas ?? 1;
  return all.some((rs) => specReplicas(rs) > 0 && annotated(rs, DESIRED_REPLICAS_ANNOTATION) !== undefined
    && annotated(rs, DESIRED_REPLICAS_ANNOTATION) !== want);
}

/** Largest first; among equals, newer first (`newer`) or older first (Kubernetes' ReplicaSetsBySizeNewer/Older). */
const bySize = (newer: boolean) => (a: ReplicaSet, b: ReplicaSet) => specReplicas(b) - specReplicas(a) || (newer ? byAge(b, a) : byAge(a, b));

/**
 * The sets' replicas after a scaling event (Kubernetes' scale in sync.go): a single active set
 * (or, with none, the new or newest one) takes the new size; a saturated new set means the old
 * ones go to 0; otherwise, for RollingUpdate, the change is shared among the active sets in
 * proportion to their size, the rounding leftover going to the largest. Returns every active
 * set's size (changed or not), by name.
 */
export function scaledSizes(d: Deployment, all: readonly ReplicaSet[], newRs: ReplicaSet | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const want = d.spec.replicas ?? 1;
  const active = all.filter((rs) => specReplicas(rs) > 0);
  if (active.length <= 1) {
    const only = active[0] ?? newRs ?? [...all].sort(byAge).pop();
    if (only) out.set(only.metadata.name, want);
    return out;
  }
  if (newRs && specReplicas(newRs) === want && available(newRs) === want) {
    for (const rs of active) out.set(rs.metadata.name, rs === newRs ? want : 0);
    return out;
  }
  if (d.spec.strategy?.type === 'Recreate') return out;
  const { maxSurge } = resolveFenceposts(d);
  const allowed = want > 0 ? want + maxSurge : 0;
  const toAdd = allowed - active.reduce((n, rs) => n + specReplicas(rs), 0);
  const sorted = [...active].sort(bySize(toAdd > 0));
  let added = 0;
  for (const rs of sorted) {
    let fraction: number;
    if (want === 0) {
      fraction = -specReplicas(rs);
    } else {
      const before = annotated(rs, MAX_REPLICAS_ANNOTATION) ?? d.status?.replicas ?? allowed;
      fraction = Math.round((specReplicas(rs) * allowed) / Math.max(1, before)) - specReplicas(rs);
    }
    const left = toAdd - added;
    const share = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
    out.set(rs.metadata.name, specReplicas(rs) + share);
    added += share;
  }
  if (toAdd !== added && sorted.length > 0) {
    const first = sorted[0].metadata.name;
    out.set(first, Math.max(0, out.get(first)! + toAdd - added));
  }
  return out;
}

/** The highest revision among `sets` (0 for none). */
export function maxRevision(sets: readonly ReplicaSet[]): number {
  return sets.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/** A set's revision annotation as a number (0 without one). */
export function revisionOf(rs: { metadata: { annotations?: Record<string, string> } }): number {
  const n = parseInt(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '', 10);
  return Number.isNaN(n) ? 0 : n;
}

/**
 * Old sets to delete beyond revisionHistoryLimit: those scaled to 0 with no pods left, oldest
 * revision first (Kubernetes' cleanupDeployment).
 */
export function setsToCleanUp(d: Deployment, olds: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec.revisionHistoryLimit ?? 10;
  const idle = olds.filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp);
  const excess = idle.length - limit;
  if (excess <= 0) return [];
  return [...idle].sort((a, b) => revisionOf(a) - revisionOf(b) || byAge(a, b)).slice(0, excess);
}
