/**
 * The node's ingress served by nginx, run as a child process of the node agent with a config
 * generated from the route table and the ready endpoints (nginx-config.ts). Every change (an
 * Ingress, a Service, an EndpointSlice) writes a new config, at most one per `minReloadMs`: it is
 * checked with `nginx -t` first, then swapped in and the master told to reload (SIGHUP), so
 * requests in flight and open connections finish on the old workers. A config nginx refuses is
 * logged with its error and the running one stays. nginx is restarted with a growing delay when
 * it dies; stop() asks it to finish gracefully (SIGQUIT) and kills it after a deadline. Its pid
 * file, error log and temp files live in `dir`; a master left running by a node agent that was
 * killed is stopped on the next start (found by that pid file). Processes are spawned with
 * argument lists, never through a shell.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../common/log';
import { parseProcStat } from '../containerd/pid';
import type { ServiceNetworkSource } from '../service-network/types';
import { readyUpstreams } from './endpoints';
import { nginxConfig } from './nginx-config';
import { RouteTable } from './routes';
import { serveIngressRoutes, type NodeIngress, type NodeIngressOptions } from './serve';

/** The nginx binary on PATH (or in /usr/sbin, where Debian puts it), or undefined. */
export function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    const p = path.join(d, 'nginx');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

/** What the nginx proxy needs. */
export interface NginxProxyOptions {
  source: ServiceNetworkSource;
  /** The port to listen on (a real one: nginx cannot report a port it picked). */
  port: number;
  /** The IPv4 address to listen on (default 0.0.0.0). */
  host?: string;
  /** nginx's directory: config, pid file, error log, temp files. Made when missing. */
  dir: string;
  /** The nginx binary (default: findNginx()). */
  nginx?: string;
  /** worker_processes (default 1). */
  workers?: number | 'auto';
  accessLog?: boolean;
  upstreamTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** How long stop() lets requests in flight finish before nginx is killed (default 10 s). */
  drainMs?: number;
  /** The least time between two reloads (default 100 ms). */
  minReloadMs?: number;
  /** The routes nginx starts with (default none: every request 404). */
  routes?: RouteTable;
  log?: Logger;
}

