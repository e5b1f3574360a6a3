import { isValidation, MkError } from '../messages/errors';
import { checkFilter, checkKey, decodeObject, encodeObject, isSealedKey, MAX_VALUE_BYTES } from './object-codec';
import { generateKey, isEncryptionError, isSealed, KeyRing, sealedKeyId } from './secret-envelope';

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

describe('object codec: Secrets at rest', () => {
  const ring = new KeyRing([generateKey('k1')]);
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', resourceVersion: '4' }, data: { password: 'aHVudGVyMg==' } };

  it('seals Secrets only, and only with keys', () => {
    expect(isSealedKey('secrets.default.db')).toBe(true);
    expect(isSealedKey('configmaps.default.db')).toBe(false);
    const sealed = encodeObject('secrets.default.db', secret, ring);
    expect(isSealed(sealed)).toBe(true);
    expect(sealedKeyId(sealed)).toBe('k1');
    expect(td.decode(sealed)).not.toContain('aHVudGVyMg');
    const cm = { kind: 'ConfigMap', metadata: { name: 'db' }, data: { a: 'b' } };
    expect(JSON.parse(td.decode(encodeObject('configmaps.default.db', cm, ring)))).toEqual(cm);
    expect(isSealed(encodeObject('secrets.default.db', secret))).toBe(false);
  });

  it('reads sealed and plain Secrets alike, with the revision set', () => {
    const back = decodeObject<typeof secret>('secrets.default.db', encodeObject('secrets.default.db', secret, ring), 9, ring);
    expect(back).toEqual({ ...secret, metadata: { name: 'db', resourceVersion: '9' } });
    const plain = decodeObject<typeof secret>('secrets.default.db', encodeObject('secrets.default.db', secret), 10, ring);
    expect(plain.data).toEqual(secret.data);
  });

  it('refuses a sealed value without keys, naming the key', () => {
    const sealed = encodeObject('secrets.default.db', secret, ring);
    let err: unknown;
    try { decodeObject('secrets.default.db', sealed, 3); } catch (e) { err = e; }
    expect(isEncryptionError(err)).toBe(true);
    expect((err as Error).message).toBe('secrets.default.db at revision 3 is encrypted and this process has no encryption keys to read it');
  });

  it('checks the size of the object, not of its envelope', () => {
    expect(() => encodeObject('secrets.default.big', { data: { a: 'x'.repeat(MAX_VALUE_BYTES) } }, ring)).toThrow(/secrets.default.big is too large/);
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
