/**
 * Which api calls the CLI sends again, and when. A control plane may die or freeze with a request
 * in hand (a failover), and the bus may lose a reply while it reconnects. Reads are safe to send
 * again; writes are sent again only when no server took them (no responders), and otherwise the
 * caller finds out what happened before doing anything (see Api.apply and Api.delete).
 */
import { isNoResponders } from '../bus/core-errors';
import { ErrorCodes, MkError } from '../messages/errors';

/** A read's single try waits at most this long, so a frozen replica costs one try, not the budget. */
export const READ_TRY_MS = 5_000;
/** Between tries. */
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
 * Runs a read (`fn` gets its try's timeout) until it succeeds, fails with an error no retry
 * would fix, or `budgetMs` is spent; then throws the last error.
 */
export async function retryRead<T>(fn: (timeoutMs: number) => Promise<T>, budgetMs: number, now: () => number = Date.now): Promise<T> {
  const deadline = now() + budgetMs;
  for (;;) {
    const left = deadline - now();
    try {
      return await fn(Math.max(1, Math.min(READ_TRY_MS, left)));
    } catch (err) {
      if (!readRetryable(err) || deadline - now() <= RETRY_PAUSE_MS) throw err;
      await pause(RETRY_PAUSE_MS);
    }
  }
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
