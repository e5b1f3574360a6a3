/**
 * What a file trigger fires for the changes a watcher reports (node-agent/triggers/file-triggers.ts):
 *
 * - chokidar's events map to the trigger's: `add` -> create, `change` -> write, `unlink` ->
 *   delete. Directories' own events (`addDir`, `unlinkDir`) fire nothing: a directory trigger
 *   fires for the files under it, as they appear, change and go.
 * - Debounce, per file: a change to a file less than debounceMs after its previous change joins
 *   it, and the file fires once, debounceMs after its last change, but never later than
 *   maxWindowMs (10 x debounceMs, at least 1 s) after the window's first change: a file written
 *   without a pause (a log) fires every maxWindowMs rather than never. It fires with what the
 *   changes came to:
 *   the last one's kind, except that a create followed by writes stays a create (the file is new)
 *   and a delete always ends as a delete (the file is gone). So create+write fires create,
 *   write+write write, create+delete delete, delete+create create.
 * - Then the trigger's events decide: a file whose changes came to a kind the trigger does not
 *   list fires nothing.
 *
 * Pure apart from its timers (Jest's fake timers drive it in tests).
 */
import type { FileEvent } from '../../messages';

/** The trigger's event for a chokidar event, or undefined for one that fires nothing (directories, errors, ready). */
export function fileEventOf(chokidarEvent: string): FileEvent | undefined {
  switch (chokidarEvent) {
    case 'add': return 'create';
    case 'change': return 'write';
    case 'unlink': return 'delete';
    default: return undefined;
  }
}

/** What `pending` (the changes so far within the window, if any) and then `next` come to (see the module comment). */
export function combineFileEvents(pending: FileEvent | undefined, next: FileEvent): FileEvent {
  if (next === 'delete') return 'delete';
  if (pending === 'create' && next === 'write') return 'create';
  return next;
}

/** The longest a file's window stays open, however its changes come: 10 x debounceMs, at least 1 s. */
export function maxWindowMs(debounceMs: number): number {
  return Math.max(10 * debounceMs, 1000);
}

/** One file's changes that fired. */
export interface DebouncedChange {
  path: string;
  event: FileEvent;
  /** When its last change was seen (epoch ms). */
  at: number;
}

/** The debouncer of one trigger (see the module comment). */
export class FileDebouncer {
  private readonly pending = new Map<string, { event: FileEvent; at: number; opened: number; timer: NodeJS.Timeout }>();
  private stopped = false;

  /**
   * `fire` is called once per file and window with what its changes came to, when `events` lists
   * it; `now` gives the time a change is seen.
   */
  constructor(
    private readonly opts: { debounceMs: number; events: readonly FileEvent[]; fire(change: DebouncedChange): void; now?: () => number },
  ) {}

  /** Takes in a change of `path`; nothing after stop(). */
  push(path: string, event: FileEvent): void {
    if (this.stopped) return;
    const prior = this.pending.get(path);
    if (prior) clearTimeout(prior.timer);
    const combined = combineFileEvents(prior?.event, event);
    const at = (this.opts.now ?? Date.now)();
    const opened = prior?.opened ?? at;
    const delay = Math.max(0, Math.min(this.opts.debounceMs, opened + maxWindowMs(this.opts.debounceMs) - at));
    const timer = setTimeout(() => this.end(path), delay);
    timer.unref();
    this.pending.set(path, { event: combined, at, opened, timer });
  }

  /** The files whose window is open. */
  get size(): number {
    return this.pending.size;
  }

  /** Ends every open window now (what they came to fires), e.g. before the agent stops. */
  flush(): void {
    for (const path of [...this.pending.keys()]) this.end(path);
  }

  /** Drops the open windows (nothing fires) and takes in nothing more. */
  stop(): void {
    this.stopped = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  private end(path: string): void {
    const p = this.pending.get(path);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(path);
    if (this.opts.events.includes(p.event)) this.opts.fire({ path, event: p.event, at: p.at });
  }
}
