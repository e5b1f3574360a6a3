/**
 * Network namespaces for tests: each e2e "host" lives in one, so tests never touch the root
 * namespace's links, routes or iptables. Commands run inside with `nsenter --net` (not
 * `ip netns exec`, which remounts /sys and hides the cgroup mounts runc needs).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { runCommand, type RunOptions, type RunResult } from './run';

const execFileP = promisify(execFile);

/** Output of a command run in a namespace. */
export type { RunResult } from './run';

/** A network namespace this test created. */
export interface TestNetns {
  /** Name under /var/run/netns. */
  name: string;
  /** /var/run/netns/<name>: what `nsenter --net=` and containerd's startContainerd take. */
  path: string;
  /** Runs argv inside the namespace (no shell); never rejects on a non-zero exit. */
  run(cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** Deletes the namespace (idempotent). Processes started in it must be stopped first. */
  destroy(): Promise<void>;
}

/** Runs argv inside the namespace at `nsPath` with a deadline (default 30 s). */
export function runInNetns(nsPath: string, cmd: string[], timeoutMs = 30_000, opts: Omit<RunOptions, 'timeoutMs'> = {}): Promise<RunResult> {
  return runCommand(['nsenter', `--net=${nsPath}`, '--', ...cmd], { ...opts, timeoutMs });
}

/**
 * Creates a uniquely named namespace (`<prefix>-<pid>-<random>`) with `lo` up. Throws when
 * `ip netns add` fails (not root?), after removing anything half-made.
 */
export async function createNetns(prefix: string): Promise<TestNetns> {
  const name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const nsPath = `/var/run/netns/${name}`;
  await execFileP('ip', ['netns', 'add', name]);
  let destroyed = false;
  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    if (existsSync(nsPath)) await execFileP('ip', ['netns', 'delete', name]);
  };
  try {
    const up = await runInNetns(nsPath, ['ip', 'link', 'set', 'lo', 'up']);
    if (up.code !== 0) throw new Error(`bringing lo up in ${name} failed: ${up.stderr}`);
  } catch (e) {
    await destroy();
    throw e;
  }
  return { name, path: nsPath, run: (cmd, o) => runInNetns(nsPath, cmd, o?.timeoutMs), destroy };
}
