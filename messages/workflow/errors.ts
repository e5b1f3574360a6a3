/**
 * Errors of a running workflow, named as Step Functions names them so its users know them
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). A state's
 * retry and catch match these names; `States.LimitExceeded` is mk's own.
 */

/** The error names the engine raises itself. */
export const StatesErrors = {
  /** In errorEquals: matches any error. */
  ALL: 'States.ALL',
  /** A task failed: a function answered an error without naming it, or its handler threw. */
  TaskFailed: 'States.TaskFailed',
  /** A state or the run went past its timeoutSeconds. */
  Timeout: 'States.Timeout',
  /** A path matched nothing, or a value had the wrong type (a Choice comparison, a Wait's secondsPath). */
  Runtime: 'States.Runtime',
  /** A branch of a Parallel state or an item of a Map state failed. */
  BranchFailed: 'States.BranchFailed',
  /** No Choice rule matched and the state has no default. */
  NoChoiceMatched: 'States.NoChoiceMatched',
  /** The run may not call what it asked for. */
  Permissions: 'States.Permissions',
  /** A resultPath could not be set in the state's input (it runs through a value that is not an object). */
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  /** A `.$` path of parameters or resultSelector matched nothing. */
  ParameterPathFailure: 'States.ParameterPathFailure',
  /** Unused: mk has no heartbeats. Kept so that a retrier naming it is valid. */
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  /** The run was cancelled. */
  Cancelled: 'States.Cancelled',
  /** A limit of limits.ts was crossed (events per run, branches, map concurrency). */
  LimitExceeded: 'States.LimitExceeded',
} as const;
export type StatesErrorName = (typeof StatesErrors)[keyof typeof StatesErrors];

/**
 * An error of a run, with its Step Functions name (`error`) and its description (the message,
 * which the run's output calls `cause`). Thrown by the data-flow and Choice functions of this
 * folder; the engine catches it and hands it to the state's retriers and catchers.
 */
export class StatesError extends Error {
  /** The error name retriers and catchers match (`States.Runtime`, or a function's own errorType). */
  readonly error: string;
  constructor(error: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StatesError';
    this.error = error;
  }

  /** The `{ error, cause }` a catcher puts at its resultPath and a failed run reports. */
  toOutput(): { error: string; cause: string } {
    return { error: this.error, cause: this.message };
  }
}

/** True when `e` is a StatesError, optionally of the given name. */
export function isStatesError(e: unknown, error?: string): e is StatesError {
  return e instanceof StatesError && (error === undefined || e.error === error);
}

/**
 * True when a retrier's or catcher's errorEquals matches `error`: the name itself, or States.ALL.
 */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  return errorEquals.includes(StatesErrors.ALL) || errorEquals.includes(error);
}
