/**
 * Actor refs across processes. A process serves a local nact ref on a subject (`actorSubject` in
 * messages/subjects.ts); another process holds a RemoteRef (just the subject) and dispatches
 * (publish) or queries (request/reply) it. Messages are JSON: refs inside a message do not cross.
 *
 * Query replies are envelopes `{ ok: true, value: <answer> }` (any JSON answer, not only objects)
 * or `{ ok: false, error }`. An actor that answers a query with an Error makes the query throw it
 * (an MkError keeps its class; others become Internal).
 */
import { dispatch, query, type Ref } from 'nact';
import type { Msg } from '@nats-io/transport-node';
import { ErrorCodes, MkError, TimeoutError, UnavailableError } from '../messages/errors';
import type { Bus } from './connection';
import { translateError } from './errors';
import { busLog } from './log';
import { decode, encode, errorBody, request, subscribeHandled } from './request';

/** A header telling the serving side how long the caller waits, so it can give up as early. */
const TIMEOUT_HEADER = 'Mk-Timeout-Ms';
const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** A reference to an actor served on `subject` by some process. */
export interface RemoteRef<Msg> {
  subject: string;
  /** Phantom field: ties the ref to its message type at compile time only. */
  readonly __msg?: (m: Msg) => void;
}

/** A query message as the caller writes it: the serving side adds `sender`. */
export type WithoutSender<M> = M extends unknown ? Omit<M, 'sender'> : never;

/** Serves one local actor on a subject. */
export interface ServedActor {
  /** Resolves once the server knows the subscription. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Makes a ref to the actor served on `subject`. */
export function remoteRef<Msg>(subject: string): RemoteRef<Msg> {
  return { subject };
}

/**
 * Serves the local actor `target` on `subject`. A published message is decoded and dispatched to
 * it. A request (a message with a reply subject) is turned into a nact query with a temporary
 * `sender` ref: `{ ...msg, sender }`; the actor answers by dispatching to `sender`, and the answer
 * goes back in an envelope. The query times out after `queryTimeoutMs` (default 10 s) or the
 * caller's own timeout if shorter, answering TimeoutError; a stopped actor answers
 * UnavailableError; a request that is not a JSON object answers BadRequest. `ready` resolves once
 * the server has the subscription; `stop()` unsubscribes and waits for the queries in flight.
 */
export function serveActor<M>(bus: Bus, subject: string, target: Ref<M>, opts: { queryTimeoutMs?: number } = {}): ServedActor {
  const handle = async (msg: Msg): Promise<void> => {
    let body: unknown;
    try {
      body = decode<unknown>(msg.data);
    } catch (err) {
      reply(msg, { ok: false, error: { code: ErrorCodes.BadRequest, message: `malformed JSON on ${subject}: ${(err as Error).message}` } });
      if (!msg.reply) busLog.warn({ subject, err }, 'dropped a malformed actor message');
      return;
    }
    if (!msg.reply) {
      dispatch(target, body as M);
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      reply(msg, { ok: false, error: { code: ErrorCodes.BadRequest, message: `a query on ${subject} must be a JSON object (it gets a sender field)` } });
      return;
    }
    const timeoutMs = Math.min(opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS, callerTimeout(msg) ?? Infinity);
    try {
      const answer: unknown = await query(target, (sender: Ref<unknown>) => ({ ...body, sender }) as M, timeoutMs);
      if (answer instanceof Error) reply(msg, { ok: false, error: errorBody(answer) });
      else reply(msg, { ok: true, value: answer ?? null });
    } catch (err) {
      const e = (err as Error).message === 'Query Timeout'
        ? new TimeoutError(`the actor at ${subject} did not answer within ${timeoutMs} ms`, { cause: err })
        : /stopped/i.test((err as Error).message)
          ? new UnavailableError(`the actor at ${subject} is stopped`, { cause: err })
          : err;
      if (!(e instanceof MkError)) busLog.error({ subject, err }, 'actor query failed');
      reply(msg, { ok: false, error: errorBody(e) });
    }
  };
  return subscribeHandled(bus, subject, handle);
}

function callerTimeout(msg: Msg): number | undefined {
  const v = Number(msg.headers?.get(TIMEOUT_HEADER));
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

function reply(msg: Msg, envelope: unknown): void {
  if (!msg.reply) return;
  try {
    msg.respond(encode(envelope));
  } catch (err) {
    busLog.warn({ subject: msg.subject, err }, 'could not answer an actor query');
  }
}

/**
 * Sends `msg` to the remote actor, fire-and-forget (like nact's dispatch: no delivery guarantee
 * when nobody serves the subject). Throws UnavailableError only when the connection is closed.
 */
export function remoteDispatch<M>(bus: Bus, ref: RemoteRef<M>, msg: M): void {
  try {
    bus.nc.publish(ref.subject, encode(msg));
  } catch (err) {
    throw translateError(err, { action: `dispatch to ${ref.subject}`, subject: ref.subject });
  }
}

/**
 * Asks the remote actor and returns its answer. `msg` gets a `sender` on the serving side. Throws
 * TimeoutError when no answer comes within `timeoutMs`, UnavailableError when nothing serves the
 * subject, and the error the actor answered with, if any.
 */
export async function remoteQuery<M, Res>(bus: Bus, ref: RemoteRef<M>, msg: WithoutSender<M>, timeoutMs: number): Promise<Res> {
  const r = await request<{ value: Res }>(bus, ref.subject, msg, { timeoutMs, headers: { [TIMEOUT_HEADER]: String(timeoutMs) } });
  return r.value;
}
