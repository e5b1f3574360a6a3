/**
 * What drives the engine (inputs) and what the engine asks of its shell (commands). The shell
 * appends the events of a step to the journal first and only then carries out its commands, so a
 * command lost in a crash is found again by `pending()` after the replay.
 */
import type { JsonValue, RunError, WorkflowRunPhase, WorkflowSpec } from '../../../messages/workflow';
import type { TaskTarget } from './events';

/** One thing that happened to a run, handed to `advance`. */
export type EngineInput =
  /** Start the run: its id (the prefix of every invocation id), the spec and the input; seed replaces the draw from env.random. */
  | { type: 'start'; runId: string; spec: WorkflowSpec; input: JsonValue; seed?: number }
  /** A task answered with a result. */
  | { type: 'taskSucceeded'; invocationId: string; output: JsonValue }
  /** A task answered with an error (a function's own errorType, or States.TaskFailed). */
  | { type: 'taskFailed'; invocationId: string; error: string; cause: string }
  /** A timer the engine started has fired. */
  | { type: 'timerFired'; timerId: string }
  /** Stop the run. */
  | { type: 'cancel'; reason: string };

/** What the engine needs from the world: the time and a random source, both fixed in tests. */
export interface EngineEnv {
  /** Now, in milliseconds since the epoch. */
  now: number;
  /** A uniform draw in [0, 1): drawn once when a run starts, for the run's seed (RunStarted.seed), from which every retry jitter is derived. */
  random: () => number;
  /** Lower limits for tests; the defaults are ENGINE_LIMITS. */
  limits?: Partial<EngineLimits>;
}

/** The limits a run is held to at run time; crossing one is the error States.LimitExceeded. */
export interface EngineLimits {
  /** The most events a run's journal may hold (MAX_EVENTS_PER_RUN). */
  maxEvents: number;
  /** The most items a Map state may iterate over. */
  maxMapItems: number;
  /** The most branches a Parallel state may have (MAX_BRANCHES; validation stops more, this is a second check). */
  maxBranches: number;
}

/** Something the shell must do once the step's events are in the journal. */
export type EngineCommand =
  /** Call the function or start the child workflow; answer with the invocation id. Calls with one id are one call. */
  | { type: 'InvokeTask'; invocationId: string; path: string; target: TaskTarget; input: JsonValue; timeoutMs?: number }
  /** Arrange for `timerFired` at fireAt (at once when it has passed). */
  | { type: 'StartTimer'; timerId: string; fireAt: string }
  /** Forget a timer: it no longer matters (a fired one after this is ignored anyway). */
  | { type: 'CancelTimer'; timerId: string }
  /** Stop a task if it can be stopped; its answer is ignored anyway. */
  | { type: 'CancelTask'; invocationId: string }
  /** The run is over: report its phase and output or error. */
  | { type: 'Finish'; phase: WorkflowRunPhase; output?: JsonValue; error?: RunError };
