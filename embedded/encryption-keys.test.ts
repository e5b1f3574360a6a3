import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateKey, KeyRing } from '../bus/secret-envelope';
import { prepareClusterFiles } from './credentials';
import { encryptionKeysFile, ensureEncryptionKeys, readEncryptionKeys } from './encryption-keys';
import { clusterPaths } from './paths';

const te = new TextEncoder();
let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-keys-'));
  file = encryptionKeysFile(clusterPaths(dir));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the encryption key file', () => {
  it('lives in the data directory', () => {
    expect(file).toBe(path.join(dir, 'encryption-keys.json'));
  });

  it('is made once, 0600, and read back the same afterwards', () => {
    expect(readEncryptionKeys(file)).toBeUndefined();
    const made = ensureEncryptionKeys(file);
    expect(made.created).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const again = ensureEncryptionKeys(file);
    expect(again.created).toBe(false);
    expect(again.keys.ids()).toEqual(made.keys.ids());
    // The same key: what one process seals, another opens.
    const sealed = made.keys.seal('secrets.default.a', te.encode('{}'));
    expect(new TextDecoder().decode(again.keys.open('secrets.default.a', sealed))).toBe('{}');
    expect(fs.readdirSync(dir)).toEqual(['encryption-keys.json']);
  });

  it('is never overwritten by a process that lost the race to make it', () => {
    // The winner's file appears after this process found none: its link fails, it reads the winner's.
    fs.writeFileSync(file, JSON.stringify({ keys: [{ id: 'winner', secret: Buffer.alloc(32, 7).toString('base64') }] }));
    const spy = jest.spyOn(fs, 'readFileSync');
    spy.mockImplementationOnce(() => { throw Object.assign(new Error('gone'), { code: 'ENOENT' }); });
    const lost = ensureEncryptionKeys(file);
    spy.mockRestore();
    expect(lost.created).toBe(false);
    expect(lost.keys.ids()).toEqual(['winner']);
    expect(fs.readdirSync(dir)).toEqual(['encryption-keys.json']);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).keys[0].secret).toBe(Buffer.alloc(32, 7).toString('base64'));
  });

  it('holds several keys, newest first, for rotation', () => {
    const [a, b] = [generateKey('new'), generateKey('old')];
    const old = new KeyRing([b]).seal('secrets.default.a', te.encode('{"x":1}'));
    fs.writeFileSync(file, JSON.stringify({ keys: [a, b].map((k) => ({ id: k.id, secret: Buffer.from(k.secret).toString('base64') })) }));
    const ring = readEncryptionKeys(file)!;
    expect(ring.current).toBe('new');
    expect(ring.source).toBe(file);
    expect(new TextDecoder().decode(ring.open('secrets.default.a', old))).toBe('{"x":1}');
  });

  it('names the file when it is not usable', () => {
    fs.writeFileSync(file, '{nope');
    expect(() => readEncryptionKeys(file)).toThrow(`the encryption key file ${file} is not valid JSON`);
    expect(() => ensureEncryptionKeys(file)).toThrow(file);
    fs.writeFileSync(file, JSON.stringify({ keys: [] }));
    expect(() => readEncryptionKeys(file)).toThrow(`the encryption key file ${file} is invalid: keys: it must hold at least one key`);
    fs.writeFileSync(file, JSON.stringify({ keys: [{ id: 'k', secret: 'c2hvcnQ=' }] }));
    expect(() => readEncryptionKeys(file)).toThrow(`${file}: key k must be 32 bytes (AES-256), not 5`);
    fs.writeFileSync(file, JSON.stringify({ keys: [{ id: 'k', secret: Buffer.alloc(32).toString('base64'), extra: 1 }] }));
    expect(() => readEncryptionKeys(file)).toThrow(/keys\.0: Unrecognized key/);
  });
});

describe('mk up', () => {
  it('makes the key file with a new cluster, and leaves an existing cluster\'s to its control plane', () => {
    prepareClusterFiles(clusterPaths(dir), { nodeName: 'n1', port: 4335 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const ids = readEncryptionKeys(file)!.ids();
    prepareClusterFiles(clusterPaths(dir), { nodeName: 'n1' });
    expect(readEncryptionKeys(file)!.ids()).toEqual(ids);
    // Resumed without it: only a control plane, which first checks the store, may make one.
    fs.rmSync(file);
    prepareClusterFiles(clusterPaths(dir), { nodeName: 'n1' });
    expect(fs.existsSync(file)).toBe(false);
  });
});
