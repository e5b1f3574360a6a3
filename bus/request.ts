/**
 * The subject API's plumbing: JSON requests and replies wrapped in envelopes (`Reply<T>` in
 * messages/api.ts). The client half (request, unwrap, the codec) lives in bus/core-client.ts, so a
 * process that only sends requests loads neither JetStream nor the logger; this adds the server
 * half.
 */
import type { Msg } from '@nats-io/transport-node';
import type { ApiErrorBody, Reply } from '../messages/api';
import { ErrorCodes, MkError, ValidationError } from '../messages/errors';
import type { Bus } from './connection';
import { decode, encode } from './core-client';
import { translateError } from './errors';
import { busLog } from './log';

export { decode, DEFAULT_REQUEST_TIMEOUT_MS, encode, request, unwrap } from './core-client';

/** The error part of an envelope for any thrown value; non-mk errors become Internal. */
export function errorBody(err: unknown): ApiErrorBody {
  if (err instanceof MkError) {
    const body: ApiErrorBody = { code: err.code, message: err.message };
    if (err instanceof ValidationError && err.issues.length > 0) body.issues = err.issues;
    return body;
  }
  return { code: ErrorCodes.Internal, message: err instanceof Error ? err.message : String(err) };
}

/** An ok envelope: the result's fields next to `ok: true` (a non-object result adds nothing). */
export function okReply<T>(res: T): Reply<T> {
  const fields = typeof res === 'object' && res !== null && !Array.isArray(res) ? res : {};
  return { ...fields, ok: true } as Reply<T>;
}

/** A running subscription that serves requests. */
export interface Served {
  /** Resolves once the server knows the subscription (a flush round trip); until then requests may find no responders. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** A flush after subscribing: resolves when the server has the subscription. Never unhandled. */
export function flushed(bus: Bus, subject: string): Promise<void> {
  const p = bus.nc.flush().catch((err: unknown) => { throw translateError(err, { action: `subscribe ${subject}` }); });
  p.catch(() => undefined);
  return p;
}

/**
 * Serves `subject`: each request's JSON is decoded and passed to `handler`; its result is sent back
 * as `{ ok: true, ...result }`. Malformed JSON is answered with a BadRequest error; an MkError the
 * handler throws becomes `{ ok: false, error: { code, message, issues } }`; any other error is
 * answered as Internal and logged. Requests are handled concurrently. With `queue`, several
 * servers share the load. A message without a reply subject is handled and not answered.
 * `ready` resolves once the server has the subscription; `stop()` unsubscribes and waits for the
 * handlers in flight to answer.
 */
export function serve<Req, Res>(bus: Bus, subject: string, handler: (req: Req, msg: Msg) => Promise<Res>, opts: { queue?: string } = {}): Served {
  const handle = async (msg: Msg): Promise<void> => {
    let req: Req;
    try {
      req = decode<Req>(msg.data);
    } catch (err) {
      respond(msg, { ok: false, error: { code: ErrorCodes.BadRequest, message: `malformed JSON on ${subject}: ${(err as Error).message}` } });
      return;
    }
    try {
      respond(msg, okReply(await handler(req, msg)));
    } catch (err) {
      if (!(err instanceof MkError) || err.code === ErrorCodes.Internal) {
        busLog.error({ subject, err }, 'request handler failed');
      }
      respond(msg, { ok: false, error: errorBody(err) });
    }
  };
  return subscribeHandled(bus, subject, handle, opts.queue);
}

/**
 * Subscribes `handle` to `subject`, tracking the messages in flight so stop() waits for them.
 */
function subscribeHandled(bus: Bus, subject: string, handle: (msg: Msg) => Promise<void>, queue?: string): Served {
  const inflight = new Set<Promise<void>>();
  const sub = bus.nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) {
        busLog.error({ subject, err }, 'subscription failed');
        return;
      }
      const p = handle(msg).catch((e: unknown) => busLog.error({ subject, err: e }, 'message handling failed'));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
  });
  return {
    ready: flushed(bus, subject),
    async stop() {
      if (!sub.isClosed()) sub.unsubscribe();
      await Promise.all(inflight);
    },
  };
}

/** Sends an envelope back when the message asked for a reply; a closed connection is logged. */
function respond(msg: Msg, reply: Reply<unknown>): void {
  if (!msg.reply) return;
  try {
    msg.respond(encode(reply));
  } catch (err) {
    busLog.warn({ subject: msg.subject, err }, 'could not send the reply');
  }
}
