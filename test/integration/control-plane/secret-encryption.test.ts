/**
 * Secrets encrypted at rest, against a real nats-server and control plane: a Secret created
 * through the api is stored sealed (its raw KV entry, read with an admin connection, holds no
 * plaintext in any revision) while the api returns its data; a Secret stored in clear before is
 * sealed by the leader, and its revision in clear purged from the history; a rotated key re-seals every Secret; a control plane whose keys cannot
 * open the stored Secrets, or that made a key other than the one the store recorded first,
 * refuses to start, naming the key file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kvm, type KV } from '@nats-io/kv';
import {
  connectBus, ENVELOPE_PREFIX, generateKey, isEncryptionError, KeyRing, ObjectStore, request, sealedKeyId, type Bus,
} from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { encryptionKeysFile, ensureEncryptionKeys, startWithEncryptionKeys } from '../../../embedded/encryption-keys';
import { clusterPaths } from '../../../embedded/paths';
import { API, META_BUCKET, OBJECTS_BUCKET, type ApplyResult, type GetResult, type Secret } from '../../../messages';
import { caught, startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(60_000);

const td = new TextDecoder();
const PASSWORD = 'hunter2-correct-horse';
const TOKEN = 'tok-battery-staple';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

let server: NatsServer;
let admin: Bus;
let kv: KV;
let dir: string;
let keyFile: string;
let cp: ControlPlane | undefined;

/** The raw value of `key`, every revision the bucket keeps, as text. */
async function rawRevisions(key: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of await kv.history({ key })) if (e.operation === 'PUT') out.push(td.decode(e.value));
  return out;
}

async function start(keys?: KeyRing): Promise<ControlPlane> {
  const c = await runControlPlane({ bus: { servers: server.url, name: 'cp-secrets' }, ...(keys ? { encryptionKeys: keys } : {}), leaseSeconds: 2 });
  await until('the control plane to lead', () => (c.isLeader() ? true : undefined), 20_000, 50);
  return c;
}

const get = async (name: string): Promise<Secret> => (await request<GetResult>(admin, API.get, { kind: 'secrets', name })).object as unknown as Secret;

