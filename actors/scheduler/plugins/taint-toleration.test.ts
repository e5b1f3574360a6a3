import { makeNode, makeNodeInfo, makePod } from './fixtures';
import { taintTolerationFilter, taintTolerationScore, toleratesOne, toleratesTaint } from './taint-toleration';

describe('tolerations', () => {
  const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const };

  it('match by key and value with Equal (the default), by key alone with Exists', () => {
    expect(toleratesOne({ key: 'dedicated', value: 'gpu' }, taint)).toBe(true);
    expect(toleratesOne({ key: 'dedicated', operator: 'Equal', value: 'db' }, taint)).toBe(false);
    expect(toleratesOne({ key: 'dedicated', operator: 'Exists' }, taint)).toBe(true);
    expect(toleratesOne({ key: 'other', operator: 'Exists' }, taint)).toBe(false);
  });

  it('match every effect when none is given, only their own otherwise', () => {
    expect(toleratesOne({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, taint)).toBe(true);
    expect(toleratesOne({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
  });

  it('with an empty key and Exists match every taint', () => {
    expect(toleratesTaint([{ operator: 'Exists' }], taint)).toBe(true);
    expect(toleratesTaint([{ operator: 'Exists', effect: 'NoExecute' }], taint)).toBe(false);
    expect(toleratesTaint(undefined, taint)).toBe(false);
  });

  it('compare a taint without a value as the empty value', () => {
    expect(toleratesOne({ key: 'k', value: '' }, { key: 'k', effect: 'NoSchedule' })).toBe(true);
    expect(toleratesOne({ key: 'k', value: 'v' }, { key: 'k', effect: 'NoSchedule' })).toBe(false);
  });
});

describe('the taint filter', () => {
  it('keeps a pod off a node with a NoSchedule or NoExecute taint it does not tolerate, naming the taint', () => {
    const n = makeNodeInfo(makeNode('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }, { key: 'k', value: 'v', effect: 'NoExecute' }] }));
    expect(taintTolerationFilter(makePod('a'), n)).toEqual(['node(s) had untolerated taint {k: v}']);
    expect(taintTolerationFilter(makePod('a', {}, { tolerations: [{ key: 'k', operator: 'Exists' }] }), n)).toEqual([]);
  });

  it('lets PreferNoSchedule taints through', () => {
    const n = makeNodeInfo(makeNode('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }));
    expect(taintTolerationFilter(makePod('a'), n)).toEqual([]);
  });

  it('reads a node that is not Ready as tainted not-ready or unreachable', () => {
    expect(taintTolerationFilter(makePod('a'), makeNodeInfo(makeNode('n', { ready: 'False' })))).toEqual([
      'node(s) had untolerated taint {node.kubernetes.io/not-ready: }',
    ]);
    expect(taintTolerationFilter(makePod('a'), makeNodeInfo(makeNode('n', { ready: 'Unknown' })))).toEqual([
      'node(s) had untolerated taint {node.kubernetes.io/unreachable: }',
    ]);
    expect(taintTolerationFilter(makePod('a'), makeNodeInfo(makeNode('n', { ready: null })))).toEqual([
      'node(s) had untolerated taint {node.kubernetes.io/unreachable: }',
    ]);
    const tolerant = makePod('a', {}, { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] });
    expect(taintTolerationFilter(tolerant, makeNodeInfo(makeNode('n', { ready: 'False' })))).toEqual([]);
  });

  it('scores by the PreferNoSchedule taints the pod does not tolerate', () => {
    const n = makeNodeInfo(makeNode('n', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }, { key: 'b', effect: 'PreferNoSchedule' }, { key: 'c', effect: 'NoSchedule' }] }));
    expect(taintTolerationScore(makePod('p'), n)).toBe(2);
    expect(taintTolerationScore(makePod('p', {}, { tolerations: [{ key: 'a', operator: 'Exists' }] }), n)).toBe(1);
  });
});
