/**
 * The state of one probe of one container instance, as kubelet's prober worker keeps it: the
 * result counts only after successThreshold successes or failureThreshold failures in a row.
 * Pure; the prober (prober.ts) runs the probes and feeds their outcomes here.
 */
import type { ProbeKind, ProbeTiming } from '../../messages/probe';

/** What the probe says so far: unknown before a startup probe has decided. */
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeState {
  /** The result that counts (after the thresholds). */
  result: ProbeResult;
  /** The last outcome of a probe run, and how many in a row had it. */
  last?: 'success' | 'failure';
  run: number;
  /** A failing liveness or startup probe killed the instance: no more runs for it. */
  onHold: boolean;
}

/**
 * Before any run: a readiness probe says not ready, a liveness probe says alive (a container is
 * alive until shown otherwise), a startup probe has not decided.
 */
export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown', run: 0, onHold: false };
}

/** What one outcome does: the new state, whether the counted result changed, and whether to kill. */
export interface ProbeStep {
  state: ProbeState;
  changed: boolean;
  /** A liveness or startup probe reached failureThreshold: kill the container. */
  kill: boolean;
}

/** Applies one probe outcome under the thresholds. */
export function applyProbeOutcome(s: ProbeState, kind: ProbeKind, t: ProbeTiming, outcome: 'success' | 'failure'): ProbeStep {
  if (s.onHold) return { state: s, changed: false, kill: false };
  const run = s.last === outcome ? s.run + 1 : 1;
  const threshold = outcome === 'success' ? t.successThreshold : t.failureThreshold;
  if (run < threshold) return { state: { ...s, last: outcome, run }, changed: false, kill: false };
  const changed = s.result !== outcome;
  const kill = outcome === 'failure' && kind !== 'readiness';
  // A killed instance is not probed again; its successor starts with a fresh state.
  return { state: { result: outcome, last: outcome, run: kill ? 0 : run, onHold: kill }, changed, kill };
}

/**
 * When the next run of a probe is due (epoch ms): initialDelaySeconds after the container started,
 * then every periodSeconds after the previous run began.
 */
export function nextProbeAt(startedAtMs: number, t: ProbeTiming, lastRunAtMs: number | undefined): number {
  const first = startedAtMs + t.initialDelaySeconds * 1000;
  if (lastRunAtMs === undefined) return first;
  return Math.max(first, lastRunAtMs + t.periodSeconds * 1000);
}
