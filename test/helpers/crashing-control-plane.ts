/**
 * One control plane at a time over a real nats-server, for tests that SIGKILL it in the middle
 * of a controller's work and start another: the built `mk control-plane` (run `npm run build`
 * first; ensureBuilt does), a process of its own with a data directory whose context points at the
 * server. Everything goes in close(): the process (by pid), the bus, the server, the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, request, type Bus } from '../../bus';
import { API } from '../../messages';
import { ensureBuilt, ROOT } from '../integration/cli/run-cli';
import { startNatsServer, waitFor, type NatsServer } from './nats-server';

/** The harness; see the module comment. */
export interface CrashingControlPlane {
  server: NatsServer;
  /** A connection of the test's own. */
  bus: Bus;
  dataDir: string;
  /** A request to the subject API (through whichever control plane runs). */
  api<T>(verb: keyof typeof API, body: unknown): Promise<T>;
  /** Starts a control plane; resolves once it answers mk.api.ping. */
  start(): Promise<void>;
  /** SIGKILLs the running control plane (by its pid) and waits until it is gone; none: nothing. */
  kill(): Promise<void>;
  /** True when no control plane runs (none started yet, killed, or exited on its own). */
  exited(): boolean;
  /** The running control plane's pid (a test may SIGKILL it itself, from inside a handler). */
  pid(): number | undefined;
  /** Kills the control plane, closes the bus, stops the server, removes the data directory. */
  close(): Promise<void>;
}

/**
 * Builds if needed, starts a nats-server and makes the data directory; no control plane runs
 * until start(). `args` and `env` go to every control plane started.
 */
export async function crashingControlPlane(name: string, opts: { args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<CrashingControlPlane> {
  ensureBuilt();
  const server = await startNatsServer();
  const bus = await connectBus({ servers: server.url, name });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `mk-${name}-`));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], nodeName: 'n1' }), { mode: 0o600 });
  let cp: ChildProcess | undefined;
  const api = <T>(verb: keyof typeof API, body: unknown): Promise<T> => request<T>(bus, API[verb], body);
  const exited = (): boolean => !cp || cp.exitCode !== null || cp.signalCode !== null;
  const kill = async (): Promise<void> => {
    const child = cp;
    cp = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGKILL');
    await gone;
  };
  return {
    server, bus, dataDir, api, kill, exited,
    pid: () => (exited() ? undefined : cp?.pid),
    async start() {
      cp = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'control-plane', ...(opts.args ?? [])], {
        env: { ...process.env, MK_HOME: dataDir, ...opts.env }, stdio: ['ignore', 'ignore', 'ignore'],
      });
      await waitFor(async () => { await api('ping', {}); return true; }, 'control plane up', 30_000);
    },
    async close() {
      await kill();
      await bus.close();
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
