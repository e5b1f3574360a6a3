/**
 * The node's cache of Functions' code, behind the `functions.mk.io` CSI inline volume: one
 * directory per code digest, `<root>/<64 hex>/`, unpacked once from the object store and shared
 * read-only by every pod on the node that mounts that code. Unpacking goes into a temporary
 * directory beside it, renamed into place when complete, and removal renames the directory away
 * before deleting it, so a directory under its digest's name is always whole (an agent killed
 * mid-unpack or mid-removal leaves only a temporary directory, removed by `collect`). Each digest
 * has at most one operation at a time, an unpack or a removal: concurrent setups of one digest
 * share one download, a setup waits for a removal of its code and then unpacks it again, and a
 * removal never starts while the code is being unpacked. Which pods use a digest is recorded as a
 * file per volume in the pod's volume directory (`<pod>/volumes/csi/<name>` holding the digest),
 * so the record outlives the agent and goes with the pod's volumes; a removal reads the records
 * again once it holds its digest, so a pod recorded meanwhile keeps its code.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { unpack } from '../../bus/code-archive';
import { CODE_DIGEST } from '../../messages/function-names';
import { isPodUidDir } from './layout';

/** The prefix of unpacks and removals in progress (or left by an agent killed during one). */
const TEMP_PREFIX = '.tmp-';
const HEX = /^[0-9a-f]{64}$/;

/** Fetches packed code by digest, checked against it (bus/function-code.ts getCode). */
export type CodeFetcher = (digest: string) => Promise<Uint8Array>;

/** How the node keeps Functions' code. */
export interface FunctionCodeCacheOptions {
  /** `<node data dir>/function-code`. */
  root: string;
  fetch: CodeFetcher;
  /** How long code no pod uses stays after a pod using it is removed; default 10 minutes. */
  keepUnusedMs?: number;
  now?: () => number;
  log?: Logger;
}

/** The default of FunctionCodeCacheOptions.keepUnusedMs. */
export const DEFAULT_KEEP_UNUSED_MS = 10 * 60_000;

/**
 * Reads which code digests the node's pods use now (codeInUse over the pods' records). `collect`
 * calls it again for each digest it is about to remove, so it must read the records afresh.
 */
export type CodeInUse = () => Promise<ReadonlySet<string>>;

/** The one operation on a digest's directory in progress: an unpack (ensure) or a removal (collect). */
interface DigestOp {
  kind: 'unpack' | 'remove';
  done: Promise<unknown>;
}

/** The node's code cache; see the module comment. */
export class FunctionCodeCache {
  private readonly ops = new Map<string, DigestOp>();
  constructor(private readonly opts: FunctionCodeCacheOptions) {}

  /** The cache's root directory. */
  get root(): string { return this.opts.root; }

  /** How long unused code stays after its last use. */
  get keepUnusedMs(): number { return this.opts.keepUnusedMs ?? DEFAULT_KEEP_UNUSED_MS; }

  /** The directory of `digest`'s code (which may not exist yet). Throws for a malformed digest. */
  dirOf(digest: string): string {
    if (!CODE_DIGEST.test(digest)) throw new Error(`"${digest}" is not a code digest (sha256:<64 lower-case hex digits>)`);
    return path.join(this.opts.root, digest.slice('sha256:'.length));
  }

  /**
   * The directory holding `digest`'s code, unpacked from the store when not there yet (one
   * download at a time per digest: a second caller waits for the first; a caller that finds the
   * code being removed waits for the removal and unpacks it again). Marks it used now. The caller
   * records its pod's use first (see collect). Throws what the fetcher throws (NotFoundError for
   * code the store lacks) and ValidationError for an archive that cannot be unpacked.
   */
  async ensure(digest: string): Promise<string> {
    const dir = this.dirOf(digest);
    for (;;) {
      const op = this.ops.get(digest);
      if (op?.kind === 'remove') {
        await op.done.catch(() => undefined);
        continue;
      }
      await (op ?? this.begin(digest, 'unpack', () => this.materialise(digest, dir))).done;
      break;
    }
    await this.touch(digest);
    return dir;
  }

  /**
   * Marks `digest`'s code used now: its directory's mtime is its last use, and collect keeps
   * recently used code for a while. Called when a pod starts using it and when a pod using it
   * goes. Code not on the node is left alone; throws only for a malformed digest.
   */
  async touch(digest: string): Promise<void> {
    const t = new Date(this.now());
    await utimes(this.dirOf(digest), t, t).catch(() => undefined);
  }

  private now(): number { return (this.opts.now ?? Date.now)(); }

  /**
   * Starts `run` as the digest's one operation; the caller has checked that none is in progress.
   * `run` starts on the next microtask, once the operation is registered for others to see.
   */
  private begin(digest: string, kind: DigestOp['kind'], run: () => Promise<unknown>): DigestOp {
    const op: DigestOp = {
      kind,
      done: Promise.resolve().then(run).finally(() => { if (this.ops.get(digest) === op) this.ops.delete(digest); }),
    };
    this.ops.set(digest, op);
    return op;
  }

