/**
 * A control plane of its own for the benchmarks that need no node runtime (api, scheduling): a
 * nats-server on loopback (a port and store of its own, one user) and the real `mk control-plane`
 * process serving the api from that store, as `cli` starts them. No root, no network namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectBus, request, type Bus } from '../../bus';
import { API } from '../../messages';
import { startNatsServer, type NatsServer } from '../helpers/nats-server';
import { until } from '../helpers/wait';

// The repository root, from the sources (test/bench) or the build (dist/test/bench).
const ROOT = ((d) => (path.basename(d) === 'dist' ? path.dirname(d) : d))(path.join(__dirname, '..', '..'));
/** The CLI entry point of this build. */
export const BIN = path.join(ROOT, 'bin', 'run.js');
const USER = 'admin';
const PASS = 'bench';

/** A running nats-server and control plane, and a connection to them. */
export interface ControlPlaneEnv {
  nats: NatsServer;
  /** The data directory (context file, control plane data). */
  dir: string;
  /** The control plane process's pid (its /proc/<pid>/status tells its memory). */
  cpPid: number;
  /** A connection with the one user the server knows (JetStream included, for baselines). */
  bus: Bus;
  /** Connection options for more connections (hollow nodes). */
  connect: { servers: string[]; user: string; pass: string };
  /** The control plane's dashboard (`http://127.0.0.1:<port>/`), when asked for. */
  dashboardUrl?: string;
  /** `ws://127.0.0.1:<port>` of the nats-server's websocket listener, when asked for. */
  websocketUrl?: string;
  /** Closes the connection, stops the control plane (SIGTERM, SIGKILL after 10 s) and the server, removes `dir`. */
  stop(): Promise<void>;
}

/** A free loopback port (closed again before it is used: taken in between is unlikely). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Stops `child` by its pid: SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, graceMs, 'late'); });
  if (await Promise.race([exited, late]) === 'late') { child.kill('SIGKILL'); await exited; }
  clearTimeout(timer);
}

/** How a benchmark wants its control plane and server. */
export interface ControlPlaneEnvOptions {
  /**
   * Run the control plane under `node --cpu-prof`, writing its profile (a .cpuprofile that
   * Chrome's DevTools or speedscope open) into this directory when it exits.
   */
  cpuProfDir?: string;
  /** Open nats-server's monitoring port (ControlPlaneEnv.nats.monitorUrl), to count messages. */
  monitor?: boolean;
  /** More environment for the control plane (MK_ACTOR_TELEMETRY=off, ...), over this process's. */
  env?: NodeJS.ProcessEnv;
  /**
   * Serve the dashboard (ControlPlaneEnv.dashboardUrl): the server also knows the control plane's
   * and the dashboard's users, and the data directory has their credentials, as `mk up` makes them.
   */
  dashboard?: boolean;
  /** Open a plain websocket listener on the nats-server too (ControlPlaneEnv.websocketUrl). */
  websocket?: boolean;
}

/**
 * Starts a nats-server and `mk control-plane` on it and waits until the api answers. Throws
 * (after stopping what it started) when either does not come up within a minute.
 */
export async function startControlPlaneEnv(name: string, opts: ControlPlaneEnvOptions = {}): Promise<ControlPlaneEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mk-bench-${name}-`));
  // The roles a dashboard needs, as in credentials.json (passwords of 16 characters or more).
  const roles = opts.dashboard ? ['control-plane', 'dashboard', 'dashboard-write'].map((user) => ({ user, pass: `${user}-${randomBytes(12).toString('hex')}` })) : [];
  const websocketPort = opts.websocket ? await freePort() : undefined;
  const nats = await startNatsServer({ user: USER, pass: PASS, monitor: opts.monitor, moreUsers: roles, websocketPort });
  const connect = { servers: [nats.url], user: USER, pass: PASS };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...connect, nodeName: 'bench' }), { mode: 0o600 });
  let dashboardPort: number | undefined;
  if (opts.dashboard) {
    const users = Object.fromEntries(roles.map((r) => [r.user, r.pass]));
    fs.writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ port: nats.port, nodeName: 'bench', users }), { mode: 0o600 });
    dashboardPort = await freePort();
  }
  // MK_BENCH_CP_NODE_ARGS: node flags for the control plane only (`--cpu-prof --cpu-prof-dir=DIR` profiles it).
  const nodeArgs = (process.env.MK_BENCH_CP_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const prof = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(opts.cpuProfDir)] : [];
  const dash = dashboardPort !== undefined ? ['--dashboard-port', String(dashboardPort)] : [];
  const cp = spawn(process.execPath, [...nodeArgs, ...prof, BIN, 'control-plane', '--data-dir', dir, ...dash], {
    env: { ...process.env, ...opts.env, MK_HOME: dir, MK_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let cpErr = '';
  cp.stderr?.on('data', (b: Buffer) => { cpErr = (cpErr + b.toString()).slice(-4000); });
  let bus: Bus | undefined;
  const cleanup = async () => {
    await bus?.close().catch(() => undefined);
    await stopChild(cp, 10_000);
    await nats.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    bus = await connectBus({ ...connect, name: `mk-bench-${name}` });
    const b = bus;
    await until('the control plane to answer mk.api.list', async () => {
      if (cp.exitCode !== null) throw new Error(`the control plane exited (${cp.exitCode}): ${cpErr}`);
      await request(b, API.list, { kind: 'namespaces' }, { timeoutMs: 2_000 });
      return true;
    }, 60_000, 100);
    if (dashboardPort !== undefined) {
      const url = `http://127.0.0.1:${dashboardPort}/healthz`;
      await until('the dashboard to answer /healthz', async () => (await fetch(url).catch(() => undefined))?.ok === true, 60_000, 100);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    nats, dir, cpPid: cp.pid ?? -1, bus, connect, stop: cleanup,
    ...(dashboardPort !== undefined ? { dashboardUrl: `http://127.0.0.1:${dashboardPort}/` } : {}),
    ...(websocketPort !== undefined ? { websocketUrl: `ws://127.0.0.1:${websocketPort}` } : {}),
  };
}
