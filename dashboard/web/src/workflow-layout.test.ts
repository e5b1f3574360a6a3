import { CHAR_W, cut, layering, layoutMachine, MAX_EDGE_LABEL, type LaidNode, type MachineLayout } from './workflow-layout';
import { edgesOf, type WfMachine } from './workflow-spec';

const node = (l: MachineLayout, name: string): LaidNode => {
  const n = l.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
};
const overlaps = (a: LaidNode, b: LaidNode): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** A Choice between two branches and a default, joining again. */
const diamond: WfMachine = {
  startAt: 'Check',
  states: {
    Check: { type: 'Choice', choices: [{ variable: '$.n', numericGreaterThan: 10, next: 'Big' }, { variable: '$.n', numericLessThan: 0, next: 'Negative' }], default: 'Small' },
    Small: { type: 'Pass', next: 'Done' },
    Big: { type: 'Task', function: 'shrink', next: 'Done', catch: [{ errorEquals: ['States.Timeout', 'Boom'], next: 'Oops' }] },
    Negative: { type: 'Fail', error: 'Negative' },
    Done: { type: 'Succeed' },
    Oops: { type: 'Fail', error: 'Oops' },
  },
};

describe('the workflow graph\'s layout', () => {
  it('puts a chain in one layer per state, top to bottom, centred on one line', () => {
    const l = layoutMachine({ startAt: 'A', states: { A: { type: 'Pass', next: 'B' }, B: { type: 'Wait', seconds: 5, next: 'C' }, C: { type: 'Succeed' } } });
    expect(l.layers).toEqual([['A'], ['B'], ['C']]);
    expect(node(l, 'A').y).toBeLessThan(node(l, 'B').y);
    expect(node(l, 'B').y).toBeLessThan(node(l, 'C').y);
    const centre = (n: LaidNode) => n.x + n.w / 2;
    expect(centre(node(l, 'A'))).toBeCloseTo(centre(node(l, 'C')));
    expect(node(l, 'B').detail).toBe('Wait 5s');
    expect(node(l, 'A').start).toBe(true);
    expect(node(l, 'C').terminal).toBe(true);
    expect(l.edges.map((e) => [e.from, e.to, e.kind, e.back])).toEqual([['A', 'B', 'next', false], ['B', 'C', 'next', false]]);
    // Every edge runs from the bottom of its source to the top of its target.
    for (const e of l.edges) {
      expect(e.points[0][1]).toBeCloseTo(node(l, e.from).y + node(l, e.from).h);
      expect(e.points[e.points.length - 1][1]).toBeCloseTo(node(l, e.to).y);
    }
  });

  it('gives each state the longest path to it from startAt as its layer, and routes edges that skip layers beside them', () => {
    const l = layoutMachine({ startAt: 'A', states: { A: { type: 'Choice', choices: [{ variable: '$.x', booleanEquals: true, next: 'C' }], default: 'B' }, B: { type: 'Pass', next: 'C' }, C: { type: 'Succeed' } } });
    expect(l.layers).toEqual([['A'], ['B'], ['C']]);
    expect(node(l, 'C').layer).toBe(2);
    // The edge that skips B runs down a lane left of it, not behind it.
    const skip = l.edges.find((e) => e.from === 'A' && e.to === 'C');
    expect(skip?.points).toHaveLength(6);
    expect(skip?.points[2][0]).toBeLessThan(node(l, 'B').x);
    expect(skip?.points[2][0]).toBeGreaterThan(0);
  });

  it('orders a layer by first reach: rules in order, then the default, then catchers; sides of a layer do not overlap', () => {
    const l = layoutMachine(diamond);
    expect(l.layers).toEqual([['Check'], ['Big', 'Negative', 'Small'], ['Done', 'Oops']]);
    const row = l.layers[1].map((n) => node(l, n));
    expect(row[0].x).toBeLessThan(row[1].x);
    expect(row[1].x).toBeLessThan(row[2].x);
    for (const a of l.nodes) for (const b of l.nodes) if (a !== b) expect(overlaps(a, b)).toBe(false);
    for (const n of l.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.x + n.w).toBeLessThanOrEqual(l.w);
      expect(n.y + n.h).toBeLessThanOrEqual(l.h);
    }
  });

  it('labels each Choice rule\'s edge with the rule, the default edge `default`, and a catcher\'s edge with its errors', () => {
    expect(edgesOf(diamond).map((e) => [e.from, e.to, e.kind, e.label])).toEqual([
      ['Check', 'Big', 'choice', '$.n > 10'],
      ['Check', 'Negative', 'choice', '$.n < 0'],
      ['Check', 'Small', 'default', 'default'],
      ['Small', 'Done', 'next', undefined],
      ['Big', 'Done', 'next', undefined],
      ['Big', 'Oops', 'catch', 'States.Timeout, Boom'],
    ]);
    // Edges out of one state leave from distinct points, in the order of their targets.
    const out = layoutMachine(diamond).edges.filter((e) => e.from === 'Check').map((e) => e.points[0][0]);
    expect(new Set(out).size).toBe(3);
  });

  it('makes room for the labels of edges into a state: beside their ports, a line apart, clear of the next state', () => {
    const l = layoutMachine({
      startAt: 'Pick',
      states: {
        Pick: { type: 'Choice', choices: [{ variable: '$.kind', stringEquals: 'alpha', next: 'X' }, { variable: '$.kind', stringEquals: 'beta', next: 'X' }], default: 'Y' },
        X: { type: 'Succeed' },
        Y: { type: 'Succeed' },
      },
    });
    const into = l.edges.filter((e) => e.to === 'X');
    expect(into.map((e) => e.label)).toEqual(['$.kind == "alpha"', '$.kind == "beta"']);
    expect(into[1].labelAt[1] - into[0].labelAt[1]).toBeGreaterThanOrEqual(12);
    const [x, y] = [node(l, 'X'), node(l, 'Y')];
    for (const e of into) {
      expect(e.labelAt[0] + cut(e.label as string, MAX_EDGE_LABEL).length * CHAR_W).toBeLessThanOrEqual(y.x);
      expect(e.labelAt[1]).toBeLessThan(x.y);
      expect(e.labelAt[1]).toBeGreaterThan(node(l, 'Pick').y + node(l, 'Pick').h);
    }
    const empty = layoutMachine({ startAt: 'A', states: {} });
    expect(empty.nodes).toEqual([]);
    expect(empty.h).toBeGreaterThan(0);
  });

  it('breaks a loop at its back edge, which runs up a lane right of every node', () => {
    const l = layoutMachine({
      startAt: 'Poll',
      states: {
        Poll: { type: 'Task', function: 'status', next: 'Ready?' },
        'Ready?': { type: 'Choice', choices: [{ variable: '$.ready', booleanEquals: true, next: 'Done' }], default: 'Wait' },
        Wait: { type: 'Wait', seconds: 10, next: 'Poll' },
        Done: { type: 'Succeed' },
        Again: { type: 'Pass', next: 'Again' },
      },
    });
    expect(l.layers.slice(0, 3)).toEqual([['Poll'], ['Ready?'], ['Done', 'Wait']]);
    // Again is reached from nowhere: it is drawn, in a last layer.
    expect(l.layers[3]).toEqual(['Again']);
    const back = l.edges.filter((e) => e.back);
    expect(back.map((e) => `${e.from}->${e.to}`)).toEqual(['Wait->Poll', 'Again->Again']);
    const right = Math.max(...l.nodes.map((n) => n.x + n.w));
    for (const e of back) {
      expect(e.points[1][0]).toBeGreaterThan(right);
      expect(e.points[1][0]).toBeLessThanOrEqual(l.w);
    }
    expect(layering({ startAt: 'A', states: { A: { type: 'Pass', next: 'A' } } }).back).toEqual(new Set(['A->A']));
  });

  it('draws a Parallel\'s branches and a Map\'s item processor as groups inside their state, with scoped ids', () => {
    const l = layoutMachine({
      startAt: 'Fan',
      states: {
        Fan: {
          type: 'Parallel', next: 'Each',
          branches: [
            { startAt: 'A', states: { A: { type: 'Task', function: 'a', next: 'B' }, B: { type: 'Succeed' } } },
            { startAt: 'C', states: { C: { type: 'Pass', end: true } } },
          ],
        },
        Each: { type: 'Map', end: true, itemProcessor: { startAt: 'Work', states: { Work: { type: 'Task', function: 'work', end: true } } } },
      },
    });
    const fan = node(l, 'Fan');
    expect(fan.groups.map((g) => [g.id, g.label])).toEqual([['Fan/0', 'branch 0'], ['Fan/1', 'branch 1']]);
    expect(fan.groups[0].layout.nodes.map((n) => n.id)).toEqual(['Fan/0/A', 'Fan/0/B']);
    expect(fan.groups[0].layout.layers).toEqual([['A'], ['B']]);
    for (const g of fan.groups) {
      expect(g.x).toBeGreaterThanOrEqual(0);
      expect(g.x + g.w).toBeLessThanOrEqual(fan.w);
      expect(g.y + g.h).toBeLessThanOrEqual(fan.h);
    }
    expect(fan.groups[0].x + fan.groups[0].w).toBeLessThanOrEqual(fan.groups[1].x);
    const each = node(l, 'Each');
    expect(each.groups.map((g) => g.id)).toEqual(['Each/*']);
    expect(each.groups[0].layout.nodes[0].id).toBe('Each/*/Work');
    expect(each.y).toBeGreaterThanOrEqual(fan.y + fan.h);
  });

  it('cuts long labels, and draws nothing for a next to a state that does not exist', () => {
    expect(cut('x'.repeat(40))).toHaveLength(30);
    expect(cut('short')).toBe('short');
    // A next to a state that does not exist draws no edge (validation reports it; the page must not throw).
    expect(layoutMachine({ startAt: 'A', states: { A: { type: 'Pass', next: 'Nowhere' } } }).edges).toEqual([]);
  });
});
