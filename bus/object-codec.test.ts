import { isValidation, MkError } from '../messages/errors';
import { checkFilter, checkKey, decodeObject, encodeObject, MAX_VALUE_BYTES } from './object-codec';

const td = new TextDecoder();
const te = new TextEncoder();

describe('object codec', () => {
  it('does not store resourceVersion and never edits the caller object', () => {
    const obj = { kind: 'Pod', metadata: { name: 'a', resourceVersion: '7' }, spec: { x: 1 } };
    const data = encodeObject('pods.default.a', obj);
    expect(JSON.parse(td.decode(data))).toEqual({ kind: 'Pod', metadata: { name: 'a' }, spec: { x: 1 } });
    expect(obj.metadata.resourceVersion).toBe('7');
  });

  it('sets resourceVersion from the revision on read when there is metadata', () => {
    const o = decodeObject<{ metadata: { resourceVersion?: string } }>('k', te.encode('{"metadata":{"name":"a"}}'), 42);
    expect(o.metadata.resourceVersion).toBe('42');
    expect(decodeObject('k', te.encode('{"count":1}'), 3)).toEqual({ count: 1 });
    expect(decodeObject('k', te.encode('5'), 3)).toBe(5);
  });

  it('rejects a value over 1 MiB with a ValidationError naming the key and size', () => {
    const big = { data: 'x'.repeat(MAX_VALUE_BYTES) };
    let err: unknown;
    try { encodeObject('configmaps.default.big', big); } catch (e) { err = e; }
    expect(isValidation(err)).toBe(true);
    expect((err as Error).message).toContain('configmaps.default.big');
    expect((err as Error).message).toContain(String(MAX_VALUE_BYTES + 11));
  });

  it('rejects what JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeObject('k', cyclic)).toThrow(/cannot be stored/);
    expect(() => encodeObject('k', undefined)).toThrow(/cannot be stored/);
  });

  it('reports a stored value that is not JSON as an internal error naming the key', () => {
    expect(() => decodeObject('pods.x.y', te.encode('{nope'), 9)).toThrow(MkError);
    expect(() => decodeObject('pods.x.y', te.encode('{nope'), 9)).toThrow(/pods.x.y at revision 9/);
  });
});

describe('key checks', () => {
  it('accepts keys and filters mk uses, rejects the rest', () => {
    expect(() => checkKey('pods.default.web-1')).not.toThrow();
    expect(() => checkKey('nodes._cluster.a_b')).not.toThrow();
    for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'pods.*', 'pods.>']) expect(() => checkKey(bad)).toThrow(/invalid key/);
    for (const ok of ['>', 'pods.>', 'pods.default.>', 'pods.*.web', 'pods.default.web']) expect(() => checkFilter(ok)).not.toThrow();
    for (const bad of ['', 'pods.>.x', 'pods..>', 'pods.a*', 'po>ds']) expect(() => checkFilter(bad)).toThrow(/invalid key filter/);
  });
});
