/**
 * Joining a machine (embedded/join.ts, join-client.ts) against a real nats-server with the TLS,
 * config and pid file `mk up` makes: the join service of the control plane, the CLI's token
 * commands and `mk node-agent --join --join-only`. A joined node acts for itself only; a wrong or
 * expired token and a wrong CA pin are refused with a clear message and nothing is written; a
 * client without the cluster's CA cannot connect at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, request, serve, type Bus } from '../../../bus';
import { setLogLevel } from '../../../common/log';
import { busAuth, readContext } from '../../../embedded/context';
import { prepareClusterFiles, type Credentials } from '../../../embedded/credentials';
import { serveJoin } from '../../../embedded/join';
import { joinCluster } from '../../../embedded/join-client';
import { joinedNodesFile, readJoinedNodes } from '../../../embedded/joined-nodes';
import { clusterPaths, type ClusterPaths } from '../../../embedded/paths';
import { writePid } from '../../../embedded/processes';
import { findNatsServer, waitForPort } from '../../../embedded/supervise';
import { caCertHash, tlsPaths } from '../../../embedded/tls';
import { createToken } from '../../../embedded/tokens';
import {
  isAlreadyExists, isForbidden, NODE_PODS_BUCKET, nodeApiSubject, nodeSubject, type KubeObject,
} from '../../../messages';
import { caught, startNatsServer, terminate } from '../../helpers/nats-server';
import { ensureBuilt, runCli } from '../cli/run-cli';

jest.setTimeout(60_000);

let dir: string;
let paths: ClusterPaths;
let creds: Credentials;
let server: ChildProcess;
let cp: Bus;
let url: string;
let pin: string;
const buses: Bus[] = [];
const tmp: string[] = [];
const heartbeats: string[] = [];

const freePort = (): Promise<number> => new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => resolve(p));
  });
});

/** A fresh data directory for a joining machine (not created: joining creates it). */
const machineDir = (): string => {
  const d = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mk-joiner-')), 'data');
  tmp.push(path.dirname(d));
  return d;
};

const stateOfCluster = (): string => [
  fs.existsSync(joinedNodesFile(dir)) ? fs.readFileSync(joinedNodesFile(dir), 'utf8') : '',
  fs.readFileSync(paths.natsConf, 'utf8'),
].join('\n');

beforeAll(async () => {
  setLogLevel('silent');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-join-it-'));
  paths = clusterPaths(dir);
  creds = prepareClusterFiles(paths, { nodeName: 'n1', port: await freePort() });
  url = `nats://127.0.0.1:${creds.port}`;
  pin = caCertHash(fs.readFileSync(tlsPaths(dir).caCert));
  server = spawn(findNatsServer()!, ['-c', paths.natsConf], { stdio: 'ignore' });
  writePid(paths.pid('nats'), server.pid!);
  await waitForPort(creds.port, 15_000);
  cp = await connectBus({ ...busAuth(readContext(dir)), user: 'control-plane', pass: creds.users['control-plane'], name: 'test-cp' });
  buses.push(cp);
  const served = serveJoin(cp, { dataDir: dir });
  // The node api, answered for every node: only the bus can refuse a node acting for another.
  const hb = serve(cp, 'mk.api.node.*.heartbeat', async (_req, msg) => { heartbeats.push(msg.subject); return {}; });
  await Promise.all([served.ready, hb.ready]);
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  if (server) await terminate(server);
  for (const d of [dir, ...tmp]) fs.rmSync(d, { recursive: true, force: true });
  setLogLevel('info');
});

describe('TLS', () => {
  it('refuses a client without the cluster CA, and a client that wants no TLS', async () => {
    const admin = { servers: url, user: 'admin', pass: creds.users.admin, name: 'no-ca', timeoutMs: 3000, checkJetStream: false };
    const err = await caught(connectBus(admin));
    expect(String(err)).toMatch(/certificate/i);
    const plain = await caught(new Promise<void>((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port: creds.port });
      let info = '';
      sock.on('data', (d) => {
        info += d.toString();
        if (!info.includes('\r\n')) return;
        sock.write(`CONNECT {"user":"admin","pass":${JSON.stringify(creds.users.admin)},"verbose":true}\r\nPING\r\n`);
        sock.on('data', (more) => { if (/^PONG/m.test(more.toString())) resolve(); });
      });
      sock.on('close', () => reject(new Error(`closed: ${info.split('\r\n')[0].includes('"tls_required":true') ? 'tls required' : 'no tls'}`)));
      sock.on('error', reject);
    }));
    expect(String(plain)).toContain('tls required');
  });
});

