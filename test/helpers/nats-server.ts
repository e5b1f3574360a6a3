/**
 * A real nats-server for integration tests: JetStream on, loopback only, a free port and a temp
 * store directory of its own. Spawned with an argument array (no shell); stopped by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { signal } from '../../embedded/processes';

/** A running test server. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The temp directory holding the JetStream store (and the config file when auth is on). */
  dir: string;
  /** The pid of the current incarnation (changes on restart). */
  pid: number;
  /** `http://127.0.0.1:<port>` of the monitoring endpoints (/varz, /connz, /jsz), when asked for. */
  monitorUrl?: string;
  /** Stops the server (SIGTERM, SIGKILL after a deadline), waits for it to exit, removes `dir`. */
  stop(): Promise<void>;
  /** SIGKILLs the server, as a crash would; the store directory stays for restart(). */
  kill(): void;
  /**
   * Stops the server if it is running and starts it again on the same port and store directory;
   * with `wipe`, on an empty store, as a server that lost its disk would come back.
   */
  restart(opts?: { wipe?: boolean }): Promise<void>;
}

const BINARY = process.env.NATS_SERVER ?? 'nats-server';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Starts nats-server with JetStream on a free loopback port and a fresh temp store directory, and
 * resolves once it accepts client connections with JetStream ready (its INFO says so). With
 * user/pass, a generated config file turns authorization on. Throws with the server's output when
 * it does not come up. `moreUsers` (with `user`): further users of the same server, all allowed
 * everything; `websocketPort` (with `user`): a plain websocket listener on that loopback port too.
 */
export async function startNatsServer(
  opts: {
    user?: string; pass?: string; monitor?: boolean; moreUsers?: { user: string; pass: string }[]; websocketPort?: number;
    /** The server's max_payload in bytes (nats-server's default is 1 MB; `mk up` sets 8 MB). */
    maxPayload?: number;
    /** This port only, no retry on another (the default: a free one, tried again if it was taken). */
    port?: number;
  } = {},
): Promise<NatsServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mk-nats-'));
  const storeDir = path.join(dir, 'store');
  // A name of its own: readiness is read from the INFO of whatever answers on the port, and another
  // test's server that took the port first must not pass for this one.
  const name = `mk-test-${randomBytes(6).toString('hex')}`;
  const args = ['-js', '-a', '127.0.0.1', '-sd', storeDir, '-n', name];
  if (opts.user !== undefined) {
    // A config file keeps the password out of the process list; JSON strings are valid NATS conf.
    const conf = path.join(dir, 'server.conf');
    const users = [{ user: opts.user, pass: opts.pass ?? '' }, ...(opts.moreUsers ?? [])];
    const text = users.length === 1
      ? `authorization {\n  user: ${JSON.stringify(opts.user)}\n  password: ${JSON.stringify(opts.pass ?? '')}\n}\n`
      : `authorization {\n  users: [\n${users.map((u) => `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.pass)} }\n`).join('')}  ]\n}\n`;
    // A websocket listener (plain, loopback) for browser NATS clients, when asked for.
    const ws = opts.websocketPort !== undefined ? `websocket {\n  host: "127.0.0.1"\n  port: ${opts.websocketPort}\n  no_tls: true\n}\n` : '';
    await writeFile(conf, text + ws, { mode: 0o600 });
    args.push('-c', conf);
  }
  if (opts.maxPayload !== undefined) {
    if (opts.user !== undefined) throw new Error('startNatsServer: maxPayload goes with no user only');
    const conf = path.join(dir, 'server.conf');
    await writeFile(conf, `max_payload: ${opts.maxPayload}\n`, { mode: 0o600 });
    args.push('-c', conf);
  }

  let port = 0;
  let child: ChildProcess | undefined;
  const monitorPort = opts.monitor ? await freePort() : undefined;
  if (monitorPort !== undefined) args.push('-m', String(monitorPort));
  // A free port can be taken between probing and binding: try a few.
  for (let attempt = 0; ; attempt++) {
    port = opts.port ?? await freePort();
    try {
      child = await launch([...args, '-p', String(port)], port, name);
      break;
    } catch (err) {
      if (attempt >= 2 || opts.port !== undefined) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  let current: ChildProcess = child;
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    pid: current.pid ?? -1,
    ...(monitorPort !== undefined ? { monitorUrl: `http://127.0.0.1:${monitorPort}` } : {}),
    async stop() {
      await terminate(current);
      await rm(dir, { recursive: true, force: true });
    },
    kill() {
      if (current.exitCode === null && current.signalCode === null && current.pid) signal(current.pid, 'SIGKILL');
    },
    async restart(opts = {}) {
      await terminate(current);
      if (opts.wipe) await rm(storeDir, { recursive: true, force: true });
      current = await launch([...args, '-p', String(port)], port, name);
      server.pid = current.pid ?? -1;
    },
  };
  return server;
}

/** Spawns the server and waits until it is ready; kills it and throws with its output if not. */
async function launch(args: string[], port: number, name: string): Promise<ChildProcess> {
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer) => { output = (output + b.toString()).slice(-8000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  try {
    await Promise.race([waitReady(port, name, child), spawnError]);
    return child;
  } catch (err) {
    await terminate(child);
    throw new Error(`nats-server ${args.join(' ')} did not start: ${(err as Error).message}\n${output}`, { cause: err });
  }
}

/**
 * Polls until the port answers with an INFO line of the server called `name` announcing JetStream,
 * or the deadline passes. Another server on the port means this one could not bind it: an error.
 */
async function waitReady(port: number, name: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
    try {
      const info = await readInfo(port);
      checkServerName(info, port, name);
      if (info.includes('"jetstream":true')) return;
      last = 'INFO without jetstream';
    } catch (err) {
      if (err instanceof PortTakenError) throw err;
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not ready after ${READY_TIMEOUT_MS} ms (${last})`);
}

class PortTakenError extends Error {}

/** Throws PortTakenError when the INFO line read on `port` is another server's than `name`. */
export function checkServerName(info: string, port: number, name: string): void {
  const other = /"server_name":"([^"]*)"/.exec(info)?.[1];
  if (other !== undefined && other !== name) throw new PortTakenError(`port ${port} is served by another nats-server (${other})`);
}

/** Connects once and returns the server's INFO line. */
export function readInfo(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (err: Error | null, info?: string) => {
      sock.destroy();
      if (err) reject(err); else resolve(info ?? '');
    };
    sock.setTimeout(1000, () => done(new Error('timeout reading INFO')));
    sock.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) done(null, buf.slice(0, nl));
    });
    sock.on('error', (e) => done(e));
    sock.on('close', () => done(new Error('closed before INFO')));
  });
}

/** SIGTERM, then SIGKILL if it has not exited by the deadline; resolves when it has exited. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!signal(child.pid, 'SIGTERM')) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS); });
  const r = await Promise.race([exited.then(() => 'exited' as const), late]);
  clearTimeout(timer);
  if (r === 'late' && child.exitCode === null && child.signalCode === null) {
    if (signal(child.pid, 'SIGKILL')) await exited;
  }
}


/** A port the kernel says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Polls `cond` until it returns true (or a truthy value, which is returned), failing with `what`
 * after `timeoutMs`. Tests wait on conditions with deadlines, never on fixed sleeps.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The error `p` rejects with; throws when it resolves. For asserting with predicates (isConflict). */
export async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but it resolved');
}
