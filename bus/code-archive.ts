/**
 * A function's code packed as a deterministic ustar archive (POSIX.1-1988, the format of
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06): the same
 * tree always packs to the same bytes, so its sha256 names it in the code bucket. Entries are
 * sorted by path, every mtime, uid and gid is 0, owner names are empty, modes are 0644 (0755 for
 * directories and executable files). Symbolic links inside the tree are packed as the file they
 * point at; links that leave it, to directories, devices, fifos and sockets are refused. Unpacking
 * refuses absolute paths, `..` and any entry that is not a plain file or a directory.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../messages/errors';

/** The most a packed tree may weigh: larger code belongs in an image, not in the bus. */
export const MAX_CODE_BYTES = 64 * 1024 * 1024;

const BLOCK = 512;
const FILE_MODE = 0o644;
const EXEC_MODE = 0o755;

/** A packed tree: the archive, its digest (`sha256:<hex>`), how many files it holds and its size in bytes. */
export interface PackedCode {
  bytes: Uint8Array;
  digest: string;
  files: number;
  size: number;
}

/** The digest of packed bytes: `sha256:<64 hex>`. */
export function codeDigest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

interface Entry { name: string; dir: boolean; mode: number; data?: Buffer }

/**
 * Packs a file (one entry, by its base name) or a directory (its contents, relative to it).
 * Throws ValidationError naming the path for a missing one, a link leaving the tree, a special
 * file, a name too long for ustar, or code over `limit` bytes packed.
 */
