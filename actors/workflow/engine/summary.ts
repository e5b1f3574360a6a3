/**
 * What people see of a run: the WorkflowRun's status (phase, current states, output or error,
 * times, journal length) and the rows of `mk describe workflowrun`'s history.
 */
import type { JsonValue, RunError, WorkflowRunPhase } from '../../../messages/workflow';
import type { RunEvent } from './events';
import type { RunState } from './run-state';

/** The part of WorkflowRun.status the engine knows. */
export interface RunSummary {
  phase: WorkflowRunPhase;
  specHash?: string;
  /** The paths of the states running now, in the order they were entered. */
  currentStates: string[];
  output?: JsonValue;
  error?: RunError;
  startTime?: string;
  completionTime?: string;
  /** How many events the journal holds. */
  events: number;
}

/** The status of a run, from its folded state. */
export function summarize(state: RunState): RunSummary {
  return {
    phase: state.phase,
    ...(state.specHash !== undefined ? { specHash: state.specHash } : {}),
    currentStates: Object.keys(state.states),
    ...(state.output !== undefined ? { output: state.output } : {}),
    ...(state.error !== undefined ? { error: state.error } : {}),
    ...(state.startTime !== undefined ? { startTime: state.startTime } : {}),
    ...(state.completionTime !== undefined ? { completionTime: state.completionTime } : {}),
    events: state.events,
  };
}

/** One row of a run's history. */
export interface HistoryRow {
  /** The event's place in the journal. */
  seq: number;
  time: string;
  type: RunEvent['type'];
  /** The state path the event is about; empty for the run's own events. */
  path: string;
  detail: string;
}

/** The longest detail a row shows; payloads are cut to it. */
const DETAIL_WIDTH = 80;

function brief(value: JsonValue | undefined): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > DETAIL_WIDTH ? `${text.slice(0, DETAIL_WIDTH - 3)}...` : text;
}

function detailOf(e: RunEvent): string {
  switch (e.type) {
    case 'RunStarted': return `spec ${e.specHash.slice(0, 12)} input ${brief(e.input)}`;
    case 'StateEntered': return `input ${brief(e.input)}`;
    case 'TaskScheduled': {
      const target = 'function' in e.target ? `function ${e.target.function}` : `workflow ${e.target.workflow}`;
      return `attempt ${e.attempt} ${target}${e.timeoutAt !== undefined ? ` timeout at ${e.timeoutAt}` : ''}`;
    }
    case 'TaskSucceeded': return `attempt ${e.attempt} output ${brief(e.output)}`;
    case 'TaskFailed': return `attempt ${e.attempt} ${e.error}: ${e.cause}`;
    case 'BranchesStarted': return `attempt ${e.attempt}, ${e.count} branches`;
    case 'BranchStarted': return `branch ${e.branch}`;
    case 'BranchSucceeded': return `branch ${e.branch} output ${brief(e.output)}`;
    case 'BranchFailed': return `branch ${e.branch} ${e.error}: ${e.cause}`;
    case 'TimerStarted': return `${e.purpose} timer until ${e.fireAt}${e.attempt !== undefined && e.purpose === 'retry' ? ` (then attempt ${e.attempt})` : ''}`;
    case 'TimerFired': return e.timerId;
    case 'StateExited': return `${e.next !== undefined ? `next ${e.next}` : 'end'} output ${brief(e.output)}`;
    case 'StateFailed': return `${e.error}: ${e.cause}${e.next !== undefined ? ` (caught, next ${e.next})` : ''}`;
    case 'RunSucceeded': return `output ${brief(e.output)}`;
    case 'RunFailed': return `${e.error}: ${e.cause}`;
    case 'RunCancelled': return e.reason;
    case 'RunTimedOut': return 'the run went past its timeoutSeconds';
  }
}

/**
 * The rows of `mk describe workflowrun`: one per event, oldest first; a TimerFired row names its
 * timer's state. `timerPaths` (timer id -> path) carries the timers earlier events started, when
 * the rows are made a few events at a time; it is updated.
 */
export function history(events: readonly RunEvent[], timerPaths = new Map<string, string>()): HistoryRow[] {
  return events.map((e) => {
    if (e.type === 'TimerStarted') timerPaths.set(e.timerId, e.path);
    const path = 'path' in e ? e.path : e.type === 'TimerFired' ? timerPaths.get(e.timerId) ?? '' : '';
    return { seq: e.seq, time: e.at, type: e.type, path, detail: detailOf(e) };
  });
}
