/**
 * Functions' code in the object store (bus/function-code.ts) on a real nats-server with the
 * credentials and permissions `mk up` writes: the CLI's identity uploads (once per digest) and
 * downloads, a node only downloads, the dashboard does neither; downloads are checked against
 * their digest. Every refusal happens while the bucket holds the code, so it can only come from
 * the permissions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { AckPolicy } from '@nats-io/jetstream';
import { connectBus, type Bus } from '../../../bus';
import { getCode, hasCode, openCodeBucket, pack, putCode, unpack, type CodeBucket, type PackedCode } from '../../../bus/function-code';
import { setLogLevel } from '../../../common/log';
import { natsConfig, prepareClusterFiles, randomPassword, type Credentials } from '../../../embedded/credentials';
import { clusterPaths } from '../../../embedded/paths';
import { findNatsServer, waitForPort } from '../../../embedded/supervise';
import { tlsPaths } from '../../../embedded/tls';
import { isNotFound, isValidation } from '../../../messages';
import { FUNCTION_CODE_BUCKET } from '../../../messages/subjects';
import { caught, terminate } from '../../helpers/nats-server';

jest.setTimeout(60_000);

let dir: string;
let creds: Credentials;
let caFile: string;
let server: ChildProcess;
const buses: Bus[] = [];
let cpBucket: CodeBucket;
let code: PackedCode;

const freePort = (): Promise<number> => new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => resolve(p));
  });
});

const connectAs = async (user: string): Promise<Bus> => {
  const bus = await connectBus({
    servers: `nats://127.0.0.1:${creds.port}`, user, pass: creds.users[user], name: `test-${user}`, timeoutMs: 3000, checkJetStream: user === 'control-plane', caFile,
  });
  buses.push(bus);
  return bus;
};

const refusal = (err: unknown): string => String(err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : err);

beforeAll(async () => {
  setLogLevel('silent'); // the permission violations below are expected, and logged by the bus
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fn-code-it-'));
  const paths = clusterPaths(dir);
  creds = prepareClusterFiles(paths, { nodeName: 'n1', port: await freePort() });
  creds.users['node-n2'] = randomPassword();
  creds.users['node-n3'] = randomPassword();
  caFile = tlsPaths(dir).caCert;
  fs.writeFileSync(paths.natsConf, natsConfig(paths, creds));
  server = spawn(findNatsServer()!, ['-c', paths.natsConf], { stdio: 'ignore' });
  await waitForPort(creds.port, 15_000);
  const cp = await connectAs('control-plane');
  cpBucket = await openCodeBucket(cp.nc, { create: true });
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(src, 'add.py'), 'def handler(event):\n    return {"sum": event["a"] + event["b"]}\n');
  // Several chunks, so that downloads go through flow control.
  fs.writeFileSync(path.join(src, 'lib', 'blob.bin'), randomBytes(3 * 1024 * 1024));
  code = pack(src);
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  if (server) await terminate(server);
  fs.rmSync(dir, { recursive: true, force: true });
  setLogLevel('info');
});

describe('the CLI', () => {
  it('uploads code once per digest and downloads it checked', async () => {
    const admin = await openCodeBucket((await connectAs('admin')).nc);
    expect(await hasCode(admin, code.digest)).toBe(false);
    expect(await putCode(admin, code)).toBe(true);
    expect(await hasCode(admin, code.digest)).toBe(true);
    expect(await putCode(admin, code)).toBe(false);
    expect((await cpBucket.os.info(code.digest))?.revision).toBeDefined();
    const got = await getCode(admin, code.digest);
    expect(Buffer.from(got).equals(Buffer.from(code.bytes))).toBe(true);
    const out = path.join(dir, 'out-admin');
    unpack(got, out);
    expect(fs.readFileSync(path.join(out, 'add.py'), 'utf8')).toContain('def handler(event)');
  });

  it('cannot upload bytes under another digest, nor a digest of the wrong shape', async () => {
    const admin = await openCodeBucket((await connectAs('admin')).nc);
    const forged = `sha256:${'0'.repeat(64)}`;
    expect(isValidation(await caught(putCode(admin, { bytes: code.bytes, digest: forged })))).toBe(true);
    expect(await hasCode(admin, forged)).toBe(false);
    expect(isValidation(await caught(getCode(admin, 'latest')))).toBe(true);
    expect(isNotFound(await caught(getCode(admin, forged)))).toBe(true);
  });
});

describe('a node', () => {
  it('downloads code, and may not upload any', async () => {
    const node = await openCodeBucket((await connectAs('node-n1')).nc);
    expect(Buffer.from(await getCode(node, code.digest)).equals(Buffer.from(code.bytes))).toBe(true);
    const other = pack(path.join(dir, 'src', 'add.py'));
    expect(refusal(await caught(putCode(node, other)))).toMatch(/permission/i);
    expect(await hasCode(cpBucket, other.digest)).toBe(false);
  });

  it('may not delete code, purge the bucket or delete it', async () => {
    const nodeBus = await connectAs('node-n2');
    const node = await openCodeBucket(nodeBus.nc);
    expect(refusal(await caught(node.os.delete(code.digest)))).toMatch(/permission/i);
    expect(refusal(await caught(nodeBus.jsm.streams.purge(`OBJ_${FUNCTION_CODE_BUCKET}`)))).toMatch(/permission/i);
    expect(refusal(await caught(nodeBus.jsm.streams.delete(`OBJ_${FUNCTION_CODE_BUCKET}`)))).toMatch(/permission/i);
    expect(await hasCode(cpBucket, code.digest)).toBe(true);
  });

  it('may not create a consumer on the code stream (whose deliver subject could be any subject)', async () => {
    const nodeBus = await connectAs('node-n3');
    const stream = `OBJ_${FUNCTION_CODE_BUCKET}`;
    expect(refusal(await caught(nodeBus.jsm.consumers.add(stream, { deliver_subject: 'mk.api.node.n1.heartbeat' })))).toMatch(/permission/i);
    expect(refusal(await caught(nodeBus.jsm.consumers.add(stream, { durable_name: 'kept', ack_policy: AckPolicy.Explicit })))).toMatch(/permission/i);
    // Its reads need none: code of many chunks is still downloaded whole.
    const big = path.join(dir, 'big');
    fs.mkdirSync(big);
    fs.writeFileSync(path.join(big, 'blob.bin'), randomBytes(700 * 1024));
    const packed = pack(big);
    await putCode(await openCodeBucket((await connectAs('admin')).nc), packed);
    const got = await getCode(await openCodeBucket(nodeBus.nc), packed.digest);
    expect(Buffer.from(got).equals(Buffer.from(packed.bytes))).toBe(true);
  });
});

describe('the dashboard', () => {
  it('can neither read nor write code', async () => {
    for (const user of ['dashboard', 'dashboard-write']) {
      const dashboard = await openCodeBucket((await connectAs(user)).nc);
      expect(refusal(await caught(getCode(dashboard, code.digest)))).toMatch(/permission/i);
      expect(refusal(await caught(putCode(dashboard, pack(path.join(dir, 'src', 'add.py')))))).toMatch(/permission/i);
    }
  });
});

describe('a download', () => {
  it('refuses bytes that do not hash to their name', async () => {
    const bad = `sha256:${'1'.repeat(64)}`;
    await cpBucket.os.putBlob({ name: bad }, new TextEncoder().encode('not the code'));
    const admin = await openCodeBucket((await connectAs('admin')).nc);
    const err = await caught(getCode(admin, bad));
    expect(isValidation(err)).toBe(true);
    expect((err as Error).message).toMatch(/is corrupt: its bytes hash to sha256:/);
  });
});
