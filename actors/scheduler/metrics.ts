/**
 * The scheduler's Prometheus metrics, after kube-scheduler's (scheduler_schedule_attempts_total,
 * scheduler_scheduling_attempt_duration_seconds, scheduler_pod_scheduling_sli_duration_seconds:
 * https://kubernetes.io/docs/reference/instrumentation/metrics/).
 */
import { counter, histogram, LATENCY_BUCKETS, secondsBuckets } from '../../common/metrics';

/** What an attempt ended in. */
export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

/** Attempts to place a pod (runs of the filters), by result. */
export const schedulerAttempts = counter({
  name: 'mk_scheduler_attempts_total',
  help: 'Attempts to place a pod, by result: scheduled (bound to a node), unschedulable (fits nowhere) or error (a store error while deciding or binding).',
  labelNames: ['result'] as const,
});

/** One attempt: deciding and writing the binding (or the Unschedulable condition). */
export const schedulingDuration = histogram({
  name: 'mk_scheduler_scheduling_duration_seconds',
  help: 'Seconds one scheduling attempt took, from deciding to the binding (or the Unschedulable condition) being stored, by result.',
  labelNames: ['result'] as const,
  buckets: LATENCY_BUCKETS as number[],
});

/** From the first attempt for a pod to its binding, however many attempts that took. */
export const podSchedulingDuration = histogram({
  name: 'mk_scheduler_pod_scheduling_duration_seconds',
  help: 'Seconds from the scheduler\'s first attempt at a pod (uid) to its binding, waits while unschedulable included (this scheduler\'s life only).',
  buckets: secondsBuckets(0.0005, 600),
});

/** Pods first seen by uid and not yet bound; the oldest are forgotten past this many. */
const MAX_PENDING = 100_000;

/** When each pod was first tried, until bound: for podSchedulingDuration. */
export class FirstSeen {
  private readonly since = new Map<string, number>();

  /** Notes `uid`'s first attempt (a later call keeps the first time). */
  seen(uid: string, nowMs = performance.now()): void {
    if (this.since.has(uid)) return;
    this.since.set(uid, nowMs);
    if (this.since.size > MAX_PENDING) this.since.delete(this.since.keys().next().value as string);
  }

  /** Observes `uid`'s time from first attempt to now and forgets it; nothing when it was never seen. */
  bound(uid: string, nowMs = performance.now()): void {
    const t = this.since.get(uid);
    if (t === undefined) return;
    this.since.delete(uid);
    podSchedulingDuration.observe(Math.max(0, nowMs - t) / 1000);
  }

  /** Forgets `uid` (the pod went away unbound). */
  forget(uid: string): void {
    this.since.delete(uid);
  }
}

/** Counts and times one attempt that started at `startMs` (performance.now()). */
export function attemptDone(result: AttemptResult, startMs: number): void {
  schedulerAttempts.inc({ result });
  schedulingDuration.observe({ result }, Math.max(0, performance.now() - startMs) / 1000);
}
