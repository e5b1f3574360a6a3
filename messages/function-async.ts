/**
 * Asynchronous function calls: the work-queue stream a call waits in, the dead letters of calls
 * that failed every try, the results bucket, the subjects clients send to a gateway and the shapes
 * they get back. No I/O.
 */
import { encodeToken } from './names';

/** The JetStream work-queue stream async calls wait in (subjects ASYNC_JOB_WILDCARD; file storage). */
export const ASYNC_STREAM = 'MK_FN_ASYNC';
/** The subject a call of `<ns>.<name>` is queued on (tokens as functionInvokeSubject's). */
export function asyncJobSubject(namespace: string, name: string): string {
  return `mk.fn.async.${encodeToken(namespace)}.${encodeToken(name)}`;
}
/** Every queued call, the stream's subjects. */
export const ASYNC_JOB_WILDCARD = 'mk.fn.async.*.*';
/** The durable pull consumer every gateway takes calls from (one, shared: each job goes to one gateway). */
export const ASYNC_CONSUMER = 'mk-gateways-async';
/** How long the stream drops a second publish of the same id (Nats-Msg-Id), in ms. */
export const ASYNC_DUPLICATE_WINDOW_MS = 10 * 60_000;
/**
 * How long a delivered job may go without word from its gateway before the stream gives it to
 * another (a killed gateway's jobs come back after this). A gateway working on a job says so every
 * ASYNC_HEARTBEAT_MS, however long the function's timeout.
 */
export const ASYNC_ACK_WAIT_MS = 15_000;
/** How often a gateway extends the ack wait of a job it works on. */
export const ASYNC_HEARTBEAT_MS = 5_000;
/** Tries per job: the first and three retries. */
export const ASYNC_MAX_ATTEMPTS = 4;
/** The wait before retry n (1-based), in ms: 1 s, 5 s, 15 s. */
export const ASYNC_RETRY_BACKOFF_MS: readonly number[] = [1_000, 5_000, 15_000];

/** The stream of dead letters (limits retention, subjects DLQ_WILDCARD), kept 7 days. */
export const DLQ_STREAM = 'MK_FN_DLQ';
/** The subject a dead letter of `<ns>.<name>` is kept on. */
export function dlqSubject(namespace: string, name: string): string {
  return `mk.fn.dlq.${encodeToken(namespace)}.${encodeToken(name)}`;
}
/** Every dead letter. */
export const DLQ_WILDCARD = 'mk.fn.dlq.*.*';
/** How long a dead letter is kept, in ms. */
export const DLQ_MAX_AGE_MS = 7 * 24 * 3600_000;

/** KV bucket of async calls' results, key = the call's id, kept RESULTS_TTL_MS. */
export const RESULTS_BUCKET = 'mk-fn-results';
/** How long a result is kept (the bucket's max age), in ms. */
export const RESULTS_TTL_MS = 24 * 3600_000;

/** Request/reply to a gateway: queues a call of `<ns>.<name>`; the request is an AsyncSubmit, the reply an InvokeReply (202 `{ id }`). */
export function asyncInvokeSubject(namespace: string, name: string): string {
  return `mk.fn.async-invoke.${encodeToken(namespace)}.${encodeToken(name)}`;
}
/** Every function's async-invoke subject, as a gateway serves them (queue group FUNCTION_INVOKE_QUEUE). */
export const ASYNC_INVOKE_WILDCARD = 'mk.fn.async-invoke.>';
/** Request/reply to a gateway: `{ id }` -> InvokeReply with the AsyncResult (200) or 404. */
export const RESULTS_GET_SUBJECT = 'mk.fn.results.get';
/** Request/reply to a gateway: `{ namespace?, name? }` -> InvokeReply with `{ items: DeadLetter[] }`. */
export const DLQ_LIST_SUBJECT = 'mk.fn.deadletters.list';
/** Request/reply to a gateway: `{ id }` -> InvokeReply 202 `{ id }` (queued again) or 404. */
export const DLQ_REPLAY_SUBJECT = 'mk.fn.deadletters.replay';

/** An async call's headers on the job message and the HTTP face. */
export const ASYNC_HEADERS = {
  /** HTTP: `true` queues the call (the same as `?async=true`). */
  async: 'x-mk-async',
  /** HTTP request: the caller's id for the call; a second call with the same id within 10 min is the same call. */
  idempotencyKey: 'x-mk-idempotency-key',
  /** HTTP request: where to POST the result once the call is final (http or https). */
  callbackUrl: 'x-callback-url',
  /** On the callback POST: the call's id. */
  invocationId: 'x-mk-invocation-id',
} as const;

/** The request on asyncInvokeSubject. */
export interface AsyncSubmit {
  /** The event, as JSON text (empty: `null`). */
  body: string;
  /** The caller's id (dedup); a random UUID when absent. */
  id?: string;
  /** Where to POST the final result. */
  callback?: string;
  /**
   * false: the first answer is final, a failure included (no retry, no dead letter), for a caller
   * with a retry policy of its own (a workflow's Task). A try lost with its gateway is still made
   * again. Default true.
   */
  retry?: boolean;
}

/**
 * The header of a job message in ASYNC_STREAM (its data is the event as it came) and of a dead
 * letter in DLQ_STREAM: the AsyncJob or DeadLetter less its body, as JSON (one line).
 */
export const JOB_HEADER = 'Mk-Job';

/** A queued call as it sits in ASYNC_STREAM (the body is the message's data, the rest JOB_HEADER). */
export interface AsyncJob {
  id: string;
  namespace: string;
  name: string;
  /** The event, as JSON text. */
  body: string;
  callback?: string;
  /** When it was first queued (RFC 3339). */
  created: string;
  /** Tries made before this message (a replayed dead letter's earlier tries). */
  priorAttempts?: number;
  /** false: the first answer is final (AsyncSubmit.retry). */
  retry?: boolean;
}

/** Where an async call stands. */
export type AsyncStatus = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** The value in RESULTS_BUCKET under a call's id. */
export interface AsyncResult {
  id: string;
  namespace: string;
  name: string;
  status: AsyncStatus;
  /** Tries started so far. */
  attempts: number;
  /** The function's answer, once Succeeded (or the body of a final 4xx). */
  result?: unknown;
  /** The last error (a Failed call's, or the last failed try's while retrying). */
  error?: string;
  /** The HTTP status of the last try. */
  code?: number;
  created: string;
  finished?: string;
  callback?: { url: string; status: 'Pending' | 'Delivered' | 'Failed'; error?: string; code?: number };
}

/** A job that failed every try, as DLQ_STREAM keeps it (the body is the message's data, the rest JOB_HEADER). */
export interface DeadLetter extends Omit<AsyncJob, 'priorAttempts'> {
  attempts: number;
  lastError: string;
  /** When it was given up (RFC 3339). */
  failed: string;
  /** Its sequence in DLQ_STREAM. */
  seq?: number;
}

/** An id callers may give: 1-128 of `[A-Za-z0-9_-]` (a KV key and a message id). */
export const ASYNC_ID = /^[A-Za-z0-9_-]{1,128}$/;
