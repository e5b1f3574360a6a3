/**
 * Keeps a node's containerd running, the way systemd's `Restart=always` keeps containerd running
 * under a kubelet: when the containerd this node owns dies, it is started again from the same
 * config.toml after a capped exponential backoff. Containers live on in their shims meanwhile, and
 * the new containerd re-attaches to them, so a crash of containerd restarts no container.
 *
 * "Owned" means started by this supervisor, or adopted from an earlier node agent of the same node
 * (found by its pid file or its command line running our config.toml). A containerd the user gave
 * (any other process answering on the socket) is watched with CRI probes and reported down, but
 * never restarted or stopped.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { backoffDelay, validateBackoff, type BackoffPolicy } from '../../common/backoff';
import type { Logger } from '../../common/log';
import { UnavailableError, ValidationError } from '../../messages/errors';
import { CriClient } from '../cri/client';
import { log as nodeLog } from '../log';
import {
  findContainerdByConfig, isAlive, ownedFromPidFile, processArgs, processIdentity, removePidFile, runsConfig,
  socketListening, watchProcess, writePidFile, type ProcessIdentity,
} from './pid';
import {
  containerdPaths, prepareContainerd, purgeContainerd, spawnContainerd, stopChild,
  type PreparedContainerd, type SpawnedContainerd, type StartContainerdOptions, type StopOptions,
} from './process';

/**
 * 200 ms doubling to 10 s. No jitter: there is one containerd per node, no herd to spread. A
 * crash is rare and a node without a runtime runs no new pod, so the first retry comes fast.
 */
export const CONTAINERD_RESTART_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 10_000 };

/** Options of `superviseContainerd`: those of `startContainerd` plus the supervision policy. */
export interface SuperviseContainerdOptions extends StartContainerdOptions {
  /** Where the pid of each incarnation is written (default `<dataDir>/containerd.pid`). */
  pidFile?: string;
  /**
   * The socket belongs to a containerd the user runs: use it, never start, restart or stop one.
   * Without it, a socket that answers but is served by no process running our config is treated
   * the same way.
   */
  userSocket?: boolean;
  /** Delay before each restart (default CONTAINERD_RESTART_BACKOFF). */
  restartBackoff?: BackoffPolicy;
  /** An incarnation that stayed up this long starts the backoff over (default 60 s). */
  stableAfterMs?: number;
  /** How often /proc is checked for an adopted containerd's death (default 500 ms). */
  pidPollMs?: number;
  /** How often a user's containerd is probed with CRI Version (default 2 s). */
  probeIntervalMs?: number;
  /** Called on each change of `health()`: up, down (with the restart scheduled), stopped. */
  onChange?: (health: ContainerdHealth) => void;
}

/** up: answering (owned: its process is alive). down: dead or not answering. stopped: no longer supervised. */
export type ContainerdState = 'up' | 'down' | 'stopped';

/** A snapshot of the supervised containerd. */
export interface ContainerdHealth {
  state: ContainerdState;
  /** False for a user's containerd: never restarted or stopped. */
  owned: boolean;
  /** The current incarnation was found running (an earlier agent's), not spawned here. */
  adopted: boolean;
  /** Pid of the current incarnation of an owned containerd; undefined while down and for a user's. */
  pid?: number;
  /** Incarnations spawned after the first one. */
  restarts: number;
  /** When `state` last changed. */
  since: Date;
  /** Why the last change happened, for logs and node conditions. */
  reason: string;
  /** How the last incarnation ended (code and signal are only known for a child of this process). */
  lastExit?: { pid: number; code: number | null; signal: NodeJS.Signals | null; at: Date };
  /** While down: when the next start is attempted, and the delay chosen for it. */
  nextRestartAt?: Date;
  restartDelayMs?: number;
  /** The last failed restart attempt. */
  lastError?: string;
}

