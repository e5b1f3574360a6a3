/**
 * hostPath volumes (https://kubernetes.io/docs/concepts/storage/volumes/#hostpath): a file or
 * directory of the node, only inside the roots the node agent allows (`--host-path-root`; none by
 * default, since a hostPath reaches anything the node can). The path is resolved through its
 * symlinks before it is checked, and the resolved path is what gets mounted. `type` is checked
 * as kubelet's hostPath type checker does.
 */
import { lstat, mkdir, open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { VolumeError } from './errors';
import type { HostPathVolumeSource } from './types';

/** Whether `p` is `root` or below it (both absolute and resolved). */
export const isWithin = (p: string, root: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

/**
 * `p` with its symlinks resolved; a part that does not exist yet is appended to the resolved
 * part that does, as it would be created there.
 */
export async function resolveExisting(p: string): Promise<string> {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return path.join(await realpath(cur), ...rest.reverse());
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || cur === path.dirname(cur)) throw e;
      rest.push(path.basename(cur));
      cur = path.dirname(cur);
    }
  }
}

/** The allowed roots, resolved; roots that do not exist allow nothing and are left out. */
async function resolvedRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    const resolved = await realpath(path.resolve(r)).catch(() => undefined);
    if (resolved) out.push(resolved);
  }
  return out;
}

/**
 * Allows a hostPath anywhere on the node: for a PersistentVolume's hostPath, which an
 * administrator made (a pod's own hostPath volume is held to the node's allowed roots).
 */
export const ANY_ROOT = 'any';

/**
 * Checks a hostPath volume against the allowed roots (ANY_ROOT: none) and its type, creating it for the
 * ...OrCreate types, and returns the resolved path to mount. Throws VolumeError for a path the
 * node refuses or that is not what `type` asks.
 */
export async function setUpHostPath(volume: string, src: HostPathVolumeSource, allowedRoots: readonly string[] | typeof ANY_ROOT): Promise<string> {
  const where = src.path;
  if (!path.isAbsolute(where)) throw new VolumeError(volume, `hostPath ${where} must be an absolute path`);
  const roots = allowedRoots === ANY_ROOT ? ['/'] : await resolvedRoots(allowedRoots);
  const resolved = await resolveExisting(where);
  if (allowedRoots !== ANY_ROOT && !roots.some((r) => isWithin(resolved, r))) {
    const allowed = allowedRoots.length > 0 ? allowedRoots.join(', ') : 'none: start the node agent with --host-path-root to allow some';
    throw new VolumeError(volume, `hostPath ${where} is outside the node's allowed roots (${allowed})`);
  }
  const type = src.type ?? '';
  const st = await stat(resolved).catch(() => undefined);
  const fail = (what: string): never => { throw new VolumeError(volume, `hostPath type check failed: ${where} is not ${what}`); };
  switch (type) {
    case '':
      return resolved;
    case 'DirectoryOrCreate':
      if (!st) {
        await mkdir(resolved, { recursive: true, mode: 0o755 });
        return checkCreated(volume, where, resolved, roots);
      }
      if (!st.isDirectory()) fail('a directory');
      return resolved;
    case 'Directory':
      if (!st?.isDirectory()) fail('a directory');
      return resolved;
    case 'FileOrCreate':
      if (!st) {
        // As kubelet: the file is made, its parent directory is not.
        const parent = await stat(path.dirname(resolved)).catch(() => undefined);
        if (!parent?.isDirectory()) throw new VolumeError(volume, `hostPath ${where}: its parent directory does not exist (FileOrCreate does not create it)`);
        await (await open(resolved, 'a', 0o644)).close();
        return checkCreated(volume, where, resolved, roots);
      }
      if (!st.isFile()) fail('a file');
      return resolved;
    case 'File':
      if (!st?.isFile()) fail('a file');
      return resolved;
    case 'Socket':
      if (!st?.isSocket()) fail('a socket');
      return resolved;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) fail('a character device');
      return resolved;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) fail('a block device');
      return resolved;
    default:
      throw new VolumeError(volume, `hostPath type "${String(type)}" is not one of DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice or ""`);
  }
}

/** After creating: the path, resolved again, must still be inside a root (a symlink swapped in meanwhile). */
async function checkCreated(volume: string, where: string, resolved: string, roots: string[]): Promise<string> {
  const again = await realpath(resolved);
  if (!roots.some((r) => isWithin(again, r)) || (await lstat(again)).isSymbolicLink()) {
    throw new VolumeError(volume, `hostPath ${where} is outside the node's allowed roots once created`);
  }
  return again;
}
