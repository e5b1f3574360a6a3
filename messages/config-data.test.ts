import { validateManifest } from './manifest';
import { dataKeyError, immutableUpdateError, MAX_DATA_BYTES, normalizeSecret, withoutSecretValues, type Secret } from './config-data';

const cm = (extra: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, ...extra });
const secret = (extra: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, ...extra });

describe('config map and secret keys', () => {
  it.each(['a', 'A-b_c.d', '.hidden', 'x'.repeat(253)])('accepts %s', (k) => expect(dataKeyError(k)).toBeUndefined());
  it.each(['', '.', '..', '..x', 'a/b', 'a b', 'x'.repeat(254)])('refuses %j', (k) => expect(dataKeyError(k)).toBeDefined());
});

describe('ConfigMap schema', () => {
  it('accepts data and base64 binaryData', () => {
    expect(validateManifest(cm({ data: { a: '1' }, binaryData: { b: 'AAE=' }, immutable: true })).object).toMatchObject({ data: { a: '1' } });
  });
  it('names a bad key, bad base64 and a key in both maps', () => {
    expect(() => validateManifest(cm({ data: { 'a/b': '1' } }))).toThrow(/invalid key "a\/b"/);
    expect(() => validateManifest(cm({ binaryData: { b: 'not base64!' } }))).toThrow(/binaryData\.b: must be base64/);
    expect(() => validateManifest(cm({ data: { b: 'x' }, binaryData: { b: 'AA==' } }))).toThrow(/duplicate key "b"/);
  });
  it('refuses more than 1 MiB in all', () => {
    const half = 'x'.repeat(MAX_DATA_BYTES / 2);
    expect(() => validateManifest(cm({ data: { a: half, b: half } }))).not.toThrow();
    expect(() => validateManifest(cm({ data: { a: half, b: `${half}x` } }))).toThrow(/no more than 1048576 bytes/);
  });
});

describe('Secret schema', () => {
  it('validates base64 data and the keys a type requires', () => {
    expect(() => validateManifest(secret({ data: { a: 'aGk=' } }))).not.toThrow();
    expect(() => validateManifest(secret({ data: { a: 'hi' } }))).toThrow(/data\.a: must be base64/);
    expect(() => validateManifest(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==' } }))).toThrow(/must have key "tls.key"/);
    expect(() => validateManifest(secret({ type: 'kubernetes.io/basic-auth', stringData: { other: 'x' } }))).toThrow(/"username" or "password"/);
    expect(() => validateManifest(secret({ type: 'kubernetes.io/basic-auth', stringData: { password: 'x' } }))).not.toThrow();
  });
  it('requires JSON in a dockerconfigjson secret', () => {
    expect(() => validateManifest(secret({ type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{' } }))).toThrow(/must hold JSON/);
    expect(() => validateManifest(secret({ type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } }))).not.toThrow();
  });
  it('counts stringData in the size limit', () => {
    expect(() => validateManifest(secret({ stringData: { a: 'x'.repeat(MAX_DATA_BYTES + 1) } }))).toThrow(/1 MiB/);
  });
  it('keeps stringData out of the last applied configuration', () => {
    const applied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { pw: 'plain' } });
    const s = normalizeSecret(secret({ metadata: { name: 's', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied } }, stringData: { pw: 'plain' } }) as Secret);
    expect(JSON.stringify(s)).not.toContain('plain');
    expect(JSON.parse(s.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration'])).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } });
  });
  it('merges stringData into data, over a key of the same name, and drops it', () => {
    const s = normalizeSecret(secret({ data: { a: 'b2xk', b: 'Yg==' }, stringData: { a: 'new' } }) as Secret);
    expect(s).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { a: Buffer.from('new').toString('base64'), b: 'Yg==' } });
  });
});

describe('immutable updates', () => {
  it('allows anything while not immutable, and making it immutable', () => {
    expect(immutableUpdateError('ConfigMap', { data: { a: '1' } }, { data: { a: '2' }, immutable: true })).toBeUndefined();
  });
  it('refuses changing data or unsetting immutable once set, but allows the same data', () => {
    const was = { data: { a: '1' }, immutable: true };
    expect(immutableUpdateError('ConfigMap', was, { data: { a: '1' }, immutable: true })).toBeUndefined();
    expect(immutableUpdateError('ConfigMap', was, { data: { a: '2' }, immutable: true })).toMatch(/^data: field is immutable/);
    expect(immutableUpdateError('ConfigMap', was, { data: { a: '1' } })).toMatch(/cannot be unset/);
  });
  it("refuses changing a secret's type", () => {
    expect(immutableUpdateError('Secret', { type: 'Opaque' }, { type: 'kubernetes.io/tls' })).toMatch(/^type: field is immutable/);
  });
});

describe('a Secret without its values', () => {
  const applied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'aHVudGVyMg==' } });
  const s = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque', immutable: true,
    metadata: { name: 's', namespace: 'default', labels: { a: 'b' }, annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': applied } },
    data: { password: 'aHVudGVyMg==', empty: '' }, stringData: { token: 'abc' },
  } as Secret;

  it('keeps the metadata, type and keys, with sizes for values, and drops what apply sent', () => {
    const out = withoutSecretValues(s);
    expect(out).toEqual({
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque', immutable: true,
      metadata: { name: 's', namespace: 'default', labels: { a: 'b' }, annotations: { note: 'x' } },
      data: { password: '<7 bytes>', empty: '<0 bytes>', token: '<3 bytes>' },
    });
    expect(JSON.stringify(out)).not.toMatch(/aHVudGVyMg|hunter2|abc/);
    expect(s.data!.password).toBe('aHVudGVyMg==');
  });

  it('cannot be written back: a size is not base64', () => {
    expect(() => validateManifest({ ...withoutSecretValues(s), metadata: { name: 's' } })).toThrow(/data\.password: must be base64/);
  });

  it('leaves other kinds and a Secret without data alone', () => {
    const c = cm({ data: { a: '1' } });
    expect(withoutSecretValues(c)).toBe(c);
    expect(withoutSecretValues(secret({}))).toEqual(secret({}));
  });
});
