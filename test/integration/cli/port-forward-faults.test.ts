/**
 * `mk port-forward` (the built CLI, a process of its own) when its parts die mid-work, against a
 * real nats-server, an api stand-in serving the pod, a node agent's port-forward server in a
 * child process (dist/node-agent/port-forward.js) and a TCP echo server standing in for the pod:
 * - the node agent SIGKILLed with connections open: they end, the CLI says it lost its connection
 *   to the pod and exits 1 (kubectl's behaviour), nothing hangs; with none open, the next
 *   connection finds no node agent and the CLI exits the same way;
 * - the CLI SIGKILLed: the node agent frees its streams (its portforward.list says none) and the
 *   pod's connections close;
 * - nats-server SIGKILLed and restarted: the same as losing the node agent (frames in flight are
 *   lost, so no stream survives it); the agent frees its streams and serves a new CLI afterwards,
 *   and closes them at its reconnect even while the other end still pings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, type Bus } from '../../../bus/connection';
import { request, serve, type Served } from '../../../bus/request';
import { setLogLevel } from '../../../common/log';
import { API, NotFoundError, type KubeObject, type Pod } from '../../../messages';
import {
  decodeFrame, PORT_FORWARD_DEAD_AFTER_MS, portForwardListSubject, portForwardStreamSubject, type Frame, type PortForwardList,
} from '../../../messages/port-forward';
import { PEER_SILENT } from '../../../bus/relay-stream';
import { forwardConnection } from '../../../cli/port-forward';
import { log as nodeLog } from '../../../node-agent/log';
import { servePortForward } from '../../../node-agent/port-forward';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { ensureBuilt, ROOT } from './run-cli';

jest.setTimeout(120_000);

const BIN = path.join(ROOT, 'bin', 'run.js');
const DIST_PF = path.join(ROOT, 'dist', 'node-agent', 'port-forward.js');
const DIST_BUS = path.join(ROOT, 'dist', 'bus', 'connection.js');

// The node agent's port-forward server for node n1, pod default/web at 127.0.0.1; "ready" once served.
const AGENT = `
const { connectBus } = require(process.argv[1]);
const { servePortForward } = require(process.argv[2]);
(async () => {
  const bus = await connectBus({ servers: process.argv[3], name: 'node-n1', checkJetStream: false });
  const pod = { metadata: { name: 'web', namespace: 'default', uid: 'uid-web' }, spec: { nodeName: 'n1', containers: [] } };
  const pf = servePortForward(bus, { nodeName: 'n1', pods: new Map([['default/web', pod]]), podIP: async () => '127.0.0.1' });
  await pf.ready;
  console.log('ready');
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** What a node agent logs when its bus reconnected with streams open (node-agent/port-forward.ts). */
const RECONNECT_CLOSES = 'the bus reconnected: closing the port-forward streams it carried';

let server: NatsServer;
let bus: Bus;
let served: Served[];
let home: string;
let echo: net.Server;
let echoPort: number;
const children: ChildProcess[] = [];
const sockets: net.Socket[] = [];

/** A child with its output and exit; killed (SIGKILL) at the end if still running. */
interface Proc { p: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> }
function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const p = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let out = '';
  let err = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exit = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
  return { p, out: () => out, err: () => err, exit };
}

async function startAgent(): Promise<Proc> {
  const a = start(['-e', AGENT, DIST_BUS, DIST_PF, server.url]);
  await until(`the node agent to serve (${a.err()})`, () => (a.out().includes('ready') ? true : undefined), 20_000);
  return a;
}

/** `mk port-forward pod/web :<echo port>` and its local port once it listens. */
async function startCli(): Promise<Proc & { port: number }> {
  const c = start([BIN, 'port-forward', 'pod/web', `:${echoPort}`], { MK_HOME: home });
  const m = await until(`port-forward to listen (${c.err()})`, () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(c.out()) ?? undefined, 30_000);
  return { ...c, port: Number(m[1]) };
}

