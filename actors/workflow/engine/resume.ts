/**
 * Resuming a run from its journal after a crash. The shell appends a step's events before it acts
 * on any of them, but the append of a step with several events may stop part way. Every step's
 * first event records the input that caused it (RunStarted, TaskSucceeded, TaskFailed,
 * TimerFired, RunCancelled) and every event of a step carries the step's time, and the engine's
 * only randomness is derived from the run's seed: so the step is computed again from the journal
 * before it, the events already written are checked against it, and the rest are appended.
 */
import { canonicalJson, isFinalPhase, StatesErrors } from '../../../messages/workflow';
import type { EngineCommand, EngineInput, EngineLimits } from './commands';
import { advance, pending } from './engine';
import type { RunEvent } from './events';
import { stateTimeoutTimerId } from './naming';
import { fold, type RunState } from './run-state';

/** What a shell does after a restart: append `events` (the rest of an interrupted step), then carry out `commands`. */
export interface ResumeResult {
  state: RunState;
  events: RunEvent[];
  commands: EngineCommand[];
}

/** Thrown when a journal does not agree with what the engine computes from it: it was written by other code, or edited. */
export class JournalMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalMismatchError';
  }
}

/** True when `events[i]` begins a step: it records the input of one (a TaskFailed right after its own timeout timer fired does not). */
function beginsStep(events: readonly RunEvent[], i: number): boolean {
  const e = events[i];
  switch (e.type) {
    case 'RunStarted': case 'TaskSucceeded': case 'TimerFired': case 'RunCancelled':
      return true;
    case 'TaskFailed': {
      const prev = i > 0 ? events[i - 1] : undefined;
      return !(e.error === StatesErrors.Timeout && prev?.type === 'TimerFired' && prev.timerId === stateTimeoutTimerId(e.path, e.attempt));
    }
    default:
      return false;
  }
}

/** The input a step-beginning event records. */
function inputOf(e: RunEvent): EngineInput {
  switch (e.type) {
    case 'RunStarted': return { type: 'start', runId: e.runId, spec: e.spec, input: e.input, seed: e.seed };
    case 'TaskSucceeded': return { type: 'taskSucceeded', invocationId: e.invocationId, output: e.output };
    case 'TaskFailed': return { type: 'taskFailed', invocationId: e.invocationId, error: e.error, cause: e.cause };
    case 'TimerFired': return { type: 'timerFired', timerId: e.timerId };
    case 'RunCancelled': return { type: 'cancel', reason: e.reason };
    default: throw new JournalMismatchError(`event ${e.seq} (${e.type}) does not begin a step`);
  }
}

/**
 * The state of a run from its journal, the events its last step still owes, and the commands to
 * carry out: every task scheduled and not answered (same invocation ids), every timer not fired
 * (same fireAt), and what the last step cancelled or finished. Throws JournalMismatchError when the
 * journal's last step disagrees with the engine.
 */
export function resume(journal: readonly RunEvent[], now: number, limits?: Partial<EngineLimits>): ResumeResult {
  if (journal.length === 0) return { state: fold([]), events: [], commands: [] };
  const whole = fold(journal);
  if (isFinalPhase(whole.phase)) {
    const finish: EngineCommand = {
      type: 'Finish', phase: whole.phase,
      ...(whole.output !== undefined ? { output: whole.output } : {}), ...(whole.error !== undefined ? { error: whole.error } : {}),
    };
    return { state: whole, events: [], commands: [finish] };
  }
  let b = journal.length - 1;
  while (b > 0 && !beginsStep(journal, b)) b -= 1;
  const before = fold(journal.slice(0, b));
  const first = journal[b];
  const step = advance(before, inputOf(first), {
    now: Date.parse(first.at), random: () => 0, ...(limits !== undefined ? { limits } : {}),
  });
  const written = journal.slice(b);
  if (step.events.length < written.length) {
    throw new JournalMismatchError(`the journal holds ${written.length} events of the step at seq ${first.seq}, the engine makes ${step.events.length}`);
  }
  written.forEach((e, i) => {
    if (canonicalJson(e) !== canonicalJson(step.events[i])) {
      throw new JournalMismatchError(`event ${e.seq} (${e.type}) is not what the engine makes from the journal before it (${step.events[i].type})`);
    }
  });
  const owed = step.events.slice(written.length);
  const commands: EngineCommand[] = step.commands.filter((c) => c.type === 'CancelTask' || c.type === 'CancelTimer');
  if (isFinalPhase(step.state.phase)) {
    commands.push(...step.commands.filter((c) => c.type === 'Finish'));
  } else {
    commands.push(...pending(step.state, now));
  }
  return { state: step.state, events: owed, commands };
}
