/**
 * Retriers and catchers, as Step Functions applies them
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html): the first
 * retrier whose errorEquals matches decides alone (once its attempts are spent, no later retrier is
 * tried), and only then the first matching catcher.
 */
import {
  DEFAULT_RETRY_BACKOFF_RATE, DEFAULT_RETRY_INTERVAL_SECONDS, DEFAULT_RETRY_MAX_ATTEMPTS, errorMatches, StatesErrors,
  type Catcher, type Retrier,
} from '../../../messages/workflow';

/** True when a retrier's or catcher's errorEquals matches an error; a Parallel's or Map's failure also matches States.BranchFailed. */
export function handles(errorEquals: readonly string[], error: string, fanOut: boolean): boolean {
  return errorMatches(errorEquals, error) || (fanOut && errorEquals.includes(StatesErrors.BranchFailed));
}

/** The retry to make after an error: which retrier, and the delay before the next attempt. */
export interface RetryDecision {
  retrier: number;
  delayMs: number;
}

/**
 * The retry for `error`, or undefined when none applies: no retrier matches, or the first that
 * matches has made its maxAttempts retries. `retryCounts` holds the retries made per retrier;
 * `random` (in [0, 1)) draws a FULL jitter, so the caller must record the delay it gets.
 */
export function decideRetry(
  retriers: readonly Retrier[] | undefined, error: string, fanOut: boolean, retryCounts: readonly number[], random: () => number,
): RetryDecision | undefined {
  const index = (retriers ?? []).findIndex((r) => handles(r.errorEquals, error, fanOut));
  if (retriers === undefined || index < 0) return undefined;
  const r = retriers[index];
  const made = retryCounts[index] ?? 0;
  if (made >= (r.maxAttempts ?? DEFAULT_RETRY_MAX_ATTEMPTS)) return undefined;
  return { retrier: index, delayMs: Math.round(retryDelaySeconds(r, made, random) * 1000) };
}

/** The delay (seconds) before retry number `made + 1`: intervalSeconds * backoffRate^made, capped by maxDelaySeconds, FULL jitter uniform in [0, delay]. */
export function retryDelaySeconds(r: Retrier, made: number, random: () => number): number {
  const base = (r.intervalSeconds ?? DEFAULT_RETRY_INTERVAL_SECONDS) * (r.backoffRate ?? DEFAULT_RETRY_BACKOFF_RATE) ** made;
  const capped = r.maxDelaySeconds === undefined ? base : Math.min(base, r.maxDelaySeconds);
  return r.jitter === 'FULL' ? random() * capped : capped;
}

/** The first catcher that handles `error`, with its index. */
export function findCatcher(catchers: readonly Catcher[] | undefined, error: string, fanOut: boolean): Catcher | undefined {
  return (catchers ?? []).find((c) => handles(c.errorEquals, error, fanOut));
}
