/**
 * The one restart policy every supervisor in mk uses (Akka's backoff supervisor, in the shape
 * STYLE.md asks for): an actor that throws is reset after a capped exponential delay with jitter;
 * more than `maxRestarts` within `windowMs` escalates to the parent. nact has no built-in backoff,
 * but its `onCrash` may be async, so the delay happens there.
 */
import { dispatch, type Ref, type SupervisionContext } from 'nact';
// Every process that supervises actors needs nact's stop to reach the children.
import './nact-fixes';
import { backoffDelay, type BackoffPolicy } from './backoff';

/** The backoff between restarts, and the budget: more than `maxRestarts` in `windowMs` escalates. */
export interface RestartPolicy extends BackoffPolicy {
  maxRestarts: number;
  windowMs: number;
}

/** 200 ms doubling to 30 s, 20 % jitter, 10 restarts a minute, then escalate. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialMs: 200, maxMs: 30_000, jitter: 0.2, maxRestarts: 10, windowMs: 60_000 };

/** What the dashboard and metrics show for each actor path. */
export interface CrashRecord { path: string; restarts: number; lastError: string; lastAt: string }

const records = new Map<string, CrashRecord>();
const recent = new Map<string, number[]>();
/** Crashes in a row per path: the backoff exponent. A quiet spell of `maxMs` * 2 starts it over. */
const streak = new Map<string, { count: number; lastAt: number }>();

/** Restart counts and last errors, keyed by actor path. */
export function crashRecords(): CrashRecord[] {
  return [...records.values()];
}

/**
 * Counts one crash of the actor at `path` (nact's `system://a/b` form) and keeps its error: the
 * one count of restarts that supervisors, telemetry and the dashboard share. Returns the record.
 */
export function noteCrash(path: string, err: unknown): CrashRecord {
  const rec = records.get(path) ?? { path, restarts: 0, lastError: '', lastAt: '' };
  rec.restarts++;
  rec.lastError = err instanceof Error ? err.message : String(err);
  rec.lastAt = new Date().toISOString();
  records.set(path, rec);
  return rec;
}

/** How many times the actor at `path` crashed and was restarted (0 when never). */
export function restartsOf(path: string): number {
  return records.get(path)?.restarts ?? 0;
}

/**
 * Marks the `onCrash` handlers that count crashes themselves (backoffOnCrash), so actor telemetry
 * counts only the crashes of actors under another policy, and never one twice.
 */
export const COUNTS_CRASHES = Symbol.for('mk.countsCrashes');

/**
 * Builds an `onCrash` handler. After the delay the actor is reset (fresh state, rebuilt from the
 * store) and sent `wakeUp`, so a level-triggered actor reconciles again instead of waiting for the
 * next event. `log` receives one line per crash with the path and error.
 */
export function backoffOnCrash(
  wakeUp: unknown,
  log: (fields: Record<string, unknown>, msg: string) => void,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
) {
  // eslint-disable-next-line @typescript-eslint/no-wrapper-object-types -- nact's typings use Symbol
  const onCrash = async (_msg: unknown, err: Error | undefined, ctx: SupervisionContext<unknown, Ref<unknown>>): Promise<Symbol> => {
    const path = ctx.path.toString();
    const now = Date.now();
    const times = (recent.get(path) ?? []).filter((t) => now - t < policy.windowMs);
    times.push(now);
    recent.set(path, times);
    const rec = noteCrash(path, err);
    if (times.length > policy.maxRestarts) {
      log({ path, err: rec.lastError, restarts: rec.restarts }, 'actor crashed too often; escalating');
      return ctx.escalate;
    }
    const prev = streak.get(path);
    const count = prev && now - prev.lastAt < policy.maxMs * 2 ? prev.count + 1 : 1;
    streak.set(path, { count, lastAt: now });
    const delay = backoffDelay(policy, count - 1);
    log({ path, err: rec.lastError, restarts: rec.restarts, delayMs: delay }, 'actor crashed; restarting after backoff');
    await new Promise((r) => setTimeout(r, delay).unref());
    setImmediate(() => dispatch(ctx.self as Ref<unknown>, wakeUp));
    return ctx.reset;
  };
  return Object.assign(onCrash, { [COUNTS_CRASHES]: true });
}
