/**
 * Writes a volume's files so that a container never sees half an update, the way kubelet's
 * AtomicWriter does (kubernetes/kubernetes pkg/volume/util/atomic_writer.go): the files go into a
 * new hidden directory named by the time, a `..data` symlink is pointed at it by rename(2), and
 * every visible name is a symlink through `..data`. Safe to repeat after a crash at any point:
 * leftovers of an unfinished write are removed by the next one.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One file of a volume: its bytes and its permission bits (0..0777). */
export interface FileProjection { content: Buffer | string; mode: number }

/** A volume's files by their path relative to the volume. */
export type Payload = Record<string, FileProjection>;

/** The symlink to the current timestamped directory. */
export const DATA_DIR_NAME = '..data';
const DATA_TMP = '..data_tmp';

/**
 * Says why `p` cannot be a file path in a volume, or undefined when it can: relative, no `..`
 * element, not starting with `..` (names kept for the writer's own entries).
 */
export function payloadPathError(p: string): string | undefined {
  if (p === '') return 'a path must not be empty';
  if (path.isAbsolute(p)) return `path ${JSON.stringify(p)} must be relative`;
  if (p.split('/').includes('..')) return `path ${JSON.stringify(p)} must not contain '..'`;
  if (p.startsWith('..')) return `path ${JSON.stringify(p)} must not start with '..'`;
  return undefined;
}

/**
 * Makes `dir` hold exactly `payload`. Returns true when files were written, false when they were
 * already there as asked. Throws for a path `payloadPathError` refuses and for I/O failures.
 */
export async function writeAtomic(dir: string, payload: Payload): Promise<boolean> {
  const names = Object.keys(payload).map((p) => path.normalize(p));
  for (const p of Object.keys(payload)) {
    const err = payloadPathError(p);
    if (err) throw new Error(err);
  }
  if (new Set(names).size !== names.length) throw new Error('two files of the volume have the same path');
  await mkdir(dir, { recursive: true });
  const current = await readlink(path.join(dir, DATA_DIR_NAME)).catch(() => undefined);
  const want = new Map(Object.entries(payload).map(([p, f]) => [path.normalize(p), { content: Buffer.from(f.content), mode: f.mode & 0o777 }]));
  let data = current;
  let changed = false;
  if (!current || !(await sameTree(path.join(dir, current), want))) {
    data = `..${new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '')}.${randomBytes(4).toString('hex')}`;
    const target = path.join(dir, data);
    await mkdir(target, { mode: 0o755 });
    for (const [p, f] of want) {
      const file = path.join(target, p);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
      await writeFile(file, f.content, { mode: f.mode });
      await chmod(file, f.mode);
    }
    await rm(path.join(dir, DATA_TMP), { force: true });
    await symlink(data, path.join(dir, DATA_TMP));
    await rename(path.join(dir, DATA_TMP), path.join(dir, DATA_DIR_NAME));
    changed = true;
  }
  const visible = new Set(names.map((p) => p.split('/')[0]));
  for (const name of visible) {
    const link = path.join(dir, name);
    if (!(await lstat(link).catch(() => undefined))) await symlink(path.join(DATA_DIR_NAME, name), link);
  }
  for (const entry of await readdir(dir)) {
    const full = path.join(dir, entry);
    if (entry.startsWith('..')) {
      if (entry !== DATA_DIR_NAME && entry !== data) await rm(full, { recursive: true, force: true });
    } else if (!visible.has(entry) && (await lstat(full)).isSymbolicLink()) {
      await unlink(full);
    }
  }
  return changed;
}

/** Whether `root` holds exactly the files of `want`, with their bytes and modes. */
async function sameTree(root: string, want: Map<string, { content: Buffer; mode: number }>): Promise<boolean> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<boolean> => {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => undefined);
    if (!entries) return false;
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!(await walk(p))) return false;
      } else {
        found.push(p);
      }
    }
    return true;
  };
  if (!(await walk('')) || found.length !== want.size) return false;
  for (const p of found) {
    const w = want.get(p);
    if (!w) return false;
    const st = await stat(path.join(root, p));
    if ((st.mode & 0o777) !== w.mode) return false;
    if (!(await readFile(path.join(root, p))).equals(w.content)) return false;
  }
  return true;
}