/** A supervised containerd: one CRI client that keeps working across restarts. */
export interface SupervisedContainerd {
  /** Connected to the socket; calls fail with UnavailableError while containerd is down. Closed by stop()/release(). */
  readonly cri: CriClient;
  readonly socketPath: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly pidFile: string;
  /** False for a user's containerd. */
  readonly owned: boolean;
  /** The current incarnation's pid (owned and up), else undefined. */
  readonly pid: number | undefined;
  /** The current state; see ContainerdHealth. */
  health(): ContainerdHealth;
  /**
   * Stops supervising, then stops an owned containerd (SIGTERM, SIGKILL after `timeoutMs`), removes
   * its pid file and, with `purge`, what outlives it (see purgeContainerd). Waits for a restart in
   * progress to be aborted first, so nothing is started after it. A user's containerd is left alone.
   * Idempotent; the first of stop() and release() decides. Throws when purging fails.
   */
  stop(opts?: StopOptions): Promise<void>;
  /**
   * Stops supervising and closes the client, leaving containerd and its pid file in place for the
   * next node agent to adopt (a node agent that exits, not a node that goes away).
   */
  release(): Promise<void>;
}

interface Incarnation {
  id: ProcessIdentity;
  /** Set when this process spawned it. */
  child?: ChildProcess;
  adopted: boolean;
  upAt: number;
  /** Settles when it is gone; exit code and signal only for a child. */
  gone: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const DEFAULT_STABLE_AFTER_MS = 60_000;
const DEFAULT_PID_POLL_MS = 500;
const DEFAULT_PROBE_INTERVAL_MS = 2_000;
const DEFAULT_START_TIMEOUT_MS = 20_000;

/** Resolves after `ms`, or early (with false) when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => { clearTimeout(t); resolve(false); };
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(true); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!(Number.isFinite(v) && v > 0)) throw new ValidationError(`superviseContainerd: ${name} must be a positive number of ms`, [name]);
  return v;
}

/**
 * Takes charge of the node's containerd at `opts.socketPath` (default `<dataDir>/containerd.sock`)
 * and returns once it answers CRI:
 * - a containerd of ours already running (pid file, or any process running our config.toml) is
 *   adopted; one still starting or shutting down is waited for;
 * - a socket answered by anything else, or `userSocket`, is the user's: probed, never restarted;
 * - otherwise config.toml is written and containerd spawned, as `startContainerd` does.
 * An owned containerd that dies is restarted with `restartBackoff`; each incarnation's pid is
 * written to the pid file. Throws ValidationError for bad options, UnavailableError when
 * containerd cannot be started or does not answer within `startTimeoutMs` (default 20 s).
 */
export async function superviseContainerd(opts: SuperviseContainerdOptions): Promise<SupervisedContainerd> {
  const paths = containerdPaths(opts);
  const settings: Settings = {
    opts, paths,
    pidFile: path.resolve(opts.pidFile ?? path.join(paths.dataDir, 'containerd.pid')),
    policy: validateBackoff(opts.restartBackoff ?? CONTAINERD_RESTART_BACKOFF, 'containerd restart backoff'),
    stableAfterMs: positive('stableAfterMs', opts.stableAfterMs, DEFAULT_STABLE_AFTER_MS),
    pidPollMs: positive('pidPollMs', opts.pidPollMs, DEFAULT_PID_POLL_MS),
    probeIntervalMs: positive('probeIntervalMs', opts.probeIntervalMs, DEFAULT_PROBE_INTERVAL_MS),
    startTimeoutMs: positive('startTimeoutMs', opts.startTimeoutMs, DEFAULT_START_TIMEOUT_MS),
    log: nodeLog.child({ containerd: paths.socketPath }),
    abort: new AbortController(),
  };
  const { socketPath } = paths;
  // grpc-js reconnects to the same socket by itself: one client serves every incarnation.
  const connect = (): Promise<CriClient> => CriClient.connect(socketPath, { timeoutMs: settings.startTimeoutMs });

  if (opts.userSocket) return ContainerdSupervisor.external(settings, await connect());

  const first = await findOrStart(settings);
  if (!first) return ContainerdSupervisor.external(settings, await connect());
  let cri: CriClient;
  try {
    cri = await connect();
  } catch (e) {
    // Stop watching an adopted one; a child we just spawned does not outlive a failed start.
    settings.abort.abort();
    if (first.child) await stopChild(first.child);
    throw e;
  }
  return ContainerdSupervisor.owned(settings, cri, first);
}

interface Settings {
  opts: SuperviseContainerdOptions;
  paths: Omit<PreparedContainerd, 'snapshotter'>;
  pidFile: string;
  policy: BackoffPolicy;
  stableAfterMs: number;
  pidPollMs: number;
  probeIntervalMs: number;
  startTimeoutMs: number;
  log: Logger;
  /** Aborted by stop() and release(): ends every wait, poll and spawn of this supervisor. */
  abort: AbortController;
}

/**
 * The first incarnation: an owned containerd already running (adopted), or a new one. Undefined
 * when the socket is served by a containerd that is not ours.
 */
async function findOrStart(s: Settings): Promise<Incarnation | undefined> {
  const { configPath, socketPath } = s.paths;
  const deadline = Date.now() + s.startTimeoutMs;
  for (;;) {
    const ours = (await ownedFromPidFile(s.pidFile, configPath)) ?? (await findContainerdByConfig(configPath))[0];
    const listening = await socketListening(socketPath);
    if (ours && listening) return adopt(s, ours);
    if (!ours && listening) return undefined;
    if (!ours) break;
    // Ours but not listening: still starting, or shutting down and holding the bolt lock.
    if (Date.now() > deadline) {
      throw new UnavailableError(`containerd pid ${ours.pid} runs ${configPath} but does not answer on ${socketPath} within ${s.startTimeoutMs} ms; stop it or remove ${s.pidFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const prepared = await prepareContainerd(s.opts);
  return spawned(s, await spawnContainerd(prepared, { startTimeoutMs: s.startTimeoutMs }), false);
}

async function adopt(s: Settings, id: ProcessIdentity): Promise<Incarnation> {
  await writePidFile(s.pidFile, id.pid);
  s.log.info({ containerdPid: id.pid }, 'adopted running containerd');
  // Not our child: no exit event will come, so /proc is watched. Aborting leaves `gone` pending.
  const gone = new Promise<{ code: null; signal: null }>((resolve) => {
    void watchProcess(id, s.pidPollMs, s.abort.signal).then((dead) => { if (dead) resolve({ code: null, signal: null }); });
  });
  return { id, adopted: true, upAt: Date.now(), gone };
}

async function spawned(s: Settings, sp: SpawnedContainerd, restart: boolean): Promise<Incarnation> {
  sp.cri.close();
  const id = await processIdentity(sp.pid);
  if (!id) throw new UnavailableError(`containerd pid ${sp.pid} exited right after answering; see ${s.paths.logFile}`);
  try {
    await writePidFile(s.pidFile, sp.pid);
  } catch (e) {
    // Without its pid file a later agent could not tell it is ours: do not leave it running.
    await stopChild(sp.child);
    throw e;
  }
  s.log.info({ containerdPid: sp.pid, restart }, restart ? 'containerd restarted' : 'containerd started');
  return { id, child: sp.child, adopted: false, upAt: Date.now(), gone: sp.exited };
}

class ContainerdSupervisor implements SupervisedContainerd {
  readonly socketPath: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly pidFile: string;
  private current?: Incarnation;
  private attempt = 0;
  private loop: Promise<void> = Promise.resolve();
  private ended?: Promise<void>;
  private h: ContainerdHealth;

  private constructor(private readonly s: Settings, readonly cri: CriClient, readonly owned: boolean, first?: Incarnation) {
    this.socketPath = s.paths.socketPath;
    this.dataDir = s.paths.dataDir;
    this.configPath = s.paths.configPath;
    this.pidFile = s.pidFile;
    this.current = first;
    this.h = {
      state: 'up', owned, adopted: first?.adopted ?? false, pid: first?.id.pid, restarts: 0, since: new Date(),
      reason: !owned ? 'a containerd not started by this node answers' : first?.adopted ? 'adopted' : 'started',
    };
  }

  /** Supervises a containerd of ours: restarts it whenever it dies. */
  static owned(s: Settings, cri: CriClient, first: Incarnation): ContainerdSupervisor {
    const sup = new ContainerdSupervisor(s, cri, true, first);
    sup.emit();
    sup.loop = sup.superviseOwned(first).catch((err) => s.log.error({ err: String(err) }, 'containerd supervision failed'));
    return sup;
  }

  /** Watches a user's containerd: reports it down and up, never touches it. */
  static external(s: Settings, cri: CriClient): ContainerdSupervisor {
    const sup = new ContainerdSupervisor(s, cri, false);
    s.log.info('using a containerd this node did not start; it is never restarted or stopped');
    sup.emit();
    sup.loop = sup.probeExternal().catch((err) => s.log.error({ err: String(err) }, 'containerd probing failed'));
    return sup;
  }

  get pid(): number | undefined {
    return this.h.state === 'up' ? this.h.pid : undefined;
  }

  health(): ContainerdHealth {
    return { ...this.h, since: new Date(this.h.since), lastExit: this.h.lastExit && { ...this.h.lastExit } };
  }

  private set(patch: Partial<ContainerdHealth>): void {
    const changed = patch.state !== undefined && patch.state !== this.h.state;
    this.h = { ...this.h, ...patch, since: changed ? new Date() : this.h.since };
    this.emit();
  }

  private emit(): void {
    try {
      this.s.opts.onChange?.(this.health());
    } catch (err) {
      this.s.log.warn({ err: String(err) }, 'containerd onChange callback threw');
    }
  }

  private async superviseOwned(first: Incarnation): Promise<void> {
    const { signal } = this.s.abort;
    const aborted = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    let inc = first;
    for (;;) {
      const exit = await Promise.race([inc.gone, aborted]);
      if (!exit || signal.aborted) return;
      if (Date.now() - inc.upAt >= this.s.stableAfterMs) this.attempt = 0;
      const lastExit = { pid: inc.id.pid, ...exit, at: new Date() };
      this.current = undefined;
      this.s.log.warn({ containerdPid: inc.id.pid, code: exit.code, signal: exit.signal, upMs: Date.now() - inc.upAt }, 'containerd exited');
      let reason = `containerd pid ${inc.id.pid} exited${exit.signal ? ` (${exit.signal})` : exit.code !== null ? ` (code ${exit.code})` : ''}`;
      let next: Incarnation | undefined;
      while (!next) {
        const delay = backoffDelay(this.s.policy, this.attempt++);
        this.set({ state: 'down', pid: undefined, reason, lastExit, restartDelayMs: delay, nextRestartAt: new Date(Date.now() + delay) });
        if (!(await pause(delay, signal))) return;
        try {
          next = await this.bringUp(signal);
        } catch (err) {
          if (signal.aborted) {
            this.s.log.info('containerd restart aborted: supervision is ending');
            return;
          }
          reason = 'restart failed';
          this.h.lastError = err instanceof Error ? err.message : String(err);
          this.s.log.error({ err: this.h.lastError, attempt: this.attempt }, 'containerd restart failed');
        }
      }
      inc = next;
      this.current = inc;
      if (signal.aborted) return;
      if (!inc.adopted) this.h.restarts++;
      this.set({
        state: 'up', pid: inc.id.pid, adopted: inc.adopted, reason: inc.adopted ? 'adopted' : 'restarted',
        nextRestartAt: undefined, restartDelayMs: undefined,
      });
    }
  }

  /**
   * One restart attempt. Never starts a second containerd: one still running our config is
   * adopted when it listens and waited for when not (it may be shutting down, holding the bolt
   * lock), and a socket served by anything else is left to it.
   */
  private async bringUp(signal: AbortSignal): Promise<Incarnation> {
    const { configPath, socketPath } = this.s.paths;
    const ours = await findContainerdByConfig(configPath);
    const listening = await socketListening(socketPath);
    if (ours.length > 0) {
      if (listening) return adopt(this.s, ours[0]);
      throw new UnavailableError(`containerd pid ${ours.map((p) => p.pid).join(', ')} still runs ${configPath} but does not answer; waiting for it before starting another`);
    }
    if (listening) throw new UnavailableError(`something else answers on ${socketPath}; not starting a second containerd there`);
    // Same config as before; a missing one (removed by hand) is written again from the options.
    const prepared = existsSync(configPath) ? this.s.paths : await prepareContainerd(this.s.opts);
    return spawned(this.s, await spawnContainerd(prepared, { startTimeoutMs: this.s.startTimeoutMs, signal }), true);
  }

  private async probeExternal(): Promise<void> {
    const { signal } = this.s.abort;
    while (await pause(this.s.probeIntervalMs, signal)) {
      const err = await this.cri.version({}, { timeoutMs: Math.min(this.s.probeIntervalMs, 5_000) }).then(() => undefined, (e: unknown) => e);
      if (signal.aborted) return;
      if (err === undefined && this.h.state !== 'up') {
        this.s.log.info('containerd answers again');
        this.set({ state: 'up', reason: 'answers again' });
      } else if (err !== undefined && this.h.state !== 'down') {
        this.s.log.warn({ err: String(err) }, 'containerd does not answer; it is not ours to restart');
        this.set({ state: 'down', reason: `does not answer: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
  }

  stop(opts: StopOptions = {}): Promise<void> {
    this.ended ??= (async () => {
      this.s.abort.abort();
      await this.loop;
      this.cri.close();
      if (this.owned) {
        const inc = this.current;
        if (inc) await this.terminate(inc, opts.timeoutMs);
        // Anything else still running our config is ours too (a restart that raced the abort).
        for (const id of await findContainerdByConfig(this.configPath)) await this.terminate({ id }, opts.timeoutMs);
        await removePidFile(this.pidFile);
        if (opts.purge) await purgeContainerd({ dataDir: this.dataDir, socketPath: this.socketPath });
      }
      this.s.log.info({ purge: !!opts.purge }, this.owned ? 'containerd stopped' : 'stopped watching containerd');
      this.set({ state: 'stopped', pid: undefined, reason: 'stopped', nextRestartAt: undefined, restartDelayMs: undefined });
    })();
    return this.ended;
  }

  release(): Promise<void> {
    this.ended ??= (async () => {
      this.s.abort.abort();
      await this.loop;
      this.cri.close();
      // Do not keep this process alive for a child that is meant to outlive it.
      this.current?.child?.unref();
      this.s.log.info({ containerdPid: this.current?.id.pid }, 'released containerd for the next node agent');
      this.set({ state: 'stopped', pid: undefined, reason: 'released' });
    })();
    return this.ended;
  }

  /** SIGTERM, SIGKILL after the grace period; an adopted process only while it still runs our config. */
  private async terminate(inc: Pick<Incarnation, 'id' | 'child'>, timeoutMs = 10_000): Promise<void> {
    if (inc.child) { await stopChild(inc.child, timeoutMs); return; }
    if (!(await isAlive(inc.id)) || !runsConfig(await processArgs(inc.id.pid), this.configPath)) return;
    const kill = (sig: NodeJS.Signals): void => {
      try { process.kill(inc.id.pid, sig); } catch { /* already gone */ }
    };
    const gone = async (ms: number): Promise<boolean> => {
      const t = new AbortController();
      const timer = setTimeout(() => t.abort(), ms);
      try { return await watchProcess(inc.id, 50, t.signal); } finally { clearTimeout(timer); }
    };
    kill('SIGTERM');
    if (await gone(timeoutMs)) return;
    this.s.log.warn({ containerdPid: inc.id.pid, timeoutMs }, 'containerd ignored SIGTERM; killing it');
    kill('SIGKILL');
    await gone(5_000);
  }
}
