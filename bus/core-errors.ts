/**
 * Translation of core NATS errors (first connect, request/reply, permissions, a closed connection)
 * into mk's error classes. Nothing of JetStream here: a process that only sends requests (the CLI)
 * loads this without the JetStream client. bus/errors.ts adds the JetStream codes on top and is
 * the one entry point for everything else.
 */
import { errors as natsErrors } from '@nats-io/transport-node';
import { ErrorCodes, ForbiddenError, MkError, TimeoutError, UnavailableError, ValidationError } from '../messages/errors';

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
 * Translates an error of core NATS into an MkError; an MkError passes through unchanged and
 * anything unknown becomes Internal. The original error is kept as `cause`.
 */
export function translateCoreError(err: unknown, ctx: ErrorContext): MkError {
  if (err instanceof MkError) return err;
  const cause = { cause: err };
  const detail = err instanceof Error ? err.message : String(err);
  const denied = permissionViolation(err);
  if (denied) {
    return new ForbiddenError(`${ctx.action}: permission denied: these credentials may not ${denied.operation} on ${denied.subject}`, cause);
  }
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return noRespondersError(ctx, cause);
  if (err instanceof natsErrors.NoRespondersError) return noRespondersError(ctx, cause);
  if (err instanceof natsErrors.TimeoutError) return timeoutError(ctx, cause);
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
export function permissionViolation(err: unknown): { operation: string; subject: string } | undefined {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof natsErrors.PermissionViolationError) return { operation: e.operation, subject: e.subject };
    const m = e instanceof Error ? /Permissions Violation for (Publish|Subscription) to "([^"]+)"/.exec(e.message) : null;
    if (m) return { operation: m[1] === 'Publish' ? 'publish' : 'subscribe', subject: m[2] };
  }
  return undefined;
}

/** Nothing answered a request: names the subject and who should serve it. */
export function noRespondersError(ctx: ErrorContext, cause: { cause: unknown }): UnavailableError {
  const subject = ctx.subject ?? ctx.action;
  return new UnavailableError(`nothing is serving ${subject}: ${serverHint(subject)}`, cause);
}

/** No reply in time: names the subject and the timeout. */
export function timeoutError(ctx: ErrorContext, cause: { cause: unknown }): TimeoutError {
  const within = ctx.timeoutMs !== undefined ? ` within ${ctx.timeoutMs} ms` : '';
  return new TimeoutError(`${ctx.action}: no reply${within}${ctx.subject ? ` from ${ctx.subject}` : ''}; the other side may be overloaded or down, retry`, cause);
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

/**
 * True when `err` (an MkError from translateCoreError, or the raw error) says no server took the
 * request at all: nothing was done, so even a write may be sent again.
 */
export function isNoResponders(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof natsErrors.NoRespondersError) return true;
    if (e instanceof natsErrors.RequestError && e.isNoResponders()) return true;
  }
  return false;
}
