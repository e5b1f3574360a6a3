/**
 * A run's state as the fold of its journal. `applyEvent` is the only place the state changes: the
 * engine applies each event it emits through it, and a restart folds the journal through it, so
 * a replayed run is exactly the run that was interrupted. It reads events only: no clock, no
 * randomness, no user code.
 */
import type { JsonValue, RunError, State, StateMachine, WorkflowRunPhase, WorkflowSpec } from '../../../messages/workflow';
import type { RunEvent, TaskTarget, TimerStarted } from './events';
import { branchScope, isWithin } from './naming';

/** One running branch of a Parallel or Map attempt, or the top level (`''`). */
export interface ScopeState {
  id: string;
  /** The Parallel or Map state (path, attempt, branch index) this scope belongs to; absent at the top level. */
  parent?: { path: string; attempt: number; branch: number };
  /** How many times each state of this scope has been entered, which numbers its paths. */
  visits: Record<string, number>;
}

/** A Parallel or Map attempt's progress. */
export interface FanOut {
  attempt: number;
  count: number;
  started: number;
  finished: number;
  /** Outputs by branch index; a hole until that branch ends. */
  outputs: JsonValue[];
}

/** One execution of a state, from StateEntered until it exits or fails. */
export interface StateExecution {
  path: string;
  scope: string;
  state: string;
  /** The state's raw input. */
  input: JsonValue;
  enteredAt: string;
  /** The current (or last) attempt of a Task, Parallel or Map; 0 before the first. */
  attempt: number;
  /** Retries made so far, by retrier index (Step Functions counts each retrier on its own). */
  retryCounts: number[];
  fanOut?: FanOut;
}

/** A task attempt scheduled and not yet answered. */
export interface PendingTask {
  invocationId: string;
  path: string;
  attempt: number;
  target: TaskTarget;
  input: JsonValue;
  scheduledAt: string;
  /** The seq of its TaskScheduled event. */
  scheduledSeq: number;
  timeoutAt?: string;
}

/** A timer started and neither fired nor dropped. */
export type PendingTimer = Omit<TimerStarted, 'seq' | 'at' | 'type'>;

/** Everything the engine knows about a run: the fold of its journal. */
export interface RunState {
  phase: WorkflowRunPhase;
  runId: string;
  spec?: WorkflowSpec;
  specHash?: string;
  /** The run's random seed (RunStarted.seed). */
  seed: number;
  input?: JsonValue;
  startTime?: string;
  completionTime?: string;
  output?: JsonValue;
  error?: RunError;
  /** How many events the journal holds, and the last one's seq. */
  events: number;
  lastSeq: number;
  scopes: Record<string, ScopeState>;
  /** The states running now, by path, in the order they were entered. */
  states: Record<string, StateExecution>;
  tasks: Record<string, PendingTask>;
  timers: Record<string, PendingTimer>;
}

/** The state of a run whose journal is empty. */
export function initialRunState(): RunState {
  return { phase: 'Pending', runId: '', seed: 0, events: 0, lastSeq: 0, scopes: {}, states: {}, tasks: {}, timers: {} };
}

/** Replays a journal into the run's state. Pure: it never calls user code and reads no clock. */
export function fold(events: readonly RunEvent[]): RunState {
  const state = initialRunState();
  for (const e of events) applyEvent(state, e);
  return state;
}

/**
 * A copy of `state` that applyEvent may change without touching the original. Payloads are
 * shared: nothing in the engine mutates a JSON value it holds.
 */
export function cloneRunState(state: RunState): RunState {
  const copyEach = <T extends object>(r: Record<string, T>, f: (v: T) => T): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [k, v] of Object.entries(r)) out[k] = f(v);
    return out;
  };
  return {
    ...state,
    scopes: copyEach(state.scopes, (s) => ({ ...s, visits: { ...s.visits } })),
    states: copyEach(state.states, (x) => ({
      ...x, retryCounts: [...x.retryCounts], fanOut: x.fanOut && { ...x.fanOut, outputs: [...x.fanOut.outputs] },
    })),
    tasks: { ...state.tasks },
    timers: { ...state.timers },
  };
}

/** The state machine a scope runs: the spec at the top level, else its Parallel's branch or its Map's item processor. */
export function machineOf(state: RunState, scopeId: string): StateMachine {
  if (scopeId === '') {
    if (state.spec === undefined) throw new Error('workflow engine: the run has not started');
    return state.spec;
  }
  const scope = state.scopes[scopeId];
  if (scope?.parent === undefined) throw new Error(`workflow engine: no scope ${JSON.stringify(scopeId)} in the run`);
  const def = definitionOf(state, scope.parent.path);
  if (def.type === 'Parallel') return def.branches[scope.parent.branch];
  if (def.type === 'Map') return def.itemProcessor;
  throw new Error(`workflow engine: ${scope.parent.path} is a ${def.type} state, which has no branches`);
}

/** The spec of the running state at `path`. */
export function definitionOf(state: RunState, path: string): State {
  const x = state.states[path];
  if (x === undefined) throw new Error(`workflow engine: no running state at ${JSON.stringify(path)}`);
  const def = machineOf(state, x.scope).states[x.state];
  if (def === undefined) throw new Error(`workflow engine: no state named ${JSON.stringify(x.state)} at ${path}`);
  return def;
}

