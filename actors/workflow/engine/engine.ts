/**
 * The workflow engine: `advance(state, input, env)` decides what one input does to a run and
 * returns the events to append and the commands to carry out after. It is pure and deterministic:
 * the clock and the random source come in `env`, every decision that used them is written into an
 * event, and the state changes only through applyEvent, so folding the journal after a crash
 * gives back exactly the state the engine had. The semantics are Step Functions'
 * (https://states-language.net/spec.html) for the subset of the Workflow contract.
 */
import { isFinalPhase, MAX_BRANCHES, MAX_EVENTS_PER_RUN } from '../../../messages/workflow';
import type { EngineCommand, EngineEnv, EngineInput, EngineLimits } from './commands';
import type { RunEvent } from './events';
import { cloneRunState, type RunState } from './run-state';
import { Step } from './step';

/** The most items a Map state iterates over (Step Functions' inline Map has a similar bound on its payload). */
export const MAX_MAP_ITEMS = 10_000;

/** The limits the engine holds runs to unless env.limits lowers them. */
export const ENGINE_LIMITS: EngineLimits = { maxEvents: MAX_EVENTS_PER_RUN, maxMapItems: MAX_MAP_ITEMS, maxBranches: MAX_BRANCHES };

/** What one step gives: the events to append (in order), the commands to carry out after, and the run's state after the events. */
export interface AdvanceResult {
  events: RunEvent[];
  commands: EngineCommand[];
  state: RunState;
}

/**
 * One step of a run: what `input` does to the run in `state`. Returns the events to append to the
 * journal (before anything else), the commands to carry out after, and the state after the
 * events. Never changes `state`. An input that no longer matters (a late task answer, a timer
 * already dropped, anything after the run ended) gives no events and no commands.
 */
export function advance(state: RunState, input: EngineInput, env: EngineEnv): AdvanceResult {
  const limits: EngineLimits = { ...ENGINE_LIMITS, ...env.limits };
  const step = new Step(cloneRunState(state), env, limits);
  const final = isFinalPhase(state.phase);
  if (input.type === 'start') {
    if (state.phase === 'Pending') step.run(() => step.start(input.runId, input));
  } else if (input.type === 'cancel') {
    if (!final) step.run(() => step.emit({ type: 'RunCancelled', reason: input.reason }));
  } else if (input.type === 'timerFired') {
    if (!final) step.run(() => step.timerFired(input.timerId));
  } else if (!final) {
    step.run(() => step.taskAnswered(input));
  }
  const answered = input.type === 'taskSucceeded' || input.type === 'taskFailed' ? input.invocationId : undefined;
  const fired = input.type === 'timerFired' ? input.timerId : undefined;
  return { events: step.events, commands: commandsBetween(state, step.state, answered, fired, env.now), state: step.state };
}

/** The commands that take the world from `before` to `after`: tasks and timers that appeared or went, and the end of the run. */
function commandsBetween(before: RunState, after: RunState, answered: string | undefined, fired: string | undefined, now: number): EngineCommand[] {
  const commands: EngineCommand[] = [];
  for (const id of Object.keys(before.tasks)) {
    if (after.tasks[id] === undefined && id !== answered) commands.push({ type: 'CancelTask', invocationId: id });
  }
  for (const id of Object.keys(before.timers)) {
    if (after.timers[id] === undefined && id !== fired) commands.push({ type: 'CancelTimer', timerId: id });
  }
  const fresh = { ...after, tasks: Object.fromEntries(Object.entries(after.tasks).filter(([id]) => before.tasks[id] === undefined)),
    timers: Object.fromEntries(Object.entries(after.timers).filter(([id]) => before.timers[id] === undefined)) };
  commands.push(...pending(fresh, now));
  if (!isFinalPhase(before.phase) && isFinalPhase(after.phase)) {
    commands.push({
      type: 'Finish', phase: after.phase,
      ...(after.output !== undefined ? { output: after.output } : {}), ...(after.error !== undefined ? { error: after.error } : {}),
    });
  }
  return commands;
}

/**
 * What a shell must do for a run it has just folded from its journal: invoke again every task
 * scheduled and not answered (with the same invocation id, so the invoker can deduplicate) and
 * arm every timer started and not fired (the shell fires one whose fireAt has passed at once).
 * `now` (ms) gives the tasks' remaining timeouts.
 */
export function pending(state: RunState, now?: number): EngineCommand[] {
  if (isFinalPhase(state.phase)) return [];
  const commands: EngineCommand[] = [];
  for (const t of Object.values(state.tasks).sort((a, b) => a.scheduledSeq - b.scheduledSeq)) {
    const timeoutMs = t.timeoutAt !== undefined ? Math.max(0, Date.parse(t.timeoutAt) - (now ?? Date.parse(t.scheduledAt))) : undefined;
    commands.push({ type: 'InvokeTask', invocationId: t.invocationId, path: t.path, target: t.target, input: t.input, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }
  for (const t of Object.values(state.timers)) commands.push({ type: 'StartTimer', timerId: t.timerId, fireAt: t.fireAt });
  return commands;
}
