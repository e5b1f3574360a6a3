/**
 * The function autoscaler's arithmetic, pure: how many instances a function wants from the load
 * its gateways report, scaling up at once and down only after the demand stayed lower for a
 * stable window, and to zero after idleSeconds without a call. The shape is Knative's KPA
 * (https://knative.dev/docs/serving/autoscaling/kpa-specific/): desired pods = ceil(concurrent
 * requests / (target concurrency x target utilisation)), a stable window before scaling down,
 * and a panic mode: when the panic window (a tenth of the stable window) asks for at least twice
 * the ready instances, nothing is scaled down until a stable window passed without that.
 */
import { TARGET_UTILIZATION } from '../../messages';

/** The instances `load` calls (in flight plus queued) need at `concurrency` calls per instance. */
export function instancesFor(load: number, concurrency: number): number {
  if (load <= 0) return 0;
  return Math.ceil(load / (Math.max(1, concurrency) * TARGET_UTILIZATION));
}

/** One past recommendation: what the load asked for at a time. */
export interface Recommendation { at: number; want: number }

/** Panic mode: since when, and when the panic condition last held (ms). */
export interface PanicState { since: number; last: number }

/** What one scaling decision takes. */
export interface ScaleInput {
  /** In-flight plus queued calls over every gateway. */
  load: number;
  concurrency: number;
  minInstances: number;
  maxInstances: number;
  idleSeconds: number;
  /** The scale-down (stable) window in ms. */
  windowMs: number;
  /** The panic window in ms (at most windowMs); 0 turns panic mode off. */
  panicWindowMs?: number;
  /** Panic mode starts when the panic window asks for this many times the ready instances (Knative: 2). */
  panicThreshold?: number;
  /** Instances there are now (not draining). */
  current: number;
  /** Of them, the ready ones (Knative compares the panic recommendation with these); `current` when not given. */
  ready?: number;
  /** Panic mode as the last decision left it; undefined when not panicking (and after a restart). */
  panic?: PanicState;
  /** When the function was last called (ms), or undefined when never. */
  lastInvocation: number | undefined;
  /** The recommendations of the window so far (oldest first); empty after a restart. */
  history: readonly Recommendation[];
  now: number;
}

/** The decision, the history to keep for the next one, and panic mode as it is now. */
export interface ScaleDecision { desired: number; history: Recommendation[]; idle: boolean; panic?: PanicState }

/**
 * Decides the instance count: the load's own recommendation at once when it is above `current`;
 * below it, the highest recommendation of the window (so a dip shorter than the window removes
 * nothing); while the function was called within idleSeconds, at least one instance; all clamped
 * to [minInstances, maxInstances]. A history that is empty (a restarted controller) starts with
 * `current` as if recommended now, so a restart never scales down before a full window.
 *
 * Panic mode, as Knative's KPA (https://knative.dev/docs/serving/autoscaling/kpa-specific/#panic-window):
 * when the highest recommendation of the panic window is at least panicThreshold times the ready
 * instances (at least one), the scaler panics; while it panics it never scales down (the count is
 * at least `current` and the panic window's highest recommendation); it leaves panic mode once a
 * whole stable window passed without the condition. Going idle (no load and no call for
 * idleSeconds) ends panic mode: the burst is over and idleSeconds is the user's word on zero.
 */
export function decideScale(i: ScaleInput): ScaleDecision {
  const want = instancesFor(i.load, i.concurrency);
  const seeded = i.history.length === 0 ? [{ at: i.now, want: i.current }] : i.history;
  const history = [...seeded.filter((r) => i.now - r.at < i.windowMs), { at: i.now, want }];
  const windowMax = Math.max(...history.map((r) => r.want));
  let desired = want >= i.current ? want : Math.min(i.current, windowMax);
  const idle = i.load === 0 && (i.lastInvocation === undefined || i.now - i.lastInvocation >= i.idleSeconds * 1000);
  const panic = idle ? undefined : panicNow(i, history);
  if (panic) {
    // The recommendations of the panic window (only this pass's when it is shorter than a pass).
    const panicMax = Math.max(...history.filter((r) => i.now - r.at < (i.panicWindowMs ?? 0) || r.at === i.now).map((r) => r.want));
    desired = Math.max(desired, i.current, panicMax);
  }
  if (idle) desired = 0;
  else if (i.lastInvocation !== undefined || i.load > 0) desired = Math.max(desired, 1);
  desired = Math.min(i.maxInstances, Math.max(i.minInstances, desired));
  return { desired, history, idle, ...(panic ? { panic } : {}) };
}

/** Panic mode after this pass: entered or prolonged when the panic window asks for panicThreshold x ready, left a stable window after it last did. */
function panicNow(i: ScaleInput, history: readonly Recommendation[]): PanicState | undefined {
  const panicWindowMs = Math.min(i.panicWindowMs ?? 0, i.windowMs);
  const threshold = i.panicThreshold ?? 2;
  if (panicWindowMs <= 0) return undefined;
  const recent = history.filter((r) => i.now - r.at < panicWindowMs || r.at === i.now);
  const panicWant = Math.max(...recent.map((r) => r.want));
  const ready = Math.max(1, i.ready ?? i.current);
  if (panicWant > 0 && panicWant / ready >= threshold) return { since: i.panic?.since ?? i.now, last: i.now };
  if (i.panic && i.now - i.panic.last < i.windowMs) return i.panic;
  return undefined;
}
