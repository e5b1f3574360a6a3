import type { WorkflowRunObject } from '../../messages';
import { createRng } from '../helpers/chaos-random';
import { checkRuns, expectedOutput, planWorkflows, type WorkflowsPlan } from './workflows';

const plan: WorkflowsPlan = { workflow: 'cwf-t', applyAtMs: 0, runs: [{ name: 'cwr-t-0', i: 0, atMs: 10 }, { name: 'cwr-t-1', i: 3, atMs: 20 }] };

/** A settled run with `seqs` as its history. */
function run(name: string, i: number, over: Partial<NonNullable<WorkflowRunObject['status']>> = {}, paths = ['Prep#1', 'Nap#1']): WorkflowRunObject {
  const history = paths.map((p, k) => ({ seq: k + 1, time: '2026-01-01T00:00:00Z', type: 'StateEntered', path: p, detail: '' }));
  return {
    apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name },
    spec: { workflowRef: { name: 'cwf-t' }, input: { i } },
    status: { phase: 'Succeeded', output: expectedOutput(i) as never, history, events: history.length, ...over },
  } as WorkflowRunObject;
}

describe('checkRuns', () => {
  it('passes runs that succeeded with their output and a clean history', () => {
    expect(checkRuns(plan, [run('cwr-t-0', 0), run('cwr-t-1', 3)], new Set(['cwr-t-0', 'cwr-t-1']))).toEqual([]);
  });

  it('names a lost run, a failed one, a wrong output, a state entered twice and an event count that disagrees', () => {
    const v = checkRuns(plan, [run('cwr-t-1', 3, { phase: 'Failed', error: { error: 'States.Runtime', cause: 'x' } })], new Set(['cwr-t-0']));
    expect(v.map((x) => [x.invariant, x.subject, x.permanent])).toEqual([['lost', 'workflowrun cwr-t-0', true], ['finished', 'workflowrun cwr-t-1', true]]);
    const w = checkRuns(plan, [run('cwr-t-0', 0, { output: { i: 0 } }), run('cwr-t-1', 3, { events: 9 }, ['Prep#1', 'Prep#1'])], new Set());
    expect(w.map((x) => x.invariant)).toEqual(['output', 'attempt-twice', 'journal']);
  });

  it('waits on a run still going (not permanent) and ignores a run never applied', () => {
    const v = checkRuns(plan, [run('cwr-t-0', 0, { phase: 'Running' })], new Set(['cwr-t-0']));
    expect(v).toEqual([expect.objectContaining({ invariant: 'finished', permanent: false })]);
  });
});

describe('planWorkflows', () => {
  it('places the workflow first and at most 6 runs inside the window, the same for the same seed', () => {
    const p = planWorkflows(createRng(7), { tag: 'a', windowMs: 10_000, count: 20 });
    expect(p.runs).toHaveLength(6);
    expect(p.applyAtMs).toBeLessThanOrEqual(1_000);
    expect(p.runs.every((r) => r.atMs >= 1_000 && r.atMs <= 8_000)).toBe(true);
    expect(planWorkflows(createRng(7), { tag: 'a', windowMs: 10_000, count: 20 })).toEqual(p);
  });

  it('gives outputs on both sides of the Choice', () => {
    expect(expectedOutput(2)).toMatchObject({ side: 'low' });
    expect(expectedOutput(3)).toMatchObject({ side: 'high' });
  });
});
