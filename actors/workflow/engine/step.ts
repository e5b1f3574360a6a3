/**
 * One step of the workflow engine: the decisions that follow from one input, each written as an
 * event and applied to the step's private copy of the run's state before the next decision reads
 * it. The states' semantics are Step Functions' (https://states-language.net/spec.html): the data
 * flow through messages/workflow/paths.ts, Choice rules through choice.ts, retriers and catchers
 * through retry.ts.
 */
import {
  applyInputPath, applyOutputPath, applyParameters, applyResultPath, applyResultSelector, evaluateChoice, isFinalPhase,
  isStatesError, parseTimestamp, selectPath, StatesError, StatesErrors, DEFAULT_MAP_CONCURRENCY, MAX_MAP_CONCURRENCY,
  type ContextObject, type JsonValue, type MapState, type ParallelState, type RunError, type TaskState, type WaitState,
} from '../../../messages/workflow';
import { specHash } from '../../../common/spec-hash';
import type { EngineEnv, EngineInput, EngineLimits } from './commands';
import type { NewRunEvent, RunEvent } from './events';
import {
  branchScope, invocationId as makeInvocationId, retryTimerId, RUN_TIMEOUT_TIMER_ID, stateTimeoutTimerId, statePath, waitTimerId,
} from './naming';
import { decideRetry, findCatcher } from './retry';
import { applyEvent, definitionOf, machineOf, type RunState, type StateExecution } from './run-state';

/** Thrown inside a step when the run ended (or hit its event limit): nothing more happens in it. */
class RunOver extends Error {}

type Work = { scope: string; state: string; input: JsonValue };

type FanOutState = ParallelState | MapState;

function toRunError(err: unknown): RunError & { cause: string } {
  if (isStatesError(err)) return { error: err.error, cause: err.message };
  return { error: StatesErrors.Runtime, cause: err instanceof Error ? err.message : String(err) };
}

/**
 * A uniform number in [0, 1) fixed by the run's seed and a key (FNV-1a, then a mulberry32 round):
 * a step computed again from the journal draws exactly what it drew the first time.
 */
