import { info, makeNode, makeNodeInfo, makePod } from './fixtures';
import { leastAllocatedScore, leastRequested } from './least-allocated';

describe('least allocated', () => {
  it('scores the free share after placing the pod', () => {
    expect(leastRequested(500, 500, 2000)).toBe(50);
    expect(leastRequested(1, 2000, 2000)).toBe(0);
    expect(leastRequested(1, 0, 0)).toBe(0);
  });

  it('prefers the emptier node, counting pods without requests at the defaults', () => {
    const node = makeNode('n', { allocatable: { cpu: '1', memory: '1000Mi' } });
    const empty = makeNodeInfo(node);
    const busy = makeNodeInfo(node, [makePod('x')]); // 100m and 200Mi by default
    const p = info(makePod('a', { cpu: '500m', memory: '500Mi' }));
    expect(leastAllocatedScore(p, empty)).toBeCloseTo(50);
    expect(leastAllocatedScore(p, busy)).toBeCloseTo((40 + 30) / 2);
  });
});