/** A connection through the forward, checked with one echo; resolves `closed` when it ends. */
async function connection(port: number): Promise<{ s: net.Socket; closed: Promise<void> }> {
  const s = net.connect({ host: '127.0.0.1', port });
  sockets.push(s);
  s.on('error', () => undefined);
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  let got = '';
  s.on('data', (d: Buffer) => { got += d.toString(); });
  await new Promise<void>((r, j) => { s.once('connect', () => r()); s.once('error', j); });
  s.write('ping');
  await until('the echo through the forward', () => (got === 'ping' ? true : undefined), 10_000);
  return { s, closed };
}

const openStreams = async (): Promise<number> => (await request<PortForwardList>(bus, portForwardListSubject('n1'), {}, { timeoutMs: 2_000 })).streams.length;

/** Connections the echo server (the pod) holds now. */
const podConnections = (): Promise<number> => new Promise((r, j) => echo.getConnections((e, n) => (e ? j(e) : r(n))));

const refused = (port: number): Promise<boolean> => new Promise((r) => {
  const s = net.connect({ host: '127.0.0.1', port });
  s.once('connect', () => { s.destroy(); r(false); });
  s.once('error', () => r(true));
});

beforeAll(async () => {
  setLogLevel('silent');
  ensureBuilt();
  if (!fs.existsSync(DIST_PF)) throw new Error(`${DIST_PF} is missing: run npm run build`);
  server = await startNatsServer();
  bus = await connectBus({ servers: server.url, name: 'pf-faults-test', checkJetStream: false });
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'uid-web' },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] }, status: { phase: 'Running' },
  } as KubeObject;
  served = [serve<{ kind: string; name: string }, { object: KubeObject }>(bus, API.get, async (req) => {
    if (req.kind !== 'pods' || req.name !== 'web') throw new NotFoundError(`${req.kind} "${req.name}" not found`);
    return { object: pod };
  })];
  await Promise.all(served.map((s) => s.ready));
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-pf-faults-'));
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ servers: [server.url], nodeName: 'n1' }), { mode: 0o600 });
  echo = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => undefined); s.pipe(s); });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('close', r));
      c.kill('SIGKILL');
      await gone;
    }
  }
});
afterAll(async () => {
  for (const s of served ?? []) await s.stop();
  await bus?.close();
  await server?.stop();
  echo?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe('mk port-forward under faults', () => {
  it('ends its connections and exits 1 when the node agent is SIGKILLed, and does not hang', async () => {
    const agent = await startAgent();
    const cli = await startCli();
    const a = await connection(cli.port);
    const b = await connection(cli.port);
    expect(await openStreams()).toBe(2);
    agent.p.kill('SIGKILL');
    await agent.exit;
    // The streams fall silent: the dead agent sends nothing, so only the CLI's silence limit
    // (PORT_FORWARD_DEAD_AFTER_MS) can end them, and the CLI names it when it gives up.
    expect(await cli.exit).toBe(1);
    expect(cli.err()).toContain(`error: lost connection to pod default/web on node n1: ${PEER_SILENT} for ${PORT_FORWARD_DEAD_AFTER_MS / 1000} s`);
    await Promise.all([a.closed, b.closed]);
    expect(await refused(cli.port)).toBe(true);
    await until('the pod\'s connections to close', async () => ((await podConnections()) === 0 ? true : undefined), 5_000);
  });

  it('exits 1 at the next connection when the node agent died with none open', async () => {
    const agent = await startAgent();
    const cli = await startCli();
    agent.p.kill('SIGKILL');
    await agent.exit;
    const s = net.connect({ host: '127.0.0.1', port: cli.port });
    sockets.push(s);
    s.on('error', () => undefined);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    expect(await cli.exit).toBe(1);
    await closed;
    expect(cli.err()).toContain('nothing is serving mk.node.n1.portforward');
    expect(cli.err()).toContain('error: lost connection to pod default/web on node n1: nothing serves port-forward on node n1');
  });

  it('frees the node agent\'s streams by their silence limit when the CLI is SIGKILLed', async () => {
    const agent = await startAgent();
    const cli = await startCli();
    // What the agent's side of each stream sends towards the CLI.
    const down: Frame[] = [];
    const spy = bus.nc.subscribe(portForwardStreamSubject('n1', '*', 'down'), { callback: (_e, m) => { down.push(decodeFrame(m.data)); } });
    await bus.nc.flush();
    try {
      const conns = await Promise.all([connection(cli.port), connection(cli.port), connection(cli.port)]);
      expect(await openStreams()).toBe(3);
      expect(await podConnections()).toBe(3);
      cli.p.kill('SIGKILL');
      await cli.exit;
      await until('no stream open on the node', async () => ((await openStreams()) === 0 ? true : undefined), 30_000);
      // The dead CLI said nothing: each stream was ended by the agent's silence limit, which its
      // CLOSE names.
      await until('the agent\'s three CLOSEs', () => (down.filter((f) => f.type === 'close').length >= 3 ? true : undefined), 5_000);
      expect(down.filter((f) => f.type === 'close')).toEqual(Array.from({ length: 3 }, () => ({ type: 'close', reason: `${PEER_SILENT} for ${PORT_FORWARD_DEAD_AFTER_MS / 1000} s` })));
      await until('the pod\'s connections to close', async () => ((await podConnections()) === 0 ? true : undefined), 5_000);
      await Promise.all(conns.map((c) => c.closed));
      expect(agent.p.exitCode).toBeNull();
    } finally {
      spy.unsubscribe();
    }
  });

  it('ends the forward like a lost node agent when nats-server restarts; the agent frees its streams and serves again', async () => {
    await startAgent();
    const cli = await startCli();
    const a = await connection(cli.port);
    expect(await openStreams()).toBe(1);
    server.kill();
    expect(await cli.exit).toBe(1);
    expect(cli.err()).toContain('error: lost connection to pod default/web on node n1: the bus connection was lost');
    await a.closed;
    await server.restart();
    await until('the node agent to answer again with no stream open', async () => {
      try {
        return (await openStreams()) === 0 ? true : undefined;
      } catch {
        return undefined;
      }
    }, 20_000);
    await until('the pod\'s connections to close', async () => ((await podConnections()) === 0 ? true : undefined), 10_000);
    // A new forward through the same agent works.
    const again = await startCli();
    await connection(again.port);
    expect(await openStreams()).toBe(1);
  });

  it('closes a node\'s streams when its bus reconnects, even while both ends still ping', async () => {
    // Both ends in this process; the node's silence limit is far beyond the outage, so only the
    // reconnect can end its side of the stream, whose frames sent meanwhile are lost.
    const nodeBus = await connectBus({ servers: server.url, name: 'node-n9', checkJetStream: false });
    const cliBus = await connectBus({ servers: server.url, name: 'cli-n9', checkJetStream: false });
    const pod = { metadata: { name: 'web', namespace: 'default', uid: 'uid-web' }, spec: { nodeName: 'n9', containers: [] } } as unknown as Pod;
    const pf = servePortForward(nodeBus, { nodeName: 'n9', pods: new Map([['default/web', pod]]), podIP: async () => '127.0.0.1', pingMs: 200, deadAfterMs: 60_000 });
    const warn = jest.spyOn(nodeLog, 'warn');
    try {
      await pf.ready;
      const local = net.createServer({ allowHalfOpen: true });
      await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
      const accepted = new Promise<net.Socket>((r) => local.once('connection', r));
      const client = net.connect({ port: (local.address() as net.AddressInfo).port, host: '127.0.0.1' });
      sockets.push(client);
      client.on('error', () => undefined);
      const near = await accepted;
      local.close();
      const relay = await forwardConnection(cliBus, 'n9', { namespace: 'default', pod: 'web', port: echoPort }, near, { pingMs: 200, deadAfterMs: 3_000 });
      expect(pf.streams()).toHaveLength(1);
      server.kill();
      await server.restart();
      await until('the node to close its stream', () => (pf.streams().length === 0 ? true : undefined), 45_000);
      // Closed by the reconnect (the only other way, its 60 s silence limit, is far off).
      expect(warn.mock.calls.filter((c) => c[1] === RECONNECT_CLOSES)).toEqual([[{ node: 'n9', streams: 1 }, RECONNECT_CLOSES]]);
      // The CLI's side ends too, rather than stalling: by the node's CLOSE when its own connection
      // is back in time to hear it, else by the node's silence.
      await expect(relay.done).resolves.toMatch(/the bus connection was lost|no word from the other end for 3 s/);
    } finally {
      warn.mockRestore();
      await pf.stop();
      await nodeBus.close();
      await cliBus.close();
    }
  });
});
