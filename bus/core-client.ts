/**
 * The client half of the subject API over core NATS: the connection (mk's connect settings, no
 * JetStream client), JSON requests and replies in envelopes (`Reply<T>` in messages/api.ts), and
 * the codec. A client gets back the same error class the server threw, rebuilt from its code with
 * `errorFromCode`. The CLI loads only this; bus/connection.ts builds the full `Bus` (JetStream,
 * reconnect listeners, logs) on the same connect and close.
 */
import { connect, headers as natsHeaders, nkeyAuthenticator, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { Reply } from '../messages/api';
import { ErrorCodes, errorFromCode, MkError } from '../messages/errors';
import { inboxPrefix } from '../messages/subjects';
import { connectError, translateCoreError } from './core-errors';

/** How to reach the bus. */
export interface CoreBusOptions {
  /** One URL or several (a cluster), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  user?: string;
  pass?: string;
  /** The connection name the server shows (`mk-control-plane`, `mk-node-a`, `mk-cli`). */
  name: string;
  /** First-connect timeout and default JetStream API timeout, ms (default 5000). */
  timeoutMs?: number;
  /**
   * Where replies to this connection go (default `_INBOX.<user>` with a user, else `_INBOX`): each
   * identity listens only on its own prefix, so none can read another's replies.
   */
  inboxPrefix?: string;
  /** The CA (PEM file) the server's certificate must chain to; the connection then requires TLS. */
  caFile?: string;
  /** The CA as PEM text, instead of caFile. */
  caPem?: string;
  /** An nkey seed (SU...) to authenticate with instead of user and password. */
  nkeySeed?: string;
}

/** A connection for requests and plain subscriptions: what the CLI needs of the bus. */
export interface CoreBus {
  nc: NatsConnection;
  /** Drains (in-flight replies finish) then closes; idempotent. */
  close(): Promise<void>;
}

/** Where `closeNats` reports a drain that did not finish; the long-running processes pass their logger. */
export interface CloseLog {
  warn(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
}

/** How long a request waits for its reply unless told otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Between reconnect attempts: short, so a restarted server is found again quickly. */
const RECONNECT_WAIT_MS = 500;
/** A drain that cannot finish (the server is gone) gives up and closes after this long. */
const DRAIN_TIMEOUT_MS = 2000;

/**
 * Opens the NATS connection with mk's settings: after the first connect it reconnects forever (a
 * server restart is a pause, not an error). Throws UnavailableError when the first connect fails:
 * the server cannot be reached (the message names the URL and says to run `mk up`) or refuses the
 * credentials ("authorization failed").
 */
export async function openNats(opts: CoreBusOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: opts.servers,
      user: opts.user,
      pass: opts.pass,
      name: opts.name,
      timeout: opts.timeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      waitOnFirstConnect: false,
      // An Error (a stack trace) made for every request only to decorate the rare failed one cost
      // about 5 % of the control plane's CPU under load; failures still carry their own stack.
      noAsyncTraces: true,
      inboxPrefix: opts.inboxPrefix ?? (opts.user ? inboxPrefix(opts.user) : undefined),
      ...(opts.caFile || opts.caPem ? { tls: opts.caFile ? { caFile: opts.caFile } : { ca: opts.caPem } } : {}),
      ...(opts.nkeySeed ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(opts.nkeySeed)) } : {}),
    });
  } catch (err) {
    throw connectError(err, Array.isArray(opts.servers) ? opts.servers.join(',') : opts.servers);
  }
}

/**
 * Drains `nc` (served handlers reply, pending requests finish), giving up after a deadline when the
 * server is unreachable, then closes it. Never throws.
 */
export async function closeNats(nc: NatsConnection, log?: CloseLog): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), DRAIN_TIMEOUT_MS); });
  try {
    // drain() lets served handlers reply; it cannot finish while the server is unreachable.
    const r = await Promise.race([nc.drain().then(() => 'drained' as const), gaveUp]);
    if (r === 'timeout') log?.warn({ server: nc.getServer() }, 'drain did not finish in time; closing the bus connection');
  } catch (err) {
    log?.debug({ err }, 'drain failed; closing the bus connection');
  } finally {
    clearTimeout(timer);
    if (!nc.isClosed()) await nc.close();
  }
}

/** Connects for requests only (no JetStream client, no logs). Throws like `openNats`. */
export async function connectCore(opts: CoreBusOptions): Promise<CoreBus> {
  const nc = await openNats(opts);
  let closing: Promise<void> | undefined;
  return { nc, close: () => (closing ??= closeNats(nc)) };
}

const te = new TextEncoder();
const td = new TextDecoder();

/** JSON-encodes a payload. `undefined` becomes an empty payload. */
export function encode(v: unknown): Uint8Array {
  return v === undefined ? new Uint8Array(0) : te.encode(JSON.stringify(v));
}

/** Parses a JSON payload; an empty payload is `undefined`. Throws SyntaxError on malformed JSON. */
export function decode<T>(data: Uint8Array): T {
  return (data.length === 0 ? undefined : JSON.parse(td.decode(data))) as T;
}

/**
 * Unwraps a reply envelope: returns the fields of `{ ok: true, ... }` without `ok`; throws the
 * error an `{ ok: false, error }` carries (rebuilt with errorFromCode), or MkError(Internal) when
 * the reply is not an envelope.
 */
export function unwrap<T>(subject: string, data: Uint8Array): T {
  let reply: Reply<T>;
  try {
    reply = decode<Reply<T>>(data);
  } catch (err) {
    throw new MkError(ErrorCodes.Internal, `malformed reply from ${subject}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof reply !== 'object' || reply === null || typeof reply.ok !== 'boolean') {
    throw new MkError(ErrorCodes.Internal, `malformed reply from ${subject}: not an envelope`);
  }
  if (reply.ok) {
    const { ok: _ok, ...rest } = reply;
    return rest as T;
  }
  const e = reply.error ?? { code: ErrorCodes.Internal, message: 'error without a body' };
  throw errorFromCode(e.code, e.message, e.issues);
}

/**
 * Sends `payload` as JSON to `subject` and returns the reply's fields (`headers` go along as NATS
 * headers). Throws the server's error
 * class for an error envelope; UnavailableError when nothing serves the subject ("nothing is
 * serving mk.api.apply: is the control plane running?") or the bus is closed; TimeoutError naming
 * the subject and the timeout (default 10 s) when no reply comes. Never retries: the caller knows
 * whether the request is idempotent.
 */
export async function request<T>(
  bus: Pick<CoreBus, 'nc'>, subject: string, payload: unknown, opts: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  let msg: Msg;
  try {
    const headers = opts.headers ? natsHeaders() : undefined;
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers?.set(k, v);
    msg = await bus.nc.request(subject, encode(payload), { timeout: timeoutMs, headers });
  } catch (err) {
    throw translateCoreError(err, { action: `request ${subject}`, subject, timeoutMs });
  }
  return unwrap<T>(subject, msg.data);
}
