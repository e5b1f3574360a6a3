/**
 * Translation of NATS and JetStream errors into mk's error classes (messages/errors.ts), in one
 * place. Server error codes live in one named map, `JsApiCodes`, as in nats.js's jserrors.ts; the
 * codes are the server's (nats-server `server/errors.json`). Core NATS errors are translated by
 * bus/core-errors.ts, which the CLI loads without the JetStream client.
 */
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import {
  AlreadyExistsError,
  ConflictError,
  ErrorCodes,
  MkError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '../messages/errors';
import { noRespondersError, permissionViolation, timeoutError, translateCoreError, type ErrorContext } from './core-errors';

export { connectError, serverHint, type ErrorContext } from './core-errors';

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

/**
 * Translates any error thrown by nats.js (core, JetStream, KV) into an MkError. An MkError passes
 * through unchanged. The original error is kept as `cause`.
 */
export function translateError(err: unknown, ctx: ErrorContext): MkError {
  if (err instanceof MkError || permissionViolation(err)) return translateCoreError(err, ctx);
  const cause = { cause: err };
  const detail = err instanceof Error ? err.message : String(err);
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
  // js.publish reports a subject no stream captures (or a JetStream that is down) this way.
  // (JetStreamNotEnabled is not exported by the package's public entry, hence the name test.)
  if (err instanceof Error && err.name === 'JetStreamNotEnabled') return noRespondersError(ctx, cause);
  if (err instanceof JetStreamError && /timeout/i.test(detail)) return timeoutError(ctx, cause);
  return translateCoreError(err, ctx);
}
