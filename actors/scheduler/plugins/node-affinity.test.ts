import type { NodeSelectorTerm } from '../../../messages';
import { makeNode, makeNodeInfo, makePod } from './fixtures';
import { matchesNodeSelectorTerm, matchesRequirement, nodeAffinityFilter, nodeAffinityScore } from './node-affinity';

const REASON = "node(s) didn't match Pod's node affinity/selector";

describe('node selector requirements', () => {
  it('In, NotIn, Exists and DoesNotExist on a label value (undefined: absent)', () => {
    expect(matchesRequirement({ key: 'k', operator: 'In', values: ['a', 'b'] }, 'b')).toBe(true);
    expect(matchesRequirement({ key: 'k', operator: 'In', values: ['a'] }, undefined)).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'NotIn', values: ['a'] }, 'b')).toBe(true);
    expect(matchesRequirement({ key: 'k', operator: 'NotIn', values: ['a'] }, undefined)).toBe(true);
    expect(matchesRequirement({ key: 'k', operator: 'NotIn', values: ['a'] }, 'a')).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'Exists' }, '')).toBe(true);
    expect(matchesRequirement({ key: 'k', operator: 'Exists' }, undefined)).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'DoesNotExist' }, undefined)).toBe(true);
    expect(matchesRequirement({ key: 'k', operator: 'DoesNotExist' }, 'x')).toBe(false);
  });

  it('Gt and Lt compare integers, and a value that is no integer matches nothing', () => {
    expect(matchesRequirement({ key: 'k', operator: 'Gt', values: ['4'] }, '8')).toBe(true);
    expect(matchesRequirement({ key: 'k', operator: 'Gt', values: ['8'] }, '8')).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'Lt', values: ['10'] }, '9')).toBe(true);
    expect(matchesRequirement({ key: 'k', operator: 'Lt', values: ['-1'] }, '-2')).toBe(true);
    expect(matchesRequirement({ key: 'k', operator: 'Gt', values: ['4'] }, 'eight')).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'Gt', values: ['4'] }, '4.5')).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'Lt', values: ['4'] }, '')).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'Lt', values: ['4'] }, undefined)).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'Gt', values: ['x'] }, '5')).toBe(false);
    expect(matchesRequirement({ key: 'k', operator: 'Gt', values: ['1', '2'] }, '5')).toBe(false);
    // Beyond a double's precision, still compared exactly.
    expect(matchesRequirement({ key: 'k', operator: 'Gt', values: ['9007199254740992'] }, '9007199254740993')).toBe(true);
  });
});

describe('node selector terms', () => {
  const node = makeNode('n1', { labels: { zone: 'a', cores: '16' } });

  it('AND the requirements of a term', () => {
    expect(matchesNodeSelectorTerm({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'cores', operator: 'Gt', values: ['8'] }] }, node)).toBe(true);
    expect(matchesNodeSelectorTerm({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'cores', operator: 'Gt', values: ['32'] }] }, node)).toBe(false);
  });

  it('match metadata.name through matchFields, and nothing for another field', () => {
    expect(matchesNodeSelectorTerm({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }, node)).toBe(true);
    expect(matchesNodeSelectorTerm({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }, node)).toBe(false);
    expect(matchesNodeSelectorTerm({ matchFields: [{ key: 'spec.podCIDR', operator: 'In', values: ['x'] }] }, node)).toBe(false);
  });

  it('an empty term matches no node', () => {
    expect(matchesNodeSelectorTerm({}, node)).toBe(false);
  });
});

describe('the node affinity filter', () => {
  const ssd = makeNodeInfo(makeNode('ssd', { labels: { disk: 'ssd', zone: 'a' } }));
  const hdd = makeNodeInfo(makeNode('hdd', { labels: { disk: 'hdd', zone: 'b' } }));
  const required = (terms: NodeSelectorTerm[]) => makePod('p', {}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });

  it('honours nodeSelector', () => {
    const p = makePod('p', {}, { nodeSelector: { disk: 'ssd' } });
    expect(nodeAffinityFilter(p, ssd)).toEqual([]);
    expect(nodeAffinityFilter(p, hdd)).toEqual([REASON]);
  });

  it('ORs the required terms', () => {
    const p = required([
      { matchExpressions: [{ key: 'disk', operator: 'In', values: ['nvme'] }] },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
    ]);
    expect(nodeAffinityFilter(p, hdd)).toEqual([]);
    expect(nodeAffinityFilter(p, ssd)).toEqual([REASON]);
  });

  it('needs nodeSelector and required affinity both', () => {
    const p = required([{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }]);
    p.spec.nodeSelector = { disk: 'hdd' };
    expect(nodeAffinityFilter(p, hdd)).toEqual([]);
    expect(nodeAffinityFilter(p, ssd)).toEqual([REASON]);
  });

  it('scores the sum of the weights of the preferred terms a node matches', () => {
    const p = makePod('p', {}, {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
            { weight: 5, preference: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] } },
          ],
        },
      },
    });
    expect(nodeAffinityScore(p, ssd)).toBe(15);
    expect(nodeAffinityScore(p, hdd)).toBe(5);
  });
});
