/**
 * Knowing which containerd is ours without being its parent: a process is named by its pid and
 * its start time (so a recycled pid never passes for it), and it is ours when its command line
 * runs our config.toml. Used to adopt the containerd an earlier node agent started, to watch it
 * die, and to make sure no second containerd is ever started on the same config.
 */
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import * as path from 'node:path';

/** A process as it was when first seen: a later process with the same pid has another start time. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks since boot when the process started. */
  startTime: number;
}

/** The fields of /proc/<pid>/stat that matter here. */
export interface ProcStat { state: string; ppid: number; startTime: number }

/**
 * Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from its last closing parenthesis.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), rest[1] field 4 (ppid); starttime is field 22.
  const startTime = Number(rest[19]);
  const ppid = Number(rest[1]);
  if (!rest[0] || !Number.isFinite(startTime) || !Number.isFinite(ppid)) return undefined;
  return { state: rest[0], ppid, startTime };
}

async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The identity of a live process, or undefined when there is none (or only a zombie) with that pid. */
export async function processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const st = await procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return undefined;
  return { pid, startTime: st.startTime };
}

/** True while the very process `id` names is alive: same pid, same start time, not a zombie. */
export async function isAlive(id: ProcessIdentity): Promise<boolean> {
  const st = await procStat(id.pid);
  return !!st && st.state !== 'Z' && st.state !== 'X' && st.startTime === id.startTime;
}

/** A process's arguments (empty when it is gone or is a kernel thread). */
export async function processArgs(pid: number): Promise<string[]> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch {
    return [];
  }
}

/**
 * True when `args` is containerd run on `configPath` (`containerd --config <path>`, `-c <path>` or
 * `--config=<path>`), the way mk starts it. A shim (`containerd-shim-runc-v2`) never matches.
 */
export function runsConfig(args: string[], configPath: string): boolean {
  if (path.basename(args[0] ?? '') !== 'containerd') return false;
  const want = path.resolve(configPath);
  return args.some((a, i) =>
    ((a === '--config' || a === '-c') && args[i + 1] !== undefined && path.resolve(args[i + 1]) === want)
    || (a.startsWith('--config=') && path.resolve(a.slice('--config='.length)) === want));
}

/** The live containerd processes running `configPath`, oldest first. Reads every /proc/<pid>/cmdline. */
export async function findContainerdByConfig(configPath: string): Promise<ProcessIdentity[]> {
  const found: ProcessIdentity[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (!runsConfig(await processArgs(pid), configPath)) continue;
    const id = await processIdentity(pid);
    if (id) found.push(id);
  }
  return found.sort((a, b) => a.startTime - b.startTime || a.pid - b.pid);
}

/**
 * The containerd of ours named by the pid file: alive and running `configPath`. Undefined when the
 * file is missing or unreadable, or names a process that is gone or is something else now.
 */
export async function ownedFromPidFile(pidFile: string, configPath: string): Promise<ProcessIdentity | undefined> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined || !runsConfig(await processArgs(pid), configPath)) return undefined;
  return processIdentity(pid);
}

/** The pid in a pid file, or undefined when it is missing or holds no positive integer. */
export async function readPidFile(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Writes `pid` to `file` atomically (a reader never sees it half written). Throws when it cannot. */
export async function writePidFile(file: string, pid: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${pid}\n`);
  await rename(tmp, file);
}

/** Removes a pid file, but only while it still names `pid` (a newer incarnation's stays). */
export async function removePidFile(file: string, pid?: number): Promise<void> {
  if (pid !== undefined && (await readPidFile(file)) !== pid) return;
  await rm(file, { force: true });
}

/**
 * True when something accepts connections on the unix socket `socketPath` within `timeoutMs`
 * (default 1 s). A socket file left by a killed process refuses at once, so this is fast either way.
 */
export function socketListening(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Resolves when the process `id` is gone (exited, reaped or a zombie), checking /proc every
 * `intervalMs`: an adopted containerd is not our child, so no exit event tells us. Resolves
 * `false` instead when `signal` aborts first.
 */
export function watchProcess(id: ProcessIdentity, intervalMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (gone: boolean): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(gone);
    };
    const onAbort = (): void => finish(false);
    const check = (): void => {
      isAlive(id).then((alive) => {
        if (signal?.aborted) return;
        if (!alive) finish(true);
        else timer = setTimeout(check, intervalMs);
      }, () => { timer = setTimeout(check, intervalMs); });
    };
    if (signal?.aborted) { resolve(false); return; }
    signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}
