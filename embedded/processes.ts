/**
 * Pid files and signals for the processes `mk up` starts. A pid is only acted on when the process
 * still runs and its command line names our data directory, so a recycled pid is never signalled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Reads a pid file; undefined when absent or not a number. */
export function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a pid file (creating its directory). */
export function writePid(file: string, pid: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${pid}\n`);
}

/** Removes a pid file if present. */
export function removePid(file: string): void {
  fs.rmSync(file, { force: true });
}

/** True when a process with this pid exists (zombies count as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * True when `pid` runs and its command line contains `marker` (the data directory). Where
 * /proc is not available only liveness is checked.
 */
export function isOurs(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.includes(marker));
  } catch {
    return true;
  }
}

/** The pid in `file` when that process is ours and running; undefined otherwise. */
export function livePid(file: string, marker: string): number | undefined {
  const pid = readPid(file);
  return pid !== undefined && isOurs(pid, marker) ? pid : undefined;
}

/** Sends a signal; false when the process is already gone. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Resolves true once the process has exited, false if it still runs after `ms`. */
export async function waitExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function terminate(pid: number, graceMs: number): Promise<'exited' | 'killed'> {
  if (!signal(pid, 'SIGTERM')) return 'exited';
  if (await waitExit(pid, graceMs)) return 'exited';
  signal(pid, 'SIGKILL');
  await waitExit(pid, 5000);
  return 'killed';
}

/** Running processes (other than this one and its parent) whose command line mentions `marker`, by pid and program name. */
export function strayProcesses(marker: string): { pid: number; name: string }[] {
  const out: { pid: number; name: string }[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid || Number(e) === process.ppid) continue;
    try {
      const args = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.includes(marker)) && isAlive(Number(e))) out.push({ pid: Number(e), name: path.basename(args[0]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
