import { balancedAllocationScore } from './balanced-allocation';
import { info, makeNode, makeNodeInfo, makePod } from './fixtures';

describe('balanced allocation', () => {
  it('prefers the node where cpu and memory shares stay alike', () => {
    const node = makeNode('n', { allocatable: { cpu: '1', memory: '1000Mi' } });
    const p = info(makePod('a', { cpu: '500m', memory: '500Mi' }));
    expect(balancedAllocationScore(p, makeNodeInfo(node))).toBeCloseTo(100);
    const cpuHeavy = makeNodeInfo(node, [makePod('x', { cpu: '500m' })]);
    // shares 1.0 and 0.5: standard deviation 0.25
    expect(balancedAllocationScore(p, cpuHeavy)).toBeCloseTo(75);
  });
});
