/**
 * tmpfs mounts for memory-backed emptyDirs and Secret volumes (never written to disk), and the
 * mounts of network volumes (nfs). Commands
 * get argument arrays, never a shell. Unit tests pass a fake {@link Mounter}.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { mountsUnder, unmountUnder } from '../containerd/cleanup';

const run = promisify(execFile);

/** How the node mounts and unmounts tmpfs filesystems. */
export interface Mounter {
  /** Whether something is mounted exactly at `dir`. */
  isMountPoint(dir: string): Promise<boolean>;
  /** Mounts a tmpfs at `dir` (which exists) with the root's `mode`; `sizeBytes` caps it. Throws when mount fails. */
  mountTmpfs(dir: string, opts: { mode: number; sizeBytes?: number }): Promise<void>;
  /** Unmounts everything at or below `dir`, deepest first; throws naming what stays mounted. */
  unmountUnder(dir: string): Promise<void>;
  /** Runs mount(8) with `args` (an nfs export); throws with mount's own message when it fails. Absent: the node mounts nothing else. */
  mount?(args: readonly string[]): Promise<void>;
}

/** The node's own mounter: mount(8), umount(8) and /proc/self/mountinfo. */
export const systemMounter: Mounter = {
  async isMountPoint(dir) {
    const abs = path.resolve(dir);
    return (await mountsUnder(abs)).includes(abs);
  },
  async mountTmpfs(dir, { mode, sizeBytes }) {
    const options = [`mode=0${mode.toString(8)}`, ...(sizeBytes && sizeBytes > 0 ? [`size=${sizeBytes}`] : [])];
    await run('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', dir], { timeout: 10_000 });
  },
  unmountUnder,
  async mount(args) {
    try {
      await run('mount', [...args], { timeout: 60_000 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error((err.stderr ?? '').trim() || err.message, { cause: e });
    }
  },
};
