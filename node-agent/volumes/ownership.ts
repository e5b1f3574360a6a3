/**
 * A pod's fsGroup on its volumes, as kubelet's SetVolumeOwnership does
 * (https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#configure-volume-permission-and-ownership-change-policy-for-pods):
 * every file and directory of the volume is given the group, group read (and write, unless the
 * volume is read-only) is added to its mode, and directories get the setgid bit and group search,
 * so what the containers make later belongs to the group too. Symlinks, fifos, sockets and
 * devices get the group but keep their mode; nothing on another file system (a mount inside the
 * volume) is touched. `OnRootMismatch` skips the walk when the volume's root already has the
 * group, the setgid bit and the permissions.
 *
 * A container may be running in the volume while it is walked (another pod of the same claim, or
 * a walk again after a node agent restart), swapping a directory for a symlink to the node's
 * files between two steps. So the walk never resolves a path it has not pinned: each file and
 * directory is opened without following a link and checked to be the entry it listed; its group
 * and mode are changed through that descriptor, and a directory is listed and descended through
 * its descriptor (`/proc/self/fd/N`), never through its name again.
 */
import { constants } from 'node:fs';
import { lchown, lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** The pod's securityContext.fsGroupChangePolicy. */
export type FsGroupChangePolicy = 'Always' | 'OnRootMismatch';

const SETGID = 0o2000;
/** Group bits a file gets: read and write, or read only. */
const RW_MASK = 0o660;
const RO_MASK = 0o440;
/** What a directory gets besides: search for owner and group, and setgid. */
const DIR_EXTRA = 0o110 | SETGID;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

/** The mode `mode` of a file (or directory) becomes under fsGroup. */
export function ownedMode(mode: number, isDir: boolean, readOnly: boolean): number {
  const perm = mode & 0o7777;
  return perm | (readOnly ? RO_MASK : RW_MASK) | (isDir ? DIR_EXTRA : 0);
}

/** True when the root already carries the group and the bits (OnRootMismatch's test). */
async function rootMatches(dir: string, gid: number, readOnly: boolean): Promise<boolean> {
  const st = await lstat(dir);
  const perm = st.mode & 0o7777;
  return st.isDirectory() && st.gid === gid && perm === ownedMode(perm, true, readOnly);
}

const gone = (e: unknown): boolean => ['ENOENT', 'ELOOP', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * Gives the volume at `dir` to group `gid` (see the module comment). Returns the number of
 * changes made (0 when OnRootMismatch found the root in order). An entry removed or replaced
 * while the walk runs is passed over.
 */
export async function setVolumeOwnership(dir: string, gid: number, readOnly: boolean, policy: FsGroupChangePolicy = 'Always'): Promise<number> {
  if (policy === 'OnRootMismatch' && (await rootMatches(dir, gid, readOnly))) return 0;
  const root = await lstat(dir);
  if (!root.isDirectory()) throw new Error(`${dir} is not a directory`);
  let changed = 0;

  /** `p` names an entry through a pinned parent (or is the root itself). */
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (st.dev !== root.dev) return;
    if (!st.isFile() && !st.isDirectory()) {
      // Never opened (a fifo would block, a device could act): the group only, not following links.
      if (st.gid !== gid) { await lchown(p, -1, gid); changed += 1; }
      return;
    }
    const isDir = st.isDirectory();
    let fh: FileHandle;
    try {
      fh = await open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | (isDir ? O_DIRECTORY : 0));
    } catch (e) {
      if (gone(e)) return;
      throw e;
    }
    try {
      const pinned = await fh.stat();
      // Replaced since it was listed: the new entry is not what was walked to.
      if (pinned.ino !== st.ino || pinned.dev !== st.dev) return;
      if (pinned.gid !== gid) { await fh.chown(-1, gid); changed += 1; }
      const want = ownedMode(pinned.mode, isDir, readOnly);
      if ((pinned.mode & 0o7777) !== want) { await fh.chmod(want); changed += 1; }
      if (!isDir) return;
      const self = `/proc/self/fd/${fh.fd}`;
      for (const name of await readdir(self)) {
        try {
          await visit(path.join(self, name));
        } catch (e) {
          if (!gone(e)) throw e;
        }
      }
    } finally {
      await fh.close();
    }
  };
  await visit(dir);
  return changed;
}
