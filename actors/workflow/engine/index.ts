/** The workflow engine: a pure, replayable state machine over a run's journal. */
export type {
  RunEvent, RunEventType, NewRunEvent, TaskTarget, TimerPurpose,
  RunStarted, StateEntered, TaskScheduled, TaskSucceeded, TaskFailed, BranchesStarted, BranchStarted, BranchSucceeded, BranchFailed,
  TimerStarted, TimerFired, StateExited, StateFailed, RunSucceeded, RunFailed, RunCancelled, RunTimedOut,
} from './events';
export type { EngineInput, EngineEnv, EngineLimits, EngineCommand } from './commands';
export {
  fold, applyEvent, initialRunState, cloneRunState,
  type RunState, type ScopeState, type StateExecution, type FanOut, type PendingTask, type PendingTimer,
} from './run-state';
export { advance, pending, ENGINE_LIMITS, MAX_MAP_ITEMS, type AdvanceResult } from './engine';
export { unitHash } from './step';
export { resume, JournalMismatchError, type ResumeResult } from './resume';
export { summarize, history, type RunSummary, type HistoryRow } from './summary';
export { statePath, branchScope, invocationId, RUN_TIMEOUT_TIMER_ID } from './naming';
export { decideRetry, retryDelaySeconds, type RetryDecision } from './retry';
