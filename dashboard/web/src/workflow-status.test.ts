import type { WfMachine } from './workflow-spec';
import { historyIsPartial, nodesOfPath, stateStatuses, type RunHistoryRow } from './workflow-status';

const spec: WfMachine = {
  startAt: 'Check',
  states: {
    Check: { type: 'Choice', choices: [{ variable: '$.again', booleanEquals: true, next: 'Fan' }], default: 'Each' },
    Fan: {
      type: 'Parallel', next: 'Check',
      branches: [
        { startAt: 'Step', states: { Step: { type: 'Task', function: 'a', end: true } } },
        { startAt: 'Other', states: { Other: { type: 'Pass', end: true } } },
      ],
    },
    Each: { type: 'Map', end: true, itemProcessor: { startAt: 'Work', states: { Work: { type: 'Task', function: 'w', end: true } } } },
  },
};

let seq = 0;
const row = (type: string, path: string): RunHistoryRow => ({ seq: ++seq, type, path });

describe('the colours of a run\'s graph', () => {
  beforeEach(() => { seq = 0; });

  it('maps state paths to graph nodes: visits, branches, Map items and retried attempts', () => {
    expect(nodesOfPath(spec, 'Check#2')).toEqual(['Check']);
    expect(nodesOfPath(spec, 'Fan#1/0/Step#1')).toEqual(['Fan', 'Fan/0/Step']);
    expect(nodesOfPath(spec, 'Fan#3@2/1/Other#1')).toEqual(['Fan', 'Fan/1/Other']);
    expect(nodesOfPath(spec, 'Each#1/17/Work#1')).toEqual(['Each', 'Each/*/Work']);
    // Paths that do not fit this spec (an older one's) map to nothing.
    expect(nodesOfPath(spec, 'Gone#1')).toEqual([]);
    expect(nodesOfPath(spec, 'Fan#1/5/Step#1')).toEqual([]);
    expect(nodesOfPath(spec, 'Fan#1/0/Other#1')).toEqual([]);
    expect(nodesOfPath(spec, 'Check#1/0/Step#1')).toEqual([]);
    expect(nodesOfPath(spec, '')).toEqual([]);
  });

  it('colours a state running while any visit of it runs, with the states enclosing it', () => {
    const s = stateStatuses(spec, { currentStates: ['Fan#2', 'Fan#2/0/Step#1'], history: [row('StateExited', 'Check#1'), row('StateExited', 'Fan#1/0/Step#1'), row('StateExited', 'Fan#1'), row('StateExited', 'Check#2')] });
    expect(s.get('Fan')).toBe('running');
    expect(s.get('Fan/0/Step')).toBe('running');
    // The other branch ended in the first visit and has not yet run in this one.
    expect(s.get('Check')).toBe('succeeded');
    expect(s.has('Fan/1/Other')).toBe(false);
    expect(s.has('Each')).toBe(false);
    // A nested path alone (currentStates without its Parallel) still lights the Parallel.
    expect(stateStatuses(spec, { currentStates: ['Each#1/3/Work#1'] }).get('Each')).toBe('running');
  });

  it('colours an ended state by its latest row: succeeded after StateExited, failed after StateFailed (caught or not)', () => {
    const history = [row('StateEntered', 'Check#1'), row('StateExited', 'Check#1'), row('StateFailed', 'Fan#1'), row('StateExited', 'Check#2'), row('TaskFailed', 'Each#1/0/Work#1'), row('StateFailed', 'Each#1/0/Work#1')];
    const s = stateStatuses(spec, { currentStates: [], history });
    expect(s.get('Check')).toBe('succeeded');
    expect(s.get('Fan')).toBe('failed');
    expect(s.get('Each/*/Work')).toBe('failed');
    // StateEntered, TaskFailed and the like colour nothing on their own.
    expect(s.has('Each')).toBe(false);
    // A later visit that succeeded turns it green again, whatever order the rows come in.
    const again = stateStatuses(spec, { history: [...history, row('StateExited', 'Fan#2')].reverse() });
    expect(again.get('Fan')).toBe('succeeded');
    expect(stateStatuses(spec, undefined).size).toBe(0);
  });

  it('tells when the status holds only the latest rows of the history', () => {
    expect(historyIsPartial({ history: [{ seq: 1, type: 'RunStarted', path: '' }, { seq: 2, type: 'StateEntered', path: 'Check#1' }] })).toBe(false);
    expect(historyIsPartial({ history: [{ seq: 51, type: 'StateEntered', path: 'Check#9' }] })).toBe(true);
    expect(historyIsPartial({ history: [] })).toBe(false);
    expect(historyIsPartial(undefined)).toBe(false);
  });
});
