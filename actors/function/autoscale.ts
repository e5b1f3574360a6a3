/**
 * The function autoscaler's arithmetic, pure: how many instances a function wants from the load
 * its gateways report, scaling up at once and down only after the demand stayed lower for a
 * stable window, and to zero after idleSeconds without a call. The shape is Knative's KPA
 * (https://knative.dev/docs/serving/autoscaling/kpa-specific/): desired pods = ceil(concurrent
 * requests / (target concurrency x target utilisation)), a stable window before scaling down.
 */
import { TARGET_UTILIZATION } from '../../messages';

/** The instances `load` calls (in flight plus queued) need at `concurrency` calls per instance. */
export function instancesFor(load: number, concurrency: number): number {
  if (load <= 0) return 0;
  return Math.ceil(load / (Math.max(1, concurrency) * TARGET_UTILIZATION));
}

/** One past recommendation: what the load asked for at a time. */
export interface Recommendation { at: number; want: number }

/** What one scaling decision takes. */
export interface ScaleInput {
  /** In-flight plus queued calls over every gateway. */
  load: number;
  concurrency: number;
  minInstances: number;
  maxInstances: number;
  idleSeconds: number;
  /** The scale-down window in ms. */
  windowMs: number;
  /** Instances there are now (not draining). */
  current: number;
  /** When the function was last called (ms), or undefined when never. */
  lastInvocation: number | undefined;
  /** The recommendations of the window so far (oldest first); empty after a restart. */
  history: readonly Recommendation[];
  now: number;
}

/** The decision and the history to keep for the next one. */
export interface ScaleDecision { desired: number; history: Recommendation[]; idle: boolean }

/**
 * Decides the instance count: the load's own recommendation at once when it is above `current`;
 * below it, the highest recommendation of the window (so a dip shorter than the window removes
 * nothing); while the function was called within idleSeconds, at least one instance; all clamped
 * to [minInstances, maxInstances]. A history that is empty (a restarted controller) starts with
 * `current` as if recommended now, so a restart never scales down before a full window.
 */
export function decideScale(i: ScaleInput): ScaleDecision {
  const want = instancesFor(i.load, i.concurrency);
  const seeded = i.history.length === 0 ? [{ at: i.now, want: i.current }] : i.history;
  const history = [...seeded.filter((r) => i.now - r.at < i.windowMs), { at: i.now, want }];
  const windowMax = Math.max(...history.map((r) => r.want));
  let desired = want >= i.current ? want : Math.min(i.current, windowMax);
  const idle = i.load === 0 && (i.lastInvocation === undefined || i.now - i.lastInvocation >= i.idleSeconds * 1000);
  if (idle) desired = 0;
  else if (i.lastInvocation !== undefined || i.load > 0) desired = Math.max(desired, 1);
  desired = Math.min(i.maxInstances, Math.max(i.minInstances, desired));
  return { desired, history, idle };
}
