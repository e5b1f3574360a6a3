import { canonicalJson as serverCanonicalJson } from '../../../messages/workflow/canonical-json';
import { asMachine, canonicalJson, detailOf, nestedMachines, ruleText } from './workflow-spec';

describe('a Workflow spec as the page reads it', () => {
  it('writes Choice rules as short expressions', () => {
    expect(ruleText({ variable: '$.s', stringEquals: 'go' })).toBe('$.s == "go"');
    expect(ruleText({ variable: '$.a', numericGreaterThanEqualsPath: '$.b' })).toBe('$.a >= $.b');
    expect(ruleText({ variable: '$.a', numericLessThanEquals: 3 })).toBe('$.a <= 3');
    expect(ruleText({ variable: '$.x', isPresent: false })).toBe('!isPresent($.x)');
    expect(ruleText({ and: [{ variable: '$.a', numericEquals: 1 }, { not: { variable: '$.b', booleanEquals: true } }] })).toBe('($.a == 1) && !($.b == true)');
    expect(ruleText({ or: [{ variable: '$.t', isTimestamp: true }, { variable: '$.s', stringMatches: 'a*' }] })).toBe('isTimestamp($.t) || ($.s ~ "a*")');
  });

  it('accepts only what has the shape of a states map', () => {
    expect(asMachine({ startAt: 'A', states: { A: { type: 'Pass', end: true } } })).toBeDefined();
    expect(asMachine({ startAt: 'A' })).toBeUndefined();
    expect(asMachine({ startAt: 'A', states: { A: 'Pass' } })).toBeUndefined();
    expect(asMachine({ startAt: 'A', states: [] })).toBeUndefined();
    expect(asMachine(null)).toBeUndefined();
  });

  it('describes each state in a line and finds the states nested in Parallel and Map', () => {
    expect(detailOf({ type: 'Task', function: 'add' })).toBe('Task: add');
    expect(detailOf({ type: 'Task', workflow: 'child' })).toBe('Task: workflow child');
    expect(detailOf({ type: 'Wait', timestampPath: '$.when' })).toBe('Wait $.when');
    expect(detailOf({ type: 'Fail', error: 'Boom' })).toBe('Fail: Boom');
    const branch = { startAt: 'A', states: { A: { type: 'Pass', end: true } } };
    expect(nestedMachines({ type: 'Parallel', branches: [branch, branch] }).map((n) => [n.part, n.label])).toEqual([['0', 'branch 0'], ['1', 'branch 1']]);
    expect(nestedMachines({ type: 'Map', itemProcessor: branch }).map((n) => n.part)).toEqual(['*']);
    expect(nestedMachines({ type: 'Pass' })).toEqual([]);
  });

  it('writes a spec\'s canonical JSON exactly as the run\'s spec hash is taken of', () => {
    const spec = { states: { B: { type: 'Pass', end: true, result: [1, undefined, { z: 1, a: null }] }, A: { next: 'B', type: 'Pass', comment: undefined } }, startAt: 'A' };
    expect(canonicalJson(spec)).toBe(serverCanonicalJson(spec));
    expect(canonicalJson(spec)).toBe('{"startAt":"A","states":{"A":{"next":"B","type":"Pass"},"B":{"end":true,"result":[1,null,{"a":null,"z":1}],"type":"Pass"}}}');
  });
});
