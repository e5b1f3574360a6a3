/**
 * Test doubles for the engine's unit tests: a fake task runner that answers InvokeTask commands
 * from a table of canned answers (deduplicating by invocation id, as the real invoker must), and
 * a fake shell that appends a run's events to an in-memory journal, carries out the commands and
 * feeds the answers and timers back on a fake clock. The shell's choice of what happens next
 * depends on the journal alone, so a run resumed from any prefix of its journal continues exactly
 * as the uninterrupted one did.
 */
import type { JsonValue, WorkflowRunPhase, WorkflowSpec } from '../../../messages/workflow';
import type { EngineCommand, EngineInput, EngineLimits } from './commands';
import { advance } from './engine';
import type { RunEvent, TaskTarget } from './events';
import { resume } from './resume';
import { initialRunState, type RunState } from './run-state';

/** A canned answer: a result, an error, or no answer at all (the task hangs until its timeout or a cancel). */
export type FakeAnswer = { output: JsonValue } | { error: string; cause: string } | 'hang';

/** One call the fake runner received. */
export interface FakeCall {
  invocationId: string;
  path: string;
  attempt: number;
  target: TaskTarget;
  input: JsonValue;
}

/** Decides the answer to a call; called once per invocation id. */
export type FakeHandler = (call: FakeCall) => FakeAnswer;

/** A task runner that answers from a handler, once per invocation id (a repeated id gets the first answer: dedup). */
export class FakeTaskRunner {
  /** How many times the handler ran for each invocation id (1 when dedup works). */
  readonly executions = new Map<string, number>();
  private readonly answers = new Map<string, FakeAnswer>();

  constructor(private readonly handler: FakeHandler) {}

  /** The answer for an InvokeTask command. */
  answer(cmd: Extract<EngineCommand, { type: 'InvokeTask' }>): FakeAnswer {
    const known = this.answers.get(cmd.invocationId);
    if (known !== undefined) return known;
    const attempt = Number(cmd.invocationId.slice(cmd.invocationId.lastIndexOf('/') + 1));
    const a = this.handler({ invocationId: cmd.invocationId, path: cmd.path, attempt, target: cmd.target, input: cmd.input });
    this.executions.set(cmd.invocationId, (this.executions.get(cmd.invocationId) ?? 0) + 1);
    this.answers.set(cmd.invocationId, a);
    return a;
  }
}

/** A deterministic uniform source in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fake clock starts here. */
export const FAKE_EPOCH = Date.parse('2026-01-01T00:00:00.000Z');

/** How long the fake runner takes to answer a task, in ms of the fake clock. */
export const FAKE_TASK_MS = 10;

/** A fake shell around one run: journal, commands, clock. */
export class FakeShell {
  journal: RunEvent[] = [];
  state: RunState = initialRunState();
  /** Tasks invoked and neither answered nor cancelled, in the order they were invoked. */
  readonly inFlight = new Map<string, Extract<EngineCommand, { type: 'InvokeTask' }>>();
  readonly timers = new Map<string, string>();
  /** Every InvokeTask id received, in order (an id twice means it was re-invoked). */
  readonly invoked: string[] = [];
  readonly cancelledTasks: string[] = [];
  readonly cancelledTimers: string[] = [];
  finish?: Extract<EngineCommand, { type: 'Finish' }>;
  /** Invocation ids the journal holds an answer for, up to event `seen`. */
  private readonly completed = new Set<string>();
  private seen = 0;
  /** The largest number of tasks in flight at once, over all steps. */
  maxInFlight = 0;

  constructor(readonly runner: FakeTaskRunner, readonly limits?: Partial<EngineLimits>, private readonly random = seededRandom(7)) {}

  /** A shell restarted on `journal`: it resumes the run and carries out what resume() asks. */
  static resumed(journal: readonly RunEvent[], runner: FakeTaskRunner, limits?: Partial<EngineLimits>): FakeShell {
    const shell = new FakeShell(runner, limits);
    shell.journal = [...journal];
    const r = resume(journal, shell.clock(), limits);
    shell.state = r.state;
    shell.journal.push(...r.events);
    shell.carryOut(r.commands);
    return shell;
  }

  /** The time of the next step: a little after the last event. */
  clock(): number {
    const last = this.journal[this.journal.length - 1];
    return last === undefined ? FAKE_EPOCH : Date.parse(last.at) + FAKE_TASK_MS;
  }

  get phase(): WorkflowRunPhase {
    return this.state.phase;
  }

  start(spec: WorkflowSpec, input: JsonValue, runId = 'default/run-1'): void {
    this.send({ type: 'start', runId, spec, input });
  }

  /** Hands one input to the engine at `now` (the shell's clock by default) and carries out the result. */
  send(input: EngineInput, now = this.clock()): RunEvent[] {
    const r = advance(this.state, input, { now, random: this.random, ...(this.limits !== undefined ? { limits: this.limits } : {}) });
    this.state = r.state;
    this.journal.push(...r.events);
    this.carryOut(r.commands);
    return r.events;
  }

  private carryOut(commands: readonly EngineCommand[]): void {
    for (const e of this.journal.slice(this.seen)) if (e.type === 'TaskSucceeded' || e.type === 'TaskFailed') this.completed.add(e.invocationId);
    this.seen = this.journal.length;
    for (const c of commands) {
      switch (c.type) {
        case 'InvokeTask':
          if (this.completed.has(c.invocationId)) throw new Error(`InvokeTask for ${c.invocationId}, which already completed`);
          this.invoked.push(c.invocationId);
          this.inFlight.set(c.invocationId, c);
          break;
        case 'CancelTask':
          this.cancelledTasks.push(c.invocationId);
          this.inFlight.delete(c.invocationId);
          break;
        case 'StartTimer':
          this.timers.set(c.timerId, c.fireAt);
          break;
        case 'CancelTimer':
          this.cancelledTimers.push(c.timerId);
          this.timers.delete(c.timerId);
          break;
        case 'Finish':
          this.finish = c;
          break;
      }
    }
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
  }

  /** The next thing to happen: the oldest task the runner answers, else the earliest timer. Undefined when nothing can happen. */
  nextInput(): { input: EngineInput; now: number } | undefined {
    for (const c of this.inFlight.values()) {
      const a = this.runner.answer(c);
      if (a === 'hang') continue;
      this.inFlight.delete(c.invocationId);
      const input: EngineInput = 'output' in a
        ? { type: 'taskSucceeded', invocationId: c.invocationId, output: a.output }
        : { type: 'taskFailed', invocationId: c.invocationId, error: a.error, cause: a.cause };
      return { input, now: this.clock() };
    }
    let next: [string, string] | undefined;
    for (const t of this.timers) if (next === undefined || t[1] < next[1] || (t[1] === next[1] && t[0] < next[0])) next = t;
    if (next === undefined) return undefined;
    this.timers.delete(next[0]);
    return { input: { type: 'timerFired', timerId: next[0] }, now: Math.max(this.clock(), Date.parse(next[1])) };
  }

  /** Runs until the run ends or nothing more can happen (or `maxSteps` inputs); returns the phase. */
  runToEnd(maxSteps = 1_000_000): WorkflowRunPhase {
    for (let i = 0; i < maxSteps && this.finish === undefined; i++) {
      const n = this.nextInput();
      if (n === undefined) break;
      this.send(n.input, n.now);
    }
    return this.state.phase;
  }

  /** The events of one type. */
  eventsOf<T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[] {
    return this.journal.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  }
}