  private async materialise(digest: string, dir: string): Promise<string> {
    if (await isDir(dir)) return dir;
    const bytes = await this.opts.fetch(digest);
    await mkdir(this.opts.root, { recursive: true, mode: 0o755 });
    const tmp = this.tempOf(dir);
    const started = this.now();
    try {
      unpack(bytes, tmp);
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      // Another unpack of the same code (another agent on this directory) won the rename: its
      // directory is as good as ours.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isDir(dir))) return dir;
      throw e;
    }
    this.opts.log?.info({ digest, bytes: bytes.length, ms: this.now() - started }, 'function code unpacked');
    return dir;
  }

  /** A fresh temporary name beside `dir` (`.tmp-<hex>-<random>`), for an unpack or a removal. */
  private tempOf(dir: string): string {
    return path.join(this.opts.root, `${TEMP_PREFIX}${path.basename(dir)}-${randomBytes(4).toString('hex')}`);
  }

  /**
   * Removes the code no pod uses (`inUse`) and last used more than `keepUnusedMs` ago (0 at the
   * agent's start: nothing runs yet that the cache would save time for), and every unpack or
   * removal left unfinished. Code being unpacked now is never touched. Each removal holds its
   * digest (a setup of that code waits), reads `inUse` again (a pod may have recorded the code
   * since the first read: it keeps it) and renames the directory away before deleting it.
   * Returns the digests removed; throws on I/O errors other than a missing file.
   */
  async collect(inUse: CodeInUse, keepUnusedMs = this.keepUnusedMs): Promise<string[]> {
    const entries = await readdir(this.opts.root).catch(() => [] as string[]);
    const used = await inUse();
    const removed: string[] = [];
    for (const name of entries) {
      const full = path.join(this.opts.root, name);
      if (name.startsWith(TEMP_PREFIX)) {
        // Checked right before rm: an unpack started later writes a temporary of another name.
        const hex = name.slice(TEMP_PREFIX.length).split('-')[0];
        if (!this.ops.has(`sha256:${hex}`)) await rm(full, { recursive: true, force: true });
        continue;
      }
      const digest = `sha256:${name}`;
      if (!HEX.test(name) || used.has(digest) || this.ops.has(digest)) continue;
      if (!(await this.unusedFor(full, keepUnusedMs))) continue;
      if (this.ops.has(digest)) continue;
      const op = this.begin(digest, 'remove', () => this.remove(digest, full, inUse, keepUnusedMs));
      if ((await op.done) === true) removed.push(digest);
    }
    if (removed.length > 0) this.opts.log?.info({ removed }, 'unused function code removed');
    return removed;
  }

  /** collect's removal of one digest's directory, while it holds the digest. True when removed. */
  private async remove(digest: string, dir: string, inUse: CodeInUse, keepUnusedMs: number): Promise<boolean> {
    // A pod that recorded this code after collect's first read is seen here: its setup has not
    // called ensure yet or waits for this removal, so keeping the code serves it.
    if ((await inUse()).has(digest)) return false;
    if (!(await this.unusedFor(dir, keepUnusedMs))) return false;
    // Renamed first: a removal cut short leaves a temporary name, never half the code under the digest's.
    const doomed = this.tempOf(dir);
    try {
      await rename(dir, doomed);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    await rm(doomed, { recursive: true, force: true });
    return true;
  }

  /** Whether `dir` is a directory last used (mtime) at least `keepUnusedMs` ago. */
  private async unusedFor(dir: string, keepUnusedMs: number): Promise<boolean> {
    const st = await stat(dir).catch(() => undefined);
    return !!st?.isDirectory() && this.now() - st.mtimeMs >= keepUnusedMs;
  }
}

/** The directory of a pod's records of the code its volumes use; under `<pod>/volumes/` (layout.ts's csi plugin). */
export const CSI_RECORDS_DIR = 'csi';

/**
 * The code digests the pods under `podsRoot` use, from their volume records
 * (`<podsRoot>/<uid>/volumes/csi/<volume>` holds a digest). Unreadable records are skipped.
 */
export async function codeInUse(podsRoot: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const uid of await readdir(podsRoot).catch(() => [] as string[])) {
    if (!isPodUidDir(uid)) continue;
    for (const digest of await codeOfPod(podsRoot, uid)) out.add(digest);
  }
  return out;
}

/**
 * The code digests the records of the pod with `uid` name (none when it has no records or `uid`
 * cannot name a pod's directory). Unreadable records are skipped.
 */
export async function codeOfPod(podsRoot: string, uid: string): Promise<Set<string>> {
  const out = new Set<string>();
  if (!isPodUidDir(uid)) return out;
  const dir = path.join(podsRoot, uid, 'volumes', CSI_RECORDS_DIR);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const digest = (await readFile(path.join(dir, name), 'utf8').catch(() => '')).trim();
    if (CODE_DIGEST.test(digest)) out.add(digest);
  }
  return out;
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}