/** A running nginx proxy. */
export interface NginxProxy {
  readonly port: number;
  /** Replaces the route table; nginx reloads soon after. */
  setRoutes(table: RouteTable): void;
  /** Resolves once every change so far is in a config nginx was told to load. */
  settled(): Promise<void>;
  /** The master's pid (undefined while it is being restarted). */
  pid(): number | undefined;
  /** How many times nginx was told to reload. */
  reloads(): number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid` (nginx's workers), read from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (parseProcStat(fs.readFileSync(`/proc/${e}/stat`, 'utf8'))?.ppid === pid) out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch { /* gone */ }
}

/** Waits up to `ms` for `pid` to be gone; true when it is. */
async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** The last `bytes` of a file, or ''. */
function tail(file: string, bytes = 2000): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(bytes, size));
      fs.readSync(fd, buf, 0, buf.length, size - buf.length);
      return buf.toString('utf8').trim();
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/**
 * Stops an nginx master an earlier run left (its node agent killed): the pid in `dir`'s pid file,
 * when that process is an nginx started on `dir`. Gracefully first, then killed with its workers.
 */
export async function stopLeftoverNginx(dir: string, log?: { info(o: object, msg: string): void }): Promise<void> {
  const pidFile = path.join(dir, 'nginx.pid');
  let pid: number;
  try { pid = Number(fs.readFileSync(pidFile, 'utf8').trim()); } catch { return; }
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch { return; }
  // The pid may have been reused by another process since: only an nginx of this directory.
  if (!cmdline.includes('nginx') || !cmdline.includes(dir)) return;
  log?.info({ pid, dir }, 'stopping the nginx an earlier node agent left running');
  const workers = childrenOf(pid);
  kill(pid, 'SIGQUIT');
  if (await gone(pid, 5000)) return;
  for (const w of [...childrenOf(pid), ...workers]) kill(w, 'SIGKILL');
  kill(pid, 'SIGKILL');
  await gone(pid, 5000);
}

/** Starts nginx with an empty route table; resolves once it listens. Throws when it cannot start. */
export async function startNginxProxy(opts: NginxProxyOptions): Promise<NginxProxy> {
  const { source, log } = opts;
  const bin = opts.nginx ?? findNginx();
  if (!bin) throw new Error('nginx is not installed (no nginx binary on PATH or in /usr/sbin)');
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new Error(`nginx needs a port between 1 and 65535, not ${opts.port}`);
  const dir = path.resolve(opts.dir);
  const conf = path.join(dir, 'nginx.conf');
  const next = path.join(dir, 'nginx.conf.next');
  const errorLog = path.join(dir, 'error.log');
  const pidFile = path.join(dir, 'nginx.pid');
  const minReloadMs = opts.minReloadMs ?? 100;
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  await stopLeftoverNginx(dir, log);

  let routes = opts.routes ?? new RouteTable([]);
  const render = (): string => {
    const { text, skipped } = nginxConfig({
      routes, upstreams: (t) => readyUpstreams(source, t), dir, port: opts.port,
      ...(opts.host ? { host: opts.host } : {}), ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      ...(opts.accessLog ? { accessLog: true } : {}),
      ...(opts.upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs: opts.upstreamTimeoutMs } : {}),
      ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    });
    for (const s of skipped) log?.warn({ problem: s }, 'ingress rule left out of the nginx config');
    return text;
  };
  /** `nginx -t` on `file` (not blocking the agent's event loop); the error output when it fails. */
  const check = (file: string): Promise<string | undefined> => new Promise((resolve) => {
    execFile(bin, ['-t', '-q', '-p', `${dir}/`, '-c', file, '-e', errorLog], { encoding: 'utf8', timeout: 30_000 }, (err, _stdout, stderr) => {
      resolve(err ? (stderr || err.message).trim() : undefined);
    });
  });

  let current = render();
  fs.writeFileSync(next, current);
  const bad = await check(next);
  if (bad) throw new Error(`nginx refuses the ingress config: ${bad}`);
  fs.renameSync(next, conf);

  let child: ChildProcess | undefined;
  let stopping = false;
  let reloads = 0;
  let backoffMs = 250;
  let restartTimer: NodeJS.Timeout | undefined;
  /** The master's workers as last seen (after a start or reload). */
  let workersOf: number[] = [];

  /** Starts nginx again after a delay doubling from 250 ms to 10 s; again when that fails. */
  const restartLater = (): void => {
    const delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, 10_000);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      spawnMaster().catch((err) => {
        log?.error({ err: String(err) }, 'nginx did not restart; trying again');
        if (!stopping) restartLater();
      });
    }, delay);
  };

  /** Spawns the master; resolves once its pid file names it (it listens then). */
  const spawnMaster = async (): Promise<void> => {
    fs.rmSync(pidFile, { force: true });
    const started = Date.now();
    let up = false;
    const c = spawn(bin, ['-p', `${dir}/`, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    child = c;
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.once('exit', (code, signal) => {
      if (child === c) child = undefined;
      // A master killed leaves its workers serving (and holding the port): they go too.
      for (const w of workersOf.splice(0)) {
        try {
          if (fs.readFileSync(`/proc/${w}/cmdline`, 'utf8').startsWith('nginx: ')) kill(w, 'SIGKILL');
        } catch { /* gone */ }
      }
      // One that never came up is the starter's to report (it throws).
      if (stopping || !up) return;
      log?.error({ code, signal, errors: stderr.trim() || tail(errorLog) }, 'nginx (the ingress proxy) exited; restarting it');
      // A master that ran a while is restarted at once; one that dies at start, ever more slowly.
      if (Date.now() - started > 30_000) backoffMs = 250;
      restartLater();
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      let pid = 0;
      try { pid = Number(fs.readFileSync(pidFile, 'utf8').trim()); } catch { /* not yet */ }
      if (pid === c.pid) {
        workersOf = childrenOf(pid);
        up = true;
        return;
      }
      if (c.exitCode !== null || c.signalCode !== null) {
        await exited;
        throw new Error(`nginx exited at start: ${stderr.trim() || tail(errorLog)}`);
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`nginx did not start within 10 s: ${stderr.trim() || tail(errorLog)}`);
      }
      await sleep(20);
    }
  };
  await spawnMaster();
  log?.info({ port: opts.port, pid: child?.pid, dir }, 'ingress proxy (nginx) listening');

  // Changes coalesce: one apply at a time, no sooner than minReloadMs after the last.
  let dirty = false;
  let lastApply = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let waiters: (() => void)[] = [];
  /** Waits (up to 5 s) until each of `old` workers is gone or shutting down: the new config serves. */
  const reloaded = async (master: number, old: number[]): Promise<void> => {
    const deadline = Date.now() + 5000;
    const stale = (w: number) => {
      try {
        return !fs.readFileSync(`/proc/${w}/cmdline`, 'utf8').includes('shutting down');
      } catch {
        return false;
      }
    };
    while (Date.now() < deadline && alive(master) && old.some(stale)) await sleep(10);
  };
  const apply = async (): Promise<void> => {
    timer = undefined;
    if (stopping) return;
    dirty = false;
    lastApply = Date.now();
    const text = render();
    if (text !== current) {
      fs.writeFileSync(next, text);
      const err = await check(next);
      if (err) log?.error({ err }, 'nginx refuses the new ingress config; the running one stays');
      else {
        fs.renameSync(next, conf);
        current = text;
        const master = child?.pid;
        if (master) {
          const old = childrenOf(master);
          child?.kill('SIGHUP');
          reloads++;
          log?.debug({ reloads }, 'nginx reloads the ingress config');
          await reloaded(master, old);
          workersOf = [...new Set([...old, ...childrenOf(master)])];
        }
      }
    }
    if (!dirty) for (const w of waiters.splice(0)) w();
  };
  const schedule = (): void => {
    dirty = true;
    if (timer || stopping) return;
    timer = setTimeout(() => {
      running = running.then(apply).catch((err) => {
        log?.error({ err: String(err) }, 'the nginx config was not applied');
        // Whoever waits for the change is told it is over (settled() never hangs on a failure).
        if (!dirty) for (const w of waiters.splice(0)) w();
      });
    }, Math.max(0, lastApply + minReloadMs - Date.now()));
  };
  const unlisten = source.onChange(() => schedule());

  return {
    port: opts.port,
    setRoutes(table) {
      routes = table;
      schedule();
    },
    settled: () => (dirty || timer ? new Promise<void>((r) => waiters.push(r)) : running),
    pid: () => child?.pid,
    reloads: () => reloads,
    async stop() {
      stopping = true;
      unlisten();
      if (timer) clearTimeout(timer);
      if (restartTimer) clearTimeout(restartTimer);
      for (const w of waiters.splice(0)) w();
      waiters = [];
      await running;
      const c = child;
      if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return;
      const pid = c.pid;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      const workers = childrenOf(pid);
      c.kill('SIGQUIT');
      let deadline: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => { deadline = setTimeout(() => r(false), opts.drainMs ?? 10_000); }),
      ]);
      clearTimeout(deadline);
      if (!drained) {
        log?.warn({ pid }, 'nginx did not finish its requests in time; killing it');
        for (const w of [...childrenOf(pid), ...workers]) kill(w, 'SIGKILL');
        c.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** What the nginx ingress needs: the node ingress's options and nginx's own. */
export interface NginxIngressOptions extends NodeIngressOptions {
  dir: string;
  nginx?: string;
  workers?: number | 'auto';
}

/** The node's ingress on nginx: the informer of Ingresses (as serve.ts) feeding startNginxProxy. */
export async function startNginxIngress(opts: NginxIngressOptions): Promise<NodeIngress> {
  const { ingress, proxy } = await serveIngressRoutes(opts, (routes) => startNginxProxy({
    source: opts.source, port: opts.port, dir: opts.dir, routes,
    ...(opts.host ? { host: opts.host } : {}), ...(opts.nginx ? { nginx: opts.nginx } : {}),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    ...(opts.upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs: opts.upstreamTimeoutMs } : {}),
    ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    ...(opts.drainMs !== undefined ? { drainMs: opts.drainMs } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  }));
  // Resolves once nginx was told to load every change so far.
  await proxy.settled();
  return ingress;
}
