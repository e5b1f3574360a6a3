/**
 * How a trigger's firings are delivered: how many tries, the wait before each retry (capped
 * exponential backoff, the shape of common/backoff.ts, without jitter so a firing's schedule is
 * reproducible), when a firing goes to the dead-letter subject, and what a firing does while
 * earlier ones still run (decideConcurrency, the CronJob's policy). Pure: no I/O.
 */
import { backoffDelay } from '../../common/backoff';
import {
  DEFAULT_TRIGGER_BACKOFF_SECONDS, DEFAULT_TRIGGER_MAX_ATTEMPTS, DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS, triggerDeadLetterSubject,
  type ConcurrencyPolicy, type Trigger,
} from '../../messages/trigger';

export { decideConcurrency, type ConcurrencyDecision } from '../concurrency-policy';

/** A trigger's delivery settings with the defaults filled in: a value, read once per firing. */
export interface DeliveryPolicy {
  concurrencyPolicy: ConcurrencyPolicy;
  /** Tries per firing, the first included (at least 1). */
  maxAttempts: number;
  /** The wait before the second try, in ms; it doubles for each later try. */
  initialBackoffMs: number;
  /** The longest wait between tries, in ms. */
  maxBackoffMs: number;
  /** Where a firing that failed every try is published. */
  deadLetterSubject: string;
}

/** The delivery policy of `trigger` (defaults: Allow, 3 tries, 1 s doubling to 60 s, `mk.trigger.dlq.<ns>.<name>`). */
export function deliveryPolicy(trigger: Trigger): DeliveryPolicy {
  const s = trigger.spec;
  return {
    concurrencyPolicy: s.concurrencyPolicy ?? 'Allow',
    maxAttempts: s.maxAttempts ?? DEFAULT_TRIGGER_MAX_ATTEMPTS,
    initialBackoffMs: (s.backoffSeconds ?? DEFAULT_TRIGGER_BACKOFF_SECONDS) * 1000,
    maxBackoffMs: (s.maxBackoffSeconds ?? DEFAULT_TRIGGER_MAX_BACKOFF_SECONDS) * 1000,
    deadLetterSubject: s.deadLetterSubject ?? triggerDeadLetterSubject(trigger.metadata.namespace ?? 'default', trigger.metadata.name),
  };
}

/**
 * After try number `attempt` (1-based) of a firing failed: the wait in ms before the next try
 * (initial, doubling, at most the cap), or undefined when that was the last try and the firing
 * goes to the dead-letter subject.
 */
export function nextAttemptDelay(attempt: number, policy: Pick<DeliveryPolicy, 'maxAttempts' | 'initialBackoffMs' | 'maxBackoffMs'>): number | undefined {
  if (!Number.isFinite(attempt) || attempt >= policy.maxAttempts) return undefined;
  return backoffDelay({ initialMs: policy.initialBackoffMs, maxMs: policy.maxBackoffMs, factor: 2 }, Math.max(1, Math.floor(attempt)) - 1);
}
