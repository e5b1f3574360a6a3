/**
 * Capped exponential backoff, the one shape every retry in mk uses: actor restarts, process
 * restarts, watch resumption, CRI retries and the kubelet's crash-loop backoff. A policy is a value,
 * validated once (Temporal's RetryPolicy habit).
 */
import { ValidationError } from '../messages/errors';

/** `initialMs * factor^attempt`, at most `maxMs`, spread by `jitter` (a fraction, 0..1). */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Fraction of the delay added or removed at random, so a herd does not retry in step (default 0). */
  jitter?: number;
}

/**
 * The delay before retry number `attempt` (0-based). With jitter, `random` (default Math.random)
 * picks where in the band the delay falls.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const base = Math.min(policy.maxMs, policy.initialMs * factor ** Math.min(Math.max(0, attempt), 64));
  const jitter = policy.jitter ?? 0;
  return jitter > 0 ? Math.round(base * (1 + jitter * (random() * 2 - 1))) : base;
}

/**
 * Checks a policy: positive initial and max, max >= initial, factor >= 1, jitter in [0, 1).
 * Throws ValidationError naming the bad fields.
 */
export function validateBackoff<P extends BackoffPolicy>(policy: P, what = 'backoff policy'): P {
  const bad: string[] = [];
  if (!(Number.isFinite(policy.initialMs) && policy.initialMs > 0)) bad.push('initialMs must be a positive number');
  if (!(Number.isFinite(policy.maxMs) && policy.maxMs > 0)) bad.push('maxMs must be a positive number');
  else if (policy.maxMs < policy.initialMs) bad.push('maxMs must not be less than initialMs');
  if (policy.factor !== undefined && !(Number.isFinite(policy.factor) && policy.factor >= 1)) bad.push('factor must be at least 1');
  if (policy.jitter !== undefined && !(policy.jitter >= 0 && policy.jitter < 1)) bad.push('jitter must be in [0, 1)');
  if (bad.length > 0) throw new ValidationError(`${what}: ${bad.join('; ')}`, bad);
  return policy;
}

/** Waits `ms`; the timer never keeps the process alive on its own. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
