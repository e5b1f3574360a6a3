/**
 * Error classes shared by every layer. Each carries a stable `code` that travels in API replies
 * (see envelope.ts), so a client can rebuild the same class on its side with `errorFromCode`.
 */

/** Codes that travel over the subject API. */
export const ErrorCodes = {
  Validation: 'Invalid',
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Timeout: 'Timeout',
  Unavailable: 'Unavailable',
  Internal: 'Internal',
  BadRequest: 'BadRequest',
  Expired: 'Expired',
  Forbidden: 'Forbidden',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class: every mk error has a code and may carry a cause. */
export class MkError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MkError';
    this.code = code;
  }
}

/** Thrown when input (a manifest, a flag, a payload) breaks the schema. Never retried. */
export class ValidationError extends MkError {
  readonly issues: string[];
  constructor(message: string, issues: string[] = [], options?: { cause?: unknown }) {
    super(ErrorCodes.Validation, message, options);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** Thrown when an object does not exist. */
export class NotFoundError extends MkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.NotFound, message, options);
    this.name = 'NotFoundError';
  }
}

/** Thrown by a create when the key is already present. */
export class AlreadyExistsError extends MkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.AlreadyExists, message, options);
    this.name = 'AlreadyExistsError';
  }
}

/** Thrown by an update whose expected revision is stale: re-read and retry. */
export class ConflictError extends MkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.Conflict, message, options);
    this.name = 'ConflictError';
  }
}

/** Thrown when a request got no answer in time: the other side may be down. Retryable. */
export class TimeoutError extends MkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.Timeout, message, options);
    this.name = 'TimeoutError';
  }
}

/** Thrown when the bus or a service cannot be reached at all. Retryable. */
export class UnavailableError extends MkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.Unavailable, message, options);
    this.name = 'UnavailableError';
  }
}

/**
 * Thrown by a watch asked to start from a revision the store no longer has all changes from (it
 * was compacted past it), like Kubernetes' 410 Gone: list again and watch from the listing's
 * revision. Not retryable as it is.
 */
export class ExpiredError extends MkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.Expired, message, options);
    this.name = 'ExpiredError';
  }
}

/**
 * Thrown when the caller's identity may not do what it asked: the bus refused the subject, or a
 * node asked about a pod that is not bound to it. Not retryable.
 */
export class ForbiddenError extends MkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.Forbidden, message, options);
    this.name = 'ForbiddenError';
  }
}

/** Predicates, in the style of nats.js. */
export const isConflict = (e: unknown): e is ConflictError => e instanceof MkError && e.code === ErrorCodes.Conflict;
export const isNotFound = (e: unknown): e is NotFoundError => e instanceof MkError && e.code === ErrorCodes.NotFound;
export const isAlreadyExists = (e: unknown): e is AlreadyExistsError =>
  e instanceof MkError && e.code === ErrorCodes.AlreadyExists;
export const isValidation = (e: unknown): e is ValidationError => e instanceof MkError && e.code === ErrorCodes.Validation;
export const isExpired = (e: unknown): e is ExpiredError => e instanceof MkError && e.code === ErrorCodes.Expired;
export const isForbidden = (e: unknown): e is ForbiddenError => e instanceof MkError && e.code === ErrorCodes.Forbidden;

/** Rebuilds an error of the right class from a code and message received over the wire. */
export function errorFromCode(code: string, message: string, issues?: string[]): MkError {
  switch (code) {
    case ErrorCodes.Validation: return new ValidationError(message, issues ?? []);
    case ErrorCodes.NotFound: return new NotFoundError(message);
    case ErrorCodes.AlreadyExists: return new AlreadyExistsError(message);
    case ErrorCodes.Conflict: return new ConflictError(message);
    case ErrorCodes.Timeout: return new TimeoutError(message);
    case ErrorCodes.Unavailable: return new UnavailableError(message);
    case ErrorCodes.Expired: return new ExpiredError(message);
    case ErrorCodes.Forbidden: return new ForbiddenError(message);
    default: return new MkError(code as ErrorCode, message);
  }
}
