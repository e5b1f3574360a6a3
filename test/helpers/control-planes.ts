/**
 * Control plane replicas as separate processes (`mk control-plane`, from the build: run `npm run
 * build` first), for failover tests: each is a real process that can be SIGKILLed, SIGSTOPped and
 * SIGCONTinued. Stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeContext } from '../../embedded/context';
import { signal } from '../../embedded/processes';
import { runCommand, type RunResult } from './run';

const ROOT = ((d) => (path.basename(d) === 'dist' ? path.dirname(d) : d))(path.join(__dirname, '..', '..'));
const BIN = path.join(ROOT, 'bin', 'run.js');

/** One spawned control plane. */
export interface ControlPlaneProcess {
  pid: number;
  /** Its log so far (pino lines and stderr). */
  output(): string;
  /** True once it exited. */
  exited(): boolean;
  signal(sig: NodeJS.Signals): void;
  /** SIGCONT (in case it is stopped), SIGTERM, SIGKILL after 10 s; resolves once it exited. */
  stop(): Promise<void>;
}

/** A data directory whose context points at `servers` (no credentials: the servers need none). */
export function controlPlaneDataDir(servers: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cp-'));
  writeContext(dir, { servers, nodeName: 'n1' });
  return dir;
}

/** Spawns `mk control-plane --data-dir DIR` with `extraArgs`; resolves once it is serving the api. */
export async function spawnControlPlane(dataDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ControlPlaneProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'control-plane', '--data-dir', dataDir, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MK_LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  const keep = (b: Buffer): void => { out = (out + b.toString()).slice(-200_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const isExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const cp: ControlPlaneProcess = {
    pid: child.pid ?? -1,
    output: () => out,
    exited: isExited,
    signal(sig) { if (!isExited() && child.pid) signal(child.pid, sig); },
    async stop() {
      if (isExited()) return;
      cp.signal('SIGCONT');
      cp.signal('SIGTERM');
      const late = setTimeout(() => cp.signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(late);
    },
  };
  const deadline = Date.now() + 20_000;
  while (!out.includes('campaigning for the lease')) {
    if (isExited() || Date.now() > deadline) {
      await cp.stop();
      throw new Error(`control plane did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return cp;
}

/** Runs the built `mk ARGS --data-dir DIR` to completion. */
export function mkCli(dataDir: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return runCommand([process.execPath, BIN, ...args, '--data-dir', dataDir], { timeoutMs });
}
