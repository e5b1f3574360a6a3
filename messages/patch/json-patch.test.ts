import { isValidation } from '../errors';
import { applyJsonPatch } from './json-patch';

const doc = () => ({ metadata: { name: 'a', labels: { 'app/x': 'web', 'a~b': '1' } }, spec: { list: [1, 2, 3] } });

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('applyJsonPatch (RFC 6902)', () => {
  it('adds, removes and replaces fields and list items, leaving the input unchanged', () => {
    const input = doc();
    const out = applyJsonPatch(input, [
      { op: 'add', path: '/metadata/annotations', value: { note: 'x' } },
      { op: 'add', path: '/spec/list/1', value: 9 },
      { op: 'add', path: '/spec/list/-', value: 4 },
      { op: 'remove', path: '/spec/list/0' },
      { op: 'replace', path: '/metadata/name', value: 'b' },
    ]);
    expect(out).toEqual({ metadata: { name: 'b', labels: { 'app/x': 'web', 'a~b': '1' }, annotations: { note: 'x' } }, spec: { list: [9, 2, 3, 4] } });
    expect(input).toEqual(doc());
  });

  it('unescapes ~1 and ~0 in paths', () => {
    const out = applyJsonPatch(doc(), [{ op: 'remove', path: '/metadata/labels/app~1x' }, { op: 'replace', path: '/metadata/labels/a~0b', value: '2' }]);
    expect(out.metadata.labels).toEqual({ 'a~b': '2' });
  });

  it('moves and copies values', () => {
    const out = applyJsonPatch(doc(), [
      { op: 'copy', from: '/spec/list', path: '/spec/copy' },
      { op: 'move', from: '/metadata/name', path: '/spec/name' },
    ]) as unknown as Record<string, Record<string, unknown>>;
    expect(out.spec).toEqual({ list: [1, 2, 3], copy: [1, 2, 3], name: 'a' });
    expect(out.metadata.name).toBeUndefined();
  });

  it('passes a test that holds, by value whatever the key order', () => {
    const out = applyJsonPatch(doc(), [{ op: 'test', path: '/metadata/labels', value: { 'a~b': '1', 'app/x': 'web' } }]);
    expect(out).toEqual(doc());
  });

  it.each([
    [[{ op: 'test', path: '/metadata/name', value: 'z' }], 'operation 0 (test /metadata/name) does not apply: the value is "a", not "z"'],
    [[{ op: 'replace', path: '/spec/missing', value: 1 }], 'operation 0 (replace /spec/missing) does not apply: there is no field "missing"'],
    [[{ op: 'remove', path: '/spec/list/3' }], 'index 3 is out of range (the list has 3 items)'],
    [[{ op: 'add', path: '/spec/nope/x', value: 1 }], 'there is no field "nope"'],
    [[{ op: 'add', path: '/spec/list/x', value: 1 }], '"x" is not an array index'],
    [[{ op: 'add', path: 'spec', value: 1 }], 'is not a JSON pointer'],
    [[{ op: 'move', from: '/spec', path: '/spec/list/0' }], 'cannot be moved into one of its own children'],
    [[{ op: 'frobnicate', path: '/x' }], 'unknown op "frobnicate"'],
    [[{ op: 'add', path: '/x' }], '"value" is missing'],
    [{ op: 'add', path: '/x', value: 1 }, 'must be a list of operations'],
  ])('refuses %j with a clear error and changes nothing', (patch, message) => {
    const input = doc();
    const err = caught(() => applyJsonPatch(input, patch));
    expect(isValidation(err)).toBe(true);
    expect(err.message).toContain(message);
    expect(input).toEqual(doc());
  });

  it('is all or nothing: a later failing test leaves no earlier change', () => {
    const input = doc();
    expect(() => applyJsonPatch(input, [{ op: 'replace', path: '/metadata/name', value: 'b' }, { op: 'test', path: '/spec/list/0', value: 7 }])).toThrow();
    expect(input.metadata.name).toBe('a');
  });
});