export function unitHash(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  let t = (h + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** One step of the engine over a private copy of the state: `run` it with the input's handler, then read `events` and `state`. */
export class Step {
  readonly events: RunEvent[] = [];
  private readonly queue: Work[] = [];
  private readonly at: string;

  constructor(readonly state: RunState, private readonly env: EngineEnv, private readonly limits: EngineLimits) {
    this.at = iso(env.now);
  }

  /** Appends an event and applies it; past the event limit the run fails instead. */
  emit(e: NewRunEvent): void {
    if (isFinalPhase(this.state.phase)) throw new RunOver();
    const final = e.type === 'RunSucceeded' || e.type === 'RunFailed' || e.type === 'RunCancelled' || e.type === 'RunTimedOut';
    if (!final && this.state.events + 1 >= this.limits.maxEvents) {
      this.push({
        type: 'RunFailed', error: StatesErrors.LimitExceeded,
        cause: `the run reached the limit of ${this.limits.maxEvents} events per run (MAX_EVENTS_PER_RUN); split the work into child workflows`,
      });
      throw new RunOver();
    }
    this.push(e);
    if (final) throw new RunOver();
  }

  private push(e: NewRunEvent): void {
    const full = { ...e, seq: this.state.lastSeq + 1, at: this.at } as RunEvent;
    applyEvent(this.state, full);
    this.events.push(full);
  }

  /** Runs `f`, then every state entry it queued, until the run rests (or ends). */
  run(f: () => void): void {
    try {
      f();
      for (let w = this.queue.shift(); w !== undefined; w = this.queue.shift()) {
        if (this.state.scopes[w.scope] !== undefined) this.enter(w.scope, w.state, w.input);
      }
    } catch (err) {
      if (!(err instanceof RunOver)) throw err;
    }
  }

  /** Starts the run: RunStarted (with the seed), the run's timeout timer, and its first state. */
  start(runId: string, input: Extract<EngineInput, { type: 'start' }>): void {
    const spec = input.spec;
    const seed = input.seed ?? Math.floor(this.env.random() * 2 ** 32);
    this.emit({ type: 'RunStarted', runId, input: input.input, specHash: specHash(spec), spec, seed });
    if (spec.timeoutSeconds !== undefined) {
      this.emit({
        type: 'TimerStarted', timerId: RUN_TIMEOUT_TIMER_ID, path: '', purpose: 'run-timeout',
        fireAt: iso(this.env.now + spec.timeoutSeconds * 1000),
      });
    }
    this.queue.push({ scope: '', state: spec.startAt, input: input.input });
  }

  /** Enters state `name` of `scope` with `input`, and does what the state does at once. */
  enter(scope: string, name: string, input: JsonValue): void {
    if (machineOf(this.state, scope).states[name] === undefined) {
      // Validation rules this out; a journal's pinned spec is trusted, but a bad one fails the run rather than the actor.
      return this.scopeFailed(scope, { error: StatesErrors.Runtime, cause: `the workflow has no state named ${JSON.stringify(name)}${scope === '' ? '' : ` in ${scope}`}` });
    }
    const visit = (this.state.scopes[scope]?.visits[name] ?? 0) + 1;
    const path = statePath(scope, name, visit);
    this.emit({ type: 'StateEntered', path, scope, state: name, input });
    const x = this.state.states[path];
    const def = definitionOf(this.state, path);
    switch (def.type) {
      case 'Task': return this.scheduleTask(path, 1);
      case 'Parallel':
      case 'Map': return this.startFanOut(path, 1);
      case 'Wait': return this.startWait(path, def);
      case 'Fail':
        this.emit({ type: 'StateFailed', path, error: def.error ?? 'States.Fail', cause: def.cause ?? '' });
        return this.scopeFailed(x.scope, { error: def.error ?? 'States.Fail', cause: def.cause ?? '' });
      default:
        break;
    }
    let output: JsonValue;
    let next: string | undefined;
    try {
      const effective = applyInputPath(input, def.inputPath);
      if (def.type === 'Pass') {
        const payload = def.parameters !== undefined ? applyParameters(def.parameters, effective, this.context(x)) : effective;
        output = applyOutputPath(applyResultPath(input, def.result !== undefined ? def.result : payload, def.resultPath), def.outputPath);
        next = def.next;
      } else if (def.type === 'Choice') {
        next = evaluateChoice(def.choices, effective) ?? def.default;
        if (next === undefined) throw new StatesError(StatesErrors.NoChoiceMatched, `no choice rule of ${path} matched and it has no default`);
        output = applyOutputPath(effective, def.outputPath);
      } else {
        output = applyOutputPath(effective, def.outputPath);
      }
    } catch (err) {
      const e = toRunError(err);
      this.emit({ type: 'StateFailed', path, ...e });
      return this.scopeFailed(x.scope, e);
    }
    this.exit(path, output, next);
  }

  /** The context object `$$.` paths read. */
  private context(x: StateExecution, item?: { index: number; value: JsonValue }): ContextObject {
    return {
      Execution: { Id: this.state.runId, ...(this.state.startTime !== undefined ? { StartTime: this.state.startTime } : {}), Input: this.state.input ?? null },
      State: { Name: x.state, EnteredTime: x.enteredAt, RetryCount: Math.max(0, x.attempt - 1) },
      ...(item !== undefined ? { Map: { Item: { Index: item.index, Value: item.value } } } : {}),
    };
  }

  /** Ends a state: on to `next` in its scope, or the scope ends with `output`. */
  private exit(path: string, output: JsonValue, next: string | undefined): void {
    const scope = this.state.states[path].scope;
    this.emit({ type: 'StateExited', path, output, ...(next !== undefined ? { next } : {}) });
    if (next !== undefined) this.queue.push({ scope, state: next, input: output });
    else this.scopeSucceeded(scope, output);
  }

  private scopeSucceeded(scopeId: string, output: JsonValue): void {
    const parent = this.state.scopes[scopeId]?.parent;
    if (parent === undefined) return this.emit({ type: 'RunSucceeded', output });
    this.emit({ type: 'BranchSucceeded', path: parent.path, attempt: parent.attempt, branch: parent.branch, output });
    this.fanOutProgress(parent.path);
  }

  private scopeFailed(scopeId: string, e: { error: string; cause: string }): void {
    const parent = this.state.scopes[scopeId]?.parent;
    if (parent === undefined) return this.emit({ type: 'RunFailed', ...e });
    this.emit({ type: 'BranchFailed', path: parent.path, attempt: parent.attempt, branch: parent.branch, ...e });
    this.attemptFailed(parent.path, e, true);
  }

  private scheduleTask(path: string, attempt: number): void {
    const x = this.state.states[path];
    const def = definitionOf(this.state, path) as TaskState;
    let input: JsonValue;
    try {
      const effective = applyInputPath(x.input, def.inputPath);
      input = def.parameters !== undefined ? applyParameters(def.parameters, effective, this.context({ ...x, attempt })) : effective;
    } catch (err) {
      return this.catchOrFail(path, toRunError(err));
    }
    const target = def.function !== undefined ? { function: def.function } : { workflow: def.workflow ?? '' };
    const timeoutAt = def.timeoutSeconds !== undefined ? iso(this.env.now + def.timeoutSeconds * 1000) : undefined;
    const invocationId = makeInvocationId(this.state.runId, path, attempt);
    this.emit({ type: 'TaskScheduled', path, attempt, invocationId, target, input, ...(timeoutAt !== undefined ? { timeoutAt } : {}) });
    if (timeoutAt !== undefined) {
      this.emit({ type: 'TimerStarted', timerId: stateTimeoutTimerId(path, attempt), path, fireAt: timeoutAt, purpose: 'state-timeout', attempt });
    }
  }

  /** The input of each branch (Parallel) or item (Map) of the state at `path`; throws StatesError as the data-flow functions do. */
  private branchInputs(path: string, def: FanOutState): { count: number; inputOf: (i: number) => JsonValue } {
    const x = this.state.states[path];
    const effective = applyInputPath(x.input, def.inputPath);
    if (def.type === 'Parallel') {
      const input = def.parameters !== undefined ? applyParameters(def.parameters, effective, this.context(x)) : effective;
      return { count: def.branches.length, inputOf: () => input };
    }
    const items = selectPath(effective, def.itemsPath ?? '$');
    if (!Array.isArray(items)) {
      throw new StatesError(StatesErrors.Runtime, `itemsPath ${def.itemsPath ?? '$'} of ${path} is not an array`);
    }
    return {
      count: items.length,
      inputOf: (i) => (def.parameters !== undefined ? applyParameters(def.parameters, effective, this.context(x, { index: i, value: items[i] })) : items[i]),
    };
  }

  private startFanOut(path: string, attempt: number): void {
    const def = definitionOf(this.state, path) as FanOutState;
    let count: number;
    try {
      count = this.branchInputs(path, def).count;
    } catch (err) {
      return this.catchOrFail(path, toRunError(err));
    }
    if (def.type === 'Parallel' && count > this.limits.maxBranches) {
      return this.catchOrFail(path, {
        error: StatesErrors.LimitExceeded, cause: `${path} has ${count} branches, more than the limit of ${this.limits.maxBranches} (MAX_BRANCHES)`,
      });
    }
    if (def.type === 'Map' && count > this.limits.maxMapItems) {
      return this.catchOrFail(path, {
        error: StatesErrors.LimitExceeded,
        cause: `${path} would iterate over ${count} items, more than the limit of ${this.limits.maxMapItems} items per Map state; split the items into batches`,
      });
    }
    this.emit({ type: 'BranchesStarted', path, attempt, count });
    if (count === 0) return this.complete(path, []);
    this.fanOutProgress(path);
  }

  /** Starts the branches a Parallel or Map may run now, or completes it when all have ended. */
  private fanOutProgress(path: string): void {
    const x = this.state.states[path];
    const f = x?.fanOut;
    if (f === undefined) return;
    if (f.finished === f.count) return this.complete(path, Array.from({ length: f.count }, (_, i) => f.outputs[i] ?? null));
    const def = definitionOf(this.state, path) as FanOutState;
    const limit = def.type === 'Map' ? Math.min(def.maxConcurrency ?? DEFAULT_MAP_CONCURRENCY, MAX_MAP_CONCURRENCY) : f.count;
    if (f.started >= f.count || f.started - f.finished >= limit) return;
    let inputOf: (i: number) => JsonValue;
    try {
      inputOf = this.branchInputs(path, def).inputOf;
    } catch (err) {
      return this.catchOrFail(path, toRunError(err));
    }
    const machine = def.type === 'Parallel' ? undefined : def.itemProcessor;
    while (f.started < f.count && f.started - f.finished < limit) {
      const branch = f.started;
      let input: JsonValue;
      try {
        input = inputOf(branch);
      } catch (err) {
        return this.catchOrFail(path, toRunError(err));
      }
      const scope = branchScope(path, f.attempt, branch);
      this.emit({ type: 'BranchStarted', path, attempt: f.attempt, branch, scope });
      this.queue.push({ scope, state: (machine ?? machineOf(this.state, scope)).startAt, input });
    }
  }

  /** A Task, Parallel or Map has its raw result: resultSelector, resultPath, outputPath, then on. */
  private complete(path: string, result: JsonValue): void {
    const x = this.state.states[path];
    const def = definitionOf(this.state, path) as TaskState | FanOutState;
    let output: JsonValue;
    try {
      const selected = def.resultSelector !== undefined ? applyResultSelector(def.resultSelector, result, this.context(x)) : result;
      output = applyOutputPath(applyResultPath(x.input, selected, def.resultPath), def.outputPath);
    } catch (err) {
      return this.catchOrFail(path, toRunError(err));
    }
    this.exit(path, output, def.next);
  }

  /**
   * An attempt of a Task, Parallel or Map failed: retry it after a backoff, or hand the error to
   * the catchers. `fromBranch`: a branch of a Parallel or Map failed, which States.BranchFailed also matches.
   */
  private attemptFailed(path: string, e: { error: string; cause: string }, fromBranch: boolean): void {
    const x = this.state.states[path];
    const def = definitionOf(this.state, path) as TaskState | FanOutState;
    const attempt = x.attempt + 1;
    const draw = (): number => unitHash(this.state.seed, retryTimerId(path, attempt));
    const retry = decideRetry(def.retry, e.error, fromBranch, x.retryCounts, draw);
    if (retry === undefined) return this.catchOrFail(path, e, fromBranch);
    this.emit({
      type: 'TimerStarted', timerId: retryTimerId(path, attempt), path, fireAt: iso(this.env.now + retry.delayMs),
      purpose: 'retry', retrier: retry.retrier, attempt,
    });
  }

  /** The state failed for good: the first matching catcher takes the run to its next state, or the scope fails. */
  private catchOrFail(path: string, e: { error: string; cause: string }, fromBranch = false): void {
    const x = this.state.states[path];
    const def = definitionOf(this.state, path);
    const catcher = def.type === 'Task' || def.type === 'Parallel' || def.type === 'Map'
      ? findCatcher(def.catch, e.error, fromBranch) : undefined;
    if (catcher !== undefined) {
      let output: JsonValue | undefined;
      try {
        output = applyResultPath(x.input, { error: e.error, cause: e.cause }, catcher.resultPath === undefined ? '$' : catcher.resultPath);
      } catch (err) {
        e = toRunError(err);
      }
      if (output !== undefined) {
        this.emit({ type: 'StateFailed', path, ...e, next: catcher.next, output });
        this.queue.push({ scope: x.scope, state: catcher.next, input: output });
        return;
      }
    }
    this.emit({ type: 'StateFailed', path, ...e });
    this.scopeFailed(x.scope, e);
  }

  private startWait(path: string, def: WaitState): void {
    const x = this.state.states[path];
    let fireAt: number;
    let output: JsonValue;
    try {
      const effective = applyInputPath(x.input, def.inputPath);
      output = applyOutputPath(effective, def.outputPath);
      fireAt = this.waitUntil(def, effective);
    } catch (err) {
      const e = toRunError(err);
      this.emit({ type: 'StateFailed', path, ...e });
      return this.scopeFailed(x.scope, e);
    }
    if (fireAt <= this.env.now) return this.exit(path, output, def.next);
    this.emit({ type: 'TimerStarted', timerId: waitTimerId(path), path, fireAt: iso(fireAt), purpose: 'wait' });
  }

  /** When a Wait state ends (ms since the epoch); a secondsPath or timestampPath of the wrong type is States.Runtime. */
  private waitUntil(def: WaitState, effective: JsonValue): number {
    const fail = (what: string): never => {
      throw new StatesError(StatesErrors.Runtime, what);
    };
    const fromTimestamp = (t: JsonValue, where: string): number => {
      const ms = typeof t === 'string' ? parseTimestamp(t) : undefined;
      return ms === undefined ? fail(`${where} is not an RFC 3339 timestamp: ${JSON.stringify(t)}`) : ms;
    };
    if (def.seconds !== undefined) return this.env.now + def.seconds * 1000;
    if (def.timestamp !== undefined) return fromTimestamp(def.timestamp, 'timestamp');
    if (def.secondsPath !== undefined) {
      const s = selectPath(effective, def.secondsPath);
      return typeof s === 'number' && s >= 0 ? this.env.now + s * 1000 : fail(`secondsPath ${def.secondsPath} is not a number of seconds: ${JSON.stringify(s)}`);
    }
    if (def.timestampPath !== undefined) return fromTimestamp(selectPath(effective, def.timestampPath), `timestampPath ${def.timestampPath}`);
    return this.env.now;
  }

  /** A task's answer: on with its result, or to its retriers and catchers. A late answer (no such task in flight) does nothing. */
  taskAnswered(input: Extract<EngineInput, { type: 'taskSucceeded' | 'taskFailed' }>): void {
    const t = this.state.tasks[input.invocationId];
    if (t === undefined) return;
    if (input.type === 'taskSucceeded') {
      this.emit({ type: 'TaskSucceeded', path: t.path, attempt: t.attempt, invocationId: t.invocationId, output: input.output });
      return this.complete(t.path, input.output);
    }
    const e = { error: input.error, cause: input.cause };
    this.emit({ type: 'TaskFailed', path: t.path, attempt: t.attempt, invocationId: t.invocationId, ...e });
    this.attemptFailed(t.path, e, false);
  }

  /** A timer fired: the run times out, a Wait ends, a retry starts, or a task attempt times out. A dropped timer does nothing. */
  timerFired(timerId: string): void {
    const t = this.state.timers[timerId];
    if (t === undefined) return;
    this.emit({ type: 'TimerFired', timerId });
    switch (t.purpose) {
      case 'run-timeout': return this.emit({ type: 'RunTimedOut' });
      case 'wait': {
        const x = this.state.states[t.path];
        const def = definitionOf(this.state, t.path) as WaitState;
        let output: JsonValue;
        try {
          output = applyOutputPath(applyInputPath(x.input, def.inputPath), def.outputPath);
        } catch (err) {
          const e = toRunError(err);
          this.emit({ type: 'StateFailed', path: t.path, ...e });
          return this.scopeFailed(x.scope, e);
        }
        return this.exit(t.path, output, def.next);
      }
      case 'retry': {
        const def = definitionOf(this.state, t.path);
        const attempt = t.attempt ?? this.state.states[t.path].attempt + 1;
        return def.type === 'Task' ? this.scheduleTask(t.path, attempt) : this.startFanOut(t.path, attempt);
      }
      case 'state-timeout': {
        const task = Object.values(this.state.tasks).find((k) => k.path === t.path && k.attempt === t.attempt);
        if (task === undefined) return;
        const def = definitionOf(this.state, t.path) as TaskState;
        const e = { error: StatesErrors.Timeout, cause: `${t.path} attempt ${task.attempt} did not answer within its timeoutSeconds (${def.timeoutSeconds ?? 0} s)` };
        this.emit({ type: 'TaskFailed', path: t.path, attempt: task.attempt, invocationId: task.invocationId, ...e });
        return this.attemptFailed(t.path, e, false);
      }
    }
  }
}