/** Drops every state, scope, task and timer at `path` or in its branches. */
function dropWithin(state: RunState, path: string): void {
  for (const p of Object.keys(state.states)) if (isWithin(p, path)) delete state.states[p];
  for (const s of Object.keys(state.scopes)) if (s !== '' && isWithin(s, path)) delete state.scopes[s];
  for (const [id, t] of Object.entries(state.tasks)) if (isWithin(t.path, path)) delete state.tasks[id];
  for (const [id, t] of Object.entries(state.timers)) if (t.path !== '' && isWithin(t.path, path)) delete state.timers[id];
}

/** Drops the branches of the Parallel or Map at `path` (all attempts), leaving the state itself. */
function dropBranches(state: RunState, path: string): void {
  const x = state.states[path];
  dropWithin(state, path);
  if (x !== undefined) state.states[path] = x;
}

function finish(state: RunState, at: string): void {
  state.completionTime = at;
  state.states = {};
  state.scopes = {};
  state.tasks = {};
  state.timers = {};
}

/**
 * Applies one event to `state` in place. An event that names something the state no longer holds
 * (a late answer) changes nothing but the counters; the engine never emits one, and a journal
 * written by it never holds one.
 */
export function applyEvent(state: RunState, e: RunEvent): void {
  state.events += 1;
  state.lastSeq = e.seq;
  switch (e.type) {
    case 'RunStarted':
      state.phase = 'Running';
      state.runId = e.runId;
      state.spec = e.spec;
      state.specHash = e.specHash;
      state.seed = e.seed;
      state.input = e.input;
      state.startTime = e.at;
      state.scopes[''] = { id: '', visits: {} };
      return;
    case 'StateEntered': {
      const scope = state.scopes[e.scope];
      if (scope !== undefined) scope.visits[e.state] = (scope.visits[e.state] ?? 0) + 1;
      state.states[e.path] = { path: e.path, scope: e.scope, state: e.state, input: e.input, enteredAt: e.at, attempt: 0, retryCounts: [] };
      return;
    }
    case 'TaskScheduled': {
      const x = state.states[e.path];
      if (x !== undefined) x.attempt = e.attempt;
      state.tasks[e.invocationId] = {
        invocationId: e.invocationId, path: e.path, attempt: e.attempt, target: e.target, input: e.input, scheduledAt: e.at, scheduledSeq: e.seq,
        ...(e.timeoutAt !== undefined ? { timeoutAt: e.timeoutAt } : {}),
      };
      return;
    }
    case 'TaskSucceeded':
    case 'TaskFailed':
      delete state.tasks[e.invocationId];
      for (const [id, t] of Object.entries(state.timers)) {
        if (t.path === e.path && t.purpose === 'state-timeout' && t.attempt === e.attempt) delete state.timers[id];
      }
      return;
    case 'BranchesStarted': {
      const x = state.states[e.path];
      if (x === undefined) return;
      x.attempt = e.attempt;
      x.fanOut = { attempt: e.attempt, count: e.count, started: 0, finished: 0, outputs: [] };
      return;
    }
    case 'BranchStarted': {
      const x = state.states[e.path];
      if (x?.fanOut === undefined) return;
      x.fanOut.started += 1;
      state.scopes[e.scope] = { id: e.scope, parent: { path: e.path, attempt: e.attempt, branch: e.branch }, visits: {} };
      return;
    }
    case 'BranchSucceeded': {
      const x = state.states[e.path];
      if (x?.fanOut === undefined) return;
      x.fanOut.finished += 1;
      x.fanOut.outputs[e.branch] = e.output;
      dropWithin(state, branchScope(e.path, e.attempt, e.branch));
      return;
    }
    case 'BranchFailed': {
      dropBranches(state, e.path);
      const x = state.states[e.path];
      if (x !== undefined) delete x.fanOut;
      return;
    }
    case 'TimerStarted': {
      state.timers[e.timerId] = {
        timerId: e.timerId, path: e.path, fireAt: e.fireAt, purpose: e.purpose,
        ...(e.retrier !== undefined ? { retrier: e.retrier } : {}),
        ...(e.attempt !== undefined ? { attempt: e.attempt } : {}),
      };
      const x = state.states[e.path];
      if (e.purpose === 'retry' && e.retrier !== undefined && x !== undefined) x.retryCounts[e.retrier] = (x.retryCounts[e.retrier] ?? 0) + 1;
      return;
    }
    case 'TimerFired':
      delete state.timers[e.timerId];
      return;
    case 'StateExited':
    case 'StateFailed':
      dropWithin(state, e.path);
      return;
    case 'RunSucceeded':
      state.phase = 'Succeeded';
      state.output = e.output;
      finish(state, e.at);
      return;
    case 'RunFailed':
      state.phase = 'Failed';
      state.error = { error: e.error, cause: e.cause };
      finish(state, e.at);
      return;
    case 'RunCancelled':
      state.phase = 'Cancelled';
      state.error = { error: 'States.Cancelled', cause: e.reason };
      finish(state, e.at);
      return;
    case 'RunTimedOut':
      state.phase = 'TimedOut';
      state.error = { error: 'States.Timeout', cause: `the run went past its timeoutSeconds (${state.spec?.timeoutSeconds ?? 0} s)` };
      finish(state, e.at);
      return;
  }
}
