/**
 * The HPA's behavior: the stabilization window and the scaling policies
 * (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#configurable-scaling-behavior,
 * pkg/controller/podautoscaler/horizontal.go normalizeDesiredReplicasWithBehaviors), as pure
 * functions over a history the caller keeps. The history lives in the controller's memory: like
 * Kubernetes', it starts empty after a control-plane restart.
 */
import type { HPAScalingRules } from '../../messages/hpa';

/** A recommendation the metrics made, and when. */
export interface Recommendation { replicas: number; atMs: number }
/** A rescale that happened: by how many replicas, and when. */
export interface ScaleEvent { change: number; atMs: number }

/** What one HPA remembers between syncs. */
export interface HpaHistory {
  recommendations: Recommendation[];
  scaleUps: ScaleEvent[];
  scaleDowns: ScaleEvent[];
}

/** A fresh history. */
export function emptyHistory(): HpaHistory {
  return { recommendations: [], scaleUps: [], scaleDowns: [] };
}

/** The behavior with every field set (the kind's defaults fill them on admission). */
export interface Rules { scaleUp: Required<HPAScalingRules>; scaleDown: Required<HPAScalingRules> }

/** A condition the normalization sets: its reason and message. */
export interface Because { reason: string; message: string }

/** The outcome of normalizing a recommendation. */
export interface Normalized {
  replicas: number;
  /** AbleToScale's reason: ReadyForNewScale, ScaleUpStabilized or ScaleDownStabilized. */
  ableToScale: Because;
  /** ScalingLimited: true when the rate or the bounds changed the stabilized count. */
  limited: boolean;
  limit: Because;
}

const changeWithin = (events: ScaleEvent[], periodSeconds: number, now: number): number =>
  events.filter((e) => e.atMs > now - periodSeconds * 1000).reduce((n, e) => n + e.change, 0);

/** The most replicas the scale-up policies allow now. */
export function scaleUpLimit(current: number, h: HpaHistory, rules: Required<HPAScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changeWithin(h.scaleUps, p.periodSeconds, now) + changeWithin(h.scaleDowns, p.periodSeconds, now);
    // Rounded up, so that a small count can always grow.
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now. */
export function scaleDownLimit(current: number, h: HpaHistory, rules: Required<HPAScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current - changeWithin(h.scaleUps, p.periodSeconds, now) + changeWithin(h.scaleDowns, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    // Min picks the smallest change, which for a scale down is the largest count.
    result = pickMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/**
 * Stabilizes `desired` over the windows and records it in `h` (mutated: the caller's own copy):
 * scaling up takes the lowest recommendation of the scale-up window, scaling down the highest of
 * the scale-down window, so a short dip or spike does not move the target.
 */
export function stabilize(current: number, desired: number, h: HpaHistory, rules: Rules, now: number): { replicas: number; because: Because } {
  const upCutoff = now - rules.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - rules.scaleDown.stabilizationWindowSeconds * 1000;
  let up = desired;
  let down = desired;
  for (const r of h.recommendations) {
    if (r.atMs > upCutoff) up = Math.min(up, r.replicas);
    if (r.atMs > downCutoff) down = Math.max(down, r.replicas);
  }
  let replicas = current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  const keep = Math.min(upCutoff, downCutoff);
  h.recommendations = h.recommendations.filter((r) => r.atMs >= keep);
  h.recommendations.push({ replicas: desired, atMs: now });
  const because = desired >= current
    ? { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
    : { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  return { replicas, because };
}

/** Bounds `desired` by the scaling policies and min/max, saying which bound applied. */
export function limitRate(current: number, desired: number, min: number, max: number, h: HpaHistory, rules: Rules, now: number): { replicas: number; because: Because } {
  if (desired > current) {
    const limit = Math.max(scaleUpLimit(current, h, rules.scaleUp, now), current);
    const capped = max > limit
      ? { replicas: limit, because: { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' } }
      : { replicas: max, because: { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' } };
    if (desired > capped.replicas) return capped;
  } else if (desired < current) {
    const limit = Math.min(scaleDownLimit(current, h, rules.scaleDown, now), current);
    const floored = min < limit
      ? { replicas: limit, because: { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' } }
      : { replicas: min, because: { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' } };
    if (desired < floored.replicas) return floored;
  }
  return { replicas: desired, because: { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' } };
}

/** Stabilizes, then limits the rate: the replicas to set, and the conditions to report. */
export function normalize(current: number, desired: number, min: number, max: number, h: HpaHistory, rules: Rules, now: number): Normalized {
  const s = stabilize(current, desired, h, rules, now);
  const ableToScale = s.replicas !== desired ? s.because : { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
  const l = limitRate(current, s.replicas, min, max, h, rules, now);
  return { replicas: l.replicas, ableToScale, limited: l.replicas !== s.replicas, limit: l.because };
}

/** Records a rescale from `from` to `to` in `h` (mutated), dropping events older than every policy's period. */
export function recordScale(h: HpaHistory, from: number, to: number, rules: Rules, now: number): void {
  // Both directions' policies read both lists, so events are kept for the longest period of all.
  const longest = Math.max(0, ...[...rules.scaleUp.policies, ...rules.scaleDown.policies].map((p) => p.periodSeconds)) * 1000;
  h.scaleUps = h.scaleUps.filter((e) => e.atMs > now - longest);
  h.scaleDowns = h.scaleDowns.filter((e) => e.atMs > now - longest);
  if (to > from) h.scaleUps.push({ change: to - from, atMs: now });
  else if (to < from) h.scaleDowns.push({ change: from - to, atMs: now });
}
