/**
 * Translation of NATS and JetStream errors into mk's error classes (messages/errors.ts), in one
 * place. Server error codes live in one named map, `JsApiCodes`, as in nats.js's jserrors.ts; the
 * codes are the server's (nats-server `server/errors.json`).
 */
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import {
  AlreadyExistsError,
  ConflictError,
  ErrorCodes,
  ForbiddenError,
  MkError,
  NotFoundError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '../messages/errors';

/** JetStream API error codes (`err_code`) that mk gives a meaning to. */
export const JsApiCodes = {
  ConsumerNotFound: 10014,
  NoMessageFound: 10037,
  JetStreamNotEnabledForAccount: 10039,
  MessageExceedsMaximum: 10054,
  StreamNameInUse: 10058,
  StreamNotFound: 10059,
  /** Nats-Expected-Last-(Subject-)Sequence did not match: a stale writer (KV update/create). */
  WrongLastSequence: 10071,
  /** Newer servers' variant of 10071 for an unknown last sequence. */
  WrongLastSequenceUnknown: 10164,
} as const;

/** What each server code means to mk. Codes not listed become Internal. */
const CODE_CLASS: Record<number, 'Conflict' | 'NotFound' | 'AlreadyExists' | 'Unavailable' | 'Validation'> = {
  [JsApiCodes.WrongLastSequence]: 'Conflict',
  [JsApiCodes.WrongLastSequenceUnknown]: 'Conflict',
  [JsApiCodes.NoMessageFound]: 'NotFound',
  [JsApiCodes.StreamNotFound]: 'NotFound',
  [JsApiCodes.ConsumerNotFound]: 'NotFound',
  [JsApiCodes.StreamNameInUse]: 'AlreadyExists',
  [JsApiCodes.JetStreamNotEnabledForAccount]: 'Unavailable',
  [JsApiCodes.MessageExceedsMaximum]: 'Validation',
};

/** The JetStream API error code of `err`, or undefined when it is not a JetStream API error. */
export function jsApiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

/** Context that turns a low-level error into a message a user can act on. */
export interface ErrorContext {
  /** What was being done, e.g. `update pods.default.web` or `request mk.api.apply`. */
  action: string;
  /** The operation was a create: "wrong last sequence" then means the key already exists. */
  create?: boolean;
  /** The request subject, for no-responders and timeouts. */
  subject?: string;
  /** The timeout that expired, for timeouts. */
  timeoutMs?: number;
}

/** A hint naming who should be serving `subject`. */
export function serverHint(subject: string): string {
  if (subject.startsWith('mk.api.')) return 'is the control plane running?';
  if (subject.startsWith('mk.node.')) return 'is the node agent running?';
  return 'is its server running?';
}

/**
 * Translates any error thrown by nats.js (core, JetStream, KV) into an MkError. An MkError passes
 * through unchanged. The original error is kept as `cause`.
 */
export function translateError(err: unknown, ctx: ErrorContext): MkError {
  if (err instanceof MkError) return err;
  const cause = { cause: err };
  const detail = err instanceof Error ? err.message : String(err);
  const denied = permissionViolation(err);
  if (denied) {
    return new ForbiddenError(`${ctx.action}: permission denied: these credentials may not ${denied.operation} on ${denied.subject}`, cause);
  }

  if (err instanceof JetStreamApiError) {
    const kind = CODE_CLASS[err.code];
    if (kind === 'Conflict' && ctx.create) return new AlreadyExistsError(`${ctx.action}: already exists`, cause);
    switch (kind) {
      case 'Conflict':
        return new ConflictError(`${ctx.action}: ${detail} (it was changed since it was read; re-read and retry)`, cause);
      case 'NotFound': return new NotFoundError(`${ctx.action}: ${detail}`, cause);
      case 'AlreadyExists': return new AlreadyExistsError(`${ctx.action}: ${detail}`, cause);
      case 'Unavailable': return new UnavailableError(`${ctx.action}: ${detail} (is JetStream enabled? run nats-server with -js)`, cause);
      case 'Validation': return new ValidationError(`${ctx.action}: ${detail}`, [detail], cause);
      default: return new MkError(ErrorCodes.Internal, `${ctx.action}: JetStream error ${err.code}: ${detail}`, cause);
    }
  }
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return noResponders(ctx, cause);
  if (err instanceof natsErrors.NoRespondersError) return noResponders(ctx, cause);
  // js.publish reports a subject no stream captures (or a JetStream that is down) this way.
  // (JetStreamNotEnabled is not exported by the package's public entry, hence the name test.)
  if (err instanceof Error && err.name === 'JetStreamNotEnabled') return noResponders(ctx, cause);
  if (err instanceof natsErrors.TimeoutError || (err instanceof JetStreamError && /timeout/i.test(detail))) {
    const within = ctx.timeoutMs !== undefined ? ` within ${ctx.timeoutMs} ms` : '';
    return new TimeoutError(`${ctx.action}: no reply${within}${ctx.subject ? ` from ${ctx.subject}` : ''}; the other side may be overloaded or down, retry`, cause);
  }
  if (err instanceof natsErrors.AuthorizationError || err instanceof natsErrors.UserAuthenticationExpiredError) {
    return new UnavailableError(`${ctx.action}: authorization failed (${detail}): check the user and password of your context`, cause);
  }
  if (err instanceof natsErrors.ClosedConnectionError || err instanceof natsErrors.DrainingConnectionError
    || err instanceof natsErrors.ConnectionError) {
    return new UnavailableError(`${ctx.action}: the bus connection is ${detail}`, cause);
  }
  if (err instanceof natsErrors.InvalidArgumentError && /max_payload/.test(detail)) {
    return new ValidationError(`${ctx.action}: the message is larger than the server's max_payload`, [detail], cause);
  }
  return new MkError(ErrorCodes.Internal, `${ctx.action}: ${detail}`, cause);
}

/** The permission violation behind `err` (nats.js may wrap it as the cause of a request error). */
function permissionViolation(err: unknown): { operation: string; subject: string } | undefined {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof natsErrors.PermissionViolationError) return { operation: e.operation, subject: e.subject };
    const m = e instanceof Error ? /Permissions Violation for (Publish|Subscription) to "([^"]+)"/.exec(e.message) : null;
    if (m) return { operation: m[1] === 'Publish' ? 'publish' : 'subscribe', subject: m[2] };
  }
  return undefined;
}

function noResponders(ctx: ErrorContext, cause: { cause: unknown }): UnavailableError {
  const subject = ctx.subject ?? ctx.action;
  return new UnavailableError(`nothing is serving ${subject}: ${serverHint(subject)}`, cause);
}

/**
 * Translates a failed first connect. `url` is the server list as the user gave it; the message says
 * what to do (`mk up`, check credentials).
 */
export function connectError(err: unknown, url: string): UnavailableError {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof natsErrors.AuthorizationError || err instanceof natsErrors.UserAuthenticationExpiredError) {
    return new UnavailableError(
      `authorization failed at the bus ${url}: ${detail} (check the user and password of your context)`, { cause: err });
  }
  return new UnavailableError(`cannot reach the bus at ${url}: ${detail} (is the cluster up? run \`mk up\`)`, { cause: err });
}
