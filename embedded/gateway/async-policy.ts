/**
 * The pure parts of async calls: what to do after a try (store the result, retry after a delay,
 * or give up to the dead letters), and how an HTTP request asks for an async call (its id and
 * callback). No I/O.
 */
import { ASYNC_HEADERS, ASYNC_ID, ASYNC_MAX_ATTEMPTS, ASYNC_RETRY_BACKOFF_MS } from '../../messages/function-async';

/** What follows a try. */
export type TryOutcome =
  | { kind: 'succeeded' }
  /** A final answer that is not a success (a 4xx: the call itself is wrong; trying again cannot help). */
  | { kind: 'failed' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'dead' };

/**
 * Decides after try number `attempt` (1-based) answered `status` (an HTTP status; 502 for a
 * transport error, 504 for a timeout): a 2xx succeeded; any other status under 500 is final
 * (the handler or the gateway refused the event, so trying again cannot help); 500 and up is
 * retried after ASYNC_RETRY_BACKOFF_MS[attempt - 1] while tries are left, else the job is dead.
 */
export function afterTry(status: number, attempt: number, maxAttempts = ASYNC_MAX_ATTEMPTS, backoff: readonly number[] = ASYNC_RETRY_BACKOFF_MS): TryOutcome {
  if (status >= 200 && status < 300) return { kind: 'succeeded' };
  if (status < 500) return { kind: 'failed' };
  if (attempt >= maxAttempts) return { kind: 'dead' };
  const delayMs = backoff.length === 0 ? 0 : backoff[Math.min(attempt - 1, backoff.length - 1)];
  return { kind: 'retry', delayMs };
}

/**
 * The statuses a gateway answers when the call never reached the function: not found in its view
 * (which a listing cut short by a restarting bus can leave empty for a moment), its queue full, the
 * gateway stopping or unable to list.
 */
const NOT_REACHED = new Set([404, 429, 503]);

/**
 * afterTry for a job that may not be retried (AsyncSubmit.retry false, a workflow's Task, whose own
 * policy retries): the function's own answer is final, a failure included, and nothing is ever
 * dead-lettered; an answer that says the call never reached the function (its status, or
 * `reached` false: a 504 while no instance became free) is tried again while tries are left
 * (then final).
 */
export function afterTryOnce(
  status: number, attempt: number, maxAttempts = ASYNC_MAX_ATTEMPTS, backoff: readonly number[] = ASYNC_RETRY_BACKOFF_MS, reached = true,
): TryOutcome {
  if (status >= 200 && status < 300) return { kind: 'succeeded' };
  if ((reached && !NOT_REACHED.has(status)) || attempt >= maxAttempts) return { kind: 'failed' };
  const delayMs = backoff.length === 0 ? 0 : backoff[Math.min(attempt - 1, backoff.length - 1)];
  return { kind: 'retry', delayMs };
}

/** What an HTTP call asks for: sync, or async with an optional id and callback; or what is wrong with it. */
export type AsyncRequest = { async: false } | { async: true; id?: string; callback?: string } | { error: string };

const truthy = (v: string | null | undefined): boolean => v !== undefined && v !== null && /^(1|true|yes)$/i.test(v.trim());
const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Reads an HTTP call's async options: `?async=true` or `X-Mk-Async: true` makes it async; the id
 * from `X-Mk-Idempotency-Key` (or `?id=`), the callback from `X-Callback-Url` (or `?callback=`).
 * An id or callback on a sync call, a malformed id or a callback that is not an http(s) URL is an
 * error (answered 400).
 */
export function parseAsyncRequest(query: URLSearchParams, headers: Record<string, string | string[] | undefined>): AsyncRequest {
  const isAsync = truthy(query.get('async')) || truthy(header(headers, ASYNC_HEADERS.async));
  const id = header(headers, ASYNC_HEADERS.idempotencyKey) ?? query.get('id') ?? undefined;
  const callback = header(headers, ASYNC_HEADERS.callbackUrl) ?? query.get('callback') ?? undefined;
  if (!isAsync) {
    if (id !== undefined || callback !== undefined) return { error: 'an idempotency key or a callback URL needs an async call: add ?async=true or X-Mk-Async: true' };
    return { async: false };
  }
  const idError = checkAsyncId(id);
  if (idError) return { error: idError };
  const cbError = checkCallbackUrl(callback);
  if (cbError) return { error: cbError };
  return { async: true, ...(id !== undefined ? { id } : {}), ...(callback !== undefined ? { callback } : {}) };
}

/** Why `id` cannot name an async call, or undefined when it can (or is absent). */
export function checkAsyncId(id: string | undefined): string | undefined {
  if (id === undefined || ASYNC_ID.test(id)) return undefined;
  return `invalid idempotency key ${JSON.stringify(id.slice(0, 200))}: use 1 to 128 letters, digits, '-' or '_'`;
}

/** Why `url` cannot be a callback, or undefined when it can (or is absent): only absolute http and https URLs. */
export function checkCallbackUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `invalid callback URL ${JSON.stringify(url.slice(0, 200))}: give an absolute http:// or https:// URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `invalid callback URL ${JSON.stringify(url.slice(0, 200))}: only http and https are allowed`;
  return undefined;
}
