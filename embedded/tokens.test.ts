import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  createToken, deleteToken, generateToken, hashSecret, listTokens, parseToken, parseTtl, readTokens, tokensFile, verifyToken,
} from './tokens';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-tokens-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('token form', () => {
  it('parses id.secret and refuses anything else', () => {
    expect(parseToken('abcdef.0123456789abcdef')).toEqual({ id: 'abcdef', secret: '0123456789abcdef' });
    for (const bad of ['abcdef0123456789abcdef', 'ABCDEF.0123456789abcdef', 'abcde.0123456789abcdef', 'abcdef.0123456789abcde', 'abcdef.0123456789abcdeg.x', '']) {
      expect(() => parseToken(bad)).toThrow(/invalid token: expected the form abcdef\.0123456789abcdef/);
    }
  });

  it('generates well-formed, different tokens', () => {
    const a = generateToken();
    expect(parseToken(a).id).toHaveLength(6);
    expect(generateToken()).not.toBe(a);
  });

  it('reads time to live as kubeadm does', () => {
    expect(parseTtl('24h')).toBe(24 * 3600_000);
    expect(parseTtl('1h30m')).toBe(90 * 60_000);
    expect(parseTtl('45s')).toBe(45_000);
    expect(parseTtl('0')).toBe(0);
    for (const bad of ['', '24', 'h', '1d', '-1h', '1.5h']) expect(() => parseTtl(bad)).toThrow(/invalid --ttl/);
  });
});

describe('the token store', () => {
  it('keeps only the hash of the secret, in a 0600 file', () => {
    const { token, stored } = createToken(dir, { ttlMs: 3600_000, description: 'for n2', now: T0 });
    const { id, secret } = parseToken(token);
    expect(stored).toEqual({ id, secretSha256: hashSecret(secret), description: 'for n2', created: '2026-01-01T00:00:00.000Z', expires: '2026-01-01T01:00:00.000Z' });
    const text = fs.readFileSync(tokensFile(dir), 'utf8');
    expect(text).not.toContain(secret);
    expect(fs.statSync(tokensFile(dir)).mode & 0o777).toBe(0o600);
    expect(readTokens(dir)).toEqual([stored]);
  });

  it('verifies a good token and refuses a wrong, unknown or expired one', () => {
    const { token } = createToken(dir, { ttlMs: 3600_000, now: T0 });
    const { id, secret } = parseToken(token);
    expect(verifyToken(dir, token, T0 + 1000).id).toBe(id);
    const wrong = `${id}.${secret.slice(0, 15)}${secret[15] === 'a' ? 'b' : 'a'}`;
    expect(() => verifyToken(dir, wrong, T0)).toThrow(`token "${id}" is not valid: unknown id or wrong secret`);
    expect(() => verifyToken(dir, 'zzzzzz.0123456789abcdef', T0)).toThrow('token "zzzzzz" is not valid');
    expect(() => verifyToken(dir, token, T0 + 3600_000)).toThrow(`token "${id}" expired at 2026-01-01T01:00:00.000Z`);
  });

  it('never expires a token made with ttl 0', () => {
    const { token, stored } = createToken(dir, { ttlMs: 0, now: T0 });
    expect(stored.expires).toBeUndefined();
    expect(verifyToken(dir, token, T0 + 10 * 365 * 24 * 3600_000).id).toBe(stored.id);
  });

  it('lists live tokens, drops expired ones at the next write, and deletes by id or token', () => {
    const a = createToken(dir, { ttlMs: 1000, token: 'aaaaaa.0123456789abcdef', now: T0 });
    const b = createToken(dir, { ttlMs: 0, token: 'bbbbbb.0123456789abcdef', now: T0 });
    expect(listTokens(dir, T0).map((t) => t.id)).toEqual(['aaaaaa', 'bbbbbb']);
    expect(listTokens(dir, T0 + 1000).map((t) => t.id)).toEqual(['bbbbbb']);
    expect(() => createToken(dir, { ttlMs: 0, token: b.token, now: T0 })).toThrow('a token with id "bbbbbb" already exists');
    createToken(dir, { ttlMs: 0, token: 'cccccc.0123456789abcdef', now: T0 + 2000 });
    expect(readTokens(dir).map((t) => t.id)).toEqual(['bbbbbb', 'cccccc']);
    expect(() => deleteToken(dir, a.token, T0 + 2000)).toThrow('token "aaaaaa" not found');
    deleteToken(dir, 'bbbbbb', T0 + 2000);
    deleteToken(dir, 'cccccc.0123456789abcdef', T0 + 2000);
    expect(readTokens(dir)).toEqual([]);
    expect(() => deleteToken(dir, 'ABC', T0)).toThrow('invalid token id "ABC"');
  });

  it('names a malformed store', () => {
    fs.writeFileSync(tokensFile(dir), '{"tokens":[{"id":"x"}]}');
    expect(() => readTokens(dir)).toThrow(/tokens\.json is invalid: tokens\.0\.id/);
  });
});