export function pack(pathOrDir: string, limit: number = MAX_CODE_BYTES): PackedCode {
  const root = path.resolve(pathOrDir);
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new ValidationError(`${pathOrDir}: no such file or directory`);
  }
  const entries: Entry[] = [];
  let total = 2 * BLOCK;
  // The size is counted from the file's stat before it is read, so a file past the limit is
  // refused by name instead of being read whole (or failing to read past 2 GiB).
  const where = (e: Omit<Entry, 'data'>): string => (st.isFile() ? pathOrDir : path.join(pathOrDir, e.name));
  const add = (e: Omit<Entry, 'data'>, file?: { abs: string; size: number }): void => {
    total += BLOCK + Math.ceil((file?.size ?? 0) / BLOCK) * BLOCK;
    if (total > limit) {
      const which = file ? ` (at ${where(e)}, ${file.size} bytes)` : '';
      throw new ValidationError(`${pathOrDir}: the code is larger than the limit of ${limit} bytes packed (${limitText(limit)})${which}`);
    }
    if (!file) {
      entries.push(e);
      return;
    }
    const data = fs.readFileSync(file.abs);
    // A file that grew after its stat would slip past the limit.
    if (data.length !== file.size) throw new ValidationError(`${where(e)}: the file changed while it was packed; pack again`);
    entries.push({ ...e, data });
  };
  if (st.isFile()) {
    add({ name: path.basename(root), dir: false, mode: fileMode(st.mode) }, { abs: root, size: st.size });
  } else if (st.isDirectory()) {
    const realRoot = fs.realpathSync(root);
    walk(realRoot, '', realRoot, pathOrDir, add);
  } else {
    throw new ValidationError(`${pathOrDir}: not a regular file or a directory`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const blocks: Buffer[] = [];
  for (const e of entries) {
    blocks.push(header(e));
    if (e.data && e.data.length > 0) {
      blocks.push(e.data);
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  const bytes = new Uint8Array(Buffer.concat(blocks));
  return { bytes, digest: codeDigest(bytes), files: entries.filter((e) => !e.dir).length, size: bytes.length };
}

function limitText(limit: number): string {
  return limit % (1024 * 1024) === 0 ? `${limit / (1024 * 1024)} MiB` : `${limit} B`;
}

function fileMode(mode: number): number {
  return (mode & 0o111) !== 0 ? EXEC_MODE : FILE_MODE;
}

/** Adds the entries under `dir` (real path), named relative to the root; `shown` is what the user typed. */
function walk(dir: string, rel: string, realRoot: string, shown: string, add: (e: Omit<Entry, 'data'>, file?: { abs: string; size: number }) => void): void {
  for (const name of fs.readdirSync(dir).sort()) {
    const abs = path.join(dir, name);
    const relName = rel ? `${rel}/${name}` : name;
    const where = path.join(shown, relName);
    let st = fs.lstatSync(abs);
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = fs.realpathSync(abs);
      } catch {
        throw new ValidationError(`${where}: a symbolic link to nothing`);
      }
      if (target !== realRoot && !target.startsWith(realRoot + path.sep)) {
        throw new ValidationError(`${where}: a symbolic link that leaves the directory (to ${target}); copy the file in instead`);
      }
      st = fs.statSync(abs);
      if (!st.isFile()) throw new ValidationError(`${where}: a symbolic link to a directory; only links to files are packed`);
    }
    if (st.isDirectory()) {
      add({ name: `${relName}/`, dir: true, mode: EXEC_MODE });
      walk(abs, relName, realRoot, shown, add);
    } else if (st.isFile()) {
      add({ name: relName, dir: false, mode: fileMode(st.mode) }, { abs, size: st.size });
    } else {
      throw new ValidationError(`${where}: a device, fifo or socket cannot be packed; only files and directories are`);
    }
  }
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0');
}

/**
 * A path as ustar's prefix and name fields: the whole path in name when it fits in 100 bytes,
 * else split at the last `/` that leaves at most 155 bytes before it and 100 after. A
 * directory's trailing `/` stays with its name, and is dropped only when nothing fits with it
 * (its type says it is a directory). Throws ValidationError when no `/` fits.
 */
function splitName(full: string): { prefix: string; name: string } {
  const bare = full.endsWith('/') ? full.slice(0, -1) : full;
  for (const whole of bare === full ? [full] : [full, bare]) {
    if (Buffer.byteLength(whole) <= 100) return { prefix: '', name: whole };
    for (let cut = whole.lastIndexOf('/', whole.length - 2); cut > 0; cut = whole.lastIndexOf('/', cut - 1)) {
      const prefix = whole.slice(0, cut);
      const name = whole.slice(cut + 1);
      if (Buffer.byteLength(name) > 100) break;
      if (Buffer.byteLength(prefix) <= 155) return { prefix, name };
    }
  }
  throw new ValidationError(`${full}: the path is too long to pack (it must split at a "/" into at most 155 bytes of directories and 100 of name)`);
}

/** A ustar header; a name over 100 bytes is split into prefix and name at a `/` (splitName). */
function header(e: Entry): Buffer {
  const h = Buffer.alloc(BLOCK);
  const { prefix, name } = splitName(e.name);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(e.data?.length ?? 0, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.fill(' ', 148, 156);
  h.write(e.dir ? '5' : '0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 7)}\0 `, 148, 'ascii');
  return h;
}

function field(h: Uint8Array, at: number, len: number): string {
  const raw = Buffer.from(h.subarray(at, at + len));
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString('utf8');
}

function number(h: Uint8Array, at: number, len: number, what: string): number {
  const t = field(h, at, len).trim();
  if (!/^[0-7]*$/.test(t)) throw new ValidationError(`the code archive is corrupt: a bad ${what} field`);
  return t === '' ? 0 : parseInt(t, 8);
}

/** An entry's path inside the destination, or a ValidationError for an absolute path, `..` or a name that is empty (`.`, `./`). */
function safeRelative(name: string): string {
  const trimmed = name.replace(/\/+$/, '');
  if (trimmed === '' || trimmed.startsWith('/') || /^[A-Za-z]:/.test(trimmed)) {
    throw new ValidationError(`the code archive holds an absolute or empty path: ${JSON.stringify(name)}`);
  }
  const parts = trimmed.split('/');
  if (parts.some((p) => p === '..')) throw new ValidationError(`the code archive holds a path with "..": ${JSON.stringify(name)}`);
  const rel = parts.filter((p) => p !== '' && p !== '.').join('/');
  if (rel === '') throw new ValidationError(`the code archive holds an entry with an empty name: ${JSON.stringify(name)}`);
  return rel;
}

/** One entry read from an archive. */
export interface ArchiveEntry { name: string; dir: boolean; mode: number; data: Uint8Array }

/**
 * Refuses entries that could not all be written as they are: a name given twice (a file and a
 * directory of one name included), and a file that another entry's path runs through (`lib` a
 * file, `lib/a.py` beside it).
 */
function checkNames(entries: readonly ArchiveEntry[]): void {
  const seen = new Set<string>();
  const files = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new ValidationError(`the code archive holds ${JSON.stringify(e.name)} more than once`);
    seen.add(e.name);
    if (!e.dir) files.add(e.name);
  }
  for (const e of entries) {
    for (let cut = e.name.indexOf('/'); cut > 0; cut = e.name.indexOf('/', cut + 1)) {
      const above = e.name.slice(0, cut);
      if (files.has(above)) {
        throw new ValidationError(`the code archive holds ${JSON.stringify(e.name)} under ${JSON.stringify(above)}, which it also holds as a file`);
      }
    }
  }
}

/**
 * Reads an archive's entries. Throws ValidationError for a bad checksum, a truncated archive,
 * an absolute path or `..`, an entry that is not a file or a directory, an empty or repeated
 * name, or an entry under a name the archive also holds as a file.
 */
export function readArchive(bytes: Uint8Array): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  let at = 0;
  while (at + BLOCK <= bytes.length) {
    const h = bytes.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) {
      checkNames(out);
      return out;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (number(h, 148, 8, 'checksum') !== sum) throw new ValidationError('the code archive is corrupt: a header checksum does not match');
    const prefix = field(h, 345, 155);
    const raw = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
    const type = String.fromCharCode(h[156]);
    const size = number(h, 124, 12, 'size');
    if (type !== '0' && type !== '\0' && type !== '5') {
      throw new ValidationError(`the code archive holds ${JSON.stringify(raw)}, which is not a file or a directory (type ${JSON.stringify(type)})`);
    }
    const name = safeRelative(raw);
    const start = at + BLOCK;
    if (start + size > bytes.length) throw new ValidationError('the code archive is truncated');
    out.push({ name, dir: type === '5', mode: number(h, 100, 8, 'mode') & 0o777, data: bytes.subarray(start, start + size) });
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new ValidationError('the code archive is truncated: it has no end marker');
}

/**
 * Writes an archive's files and directories under `destDir` (made when missing), with their
 * modes. Everything is checked before anything is written: an archive with one bad entry writes
 * nothing. Throws ValidationError as readArchive does.
 */
export function unpack(bytes: Uint8Array, destDir: string): void {
  const entries = readArchive(bytes);
  const root = path.resolve(destDir);
  fs.mkdirSync(root, { recursive: true });
  for (const e of entries) {
    const target = path.join(root, e.name);
    if (e.dir) {
      fs.mkdirSync(target, { recursive: true, mode: e.mode });
    } else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, e.data, { mode: e.mode });
      fs.chmodSync(target, e.mode);
    }
  }
}
