/**
 * Removing what a private containerd leaves behind: shims and containers that outlive it,
 * and the mounts (rootfs, sandbox shm, pod netns) it made under its own directories.
 * Used by `mk down` and by the test harness; everything is found under given dirs, never by name.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, readlink, rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ValidationError } from '../../messages/errors';
import { parseCgroupMounts } from './cgroups';
import { unescapeMountPath } from './mountinfo';

const run = promisify(execFile);

/** Mount points at or below `dir`, deepest first (the order they must be unmounted in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info.split('\n').filter(Boolean).map((l) => unescapeMountPath(l.split(' ')[4]));
  const under = points.filter((p) => p === root || p.startsWith(`${root}/`));
  return [...new Set(under)].sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

/**
 * Unmounts everything at or below `dir`, deepest first; falls back to a lazy unmount for a busy
 * mount. Repeats while mounts remain (stacked mounts), up to a few rounds. Throws when mounts
 * are still there after that, naming them.
 */
export async function unmountUnder(dir: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      await run('umount', [p], { timeout: 10_000 }).catch(() => run('umount', ['-l', p], { timeout: 10_000 }).catch(() => undefined));
    }
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`could not unmount under ${dir}: ${left.join(', ')}`);
}

/**
 * Pids of containerd-shim processes serving the containerd whose API socket is `socketPath`
 * (shims carry `-address <socket>` in their command line and outlive containerd by design).
 */
export async function shimPidsFor(socketPath: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (!path.basename(args[0] ?? '').startsWith('containerd-shim')) continue;
      const i = args.indexOf('-address');
      if (i >= 0 && args[i + 1] === socketPath) pids.push(Number(entry));
    } catch {
      // The process exited while we looked: nothing to clean.
    }
  }
  return pids;
}

/**
 * Force-deletes every runc container whose state lives under `runcRoot` (the `Root` option mk
 * gives runc; one subdirectory per containerd namespace), killing its processes. Returns what
 * it deleted. Missing root = nothing to do.
 */
export async function deleteRuncContainers(runcRoot: string): Promise<{ namespace: string; id: string }[]> {
  const ids: { namespace: string; id: string }[] = [];
  let namespaces: string[];
  try {
    namespaces = await readdir(runcRoot);
  } catch {
    return ids;
  }
  for (const ns of namespaces) {
    const nsRoot = path.join(runcRoot, ns);
    let list: string[];
    try {
      list = await readdir(nsRoot);
    } catch {
      continue;
    }
    for (const id of list) {
      await run('runc', ['--root', nsRoot, 'delete', '--force', id], { timeout: 15_000 }).catch(() => undefined);
      ids.push({ namespace: ns, id });
    }
  }
  return ids;
}

/**
 * Where containerd 1.6 puts the socket of the shim for task `id`: a fixed directory, named by
 * sha256 of `<containerd address>/<namespace>/<id>` (runtime/v2/shim/util_unix.go). A shim that
 * is killed leaves it behind.
 */
export function shimSocketPath(containerdSocket: string, namespace: string, id: string): string {
  return path.join('/run/containerd/s', createHash('sha256').update(`${containerdSocket}/${namespace}/${id}`).digest('hex'));
}

/**
 * Mount points of every cgroup hierarchy in this process's mount table, whatever the version:
 * v1 (one per controller, plus named ones), v2 (one), or both on a hybrid host.
 */
export async function cgroupMounts(): Promise<string[]> {
  return parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8')).map((m) => m.path);
}

/**
 * Removes the cgroup `relPath` (`/mk-test-1`, `/kubepods/...`) and every cgroup below it in all
 * hierarchies (`mountPoints`, by default every cgroup mount: so v1, v2 and hybrid hosts alike),
 * children first. Only empty cgroups can go: one that still has processes stays, and its path is
 * returned so the caller can report it. Throws for the root cgroup.
 */
export async function removeCgroup(relPath: string, mountPoints?: string[]): Promise<string[]> {
  const rel = path.posix.normalize(`/${relPath}`);
  if (rel === '/') throw new ValidationError('refusing to remove the root cgroup');
  const left: string[] = [];
  const removeTree = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // not in this hierarchy
    }
    for (const e of entries) if (e.isDirectory()) await removeTree(path.join(dir, e.name));
    await rmdir(dir).catch(() => left.push(dir));
  };
  for (const m of mountPoints ?? await cgroupMounts()) await removeTree(path.join(m, rel));
  return left;
}

/** Sends `signal` to each pid that still exists; ignores the ones already gone. */
export function killPids(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already exited.
    }
  }
}

/** True while a process with this pid exists (and is not a zombie we could reap). */
export async function pidAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** The network namespace a process runs in (`net:[4026531992]`), for checks in tests. */
export async function netnsOf(pid: number): Promise<string> {
  return readlink(`/proc/${pid}/ns/net`);
}
