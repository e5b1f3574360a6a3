/**
 * Runs a private containerd as a child process (optionally inside a network namespace) and
 * stops it again; or adopts an existing containerd socket that already answers CRI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CriClient } from '../cri/client';
import { PAUSE_IMAGE } from '../images/build';
import { deleteRuncContainers, killPids, pidAlive, shimPidsFor, shimSocketPath, unmountUnder } from './cleanup';
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

/** The result of `connectOrStart`: either an existing containerd (not ours to stop) or ours. */
export interface ContainerdHandle {
  /** Undefined when adopting an existing socket. */
  pid?: number;
  socketPath: string;
  /** True when the socket already answered and we started nothing. */
  external: boolean;
  cri: CriClient;
  /** Stops containerd if we started it; for an external one only closes the client. */
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

/**
 * Writes config.toml and spawns `containerd --config` (through `nsenter --net=` when `netns` is
 * given: `ip netns exec` would remount /sys and break runc's cgroup lookup), then waits until CRI
 * answers Version. Throws when containerd exits early or does not answer within the deadline;
 * the error carries the tail of its log. The child is killed on failure.
 */
export async function startContainerd(opts: StartContainerdOptions): Promise<ContainerdProcess> {
  const dataDir = path.resolve(opts.dataDir);
  const root = path.join(dataDir, 'root');
  const state = path.join(dataDir, 'state');
  const socketPath = path.resolve(opts.socketPath ?? path.join(dataDir, 'containerd.sock'));
  if (Buffer.byteLength(socketPath) > 107) throw new Error(`containerd socket path is too long for a unix socket (${socketPath}); use a shorter dataDir or socketPath`);
  const logFile = opts.logFile ?? path.join(dataDir, 'containerd.log');
  const cniConfDir = opts.cniConfDir ?? path.join(dataDir, 'cni', 'net.d');
  const configPath = path.join(dataDir, 'config.toml');
  await Promise.all([root, state, cniConfDir, path.dirname(socketPath), path.dirname(logFile)].map((d) => mkdir(d, { recursive: true })));
  const snapshotter = opts.snapshotter ?? await detectSnapshotter(root);
  let registryConfigDir: string | undefined;
  if (opts.registryMirrors && Object.keys(opts.registryMirrors).length > 0) {
    registryConfigDir = path.join(dataDir, 'certs.d');
    await writeRegistryMirrors(registryConfigDir, opts.registryMirrors);
  }
  await writeFile(configPath, renderContainerdConfig({
    root, state, socketPath, cniConfDir, snapshotter, registryConfigDir,
    sandboxImage: opts.sandboxImage ?? PAUSE_IMAGE,
    cniBinDir: opts.cniBinDir,
    logLevel: opts.logLevel,
  }));

  const bin = opts.containerdBin ?? 'containerd';
  const [cmd, args] = opts.netns
    ? ['nsenter', [`--net=${netnsPath(opts.netns)}`, bin, '--config', configPath]]
    : [bin, ['--config', configPath]];
  const fd = openSync(logFile, 'a');
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
    throw new Error(`containerd (${configPath}) ${why}; last log lines of ${logFile}:\n${await logTail(logFile)}`, { cause });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  let cri: CriClient | undefined;
  let last: unknown;
  while (!cri) {
    if (spawnError) return fail(`could not be spawned (${spawnError.message}; is ${cmd} installed?)`, spawnError);
    if (child.exitCode !== null || child.signalCode !== null) return fail(`exited during start (code ${child.exitCode}, signal ${child.signalCode})`);
    const left = deadline - Date.now();
    if (left <= 0) return fail(`did not answer CRI Version on ${socketPath} within ${opts.startTimeoutMs ?? 20_000} ms`, last);
    try {
      // Short attempts so that an early exit of the child is noticed promptly.
      cri = await CriClient.connect(socketPath, { timeoutMs: Math.min(left, 1_000) });
    } catch (e) {
      last = e;
      if (!(e instanceof Error && e.name === 'UnavailableError')) return fail('answers but CRI is not usable', e);
    }
  }
  const pid = child.pid as number;
  const client = cri;
  let stopped: Promise<void> | undefined;
  const stop = (s: StopOptions = {}): Promise<void> => {
    stopped ??= (async () => {
      client.close();
      child.kill('SIGTERM');
      if (!(await waitExit(child, s.timeoutMs ?? 10_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
      if (s.purge) await purgeContainerd({ dataDir, socketPath });
    })();
    return stopped;
  };
  return { pid, socketPath, dataDir, configPath, logFile, snapshotter, cri: client, exited, stop };
}

/**
 * Removes what a stopped containerd leaves behind: its runc containers (killed), its shims, and
 * every mount under dataDir (rootfs, shm, pod netns). Call only after containerd has exited.
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
}

/**
 * Uses the containerd at `opts.socketPath` when it already answers CRI (within 2 s); otherwise
 * starts a private one as `startContainerd` would. Throws as `startContainerd` does.
 */
export async function connectOrStart(opts: StartContainerdOptions): Promise<ContainerdHandle> {
  if (opts.socketPath) {
    try {
      const cri = await CriClient.connect(opts.socketPath, { timeoutMs: 2_000 });
      return { socketPath: opts.socketPath, external: true, cri, stop: async () => cri.close() };
    } catch {
      // Nothing answers there: start our own on that socket.
    }
  }
  const p = await startContainerd(opts);
  return { pid: p.pid, socketPath: p.socketPath, external: false, cri: p.cri, stop: p.stop };
}
