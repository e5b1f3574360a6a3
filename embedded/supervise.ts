/**
 * `mk up --foreground`: the supervisor process. It owns run/up.pid, starts nats-server, then
 * `mk control-plane`, then `mk node-agent` as children, and stops them in reverse on SIGTERM,
 * SIGINT or SIGHUP.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { missingCniPlugins } from '../node-agent/network/cni';
import { ClusterError } from './errors';
import type { Credentials } from './credentials';
import { CHILDREN, type ClusterPaths } from './paths';
import { livePid, removePid, terminate, writePid } from './processes';
import { Supervisor, type ChildSpec } from './supervisor';
import { requestTeardown } from './teardown';
import { applyTopology, controlPlaneChild, natsChild, readTopology, type Topology } from './topology';

/** What the supervisor needs to know. */
export interface SuperviseOptions {
  paths: ClusterPaths;
  creds: Credentials;
  /** `bin/run.js` of this installation (children are `node run.js <command>`). */
  runJs: string;
  natsServer: string;
  log?: (line: string) => void;
  /** What to run (default: what the data directory keeps, embedded/topology.ts). */
  topology?: Topology;
}

/** Stop deadlines: the node agent may be stopping containers; nats-server is quick. */
const STOP_TIMEOUT_MS: Record<string, number> = { 'node-agent': 30_000, 'control-plane': 15_000, nats: 10_000 };

/**
 * Runs the supervisor until a signal stops it; resolves after every child has exited and the pid
 * file is gone. Returns 'already-running' (and does nothing) when another supervisor holds the pid file.
 */
export async function supervise(opts: SuperviseOptions): Promise<'stopped' | 'already-running'> {
  const { paths, creds } = opts;
  const log = opts.log ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} supervisor: ${line}\n`));
  const other = livePid(paths.upPid, paths.dataDir);
  if (other !== undefined && other !== process.pid) return 'already-running';
  fs.mkdirSync(paths.logsDir, { recursive: true });
  writePid(paths.upPid, process.pid);
  await killLeftovers(paths, log);

  const env = process.env;
  const node = process.execPath;
  // `mk up --nats-servers 3 --control-planes N`: one child per NATS member and per control plane.
  const topology = opts.topology ?? readTopology(paths);
  const members = applyTopology(paths, creds, topology);
  const specs: ChildSpec[] = [
    ...members.map((m, i) => ({
      name: natsChild(i), command: opts.natsServer, args: ['-c', m.confFile], env,
      ready: () => waitForPort(m.clientPort, 20_000),
    })),
    ...Array.from({ length: topology.controlPlanes }, (_, i) => ({
      name: controlPlaneChild(i), command: node, args: [opts.runJs, 'control-plane', '--data-dir', paths.dataDir], env,
    })),
    { name: 'node-agent', command: node, args: [opts.runJs, 'node-agent', '--data-dir', paths.dataDir, '--node-name', creds.nodeName], env },
  ].map((s) => ({
    ...s,
    logFile: paths.log(s.name as (typeof CHILDREN)[number]),
    pidFile: paths.pid(s.name as (typeof CHILDREN)[number]),
    stopTimeoutMs: STOP_TIMEOUT_MS[s.name.replace(/-\d+$/, '')],
  }));
  const sup = new Supervisor(specs, log);

  let stopped!: () => void;
  const done = new Promise<void>((r) => { stopped = r; });
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping`);
    // Ctrl-C on a foreground cluster means "stop it all", as `mk down` does; SIGTERM (from
    // `mk down`, after its own teardown, or from the system) leaves pods for the next start.
    const first = sig === 'SIGINT' && sup.pidOf('node-agent') ? teardown(paths, creds, log) : Promise.resolve();
    void first.then(() => sup.stop()).then(stopped, (err: unknown) => {
      log(`stop failed: ${(err as Error).message}`);
      stopped();
    });
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  log(`supervising ${paths.dataDir} (pid ${process.pid})`);
  await sup.start();
  await done;
  for (const s of signals) process.removeListener(s, onSignal);
  removePid(paths.upPid);
  log('stopped');
  return 'stopped';
}

async function teardown(paths: ClusterPaths, creds: Credentials, log: (line: string) => void): Promise<void> {
  log(`tearing down node ${creds.nodeName} (pods, network, containerd)`);
  try {
    await requestTeardown(paths.dataDir, creds.nodeName, 120_000);
    log(`node ${creds.nodeName} torn down`);
  } catch (err) {
    log(`node teardown failed: ${(err as Error).message}; stopping anyway`);
  }
}

/** Kills children a previous supervisor left behind (it was killed), found by their pid files. */
export async function killLeftovers(paths: ClusterPaths, log: (line: string) => void): Promise<void> {
  for (const name of [...CHILDREN].reverse()) {
    const pid = livePid(paths.pid(name), paths.dataDir);
    if (pid !== undefined) {
      log(`stopping leftover ${name} (pid ${pid})`);
      await terminate(pid, 10_000);
    }
    removePid(paths.pid(name));
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (Date.now() >= deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when 127.0.0.1:`port` accepts a connection. */
export function portOpen(port: number): Promise<boolean> {
  return tcpAnswers('127.0.0.1', port);
}

/** True when host:port accepts a TCP connection within a second. */
export function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Finds nats-server: $MK_NATS_SERVER, else PATH plus the sbin directories Debian installs it to. */
export function findNatsServer(): string | undefined {
  const executable = (p: string): boolean => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (process.env.MK_NATS_SERVER) return executable(process.env.MK_NATS_SERVER) ? process.env.MK_NATS_SERVER : undefined;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, 'nats-server');
    if (executable(p)) return p;
  }
  return undefined;
}

/** findNatsServer, or a ClusterError that says how to get one. */
/**
 * Checks, before anything starts, that the node's runtime is installed: containerd and runc on
 * the PATH and the CNI plugins mk uses. Throws ClusterError naming what is missing and how to get it.
 */
export function requireNodeRuntime(): void {
  const onPath = (bin: string) => (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/bin', '/sbin'])
    .some((d) => { try { fs.accessSync(path.join(d, bin), fs.constants.X_OK); return true; } catch { return false; } });
  const missing = ['containerd', 'runc'].filter((b) => !onPath(b));
  const cni = missingCniPlugins();
  if (cni.length > 0) missing.push(`CNI plugins (${cni.join(', ')} in /usr/lib/cni)`);
  if (missing.length > 0) {
    throw new ClusterError(`missing on this machine: ${missing.join(', ')}: run ./scripts/install.sh (or apt-get install containerd runc containernetworking-plugins)`);
  }
}

export function requireNatsServer(): string {
  const found = findNatsServer();
  if (found) return found;
  const env = process.env.MK_NATS_SERVER;
  throw new ClusterError(env
    ? `MK_NATS_SERVER=${env} is not an executable file`
    : 'nats-server not found in PATH or /usr/sbin: install it (apt-get install nats-server) or set MK_NATS_SERVER');
}
