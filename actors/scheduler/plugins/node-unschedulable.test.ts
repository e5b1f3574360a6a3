import { makeNode, makeNodeInfo, makePod } from './fixtures';
import { nodeUnschedulableFilter } from './node-unschedulable';

describe('the unschedulable filter', () => {
  const cordoned = makeNodeInfo(makeNode('n', { unschedulable: true }));

  it('keeps new pods off a cordoned node', () => {
    expect(nodeUnschedulableFilter(makePod('a'), cordoned)).toEqual(['node(s) were unschedulable']);
    expect(nodeUnschedulableFilter(makePod('a'), makeNodeInfo(makeNode('m')))).toEqual([]);
  });

  it('lets a pod that tolerates node.kubernetes.io/unschedulable:NoSchedule through', () => {
    const p = makePod('a', {}, { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(nodeUnschedulableFilter(p, cordoned)).toEqual([]);
    const wrongEffect = makePod('a', {}, { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }] });
    expect(nodeUnschedulableFilter(wrongEffect, cordoned)).toEqual(['node(s) were unschedulable']);
  });
});
