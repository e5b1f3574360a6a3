/**
 * A pod's fsGroup on its volumes, as kubelet's SetVolumeOwnership does
 * (https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#configure-volume-permission-and-ownership-change-policy-for-pods):
 * every file and directory of the volume is given the group, group read (and write, unless the
 * volume is read-only) is added to its mode, and directories get the setgid bit and group search,
 * so what the containers make later belongs to the group too. Symlinks get the group but keep
 * their mode, and are never followed; nothing on another file system (a mount inside the volume)
 * is touched. `OnRootMismatch` skips the walk when the volume's root already has the group, the
 * setgid bit and the permissions.
 */
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** The pod's securityContext.fsGroupChangePolicy. */
export type FsGroupChangePolicy = 'Always' | 'OnRootMismatch';

const SETGID = 0o2000;
/** Group bits a file gets: read and write, or read only. */
const RW_MASK = 0o660;
const RO_MASK = 0o440;
/** What a directory gets besides: search for owner and group, and setgid. */
const DIR_EXTRA = 0o110 | SETGID;

/** The mode `mode` of a file (or directory) becomes under fsGroup. */
export function ownedMode(mode: number, isDir: boolean, readOnly: boolean): number {
  const perm = mode & 0o7777;
  return perm | (readOnly ? RO_MASK : RW_MASK) | (isDir ? DIR_EXTRA : 0);
}

/** True when the root already carries the group and the bits (OnRootMismatch's test). */
async function rootMatches(dir: string, gid: number, readOnly: boolean): Promise<boolean> {
  const st = await lstat(dir);
  const perm = st.mode & 0o7777;
  return st.gid === gid && perm === ownedMode(perm, true, readOnly);
}

/**
 * Gives the volume at `dir` to group `gid` (see the module comment). Returns the number of
 * entries changed (0 when OnRootMismatch found the root in order).
 */
export async function setVolumeOwnership(dir: string, gid: number, readOnly: boolean, policy: FsGroupChangePolicy = 'Always'): Promise<number> {
  if (policy === 'OnRootMismatch' && (await rootMatches(dir, gid, readOnly))) return 0;
  const root = await lstat(dir);
  let changed = 0;
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (st.dev !== root.dev) return;
    if (st.gid !== gid) {
      await lchown(p, -1, gid);
      changed += 1;
    }
    if (st.isSymbolicLink()) return;
    const isDir = st.isDirectory();
    const want = ownedMode(st.mode, isDir, readOnly);
    if ((st.mode & 0o7777) !== want) {
      await chmod(p, want);
      changed += 1;
    }
    if (!isDir) return;
    for (const name of await readdir(p)) await visit(path.join(p, name));
  };
  await visit(dir);
  return changed;
}
