/**
 * The journal of a workflow run: every transition of the run is one of these events, appended
 * before the shell acts on it. The run's state is a fold of its events (run-state.ts), so a run
 * resumes after a crash by replaying them, never by calling user code again: the event-sourced
 * shape of Temporal's workflow history and of Step Functions' execution history
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html).
 *
 * Paths name one execution of a state: `Check#2` is the second visit of Check at the top level,
 * `Fan#1/0/Step#1` the first visit of Step in branch 0 of the first visit of Fan, and
 * `Each#1/17/Work#1` item 17 of a Map. A Parallel or Map retried after a failure runs its
 * branches again under `Fan#1@2/0/...` (attempt 2), so no path is ever used twice in a run.
 */
import type { JsonValue, WorkflowSpec } from '../../../messages/workflow';

/** What a task state calls: a Function, or a Workflow run as a child run. */
export type TaskTarget = { function: string } | { workflow: string };

/** Why a timer runs: a Wait state, a retry's backoff, a task attempt's timeoutSeconds, the run's timeoutSeconds. */
export type TimerPurpose = 'wait' | 'retry' | 'state-timeout' | 'run-timeout';

/** Fields every event has: its place in the journal (1, 2, ...) and when it happened (RFC 3339). */
interface EventBase {
  seq: number;
  at: string;
}

/** The run began: its id, its input and the spec it follows, pinned here so editing the Workflow never changes a started run. */
export interface RunStarted extends EventBase {
  type: 'RunStarted';
  runId: string;
  input: JsonValue;
  specHash: string;
  spec: WorkflowSpec;
  /** Drawn once from env.random at the start: every jitter of the run is derived from it and the timer's id. */
  seed: number;
}

/** A state began, in its scope (`''` at the top level, else a branch or item of a Parallel or Map), with its raw input. */
export interface StateEntered extends EventBase {
  type: 'StateEntered';
  path: string;
  scope: string;
  state: string;
  input: JsonValue;
}

/** A task attempt was scheduled; its invocation id (`<runId>/<path>/<attempt>`) is the invoker's dedup key. */
export interface TaskScheduled extends EventBase {
  type: 'TaskScheduled';
  path: string;
  attempt: number;
  invocationId: string;
  target: TaskTarget;
  input: JsonValue;
  /** When the attempt times out (RFC 3339), when the state has timeoutSeconds. */
  timeoutAt?: string;
}

/** A task attempt answered with a result. */
export interface TaskSucceeded extends EventBase {
  type: 'TaskSucceeded';
  path: string;
  attempt: number;
  invocationId: string;
  output: JsonValue;
}

/** A task attempt failed: its own error, States.TaskFailed, or States.Timeout when its timer fired first. */
export interface TaskFailed extends EventBase {
  type: 'TaskFailed';
  path: string;
  attempt: number;
  invocationId: string;
  error: string;
  cause: string;
}

/** A Parallel or Map attempt began with `count` branches (Parallel) or items (Map). */
export interface BranchesStarted extends EventBase {
  type: 'BranchesStarted';
  path: string;
  attempt: number;
  count: number;
}

/** One branch or item of a Parallel or Map attempt began; its states run in `scope`. */
export interface BranchStarted extends EventBase {
  type: 'BranchStarted';
  path: string;
  attempt: number;
  branch: number;
  scope: string;
}

/** One branch or item ended with `output`. */
export interface BranchSucceeded extends EventBase {
  type: 'BranchSucceeded';
  path: string;
  attempt: number;
  branch: number;
  output: JsonValue;
}

/** One branch or item failed, which fails the whole attempt: every other branch of it stops. */
export interface BranchFailed extends EventBase {
  type: 'BranchFailed';
  path: string;
  attempt: number;
  branch: number;
  error: string;
  cause: string;
}

/** A durable timer was set; fireAt is decided once (jitter included) so replay never recomputes it. */
export interface TimerStarted extends EventBase {
  type: 'TimerStarted';
  timerId: string;
  /** The state path it belongs to (`''` for the run's timeout). */
  path: string;
  fireAt: string;
  purpose: TimerPurpose;
  /** For a retry: the index of the retrier whose count this spends, and the attempt it leads to. */
  retrier?: number;
  attempt?: number;
}

/** A timer fired. */
export interface TimerFired extends EventBase {
  type: 'TimerFired';
  timerId: string;
}

/** A state ended with `output`, going to `next` in its scope, or ending its scope when next is absent. */
export interface StateExited extends EventBase {
  type: 'StateExited';
  path: string;
  output: JsonValue;
  next?: string;
}

/** A state failed. With `next` a catcher took it there with `output` (the error at the catcher's resultPath); without, its scope fails. */
export interface StateFailed extends EventBase {
  type: 'StateFailed';
  path: string;
  error: string;
  cause: string;
  next?: string;
  output?: JsonValue;
}

/** The run ended with its output. */
export interface RunSucceeded extends EventBase {
  type: 'RunSucceeded';
  output: JsonValue;
}

/** The run failed. */
export interface RunFailed extends EventBase {
  type: 'RunFailed';
  error: string;
  cause: string;
}

/** The run was cancelled. */
export interface RunCancelled extends EventBase {
  type: 'RunCancelled';
  reason: string;
}

/** The run went past its spec's timeoutSeconds. */
export interface RunTimedOut extends EventBase {
  type: 'RunTimedOut';
}

/** One event of a run's journal. */
export type RunEvent =
  | RunStarted | StateEntered | TaskScheduled | TaskSucceeded | TaskFailed
  | BranchesStarted | BranchStarted | BranchSucceeded | BranchFailed
  | TimerStarted | TimerFired | StateExited | StateFailed
  | RunSucceeded | RunFailed | RunCancelled | RunTimedOut;

/** The type names of the events. */
export type RunEventType = RunEvent['type'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event before the journal numbers and dates it. */
export type NewRunEvent = DistributiveOmit<RunEvent, 'seq' | 'at'>;
