import { validateWorkflowSpec, type WorkflowSpec } from '../../../messages/workflow';
import type { RunEvent } from './events';
import { FakeShell, FakeTaskRunner, type FakeHandler } from './fake-task-runner';
import { JournalMismatchError, resume } from './resume';

/** A run that goes through every kind of step: retries with jitter, Parallel, Map, Wait, a timeout, a retried Parallel, Choice and catch. */
const spec: WorkflowSpec = {
  startAt: 'Prepare',
  states: {
    Prepare: { type: 'Task', function: 'prepare', retry: [{ errorEquals: ['States.ALL'], jitter: 'FULL' }], resultPath: '$.prepared', next: 'Fan' },
    Fan: {
      type: 'Parallel',
      resultPath: '$.fan',
      next: 'Again',
      branches: [
        { startAt: 'A', states: { A: { type: 'Task', function: 'a', next: 'Pause' }, Pause: { type: 'Wait', seconds: 5, end: true } } },
        {
          startAt: 'Each',
          states: {
            Each: {
              type: 'Map', itemsPath: '$.items', maxConcurrency: 2, end: true,
              itemProcessor: { startAt: 'Sq', states: { Sq: { type: 'Task', function: 'sq', retry: [{ errorEquals: ['Flaky'], intervalSeconds: 2 }], end: true } } },
            },
          },
        },
        { startAt: 'Slow', states: { Slow: { type: 'Task', function: 'slow', timeoutSeconds: 3, retry: [{ errorEquals: ['States.Timeout'] }], end: true } } },
      ],
    },
    Again: {
      type: 'Parallel', resultPath: null, next: 'Check',
      retry: [{ errorEquals: ['States.BranchFailed'], intervalSeconds: 3 }],
      branches: [{ startAt: 'Once', states: { Once: { type: 'Task', function: 'once', end: true } } }],
    },
    Check: { type: 'Choice', choices: [{ variable: '$.prepared', numericGreaterThan: 10, next: 'Risky' }], default: 'Done' },
    Risky: { type: 'Task', function: 'risky', catch: [{ errorEquals: ['States.ALL'], next: 'Done', resultPath: '$.caught' }], next: 'Done' },
    Done: { type: 'Pass', end: true },
  },
};

const handler: FakeHandler = (c) => {
  const f = 'function' in c.target ? c.target.function : c.target.workflow;
  switch (f) {
    case 'prepare': return c.attempt === 1 ? { error: 'Busy', cause: 'try later' } : { output: 42 };
    case 'sq': return c.input === 3 && c.attempt === 1 ? { error: 'Flaky', cause: 'once' } : { output: (c.input as number) ** 2 };
    case 'slow': return c.attempt === 1 ? 'hang' : { output: 'slow done' };
    case 'once': return c.path.startsWith('Again#1/') ? { error: 'States.TaskFailed', cause: 'first attempt' } : { output: 'once done' };
    case 'risky': return { error: 'Risky', cause: 'as expected' };
    default: return { output: f };
  }
};

function uninterrupted(s: WorkflowSpec): FakeShell {
  const shell = new FakeShell(new FakeTaskRunner(handler));
  shell.start(s, { items: [1, 2, 3, 4, 5, 6] }, 'ns/replayed');
  shell.runToEnd();
  return shell;
}

function completedIn(events: readonly RunEvent[]): Set<string> {
  return new Set(events.flatMap((e) => (e.type === 'TaskSucceeded' || e.type === 'TaskFailed' ? [e.invocationId] : [])));
}

describe('workflow engine: replay', () => {
  const full = uninterrupted(spec);

  it('runs the whole workflow uninterrupted (a valid Workflow spec)', () => {
    expect(validateWorkflowSpec(spec)).toEqual([]);
    expect(full.phase).toBe('Succeeded');
    expect(full.state.output).toMatchObject({
      prepared: 42, fan: ['a', [1, 4, 9, 16, 25, 36], 'slow done'], caught: { error: 'Risky', cause: 'as expected' },
    });
    const paths = full.eventsOf('StateEntered').map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['Fan#1/1/Each#1/5/Sq#1', 'Again#1/0/Once#1', 'Again#1@2/0/Once#1']));
    expect(full.journal.length).toBeGreaterThan(100);
  });

  it('at every prefix of the journal, resume + pending() + the remaining answers give the same journal, re-running no completed task', () => {
    for (let k = 1; k < full.journal.length; k++) {
      const prefix = full.journal.slice(0, k);
      const runner = new FakeTaskRunner(handler);
      const resumed = FakeShell.resumed(prefix, runner);
      resumed.runToEnd();
      expect({ k, journal: resumed.journal }).toEqual({ k, journal: full.journal });
      const done = completedIn(prefix);
      const rerun = [...runner.executions.keys()].filter((id) => done.has(id));
      expect({ k, rerun }).toEqual({ k, rerun: [] });
      expect(resumed.finish).toEqual(full.finish);
    }
  });

  it('re-invokes a task in flight at the crash with the same invocation id', () => {
    const k = full.journal.findIndex((e) => e.type === 'TaskScheduled' && e.path === 'Fan#1/2/Slow#1') + 1;
    const r = resume(full.journal.slice(0, k), Date.parse(full.journal[k - 1].at));
    expect(r.commands).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'InvokeTask', invocationId: 'ns/replayed/Fan#1/2/Slow#1/1', timeoutMs: 3000 }),
    ]));
  });

  it('re-arms a timer at the fireAt it was given', () => {
    const k = full.journal.findIndex((e) => e.type === 'TimerStarted' && e.purpose === 'retry') + 1;
    const started = full.journal[k - 1] as Extract<RunEvent, { type: 'TimerStarted' }>;
    const r = resume(full.journal.slice(0, k), Date.parse(started.at) + 60_000);
    expect(r.commands).toContainEqual({ type: 'StartTimer', timerId: started.timerId, fireAt: started.fireAt });
  });

  it('replays a run that times out', () => {
    const timed: WorkflowSpec = { ...spec, timeoutSeconds: 4 };
    const run = uninterrupted(timed);
    expect(run.phase).toBe('TimedOut');
    for (let k = 1; k < run.journal.length; k++) {
      const resumed = FakeShell.resumed(run.journal.slice(0, k), new FakeTaskRunner(handler));
      resumed.runToEnd();
      expect({ k, journal: resumed.journal }).toEqual({ k, journal: run.journal });
    }
  });

  it('refuses a journal whose last step the engine would not have written', () => {
    const k = full.journal.findIndex((e) => e.type === 'StateEntered' && e.path === 'Fan#1') + 1;
    const tampered = full.journal.slice(0, k).map((e) => (e.seq === k ? { ...e, input: { forged: true } } : e));
    expect(() => resume(tampered, Date.now())).toThrow(JournalMismatchError);
  });

  it('gives only Finish for a journal that has ended', () => {
    const r = resume(full.journal, Date.now());
    expect(r.events).toEqual([]);
    expect(r.commands).toEqual([full.finish]);
  });
});