beforeAll(async () => {
  server = await startNatsServer();
  admin = await connectBus({ servers: server.url, name: 'admin' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-secrets-it-'));
  keyFile = encryptionKeysFile(clusterPaths(dir));
  // A Secret stored in clear, as a cluster from before encryption has them.
  const plain = await ObjectStore.open(admin);
  await plain.create('secrets.default.legacy', {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'legacy', namespace: 'default', uid: 'u-legacy', creationTimestamp: new Date().toISOString() },
    data: { password: b64(PASSWORD) },
  });
  kv = await new Kvm(admin.js).open(OBJECTS_BUCKET);
});

afterAll(async () => {
  await cp?.stop();
  await admin?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Secrets at rest', () => {
  it('are stored sealed when created through the api, and read back through it', async () => {
    const { keys, created } = ensureEncryptionKeys(keyFile);
    expect(created).toBe(true);
    cp = await start(keys);
    const applied = await request<ApplyResult>(admin, API.apply, {
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: b64(PASSWORD) }, stringData: { token: TOKEN } },
    });
    expect(applied.result).toBe('created');
    // Changed once more, so the history holds two revisions.
    await request<ApplyResult>(admin, API.apply, {
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default', labels: { tier: 'db' } }, data: { password: b64(PASSWORD) }, stringData: { token: TOKEN } },
    });
    const raw = await rawRevisions('secrets.default.db');
    expect(raw.length).toBeGreaterThanOrEqual(2);
    for (const r of raw) {
      expect(r.startsWith(`${ENVELOPE_PREFIX}${keys.current}:`)).toBe(true);
      for (const clear of [PASSWORD, b64(PASSWORD), TOKEN, b64(TOKEN), 'password', 'tier']) expect(r).not.toContain(clear);
    }
    const s = await get('db');
    expect(s.data).toEqual({ password: b64(PASSWORD), token: b64(TOKEN) });
    expect(s.metadata.labels).toEqual({ tier: 'db' });
  });

  it('a Secret stored in clear before is sealed by the leader, and still reads the same', async () => {
    const raw = await until('the plain Secret to be sealed', async () => {
      const e = await kv.get('secrets.default.legacy');
      return e && td.decode(e.value).startsWith(ENVELOPE_PREFIX) ? td.decode(e.value) : undefined;
    }, 20_000, 100);
    expect(raw).not.toContain(b64(PASSWORD));
    // The revision in clear is gone from the bucket's history too.
    const history = await rawRevisions('secrets.default.legacy');
    expect(history).toEqual([raw]);
    expect((await get('legacy')).data).toEqual({ password: b64(PASSWORD) });
  });

  it('other kinds stay in clear', async () => {
    await request<ApplyResult>(admin, API.apply, { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { a: 'visible' } } });
    expect(td.decode((await kv.get('configmaps.default.cfg'))!.value)).toContain('visible');
  });

  it('a control plane whose keys cannot open the stored Secrets refuses to start, naming the key file', async () => {
    await cp!.stop();
    cp = undefined;
    const keyless = await caught(runControlPlane({ bus: { servers: server.url, name: 'cp-keyless' } }));
    expect(isEncryptionError(keyless)).toBe(true);
    expect(String(keyless)).toMatch(/stored Secret\(s\) \(secrets\.default\.db, secrets\.default\.legacy\) are encrypted with key\(s\) ".+", but no encryption keys were loaded/);
    const other = await caught(runControlPlane({ bus: { servers: server.url, name: 'cp-other' }, encryptionKeys: new KeyRing([generateKey('other')], '/elsewhere/encryption-keys.json') }));
    expect(isEncryptionError(other)).toBe(true);
    expect(String(other)).toContain('but /elsewhere/encryption-keys.json holds only other: restore the key file');
  });

  it('a control plane started as mk control-plane without its key file refuses to start while the store holds sealed Secrets, and leaves no new file', async () => {
    const moved = `${keyFile}.kept`;
    fs.renameSync(keyFile, moved);
    const said: string[] = [];
    try {
      // As `mk control-plane` starts one (embedded/services.ts).
      const err = await caught(startWithEncryptionKeys(keyFile, (l) => said.push(l), (keys) => runControlPlane({ bus: { servers: server.url, name: 'cp-lost' }, encryptionKeys: keys })));
      expect(said).toEqual([expect.stringMatching(/^made the Secrets' encryption key [0-9a-f]{12} in /)]);
      expect(String(err)).toContain(`the encryption key file ${keyFile} is missing, but the store holds Secrets encrypted with a key it held`);
      expect(fs.existsSync(keyFile)).toBe(false);
    } finally {
      fs.renameSync(moved, keyFile);
    }
  });

  it('a rotated key (the new one in front, the old one kept) re-seals every Secret at the leader\'s start', async () => {
    const file = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as { keys: { id: string; secret: string }[] };
    const fresh = generateKey('rotated');
    file.keys.unshift({ id: fresh.id, secret: Buffer.from(fresh.secret).toString('base64') });
    fs.writeFileSync(keyFile, JSON.stringify(file));
    const { keys } = ensureEncryptionKeys(keyFile);
    expect(keys.ids()).toEqual(['rotated', file.keys[1].id]);
    cp = await start(keys);
    for (const key of ['secrets.default.db', 'secrets.default.legacy']) {
      await until(`${key} sealed with the new key`, async () => {
        const e = await kv.get(key);
        return e && sealedKeyId(e.value) === 'rotated' ? true : undefined;
      }, 20_000, 100);
    }
    // The store's record of the cluster's key follows the rotation.
    const canary = await (await new Kvm(admin.js).open(META_BUCKET)).get(`${OBJECTS_BUCKET}.encryption-canary`);
    expect(sealedKeyId(canary!.value)).toBe('rotated');
    // No revision under the old key stays in the history.
    for (const key of ['secrets.default.db', 'secrets.default.legacy']) {
      expect((await rawRevisions(key)).map((r) => sealedKeyId(new TextEncoder().encode(r)))).toEqual(['rotated']);
    }
    expect((await get('db')).data).toEqual({ password: b64(PASSWORD), token: b64(TOKEN) });
    expect((await get('legacy')).data).toEqual({ password: b64(PASSWORD) });
  });

  it('a control plane on another machine that made a key of its own is refused even before any Secret exists, naming the file to copy', async () => {
    const fresh = await startNatsServer();
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-secrets-other-'));
    const fileA = path.join(elsewhere, 'a', 'encryption-keys.json');
    const fileB = path.join(elsewhere, 'b', 'encryption-keys.json');
    const run = (name: string) => (keys: KeyRing) => runControlPlane({ bus: { servers: fresh.url, name }, encryptionKeys: keys, leaseSeconds: 2 });
    let a: ControlPlane | undefined;
    let b: ControlPlane | undefined;
    try {
      a = await startWithEncryptionKeys(fileA, () => undefined, run('cp-a'));
      await a.stop();
      a = undefined;
      const said: string[] = [];
      const err = await caught(startWithEncryptionKeys(fileB, (l) => said.push(l), run('cp-b')));
      expect(said).toEqual([expect.stringMatching(/^made the Secrets' encryption key /)]);
      expect(String(err)).toContain(`the encryption key file ${fileB} is missing, but the store holds Secrets encrypted with a key it held`);
      expect(String(err)).toContain(`copy the cluster's key file to ${fileB}`);
      expect(fs.existsSync(fileB)).toBe(false);
      // With the cluster's file copied over, it starts.
      fs.mkdirSync(path.dirname(fileB), { recursive: true });
      fs.copyFileSync(fileA, fileB);
      b = await startWithEncryptionKeys(fileB, () => undefined, run('cp-b'));
    } finally {
      await a?.stop();
      await b?.stop();
      await fresh.stop();
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
