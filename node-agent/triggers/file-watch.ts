/**
 * One file trigger's watch on its node: chokidar 4 on the trigger's path (a file, or a directory
 * and every file under it, at any depth), its changes debounced per file (file-events.ts) and
 * handed on. A path that does not exist yet is watched for: chokidar watches the nearest
 * directory above it that exists, told to ignore everything but the way down to the path and
 * what is under it, so the path's directories and the path itself are seen as they are made (a
 * file made with them fires create). Events chokidar reports before its first scan is done are
 * what was there already (ignoreInitial) and fire nothing. The directory the watch stands on
 * being removed ends the watch (chokidar would see nothing made there again): the watch says so
 * through `lost`, and its owner starts it again from the nearest directory that still exists.
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { FileEvent, NodeFileTrigger } from '../../messages';
import { FileDebouncer, fileEventOf, type DebouncedChange } from './file-events';

/** The path a trigger watches, normalised (no trailing slash, no `//`). */
export function normalWatchPath(p: string): string {
  return nodePath.resolve('/', p);
}

/** Whether `p` is `target` or under it. */
export function withinTarget(target: string, p: string): boolean {
  return target === '/' || p === target || p.startsWith(`${target}/`);
}

/**
 * The ignore rule of a watch rooted at `root` (an existing directory at or above `target`):
 * everything but the root, the directories on the way down to `target`, `target` and what is under it.
 */
export function ignoredOutside(target: string, root: string): (p: string) => boolean {
  return (p) => !(p === root || withinTarget(target, p) || target.startsWith(`${p}/`));
}

/** The nearest directory at or above `dir` that exists (`/` at worst). Throws what stat says, but for ENOENT and ENOTDIR. */
export async function nearestExistingDir(dir: string): Promise<string> {
  for (let d = dir; ; d = nodePath.dirname(d)) {
    try {
      if ((await fs.stat(d)).isDirectory()) return d;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    if (d === '/') return d;
  }
}

/** A running watch. */
export interface FileWatch {
  /** Resolves once chokidar has scanned what is there (changes after it fire); rejects when the watch could not start. */
  ready: Promise<void>;
  /** The first error the watch met after it started (a permission refused, its directory removed...), if any: it is started again. */
  failure(): Error | undefined;
  /** Closes the watcher; with `flush`, the open debounce windows fire first, else they are dropped. */
  close(flush?: boolean): Promise<void>;
}

/**
 * Starts watching `t.path` for `t`; `fire` gets each debounced change the trigger's events list,
 * `failed` the first error after the start, `lost` word that the directory the watch stands on was
 * removed (failure() says so too).
 */
export function startFileWatch(
  t: Pick<NodeFileTrigger, 'path' | 'events' | 'debounceMs'>, fire: (c: DebouncedChange) => void, failed: (err: Error) => void, lost?: () => void,
): FileWatch {
  const target = normalWatchPath(t.path);
  const debouncer = new FileDebouncer({ debounceMs: t.debounceMs, events: t.events as readonly FileEvent[], fire });
  let watcher: FSWatcher | undefined;
  let closed = false;
  let failure: Error | undefined;
  /** The directory the watch stands on was removed. */
  let isLost = false;
  /** Ends the wait for the first scan when the watch is closed first. */
  let abort: (() => void) | undefined;
  const ready = (async () => {
    const root = target === '/' ? '/' : await nearestExistingDir(nodePath.dirname(target));
    if (closed) return;
    const w = watcher = watch(root, { ignoreInitial: true, ignored: ignoredOutside(target, root), persistent: true });
    await new Promise<void>((resolve, reject) => {
      abort = resolve;
      let started = false;
      w.on('ready', () => { started = true; resolve(); });
      w.on('error', (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        if (!started) { reject(err); return; }
        if (failure) return;
        failure = err;
        failed(err);
      });
      // The root removed by itself comes as its unlinkDir; removed with a directory above it, only
      // as a raw rename, after which the root is looked for.
      const gone = (): void => {
        if (isLost || closed) return;
        isLost = true;
        failure ??= new Error(`${root}, the directory the watch stood on, was removed`);
        lost?.();
      };
      // One look at a time; a rename during a look makes one more after it.
      let looking = false;
      let lookAgain = false;
      const look = (): void => {
        looking = true;
        lookAgain = false;
        fs.stat(root).then((s) => { if (!s.isDirectory()) gone(); }, () => gone()).finally(() => {
          looking = false;
          if (lookAgain && !isLost && !closed) look();
        });
      };
      w.on('raw', (name: string) => {
        if (name !== 'rename' || isLost || root === '/') return;
        if (looking) lookAgain = true;
        else look();
      });
      w.on('all', (name: string, p: string) => {
        if (name === 'unlinkDir' && p === root) { gone(); return; }
        // A watch whose directory went fires nothing more: the one started in its place does.
        if (isLost) return;
        const ev = fileEventOf(name);
        if (ev && withinTarget(target, p)) debouncer.push(p, ev);
      });
    });
  })();
  // A caller that never waits for ready must not see an unhandled rejection.
  ready.catch(() => undefined);
  return {
    ready,
    failure: () => failure,
    async close(flush = false) {
      closed = true;
      abort?.();
      if (flush) debouncer.flush();
      debouncer.stop();
      await watcher?.close();
    },
  };
}
