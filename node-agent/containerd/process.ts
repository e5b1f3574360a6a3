/**
 * Runs a private containerd as a child process (optionally inside a network namespace) and
 * stops it again; or adopts an existing containerd socket that already answers CRI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { UnavailableError, ValidationError } from '../../messages/errors';
import { CriClient } from '../cri/client';
import { PAUSE_IMAGE } from '../images/build';
import { deleteRuncContainers, killPids, pidAlive, shimPidsFor, shimSocketPath, unmountUnder } from './cleanup';
import { socketListening } from './pid';
import { detectSnapshotter, renderContainerdConfig, writeRegistryMirrors, type Snapshotter } from './config';

/** Options of `startContainerd`. Only `dataDir` is required; everything else lives under it. */
export interface StartContainerdOptions {
  /** Holds root/, state/, config.toml, the socket and the log by default. Created if missing. */
  dataDir: string;
  /** API socket (default `<dataDir>/containerd.sock`); must fit in 107 bytes. */
  socketPath?: string;
  /** Network namespace to run in: a path (/var/run/netns/x) or a name from `ip netns`. */
  netns?: string;
  /** containerd's stdout/stderr (default `<dataDir>/containerd.log`), appended to. */
  logFile?: string;
  /** CNI conflist directory (default `<dataDir>/cni/net.d`); write it with `writeCniConfig`. */
  cniConfDir?: string;
  cniBinDir?: string;
  /** Default: detected with `detectSnapshotter` on the root dir. */
  snapshotter?: Snapshotter;
  /** Default: PAUSE_IMAGE (import it with `ensureBuiltinImages` before the first sandbox). */
  sandboxImage?: string;
  /** Registry host -> mirror URLs, e.g. `{ 'docker.io': ['http://10.0.0.5:5000'] }`. */
  registryMirrors?: Record<string, string[]>;
  /** How long to wait for CRI to answer after spawning (default 20 s). */
  startTimeoutMs?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** containerd binary (default `containerd` on PATH). */
  containerdBin?: string;
}

/** Options of `stop()`. */
export interface StopOptions {
  /** Grace period after SIGTERM before SIGKILL (default 10 s). */
  timeoutMs?: number;
  /**
   * Also remove what outlives containerd: runc containers and shims of this instance, and every
   * mount under dataDir. Use it when tearing a node down for good (tests, `mk down`), after pods
   * were stopped through CRI.
   */
  purge?: boolean;
}

/** A running containerd this process started. */
export interface ContainerdProcess {
  pid: number;
  socketPath: string;
  dataDir: string;
  configPath: string;
  logFile: string;
  snapshotter: Snapshotter;
  /** Connected and answering. Closed by stop(). */
  cri: CriClient;
  /** Settles when containerd exits, for whatever reason (a supervisor watches this). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, wait, SIGKILL after the deadline; idempotent. Purges leftovers on request. */
  stop(opts?: StopOptions): Promise<void>;
}

function netnsPath(netns: string): string {
  return netns.includes('/') ? netns : `/var/run/netns/${netns}`;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => { child.off('exit', onExit); resolve(false); }, ms);
    const onExit = (): void => { clearTimeout(t); resolve(true); };
    child.once('exit', onExit);
  });
}

async function logTail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** What `prepareContainerd` resolved and wrote: everything needed to spawn containerd again. */
export interface PreparedContainerd {
  dataDir: string;
  socketPath: string;
  configPath: string;
  logFile: string;
  snapshotter: Snapshotter;
  /** Network namespace path (`/var/run/netns/x`), when containerd runs in one. */
  netns?: string;
  /** containerd binary. */
  bin: string;
}

/**
 * Resolves the paths of a private containerd under `opts.dataDir` (socket, config, log) without
 * touching the disk. Throws ValidationError when the socket path does not fit in a unix socket.
 */
export function containerdPaths(opts: StartContainerdOptions): Omit<PreparedContainerd, 'snapshotter'> {
  const dataDir = path.resolve(opts.dataDir);
  const socketPath = path.resolve(opts.socketPath ?? path.join(dataDir, 'containerd.sock'));
  if (Buffer.byteLength(socketPath) > 107) {
    throw new ValidationError(`containerd socket path is too long for a unix socket (${socketPath}); use a shorter dataDir or socketPath`);
  }
  return {
    dataDir, socketPath,
    configPath: path.join(dataDir, 'config.toml'),
    logFile: opts.logFile ?? path.join(dataDir, 'containerd.log'),
    netns: opts.netns ? netnsPath(opts.netns) : undefined,
    bin: opts.containerdBin ?? 'containerd',
  };
}

/**
 * Creates containerd's directories and writes config.toml (and registry mirror configs) from
 * `opts`, detecting the snapshotter when not given. Throws when a directory or file cannot be
 * written, or ValidationError for a bad socket path or mirror.
 */
export async function prepareContainerd(opts: StartContainerdOptions): Promise<PreparedContainerd> {
  const p = containerdPaths(opts);
  const root = path.join(p.dataDir, 'root');
  const state = path.join(p.dataDir, 'state');
  const cniConfDir = opts.cniConfDir ?? path.join(p.dataDir, 'cni', 'net.d');
  await Promise.all([root, state, cniConfDir, path.dirname(p.socketPath), path.dirname(p.logFile)].map((d) => mkdir(d, { recursive: true })));
  const snapshotter = opts.snapshotter ?? await detectSnapshotter(root);
  let registryConfigDir: string | undefined;
  if (opts.registryMirrors && Object.keys(opts.registryMirrors).length > 0) {
    registryConfigDir = path.join(p.dataDir, 'certs.d');
    await writeRegistryMirrors(registryConfigDir, opts.registryMirrors);
  }
  await writeFile(p.configPath, renderContainerdConfig({
    root, state, socketPath: p.socketPath, cniConfDir, snapshotter, registryConfigDir,
    sandboxImage: opts.sandboxImage ?? PAUSE_IMAGE,
    cniBinDir: opts.cniBinDir,
    logLevel: opts.logLevel,
  }));
  return { ...p, snapshotter };
}

