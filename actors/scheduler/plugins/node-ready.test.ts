import { makeNode } from './fixtures';
import { conditionTaints, isNodeReady } from './node-ready';

describe('readiness as taints', () => {
  it('adds none for a Ready node', () => {
    expect(conditionTaints(makeNode('n'))).toEqual([]);
    expect(isNodeReady(makeNode('n'))).toBe(true);
  });

  it('adds not-ready for Ready False and unreachable for Unknown or no condition', () => {
    expect(conditionTaints(makeNode('n', { ready: 'False' }))).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    expect(conditionTaints(makeNode('n', { ready: 'Unknown' }))).toEqual([{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }]);
    expect(conditionTaints(makeNode('n', { ready: null }))).toEqual([{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }]);
    expect(isNodeReady(makeNode('n', { ready: 'Unknown' }))).toBe(false);
  });

  it('adds nothing when the node already carries the taint', () => {
    const n = makeNode('n', { ready: 'Unknown', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] });
    expect(conditionTaints(n)).toEqual([]);
  });
});
