import { MAX_EVENTS_PER_RUN, type JsonValue, type WorkflowSpec } from '../../../messages/workflow';
import { advance, pending } from './engine';
import { FAKE_EPOCH, FakeShell, FakeTaskRunner, seededRandom, type FakeCall, type FakeHandler } from './fake-task-runner';
import { fold, initialRunState } from './run-state';
import { history, summarize } from './summary';

/** Answers every call with `{ ...input, <function>: true }`-style results computed by `f`. */
function answering(f: (call: FakeCall) => JsonValue): FakeHandler {
  return (call) => ({ output: f(call) });
}

function shellFor(handler: FakeHandler, limits?: ConstructorParameters<typeof FakeShell>[1]): FakeShell {
  return new FakeShell(new FakeTaskRunner(handler), limits);
}

function fn(call: FakeCall): string {
  return 'function' in call.target ? call.target.function : call.target.workflow;
}

const secondsAfter = (a: string, b: string): number => (Date.parse(b) - Date.parse(a)) / 1000;

describe('workflow engine: sequences and data flow', () => {
  const spec: WorkflowSpec = {
    startAt: 'Add',
    states: {
      Add: { type: 'Task', function: 'add', parameters: { 'x.$': '$.a', 'y.$': '$.b' }, resultPath: '$.sum', next: 'Double' },
      Double: { type: 'Task', function: 'double', inputPath: '$.sum', resultSelector: { 'value.$': '$.v' }, next: 'Done' },
      Done: { type: 'Pass', parameters: { 'result.$': '$.value' }, end: true },
    },
  };
  const handler = answering((c) => {
    const input = c.input as Record<string, number>;
    return fn(c) === 'add' ? input.x + input.y : { v: (input as unknown as number) * 2 };
  });

  it('runs a 3-state sequence, passing data through parameters, resultPath, inputPath and resultSelector', () => {
    const shell = shellFor(handler);
    shell.start(spec, { a: 2, b: 3 }, 'ns/run-a');
    expect(shell.runToEnd()).toBe('Succeeded');
    expect(shell.state.output).toEqual({ result: 10 });
    expect(shell.finish).toEqual({ type: 'Finish', phase: 'Succeeded', output: { result: 10 } });
    expect(shell.eventsOf('StateEntered').map((e) => e.path)).toEqual(['Add#1', 'Double#1', 'Done#1']);
    expect(shell.invoked).toEqual(['ns/run-a/Add#1/1', 'ns/run-a/Double#1/1']);
    expect(shell.eventsOf('TaskScheduled')[0].input).toEqual({ x: 2, y: 3 });
    expect(shell.eventsOf('StateExited')[0].output).toEqual({ a: 2, b: 3, sum: 5 });
    expect(shell.journal.map((e) => e.seq)).toEqual(shell.journal.map((_, i) => i + 1));
    expect(shell.journal[0]).toMatchObject({ type: 'RunStarted', input: { a: 2, b: 3 }, spec, specHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('never changes the state it is given, and folding the journal gives the state advance returned', () => {
    const shell = shellFor(handler);
    shell.start(spec, { a: 1, b: 1 });
    const before = JSON.stringify(shell.state);
    const r = advance(shell.state, { type: 'taskSucceeded', invocationId: shell.invoked[0], output: 2 }, { now: FAKE_EPOCH + 50, random: () => 0.5 });
    expect(JSON.stringify(shell.state)).toBe(before);
    expect(fold([...shell.journal, ...r.events])).toEqual(r.state);
  });

  it('fails the run with States.Runtime on a next that names no state (validation rules it out)', () => {
    const shell = shellFor(handler);
    shell.start({ startAt: 'A', states: { A: { type: 'Pass', next: 'Nowhere' } } }, {});
    expect(shell.phase).toBe('Failed');
    expect(shell.state.error).toEqual({ error: 'States.Runtime', cause: 'the workflow has no state named "Nowhere"' });
  });

  it('ignores a second start, an answer for an unknown task and a timer it never started', () => {
    const shell = shellFor(handler);
    shell.start(spec, { a: 1, b: 1 });
    expect(shell.send({ type: 'start', runId: 'x', spec, input: {} })).toEqual([]);
    expect(shell.send({ type: 'taskSucceeded', invocationId: 'nope', output: 1 })).toEqual([]);
    expect(shell.send({ type: 'timerFired', timerId: 'nope' })).toEqual([]);
  });
});

describe('workflow engine: Choice', () => {
  const spec: WorkflowSpec = {
    startAt: 'Check',
    states: {
      Check: { type: 'Choice', choices: [{ variable: '$.n', numericGreaterThan: 10, next: 'Big' }], default: 'Small' },
      Big: { type: 'Pass', result: 'big', resultPath: '$.size', end: true },
      Small: { type: 'Pass', result: 'small', resultPath: '$.size', end: true },
    },
  };

  it.each([[77, 'big', 'Big#1'], [3, 'small', 'Small#1']])('n=%p goes to %p', (n, size, path) => {
    const shell = shellFor(() => 'hang');
    shell.start(spec, { n });
    expect(shell.phase).toBe('Succeeded');
    expect(shell.state.output).toEqual({ n, size });
    expect(shell.eventsOf('StateExited')[0]).toMatchObject({ path: 'Check#1', next: path.slice(0, -2) });
  });

  it('fails with States.NoChoiceMatched when no rule matches and there is no default', () => {
    const shell = shellFor(() => 'hang');
    shell.start({ startAt: 'Check', states: { Check: { type: 'Choice', choices: [{ variable: '$.n', numericGreaterThan: 10, next: 'Big' }] }, Big: { type: 'Succeed' } } }, { n: 1 });
    expect(shell.phase).toBe('Failed');
    expect(shell.state.error?.error).toBe('States.NoChoiceMatched');
  });

  it('numbers each visit of a state in a loop', () => {
    const loop: WorkflowSpec = {
      startAt: 'Inc',
      states: {
        Inc: { type: 'Task', function: 'inc', next: 'Check' },
        Check: { type: 'Choice', choices: [{ variable: '$', numericLessThan: 3, next: 'Inc' }], default: 'Done' },
        Done: { type: 'Succeed' },
      },
    };
    const shell = shellFor(answering((c) => (c.input as number) + 1));
    shell.start(loop, 0);
    expect(shell.runToEnd()).toBe('Succeeded');
    expect(shell.eventsOf('StateEntered').map((e) => e.path)).toEqual(['Inc#1', 'Check#1', 'Inc#2', 'Check#2', 'Inc#3', 'Check#3', 'Done#1']);
    expect(new Set(shell.invoked).size).toBe(3);
  });
});

describe('workflow engine: Parallel', () => {
  const branch = (name: string): WorkflowSpec => ({ startAt: 'Step', states: { Step: { type: 'Task', function: name, end: true } } });
  const spec: WorkflowSpec = {
    startAt: 'Fan',
    states: { Fan: { type: 'Parallel', branches: [branch('a'), branch('b'), branch('c')], end: true } },
  };

  it('runs the branches at once and outputs their outputs in branch order', () => {
    const shell = shellFor(answering((c) => `${fn(c)}:${JSON.stringify(c.input)}`));
    shell.start(spec, 1);
    expect(shell.maxInFlight).toBe(3);
    expect(shell.invoked).toEqual(['default/run-1/Fan#1/0/Step#1/1', 'default/run-1/Fan#1/1/Step#1/1', 'default/run-1/Fan#1/2/Step#1/1']);
    expect(shell.runToEnd()).toBe('Succeeded');
    expect(shell.state.output).toEqual(['a:1', 'b:1', 'c:1']);
  });

  it('fails when one branch fails, cancelling the other branches, with the branch\'s error', () => {
    const shell = shellFor((c) => (fn(c) === 'b' ? { error: 'States.TaskFailed', cause: 'b broke' } : 'hang'));
    shell.start(spec, {});
    expect(shell.runToEnd()).toBe('Failed');
    expect(shell.eventsOf('BranchFailed')).toMatchObject([{ path: 'Fan#1', branch: 1, error: 'States.TaskFailed', cause: 'b broke' }]);
    expect(shell.cancelledTasks.sort()).toEqual(['default/run-1/Fan#1/0/Step#1/1', 'default/run-1/Fan#1/2/Step#1/1']);
    expect(shell.inFlight.size).toBe(0);
    expect(shell.state.error).toEqual({ error: 'States.TaskFailed', cause: 'b broke' });
  });

  it('lets a catcher on States.BranchFailed take any branch failure', () => {
    const caught: WorkflowSpec = {
      startAt: 'Fan',
      states: {
        Fan: { type: 'Parallel', branches: [branch('a'), branch('b'), branch('c')], catch: [{ errorEquals: ['States.BranchFailed'], next: 'Handled', resultPath: '$.err' }], next: 'Never' },
        Handled: { type: 'Pass', end: true },
        Never: { type: 'Fail', error: 'Unexpected' },
      },
    };
    const shell = shellFor((c) => (fn(c) === 'c' ? { error: 'Custom', cause: 'c broke' } : 'hang'));
    shell.start(caught, { x: 1 });
    expect(shell.runToEnd()).toBe('Succeeded');
    expect(shell.state.output).toEqual({ x: 1, err: { error: 'Custom', cause: 'c broke' } });
  });

  it('cancels a Wait timer of another branch when a branch fails, and nests a Map in a Parallel', () => {
    const nested: WorkflowSpec = {
      startAt: 'Fan',
      states: {
        Fan: {
          type: 'Parallel', end: true,
          branches: [
            { startAt: 'Pause', states: { Pause: { type: 'Wait', seconds: 60, end: true } } },
            { startAt: 'Each', states: { Each: { type: 'Map', itemProcessor: branch('item'), end: true } } },
          ],
        },
      },
    };
    const shell = shellFor((c) => (c.input === 2 ? { error: 'Bad', cause: 'item 2' } : { output: c.input }));
    shell.start(nested, [1, 2, 3]);
    expect(shell.invoked).toContain('default/run-1/Fan#1/1/Each#1/2/Step#1/1');
    expect(shell.runToEnd()).toBe('Failed');
    expect(shell.cancelledTimers).toEqual(['Fan#1/0/Pause#1/wait']);
    expect(shell.eventsOf('BranchFailed').map((e) => [e.path, e.branch])).toEqual([['Fan#1/1/Each#1', 1], ['Fan#1', 1]]);
    expect(shell.state.error).toEqual({ error: 'Bad', cause: 'item 2' });
  });

  it('does not let States.BranchFailed catch a Parallel\'s own data-flow error', () => {
    const own: WorkflowSpec = {
      startAt: 'Fan',
      states: {
        Fan: { type: 'Parallel', inputPath: '$.missing', branches: [branch('a')], catch: [{ errorEquals: ['States.BranchFailed'], next: 'Handled' }], end: true },
        Handled: { type: 'Succeed' },
      },
    };
    const shell = shellFor(() => 'hang');
    shell.start(own, {});
    expect(shell.phase).toBe('Failed');
    expect(shell.state.error?.error).toBe('States.Runtime');
  });

  it('fails a Parallel over the branch limit with States.LimitExceeded (a second check behind validation)', () => {
    const shell = shellFor(() => 'hang', { maxBranches: 2 });
    shell.start(spec, {});
    expect(shell.phase).toBe('Failed');
    expect(shell.state.error?.error).toBe('States.LimitExceeded');
    expect(shell.state.error?.cause).toMatch(/3 branches, more than the limit of 2/);
    expect(shell.invoked).toEqual([]);
  });
});

describe('workflow engine: Map', () => {
  const spec = (maxConcurrency?: number): WorkflowSpec => ({
    startAt: 'Each',
    states: {
      Each: {
        type: 'Map', itemsPath: '$.items', ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
        itemProcessor: { startAt: 'Work', states: { Work: { type: 'Task', function: 'square', end: true } } },
        resultPath: '$.squares', end: true,
      },
    },
  });
  const items = Array.from({ length: 20 }, (_, i) => i);

  it('runs 20 items with never more than maxConcurrency 5 in flight, outputs in item order', () => {
    // Answer later items first among those in flight, so completion order differs from item order.
    const shell = shellFor(answering((c) => (c.input as number) ** 2));
    shell.start(spec(5), { items });
    expect(shell.inFlight.size).toBe(5);
    let peak = 0;
    while (shell.finish === undefined) {
      const tasks = [...shell.inFlight.values()];
      peak = Math.max(peak, tasks.length);
      const last = tasks[tasks.length - 1];
      shell.inFlight.delete(last.invocationId);
      shell.send({ type: 'taskSucceeded', invocationId: last.invocationId, output: (last.input as number) ** 2 });
    }
    expect(peak).toBe(5);
    expect(shell.maxInFlight).toBe(5);
    expect(shell.phase).toBe('Succeeded');
    expect(shell.state.output).toEqual({ items, squares: items.map((i) => i * i) });
    expect(new Set(shell.invoked).size).toBe(20);
    expect(shell.invoked).toContain('default/run-1/Each#1/17/Work#1/1');
  });

  it('builds each item\'s input from parameters with $$.Map.Item and $$.Execution', () => {
    const withParams: WorkflowSpec = {
      startAt: 'Each',
      states: {
        Each: {
          type: 'Map', itemsPath: '$.items', parameters: { 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'run.$': '$$.Execution.Id', 'tag.$': '$.tag' },
          itemProcessor: { startAt: 'Echo', states: { Echo: { type: 'Pass', end: true } } }, end: true,
        },
      },
    };
    const shell = shellFor(() => 'hang');
    shell.start(withParams, { items: ['a', 'b'], tag: 't' }, 'ns/r');
    expect(shell.state.output).toEqual([{ index: 0, value: 'a', run: 'ns/r', tag: 't' }, { index: 1, value: 'b', run: 'ns/r', tag: 't' }]);
  });

  it('defaults maxConcurrency to 40', () => {
    const shell = shellFor(() => 'hang');
    shell.start(spec(), { items: Array.from({ length: 50 }, (_, i) => i) });
    expect(shell.inFlight.size).toBe(40);
    expect(summarize(shell.state).currentStates).toContain('Each#1/39/Work#1');
  });

  it('outputs [] for no items, and fails with States.Runtime when itemsPath is not an array', () => {
    const empty = shellFor(() => 'hang');
    empty.start(spec(), { items: [] });
    expect(empty.state.output).toEqual({ items: [], squares: [] });
    const bad = shellFor(() => 'hang');
    bad.start(spec(), { items: 'nope' });
    expect(bad.state.error?.error).toBe('States.Runtime');
  });

  it('fails clearly over the item limit', () => {
    const shell = shellFor(() => 'hang');
    shell.start(spec(), { items: Array.from({ length: 10_001 }, (_, i) => i) });
    expect(shell.phase).toBe('Failed');
    expect(shell.state.error?.error).toBe('States.LimitExceeded');
    expect(shell.state.error?.cause).toMatch(/10001 items, more than the limit of 10000/);
  });

  it('is cancelled mid-Map: the tasks in flight are cancelled and nothing more starts', () => {
    const shell = shellFor(answering((c) => c.input));
    shell.start(spec(3), { items });
    for (let i = 0; i < 4; i++) {
      const n = shell.nextInput();
      if (n === undefined) throw new Error('no input');
      shell.send(n.input, n.now);
    }
    const inFlight = [...shell.inFlight.keys()];
    expect(inFlight).toHaveLength(3);
    const invokedBefore = shell.invoked.length;
    shell.send({ type: 'cancel', reason: 'user asked' });
    expect(shell.phase).toBe('Cancelled');
    expect(shell.cancelledTasks.sort()).toEqual(inFlight.sort());
    expect(shell.finish).toMatchObject({ phase: 'Cancelled', error: { error: 'States.Cancelled', cause: 'user asked' } });
    expect(shell.runToEnd()).toBe('Cancelled');
    expect(shell.invoked.length).toBe(invokedBefore);
    expect(shell.send({ type: 'taskSucceeded', invocationId: inFlight[0], output: 1 })).toEqual([]);
    expect(pending(shell.state)).toEqual([]);
  });
});

describe('workflow engine: retry, catch and timeouts', () => {
  const flaky = (retry: object): WorkflowSpec => ({
    startAt: 'Call',
    states: { Call: { type: 'Task', function: 'flaky', retry: [{ errorEquals: ['Boom'], ...retry }], end: true } },
  });
  const failTwice: FakeHandler = (c) => (c.attempt < 3 ? { error: 'Boom', cause: `attempt ${c.attempt}` } : { output: 'ok' });

  it('retries after 1 s and 2 s and succeeds on the 3rd attempt', () => {
    const shell = shellFor(failTwice);
    shell.start(flaky({ intervalSeconds: 1 }), {});
    expect(shell.runToEnd()).toBe('Succeeded');
    const timers = shell.eventsOf('TimerStarted');
    expect(timers.map((t) => [t.purpose, secondsAfter(t.at, t.fireAt), t.attempt])).toEqual([['retry', 1, 2], ['retry', 2, 3]]);
    expect(shell.invoked).toEqual(['default/run-1/Call#1/1', 'default/run-1/Call#1/2', 'default/run-1/Call#1/3']);
    const scheduled = shell.eventsOf('TaskScheduled');
    expect(secondsAfter(scheduled[0].at, scheduled[1].at)).toBeGreaterThanOrEqual(1);
    expect(shell.state.output).toBe('ok');
  });

  it('draws FULL jitter within [0, delay] and records it', () => {
    const delays: number[] = [];
    for (const seed of [1, 2, 3, 4]) {
      const shell = new FakeShell(new FakeTaskRunner(failTwice), undefined, seededRandom(seed));
      shell.start(flaky({ jitter: 'FULL', maxAttempts: 2 }), {});
      shell.runToEnd();
      const [a, b] = shell.eventsOf('TimerStarted').map((t) => secondsAfter(t.at, t.fireAt));
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThanOrEqual(1);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThanOrEqual(2);
      delays.push(a, b);
    }
    expect(new Set(delays).size).toBeGreaterThan(2);
  });

  it('caps the delay at maxDelaySeconds and gives up after maxAttempts', () => {
    const shell = shellFor(() => ({ error: 'Boom', cause: 'always' }));
    shell.start(flaky({ intervalSeconds: 10, backoffRate: 3, maxDelaySeconds: 20, maxAttempts: 3 }), {});
    expect(shell.runToEnd()).toBe('Failed');
    expect(shell.eventsOf('TimerStarted').map((t) => secondsAfter(t.at, t.fireAt))).toEqual([10, 20, 20]);
    expect(shell.invoked).toHaveLength(4);
    expect(shell.state.error).toEqual({ error: 'Boom', cause: 'always' });
  });

  it('does not retry an error no retrier names', () => {
    const shell = shellFor(() => ({ error: 'Other', cause: 'x' }));
    shell.start(flaky({}), {});
    expect(shell.runToEnd()).toBe('Failed');
    expect(shell.invoked).toHaveLength(1);
  });

  it('routes a caught error to a Fail state, with error and cause at the catcher\'s resultPath', () => {
    const spec: WorkflowSpec = {
      startAt: 'Call',
      states: {
        Call: { type: 'Task', function: 'f', catch: [{ errorEquals: ['States.ALL'], next: 'Broken', resultPath: '$.failure' }], end: true },
        Broken: { type: 'Fail', error: 'Handled', cause: 'the call failed' },
      },
    };
    const shell = shellFor(() => ({ error: 'DivideByZero', cause: 'y was 0' }));
    shell.start(spec, { x: 1, y: 0 });
    expect(shell.runToEnd()).toBe('Failed');
    const failed = shell.eventsOf('StateFailed');
    expect(failed[0]).toMatchObject({ path: 'Call#1', error: 'DivideByZero', next: 'Broken', output: { x: 1, y: 0, failure: { error: 'DivideByZero', cause: 'y was 0' } } });
    expect(shell.eventsOf('StateEntered')[1]).toMatchObject({ path: 'Broken#1', input: { x: 1, y: 0, failure: { error: 'DivideByZero', cause: 'y was 0' } } });
    expect(shell.state.error).toEqual({ error: 'Handled', cause: 'the call failed' });
  });

  it('catches into a Pass state: the run succeeds with the error in its output', () => {
    const spec: WorkflowSpec = {
      startAt: 'Call',
      states: {
        Call: { type: 'Task', function: 'f', catch: [{ errorEquals: ['States.TaskFailed'], next: 'Recover' }], end: true },
        Recover: { type: 'Pass', end: true },
      },
    };
    const shell = shellFor(() => ({ error: 'States.TaskFailed', cause: 'exit status 1' }));
    shell.start(spec, { x: 1 });
    expect(shell.runToEnd()).toBe('Succeeded');
    expect(shell.state.output).toEqual({ error: 'States.TaskFailed', cause: 'exit status 1' });
  });

  it('fails an attempt with States.Timeout at its timeoutSeconds, retries it, and ignores the late answer', () => {
    const spec: WorkflowSpec = {
      startAt: 'Call',
      states: { Call: { type: 'Task', function: 'slow', timeoutSeconds: 5, retry: [{ errorEquals: ['States.Timeout'] }], end: true } },
    };
    const shell = shellFor((c) => (c.attempt === 1 ? 'hang' : { output: 'fast enough' }));
    shell.start(spec, {});
    const first = shell.eventsOf('TaskScheduled')[0];
    expect(secondsAfter(first.at, first.timeoutAt ?? '')).toBe(5);
    expect(shell.timers.get('Call#1/timeout/1')).toBe(first.timeoutAt);
    shell.send(shell.nextInput()?.input ?? { type: 'cancel', reason: 'no timer' }, Date.parse(first.timeoutAt ?? ''));
    expect(shell.eventsOf('TaskFailed')).toMatchObject([{ attempt: 1, error: 'States.Timeout' }]);
    expect(shell.cancelledTasks).toEqual(['default/run-1/Call#1/1']);
    expect(shell.send({ type: 'taskSucceeded', invocationId: 'default/run-1/Call#1/1', output: 'late' })).toEqual([]);
    expect(shell.runToEnd()).toBe('Succeeded');
    expect(shell.state.output).toBe('fast enough');
    expect(shell.cancelledTimers).toContain('Call#1/timeout/2');
  });

  it('times the run out at its timeoutSeconds, cancelling what runs', () => {
    const spec: WorkflowSpec = { startAt: 'Call', timeoutSeconds: 60, states: { Call: { type: 'Task', function: 'stuck', end: true } } };
    const shell = shellFor(() => 'hang');
    shell.start(spec, {});
    expect(shell.runToEnd()).toBe('TimedOut');
    const fired = shell.journal[shell.journal.length - 1];
    expect(secondsAfter(shell.journal[0].at, fired.at)).toBe(60);
    expect(shell.cancelledTasks).toEqual(['default/run-1/Call#1/1']);
    expect(shell.finish).toMatchObject({ phase: 'TimedOut', error: { error: 'States.Timeout', cause: 'the run went past its timeoutSeconds (60 s)' } });
  });
});

describe('workflow engine: Wait', () => {
  it.each([
    ['seconds', { seconds: 30 }, {}],
    ['timestamp', { timestamp: new Date(FAKE_EPOCH + 30_000).toISOString() }, {}],
    ['secondsPath', { secondsPath: '$.delay' }, { delay: 30 }],
    ['timestampPath', { timestampPath: '$.until' }, { until: new Date(FAKE_EPOCH + 30_000).toISOString() }],
  ])('waits by %s and fires at the right time', (_, wait, input) => {
    const spec: WorkflowSpec = { startAt: 'Pause', states: { Pause: { type: 'Wait', ...wait, next: 'After' }, After: { type: 'Succeed' } } };
    const shell = shellFor(() => 'hang');
    shell.start(spec, input);
    expect(shell.eventsOf('TimerStarted')).toMatchObject([{ purpose: 'wait', fireAt: new Date(FAKE_EPOCH + 30_000).toISOString() }]);
    expect(shell.phase).toBe('Running');
    expect(shell.runToEnd()).toBe('Succeeded');
    expect(shell.eventsOf('StateEntered')[1]).toMatchObject({ path: 'After#1', at: new Date(FAKE_EPOCH + 30_000).toISOString() });
    expect(shell.state.output).toEqual(input);
  });

  it('goes on at once when the timestamp has passed, and fails with States.Runtime on a timestamp that is not RFC 3339', () => {
    const past = shellFor(() => 'hang');
    past.start({ startAt: 'Pause', states: { Pause: { type: 'Wait', timestampPath: '$.t', end: true } } }, { t: '2020-01-01T00:00:00Z' });
    expect(past.phase).toBe('Succeeded');
    const bad = shellFor(() => 'hang');
    bad.start({ startAt: 'Pause', states: { Pause: { type: 'Wait', timestampPath: '$.t', end: true } } }, { t: '2020-01-01 00:00' });
    expect(bad.state.error?.error).toBe('States.Runtime');
  });

  it('fails with States.Runtime when secondsPath is not a number', () => {
    const shell = shellFor(() => 'hang');
    shell.start({ startAt: 'Pause', states: { Pause: { type: 'Wait', secondsPath: '$.d', end: true } } }, { d: 'soon' });
    expect(shell.state.error?.error).toBe('States.Runtime');
  });
});

describe('workflow engine: limits', () => {
  const loop: WorkflowSpec = { startAt: 'Spin', states: { Spin: { type: 'Pass', next: 'Spin' } } };

  it(`fails a run that reaches ${MAX_EVENTS_PER_RUN} events with States.LimitExceeded naming the limit`, () => {
    const shell = shellFor(() => 'hang');
    shell.start(loop, {});
    expect(shell.phase).toBe('Failed');
    expect(shell.journal).toHaveLength(MAX_EVENTS_PER_RUN);
    expect(shell.journal[MAX_EVENTS_PER_RUN - 1]).toMatchObject({ type: 'RunFailed', error: 'States.LimitExceeded' });
    expect(shell.state.error?.cause).toMatch(/limit of 25000 events per run \(MAX_EVENTS_PER_RUN\)/);
    expect(shell.finish?.phase).toBe('Failed');
  });

  it('holds a run of tasks to a lower limit, failing it between steps', () => {
    const spec: WorkflowSpec = { startAt: 'Call', states: { Call: { type: 'Task', function: 'f', next: 'Call' } } };
    const shell = shellFor(answering(() => 1), { maxEvents: 50 });
    shell.start(spec, {});
    expect(shell.runToEnd()).toBe('Failed');
    expect(shell.journal).toHaveLength(50);
    expect(shell.state.error?.error).toBe('States.LimitExceeded');
    expect(shell.inFlight.size).toBe(0);
  });
});

describe('workflow engine: status and history', () => {
  it('summarizes a running and a finished run, and lists its history', () => {
    const spec: WorkflowSpec = { startAt: 'Call', states: { Call: { type: 'Task', function: 'f', end: true } } };
    const shell = shellFor(answering(() => ({ done: true })));
    expect(summarize(initialRunState())).toMatchObject({ phase: 'Pending', currentStates: [], events: 0 });
    shell.start(spec, { a: 1 });
    expect(summarize(shell.state)).toMatchObject({ phase: 'Running', currentStates: ['Call#1'], events: 3, startTime: new Date(FAKE_EPOCH).toISOString() });
    shell.runToEnd();
    const s = summarize(shell.state);
    expect(s).toMatchObject({ phase: 'Succeeded', currentStates: [], output: { done: true }, events: 6 });
    expect(s.completionTime).toBe(shell.journal[5].at);
    const rows = history(shell.journal);
    expect(rows.map((r) => r.type)).toEqual(['RunStarted', 'StateEntered', 'TaskScheduled', 'TaskSucceeded', 'StateExited', 'RunSucceeded']);
    expect(rows[2]).toMatchObject({ path: 'Call#1', detail: 'attempt 1 function f' });
    expect(rows[0].path).toBe('');
  });

  it('names the state of a fired timer in the history', () => {
    const shell = shellFor(() => 'hang');
    shell.start({ startAt: 'Pause', states: { Pause: { type: 'Wait', seconds: 2, end: true } } }, {});
    shell.runToEnd();
    expect(history(shell.journal).filter((r) => r.type.startsWith('Timer'))).toMatchObject([
      { type: 'TimerStarted', path: 'Pause#1', detail: `wait timer until ${new Date(FAKE_EPOCH + 2000).toISOString()}` },
      { type: 'TimerFired', path: 'Pause#1', detail: 'Pause#1/wait' },
    ]);
  });
});