/** Options of `spawnContainerd`. */
export interface SpawnOptions {
  /** How long to wait for CRI to answer after spawning (default 20 s). */
  startTimeoutMs?: number;
  /** Aborting kills the child and makes the spawn throw (a stop during a restart). */
  signal?: AbortSignal;
}

/** A containerd child process that answered CRI Version. */
export interface SpawnedContainerd {
  pid: number;
  child: ChildProcess;
  /** Connected and answering; the caller closes it. */
  cri: CriClient;
  /** Settles when containerd exits, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `containerd --config` from an existing config.toml (through `nsenter --net=` when the
 * config runs in a namespace: `ip netns exec` would remount /sys and break runc's cgroup lookup),
 * appending its output to the log file, then waits until CRI answers Version. Throws when
 * containerd exits early, does not answer within the deadline, or the spawn is aborted; the error
 * carries the tail of its log. The child is killed on failure.
 */
export async function spawnContainerd(p: Omit<PreparedContainerd, 'snapshotter'>, o: SpawnOptions = {}): Promise<SpawnedContainerd> {
  const [cmd, args] = p.netns
    ? ['nsenter', [`--net=${p.netns}`, p.bin, '--config', p.configPath]]
    : [p.bin, ['--config', p.configPath]];
  const fd = openSync(p.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let spawnError: Error | undefined;
  child.on('error', (e) => { spawnError = e; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const fail = async (why: string, cause?: unknown): Promise<never> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
    }
    throw new UnavailableError(`containerd (${p.configPath}) ${why}; last log lines of ${p.logFile}:\n${await logTail(p.logFile)}`, { cause });
  };

  const timeoutMs = o.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let cri: CriClient | undefined;
  let last: unknown;
  while (!cri) {
    if (o.signal?.aborted) return fail('start was aborted');
    if (spawnError) return fail(`could not be spawned (${spawnError.message}; is ${cmd} installed?)`, spawnError);
    if (child.exitCode !== null || child.signalCode !== null) return fail(`exited during start (code ${child.exitCode}, signal ${child.signalCode})`);
    const left = deadline - Date.now();
    if (left <= 0) return fail(`did not answer CRI Version on ${p.socketPath} within ${timeoutMs} ms`, last);
    try {
      // Short attempts so that an early exit of the child (or an abort) is noticed promptly.
      cri = await CriClient.connect(p.socketPath, { timeoutMs: Math.min(left, 1_000) });
    } catch (e) {
      last = e;
      if (!(e instanceof Error && e.name === 'UnavailableError')) return fail('answers but CRI is not usable', e);
    }
  }
  if (o.signal?.aborted) {
    cri.close();
    return fail('start was aborted');
  }
  return { pid: child.pid as number, child, cri, exited };
}

/**
 * Stops a containerd child: SIGTERM, then SIGKILL when it has not exited after `timeoutMs`
 * (default 10 s). Containers keep running in their shims (like systemd's KillMode=process for
 * containerd); remove them through CRI first, or purge afterwards.
 */
export async function stopChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitExit(child, timeoutMs))) {
    child.kill('SIGKILL');
    await waitExit(child, 5_000);
  }
}

/**
 * Writes config.toml and spawns `containerd --config` (see `prepareContainerd` and
 * `spawnContainerd`), then waits until CRI answers Version. Throws when containerd exits early or
 * does not answer within the deadline; the error carries the tail of its log. The child is killed
 * on failure. Nothing restarts it when it dies: `superviseContainerd` does that.
 */
export async function startContainerd(opts: StartContainerdOptions): Promise<ContainerdProcess> {
  const prepared = await prepareContainerd(opts);
  const { dataDir, socketPath, configPath, logFile, snapshotter } = prepared;
  const { pid, child, cri: client, exited } = await spawnContainerd(prepared, { startTimeoutMs: opts.startTimeoutMs });
  let stopped: Promise<void> | undefined;
  const stop = (s: StopOptions = {}): Promise<void> => {
    stopped ??= (async () => {
      client.close();
      await stopChild(child, s.timeoutMs);
      if (s.purge) await purgeContainerd({ dataDir, socketPath });
    })();
    return stopped;
  };
  return { pid, socketPath, dataDir, configPath, logFile, snapshotter, cri: client, exited, stop };
}

/**
 * Removes what a stopped containerd leaves behind: its runc containers (killed), its shims, every
 * mount under dataDir (rootfs, shm, pod netns) and its sockets when nothing listens on them. Call only after containerd has exited.
 * Throws when mounts cannot be removed.
 */
export async function purgeContainerd(o: { dataDir: string; socketPath: string }): Promise<void> {
  const deleted = await deleteRuncContainers(path.join(o.dataDir, 'state', 'runc'));
  const shims = await shimPidsFor(o.socketPath);
  killPids(shims, 'SIGKILL');
  const deadline = Date.now() + 5_000;
  for (const pid of shims) {
    while ((await pidAlive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
  // Killed shims cannot remove their sockets, which live outside dataDir.
  await Promise.all(deleted.map((c) => rm(shimSocketPath(o.socketPath, c.namespace, c.id), { force: true })));
  await unmountUnder(o.dataDir);
  // A containerd that was killed cannot remove its API sockets; one that stopped has done so.
  if (!(await socketListening(o.socketPath))) {
    await Promise.all([o.socketPath, `${o.socketPath}.ttrpc`].map((p) => rm(p, { force: true })));
  }
}