describe('a join', () => {
  it('to a bus without TLS, or to nothing, is refused with what was found', async () => {
    const plain = await startNatsServer();
    try {
      const d = machineDir();
      const err = await caught(joinCluster({ url: plain.url, token: 'abcdef.0123456789abcdef', caCertHash: pin, nodeName: 'n2', dataDir: d }));
      expect((err as Error).message).toBe(`the bus at 127.0.0.1:${plain.port} does not use TLS: it is not a mk cluster that can be joined`);
      expect(fs.existsSync(d)).toBe(false);
    } finally {
      await plain.stop();
    }
    const closed = await freePort();
    const err = await caught(joinCluster({ url: `nats://127.0.0.1:${closed}`, token: 'abcdef.0123456789abcdef', caCertHash: pin, nodeName: 'n2', dataDir: machineDir() }));
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach the bus at 127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`));
  });

  it('with a wrong CA pin is refused before any token is sent, and writes nothing', async () => {
    const { token } = createToken(dir, { ttlMs: 3600_000 });
    const before = stateOfCluster();
    const d = machineDir();
    const wrong = `sha256:${'0'.repeat(64)}`;
    const err = await caught(joinCluster({ url, token, caCertHash: wrong, nodeName: 'n2', dataDir: d }));
    expect((err as Error).message).toBe(`the CA of the bus at 127.0.0.1:${creds.port} has hash ${pin}, not ${wrong}: refusing to join (wrong cluster, or something in between)`);
    expect(fs.existsSync(d)).toBe(false);
    expect(stateOfCluster()).toBe(before);
  });

  it('with a wrong or unknown token is refused, and writes nothing', async () => {
    const { token } = createToken(dir, { ttlMs: 3600_000 });
    const before = stateOfCluster();
    const d = machineDir();
    const wrongSecret = `${token.slice(0, 7)}${token.endsWith('a') ? 'b'.repeat(16) : 'a'.repeat(16)}`;
    const err = await caught(joinCluster({ url, token: wrongSecret, caCertHash: pin, nodeName: 'n2', dataDir: d }));
    expect(isForbidden(err)).toBe(true);
    expect((err as Error).message).toBe(`join refused: token "${token.slice(0, 6)}" is not valid: unknown id or wrong secret (mk token list shows the cluster's tokens)`);
    expect(fs.existsSync(d)).toBe(false);
    expect(stateOfCluster()).toBe(before);
  });

  it('with an expired token is refused, and writes nothing', async () => {
    const { token, stored } = createToken(dir, { ttlMs: 1000, now: Date.now() - 60_000 });
    const before = stateOfCluster();
    const d = machineDir();
    const err = await caught(joinCluster({ url, token, caCertHash: pin, nodeName: 'n2', dataDir: d }));
    expect(isForbidden(err)).toBe(true);
    expect((err as Error).message).toBe(`join refused: token "${stored.id}" expired at ${stored.expires}: make a new one with mk token create`);
    expect(fs.existsSync(d)).toBe(false);
    expect(stateOfCluster()).toBe(before);
  });

  describe('with a good token', () => {
    let n2: Bus;
    let d: string;
    let token: string;
    beforeAll(async () => {
      token = createToken(dir, { ttlMs: 3600_000 }).token;
      d = machineDir();
      const ctx = await joinCluster({ url, token, caCertHash: pin, nodeName: 'n2', dataDir: d });
      expect(ctx).toEqual({ servers: [url], nodeName: 'n2', caFile: path.join(d, 'tls', 'ca.crt'), nkeyFile: path.join(d, 'node.nkey') });
      n2 = await connectBus({ ...busAuth(readContext(d)), name: 'test-n2' });
      buses.push(n2);
    });

    it('writes the node\'s own key (0600) and the cluster CA, and the cluster keeps only the public key', () => {
      expect(fs.statSync(path.join(d, 'node.nkey')).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(d, 'tls', 'ca.crt'), 'utf8')).toBe(fs.readFileSync(tlsPaths(dir).caCert, 'utf8'));
      const seed = fs.readFileSync(path.join(d, 'node.nkey'), 'utf8').trim();
      expect(seed).toMatch(/^SU/);
      const joined = readJoinedNodes(dir);
      expect(Object.keys(joined)).toEqual(['n2']);
      expect(stateOfCluster()).not.toContain(seed);
      expect(fs.readFileSync(paths.natsConf, 'utf8')).toContain(`nkey: "${joined.n2.nkey}"`);
    });

    it('heartbeats its own node, and cannot act for another node', async () => {
      await request(n2, nodeApiSubject('n2', 'heartbeat'), {});
      expect(isForbidden(await caught(request(n2, nodeApiSubject('n1', 'heartbeat'), {}, { timeoutMs: 2000 })))).toBe(true);
      expect(heartbeats).toEqual([nodeApiSubject('n2', 'heartbeat')]);
      expect(isForbidden(await caught(request(n2, nodeSubject('n1', 'exec'), {}, { timeoutMs: 2000 })))).toBe(true);
    });

    it('cannot write the stores', async () => {
      const objects = await ObjectStore.open(cp);
      const views = await ObjectStore.open(cp, { bucket: NODE_PODS_BUCKET, history: 1 });
      const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default' }, spec: {} };
      await views.put('n1.default.x', pod);
      const direct = await ObjectStore.open(n2, { create: false });
      expect(isForbidden(await caught(direct.create('pods.default.forged', pod)))).toBe(true);
      const view = await ObjectStore.open(n2, { bucket: NODE_PODS_BUCKET, create: false });
      expect(isForbidden(await caught(view.put('n1.default.forged', pod)))).toBe(true);
      expect(isForbidden(await caught(view.list('n1.>')))).toBe(true);
      expect(await objects.get('pods.default.forged')).toBeNull();
    });

    it('under a name that has credentials (a joined node\'s, or the local node\'s) is refused', async () => {
      const again = machineDir();
      const err = await caught(joinCluster({ url, token, caCertHash: pin, nodeName: 'n2', dataDir: again }));
      expect(isAlreadyExists(err)).toBe(true);
      expect((err as Error).message).toBe('join refused: node "n2" already has credentials in this cluster; pick another --node-name');
      const local = await caught(joinCluster({ url, token, caCertHash: pin, nodeName: 'n1', dataDir: again }));
      expect(isAlreadyExists(local)).toBe(true);
      expect(fs.existsSync(again)).toBe(false);
      expect(Object.keys(readJoinedNodes(dir))).toEqual(['n2']);
    });
  });
});

