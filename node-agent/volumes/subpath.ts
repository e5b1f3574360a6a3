/**
 * subPath mounts that cannot be raced (kubelet's fix for CVE-2017-1002101,
 * kubernetes/kubernetes pkg/volume/util/subpath/subpath_linux.go): checking a subPath and then
 * handing its path to the runtime lets a container swap a directory of its volume for a symlink
 * in between, so the runtime would bind-mount whatever the symlink names on the node. Instead the
 * node opens each component of the checked path from the volume's root without following
 * symlinks, bind-mounts the opened file itself (`/proc/<pid>/fd/<n>`) at
 * `<pod dir>/volume-subpaths/<volume>/<container>/<index>`, and gives the runtime that path, which
 * nothing in a container can change. The mounts go with the pod's volumes (manager.ts).
 */
import { constants, type Stats } from 'node:fs';
import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Linux's O_PATH (not in Node's constants): a descriptor for walking and mounting, not for reading. */
const O_PATH = 0o10000000;

/** The directory under a pod's own directory that holds its subPath bind mounts. */
export const SUBPATHS_DIR = 'volume-subpaths';

/** What binds a checked subPath for the runtime: returns the stable path to mount. */
export type SubPathBinder = (mount: { volume: string; container: string; index: number; base: string; resolved: string }) => Promise<string>;

/** How a binder mounts: a bind mount of `source` at `target`, and unmounting what is at or below a path. */
export interface BindMounter {
  mount(args: readonly string[]): Promise<void>;
  unmountUnder(dir: string): Promise<void>;
  isMountPoint(dir: string): Promise<boolean>;
}

/**
 * Opens `rel` (a relative path without `..` or symlinks, as checked) inside the directory `base`
 * one component at a time, never following a symlink: each open goes through the descriptor of
 * the directory opened before (`/proc/self/fd/<n>/<name>`, the same as openat). Throws ELOOP or
 * ENOTDIR when a component was swapped for a symlink since it was checked.
 */
export async function openBeneath(base: string, rel: string): Promise<FileHandle> {
  let dir = await open(base, O_PATH | constants.O_DIRECTORY);
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  try {
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === '..') throw Object.assign(new Error('a subPath component is ..'), { code: 'EINVAL' });
      const last = i === parts.length - 1;
      // The last one may be a file (a configMap key), a socket or a FIFO: O_PATH opens any of them.
      const next = await open(`/proc/self/fd/${dir.fd}/${parts[i]}`, O_PATH | constants.O_NOFOLLOW | (last ? 0 : constants.O_DIRECTORY));
      await dir.close();
      dir = next;
      // O_PATH with O_NOFOLLOW opens a symlink itself rather than failing: refuse it here.
      if (last && (await dir.stat()).isSymbolicLink()) throw Object.assign(new Error(`${parts[i]} is a symlink`), { code: 'ELOOP' });
    }
    return dir;
  } catch (e) {
    await dir.close().catch(() => undefined);
    throw e;
  }
}

/**
 * The binder of the pod whose directory is `podDir`: opens the checked subPath with
 * {@link openBeneath} and bind-mounts the opened file at its place under `volume-subpaths`
 * (unmounting what an earlier container of that name left there first).
 */
export function subPathBinder(podDir: string, mounter: BindMounter): SubPathBinder {
  return async ({ volume, container, index, base, resolved }) => {
    const handle = await openBeneath(base, path.relative(base, resolved));
    try {
      const st: Stats = await handle.stat();
      const target = path.join(podDir, SUBPATHS_DIR, volume, container, String(index));
      await mkdir(path.dirname(target), { recursive: true, mode: 0o750 });
      if (await mounter.isMountPoint(target)) await mounter.unmountUnder(target);
      // A bind mount needs a target of the same type: a directory for a directory, else a file.
      if (st.isDirectory()) await mkdir(target, { recursive: true });
      else await writeFile(target, '', { flag: 'a' });
      // --no-canonicalize: mount(8) must not resolve the descriptor's link back into a path.
      await mounter.mount(['--no-canonicalize', '--bind', `/proc/${process.pid}/fd/${handle.fd}`, target]);
      return target;
    } finally {
      await handle.close();
    }
  };
}
