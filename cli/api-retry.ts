/**
 * Which api calls the CLI sends again, and when. A control plane may die or freeze with a request
 * in hand (a failover), and the bus may lose a reply while it reconnects. Reads are safe to send
 * again; writes are sent again only when no server took them (no responders), and otherwise the
 * caller finds out what happened before doing anything (see Api.apply and Api.delete).
 */
import { isNoResponders } from '../bus/core-errors';
import { ErrorCodes, MkError } from '../messages/errors';

/**
 * A read is sent again, without giving up on the tries already out, when none has answered this
 * long after the one before (the gaps grow: 0.4 s, 0.8 s, then 1 s each): a control plane frozen
 * with a try in hand (SIGSTOP, a long pause) holds it for good, and the next try goes to another
 * replica of the api's queue or, as NATS picks a member at random, to the frozen one again.
 * Within the CLI's 15 s all eight tries go out (the last 5.2 s in), so with two replicas one
 * frozen a read fails 1 time in 256, not 1 in 8 as with three tries. The first answer wins; every
 * try may use the whole budget, so a replica that is only slow is still heard.
 */
export const HEDGE_STEP_MS = 400;
/** The longest gap between two tries of a read. */
export const MAX_HEDGE_GAP_MS = 1000;
/** At most this many tries of one read are out at once (more follow as tries fail, within the budget). */
export const MAX_READ_TRIES = 8;
/** Between tries after a failure (the bus was down, nothing served the subject). */
export const RETRY_PAUSE_MS = 250;

/** True when the reply may have been lost (a timeout, a dropped connection): the request may have been done. */
export function replyLost(err: unknown): boolean {
  if (!(err instanceof MkError)) return false;
  if (isNoResponders(err)) return false;
  return err.code === ErrorCodes.Timeout || err.code === ErrorCodes.Unavailable;
}

/** True for failures worth another try of a read: timeouts and an unavailable bus or api. */
export function readRetryable(err: unknown): boolean {
  return err instanceof MkError && (err.code === ErrorCodes.Timeout || err.code === ErrorCodes.Unavailable) && !/authorization failed/.test(err.message);
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a read (`fn` gets its try's timeout: what is left of the budget) until one try succeeds,
 * one fails with an error no retry would fix (an answer, such as NotFound), or `budgetMs` is
 * spent; then throws the last error. A try that has not answered within a growing gap
 * (HEDGE_STEP_MS, twice that, ...) is joined by another while fewer than MAX_READ_TRIES are out;
 * a try that fails with none other out is followed by another after RETRY_PAUSE_MS, for as long
 * as the budget lasts: tries that each wait out a stream's leader election (the api answers
 * Timeout after its own 5 s) must not use up the read while the budget still has room.
 */
export function retryRead<T>(fn: (timeoutMs: number) => Promise<T>, budgetMs: number, opts: { stepMs?: number; maxTries?: number } = {}): Promise<T> {
  const step = opts.stepMs ?? HEDGE_STEP_MS;
  const maxOut = opts.maxTries ?? MAX_READ_TRIES;
  const deadline = Date.now() + budgetMs;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let sent = 0;
    let out = 0;
    let lastErr: unknown;
    let hedge: NodeJS.Timeout | undefined;
    const finish = (f: () => void) => { if (done) return; done = true; clearTimeout(hedge); f(); };
    const send = (): void => {
      clearTimeout(hedge);
      const left = deadline - Date.now();
      if (done) return;
      if (left <= 0) {
        if (out === 0) finish(() => reject(lastErr ?? new Error('no try of the read could be sent')));
        return;
      }
      if (out >= maxOut) { hedge = undefined; return; } // the cap is reached: the next to fail makes room
      sent++;
      out++;
      // The next try joins this one unless it answers first.
      hedge = setTimeout(send, Math.min(step * sent, Math.max(step, MAX_HEDGE_GAP_MS), left));
      fn(Math.max(1, left)).then((v) => finish(() => resolve(v)), (err: unknown) => {
        out--;
        lastErr = err;
        if (!readRetryable(err)) { finish(() => reject(err)); return; }
        if (deadline - Date.now() <= RETRY_PAUSE_MS) {
          if (out === 0) finish(() => reject(err));
          return; // another try is out: it may still answer
        }
        // Tries still out keep the hedge running; with the cap reached there is none, so this
        // failure schedules the next.
        if (out === 0 || hedge === undefined) {
          clearTimeout(hedge);
          hedge = setTimeout(send, RETRY_PAUSE_MS);
        }
      });
    };
    send();
  });
}

/**
 * Runs a write, sending it again only while no server takes it (no responders: nothing was done),
 * within `budgetMs`. A lost reply is thrown to the caller, who must find out what happened.
 */
export async function retryUntaken<T>(fn: (timeoutMs: number) => Promise<T>, budgetMs: number, now: () => number = Date.now): Promise<T> {
  const deadline = now() + budgetMs;
  for (;;) {
    try {
      return await fn(Math.max(1, deadline - now()));
    } catch (err) {
      if (!isNoResponders(err) || deadline - now() <= RETRY_PAUSE_MS) throw err;
      await pause(RETRY_PAUSE_MS);
    }
  }
}