describe('the CLI', () => {
  beforeAll(() => ensureBuilt());

  it('creates, lists and deletes tokens, never showing a secret again', async () => {
    const created = await runCli(['token', 'create', '--ttl', '2h', '--description', 'rack 3', '--data-dir', dir]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const id = token.slice(0, 6);
    const list = await runCli(['token', 'list', '--data-dir', dir]);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(token.slice(7));
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TOKEN\s+TTL\s+EXPIRES\s+DESCRIPTION$/);
    const row = lines.find((l) => l.startsWith(id))!;
    expect(row).toMatch(new RegExp(`^${id}\\s+1h\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+rack 3$`));
    expect(lines[0].indexOf('TTL')).toBe(row.indexOf('1h'));
    const json = await runCli(['token', 'list', '-o', 'json', '--data-dir', dir]);
    expect(JSON.parse(json.stdout).tokens.find((t: { id: string }) => t.id === id)).toMatchObject({ id, description: 'rack 3' });
    expect(json.stdout).not.toContain(token.slice(7));
    const del = await runCli(['token', 'delete', id, '--data-dir', dir]);
    expect(del).toMatchObject({ code: 0, stdout: `token "${id}" deleted\n` });
    expect((await runCli(['token', 'list', '--data-dir', dir])).stdout).not.toContain(id);
    const again = await runCli(['token', 'delete', id, '--data-dir', dir]);
    expect(again).toMatchObject({ code: 1, stderr: `error: token "${id}" not found\n` });
  });

  it('refuses a bad ttl and a directory without a cluster', async () => {
    expect(await runCli(['token', 'create', '--ttl', '1d', '--data-dir', dir])).toMatchObject({
      code: 1, stderr: 'error: invalid --ttl "1d": expected a duration such as 24h, 30m, 1h30m or 0 (never expires)\n',
    });
    const empty = machineDir();
    const r = await runCli(['token', 'list', '--data-dir', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: no mk up cluster in ${empty}`);
    // Without --join the agent needs a context; the join flags are not asked for.
    const agent = await runCli(['node-agent', '--data-dir', empty]);
    expect(agent.code).toBe(1);
    expect(agent.stderr).toContain(`error: no cluster context at ${empty}/config.json`);
    const half = await runCli(['node-agent', '--join', url, '--data-dir', empty]);
    expect(half.code).toBe(1);
    expect(half.stderr).toMatch(/--token/);
  });

  it('prints the join command, and mk node-agent --join joins with it', async () => {
    const printed = await runCli(['token', 'create', '--print-join-command', '--data-dir', dir]);
    expect(printed.code).toBe(0);
    const cmd = printed.stdout.trim();
    expect(cmd).toMatch(new RegExp(`^mk node-agent --join ${url} --token [a-z0-9]{6}\\.[a-z0-9]{16} --ca-cert-hash ${pin}$`));
    const d = machineDir();
    const wrongPin = await runCli([...cmd.split(' ').slice(1).map((a) => (a === pin ? `sha256:${'f'.repeat(64)}` : a)), '--node-name', 'n3', '--join-only', '--data-dir', d]);
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toContain(`has hash ${pin}, not sha256:${'f'.repeat(64)}: refusing to join`);
    expect(fs.existsSync(d)).toBe(false);
    const joined = await runCli([...cmd.split(' ').slice(1), '--node-name', 'n3', '--join-only', '--data-dir', d]);
    expect(joined).toMatchObject({ code: 0, stderr: `node n3 joined the cluster at ${url}; its context is ${d}/config.json\n` });
    expect(readContext(d)).toMatchObject({ servers: [url], nodeName: 'n3' });
    expect(Object.keys(readJoinedNodes(dir)).sort()).toEqual(['n2', 'n3']);
  });
});
