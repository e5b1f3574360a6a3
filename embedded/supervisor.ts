/**
 * The supervisor of an embedded cluster: starts its children in order (each waits for the one
 * before to be ready where that matters), restarts a child that exits with capped exponential
 * backoff, and stops them in reverse order (SIGTERM, a deadline, then SIGKILL). Each child logs to
 * its own file and has a pid file, so `mk down` can clean up even after the supervisor was killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { backoffDelay, type BackoffPolicy } from '../common/backoff';
import { removePid, writePid } from './processes';

/** How a child is run. */
export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  pidFile: string;
  /** How long SIGTERM may take before SIGKILL. */
  stopTimeoutMs: number;
  /** Resolves when the child serves; the next child starts after it (or after it throws). */
  ready?: () => Promise<void>;
  /** Awaited before the child's first start (a failure is logged and it starts anyway). */
  before?: () => Promise<void>;
}

/** Restart backoff; a child that ran `resetAfterMs` starts over at `initialMs`. */
export interface ProcessRestartPolicy extends BackoffPolicy {
  resetAfterMs: number;
}

/** 1 s doubling to 30 s; reset after a minute of uptime. */
export const DEFAULT_BACKOFF: ProcessRestartPolicy = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

/** The delay before restart number `failures + 1`. */
export function restartDelay(failures: number, policy: ProcessRestartPolicy = DEFAULT_BACKOFF): number {
  return backoffDelay(policy, failures);
}

interface Running {
  spec: ChildSpec;
  proc?: ChildProcess;
  exited?: Promise<void>;
  startedAt: number;
  failures: number;
  timer?: NodeJS.Timeout;
}

/** Runs children; see the module comment. */
export class Supervisor {
  private readonly children: Running[];
  private stopping = false;

  constructor(specs: ChildSpec[], private readonly log: (line: string) => void, private readonly policy: ProcessRestartPolicy = DEFAULT_BACKOFF) {
    this.children = specs.map((spec) => ({ spec, startedAt: 0, failures: 0 }));
  }

  /** Starts every child in order, waiting for each one's `ready` (a failed wait is logged, not fatal). */
  async start(): Promise<void> {
    for (const c of this.children) {
      if (this.stopping) return;
      if (c.spec.before) {
        try {
          await c.spec.before();
        } catch (err) {
          this.log(`before starting ${c.spec.name}: ${(err as Error).message}; starting it anyway`);
        }
        if (this.stopping) return;
      }
      this.launch(c);
      if (c.spec.ready) {
        try {
          await c.spec.ready();
          this.log(`${c.spec.name} is ready`);
        } catch (err) {
          this.log(`${c.spec.name} is not ready (${(err as Error).message}); starting the next child anyway`);
        }
      }
    }
  }

  /** The pid of a running child, by name. */
  pidOf(name: string): number | undefined {
    return this.children.find((c) => c.spec.name === name)?.proc?.pid;
  }

  /** Stops every child in reverse start order; resolves when all have exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.children) clearTimeout(c.timer);
    for (const c of [...this.children].reverse()) {
      const proc = c.proc;
      if (!proc?.pid || !c.exited || proc.exitCode !== null || proc.signalCode !== null) continue;
      this.log(`stopping ${c.spec.name} (pid ${proc.pid})`);
      proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), c.spec.stopTimeoutMs); });
      const r = await Promise.race([c.exited.then(() => 'exited' as const), late]);
      clearTimeout(timer);
      if (r === 'late') {
        this.log(`${c.spec.name} did not stop within ${c.spec.stopTimeoutMs} ms; SIGKILL`);
        proc.kill('SIGKILL');
        await c.exited;
      }
    }
  }

  private launch(c: Running): void {
    const { spec } = c;
    const fd = fs.openSync(spec.logFile, 'a');
    let proc: ChildProcess;
    try {
      // Own process group: a Ctrl-C on a foreground supervisor reaches only it, and it stops the
      // children in order.
      proc = spawn(spec.command, spec.args, { stdio: ['ignore', fd, fd], env: spec.env, detached: true });
    } finally {
      fs.closeSync(fd);
    }
    c.proc = proc;
    c.startedAt = Date.now();
    let done = false;
    c.exited = new Promise<void>((resolve) => {
      const onEnd = (how: string): void => {
        if (done) return;
        done = true;
        removePid(spec.pidFile);
        resolve();
        this.onExit(c, how);
      };
      proc.once('exit', (code, sig) => onEnd(sig ? `signal ${sig}` : `code ${code}`));
      proc.once('error', (err) => onEnd(`error: ${err.message}`));
    });
    if (proc.pid) {
      writePid(spec.pidFile, proc.pid);
      this.log(`started ${spec.name} (pid ${proc.pid}), log ${spec.logFile}`);
    }
  }

  private onExit(c: Running, how: string): void {
    if (this.stopping) {
      this.log(`${c.spec.name} exited (${how})`);
      return;
    }
    if (Date.now() - c.startedAt >= this.policy.resetAfterMs) c.failures = 0;
    const delay = restartDelay(c.failures, this.policy);
    c.failures++;
    this.log(`${c.spec.name} exited (${how}); restarting in ${Math.round(delay / 1000)} s (see ${c.spec.logFile})`);
    c.timer = setTimeout(() => {
      if (!this.stopping) this.launch(c);
    }, delay);
  }
}
