/**
 * The node's cache of Functions' code, behind the `functions.mk.io` CSI inline volume: one
 * directory per code digest, `<root>/<64 hex>/`, unpacked once from the object store and shared
 * read-only by every pod on the node that mounts that code. Unpacking goes into a temporary
 * directory beside it, renamed into place when complete, so a directory under its digest's name is
 * always whole (an agent killed mid-unpack leaves only a temporary directory, removed by `collect`).
 * Concurrent setups of one digest share one download. Which pods use a digest is recorded as a
 * file per volume in the pod's volume directory (`<pod>/volumes/csi/<name>` holding the digest),
 * so the record outlives the agent and goes with the pod's volumes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { unpack } from '../../bus/code-archive';
import { CODE_DIGEST } from '../../messages/function-names';
import { isPodUidDir } from './layout';

/** The prefix of unpacks in progress (or left by an agent killed during one). */
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

/** The node's code cache; see the module comment. */
export class FunctionCodeCache {
  private readonly inFlight = new Map<string, Promise<string>>();
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
   * download at a time per digest: a second caller waits for the first). Marks it used now.
   * Throws what the fetcher throws (NotFoundError for code the store lacks) and ValidationError
   * for an archive that cannot be unpacked.
   */
  async ensure(digest: string): Promise<string> {
    const dir = this.dirOf(digest);
    let pending = this.inFlight.get(digest);
    if (!pending) {
      pending = this.materialise(digest, dir).finally(() => this.inFlight.delete(digest));
      this.inFlight.set(digest, pending);
    }
    await pending;
    // Its mtime is its last use: collect keeps recently used code for a while.
    const t = new Date(this.now());
    await utimes(dir, t, t).catch(() => undefined);
    return dir;
  }

  private now(): number { return (this.opts.now ?? Date.now)(); }

  private async materialise(digest: string, dir: string): Promise<string> {
    if (await isDir(dir)) return dir;
    const bytes = await this.opts.fetch(digest);
    await mkdir(this.opts.root, { recursive: true, mode: 0o755 });
    const tmp = path.join(this.opts.root, `${TEMP_PREFIX}${path.basename(dir)}-${randomBytes(4).toString('hex')}`);
    const started = this.now();
    try {
      unpack(bytes, tmp);
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      // Another unpack of the same code won the rename: its directory is as good as ours.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isDir(dir))) return dir;
      throw e;
    }
    this.opts.log?.info({ digest, bytes: bytes.length, ms: this.now() - started }, 'function code unpacked');
    return dir;
  }

  /**
   * Removes the code no pod uses (`inUse`: digests) and last used more than `keepUnusedMs` ago
   * (0 at the agent's start: nothing runs yet that the cache would save time for), and every
   * unpack left unfinished. Code being unpacked now is never touched. Returns the digests removed.
   */
  async collect(inUse: ReadonlySet<string>, keepUnusedMs = this.keepUnusedMs): Promise<string[]> {
    const entries = await readdir(this.opts.root).catch(() => [] as string[]);
    const busy = new Set([...this.inFlight.keys()].map((d) => d.slice('sha256:'.length)));
    const removed: string[] = [];
    for (const name of entries) {
      const full = path.join(this.opts.root, name);
      if (name.startsWith(TEMP_PREFIX)) {
        const hex = name.slice(TEMP_PREFIX.length).split('-')[0];
        if (!busy.has(hex)) await rm(full, { recursive: true, force: true });
        continue;
      }
      if (!HEX.test(name) || busy.has(name) || inUse.has(`sha256:${name}`)) continue;
      const st = await stat(full).catch(() => undefined);
      if (!st || this.now() - st.mtimeMs < keepUnusedMs) continue;
      await rm(full, { recursive: true, force: true });
      removed.push(`sha256:${name}`);
    }
    if (removed.length > 0) this.opts.log?.info({ removed }, 'unused function code removed');
    return removed;
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
    const dir = path.join(podsRoot, uid, 'volumes', CSI_RECORDS_DIR);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const digest = (await readFile(path.join(dir, name), 'utf8').catch(() => '')).trim();
      if (CODE_DIGEST.test(digest)) out.add(digest);
    }
  }
  return out;
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}
