/**
 * One watch of a store shared by every informer of one process on it (client-go's shared
 * informer factory, in small). Without it, each informer of the control plane (each kind's
 * supervisor, the scheduler's cache, the garbage collector, the watch publisher) has a consumer
 * of its own: the server sends every change once per informer and the process decodes it once per
 * informer. With a hub, the server sends each change once, it is decoded once, and the hub hands
 * the same object to every informer whose filter matches. A hub keeps the newest copy of every key
 * so that an informer joining later starts from a listing, as one of its own would.
 *
 * The objects handed out are shared: a handler must copy before it changes one (STYLE.md).
 */
import { sleep } from '../common/backoff';
import { TimeoutError } from '../messages/errors';
import type { ObjectStore } from './object-store';
import type { WatchEvent } from './watcher';

/** A change as informers report it (bus/informer.ts's InformerEvent, which builds on the hub). */
type InformerEvent<T> = WatchEvent<T> & { previous?: number };
/** A running informer (bus/informer.ts's Informer). */
interface Informer { stop(): Promise<void> }

/** A filter (NATS subject wildcards: `*` one token, `>` the rest) as a test of keys. */
export function keyMatcher(filter: string): (key: string) => boolean {
  if (filter === '>') return () => true;
  const want = filter.split('.');
  return (key) => {
    const got = key.split('.');
    for (let i = 0; i < want.length; i++) {
      if (want[i] === '>') return got.length > i;
      if (i >= got.length || (want[i] !== '*' && want[i] !== got[i])) return false;
    }
    return got.length === want.length;
  };
}

/** One informer on the hub: its filter and its own queue of deliveries. */
class Subscriber {
  private tail: Promise<void> = Promise.resolve();
  running = 0;

  constructor(readonly matches: (key: string) => boolean, private readonly onEvent: (ev: InformerEvent<unknown>) => void | Promise<void>) {}

  /** Delivers `ev` after every delivery queued before it; resolves or rejects with the handler. */
  enqueue(ev: InformerEvent<unknown>): Promise<void> {
    const p = this.tail.then(async () => {
      this.running++;
      try {
        await this.onEvent(ev);
      } finally {
        this.running--;
      }
    });
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Resolves once every delivery queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/** How long a new informer waits for the old shared watch to stop before starting its own. */
export const STOP_WAIT_MS = 2000;
/** How long informers wait for the shared watch's first listing before it is let go. */
export const START_WAIT_MS = 30_000;

/** The store's start function for the hub's own watch: bus/informer.ts's, without the hub. */
type StartBase = (store: ObjectStore, filter: string, onEvent: (ev: InformerEvent<unknown>) => Promise<void>) => Promise<Informer>;

/** A shared watch of one store; see the module comment. */
export class InformerHub {
  private readonly subs = new Set<Subscriber>();
  /** The newest object and revision of every key, as delivered. */
  private readonly objects = new Map<string, { object: unknown; revision: number }>();
  private base: Promise<Informer> | undefined;
  /** The shared watch's incarnation: changes from a watch that was let go are dropped. */
  private generation = 0;
  private stopping: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ObjectStore,
    private readonly startBase: StartBase,
    private readonly waits: { startMs: number; stopMs: number } = { startMs: START_WAIT_MS, stopMs: STOP_WAIT_MS },
  ) {}

  /**
   * An informer on the keys matching `filter`, with startInformer's contract: a PUT for every key
   * the hub holds that matches, then every change, one at a time and in order. Resolves once that
   * listing was delivered; throws what the first listing throws (the bus is down) or what
   * `onEvent` threw during it. A handler failing later makes the shared watch deliver that change
   * again to every informer (handlers must be idempotent, as with an informer of their own).
   */
  async subscribe<T>(filter: string, onEvent: (ev: InformerEvent<T>) => void | Promise<void>): Promise<Informer> {
    await this.stopping;
    if (!this.base) {
      const generation = this.generation;
      this.base = this.startBase(this.store, '>', (ev) => (generation === this.generation ? this.fanOut(ev) : Promise.resolve()))
        .catch((err: unknown) => {
          if (generation === this.generation) this.base = undefined;
          throw err;
        });
    }
    await this.started(this.base);
    const sub = new Subscriber(keyMatcher(filter), onEvent as (ev: InformerEvent<unknown>) => void | Promise<void>);
    // Taken and queued in one turn, so no change falls between the listing and the first delivery.
    const listing: Promise<void>[] = [];
    for (const [key, o] of this.objects) {
      if (sub.matches(key)) listing.push(sub.enqueue({ type: 'PUT', key, object: o.object, revision: o.revision }));
    }
    this.subs.add(sub);
    try {
      await Promise.all(listing);
    } catch (err) {
      await this.leave(sub);
      throw err;
    }
    return {
      stop: () => this.leave(sub),
    };
  }

  /**
   * Waits for the shared watch's first listing, at most START_WAIT_MS: a listing that hangs (a
   * consumer on a server that died, on a bus in trouble) is let go, and the next informer starts
   * a new one, instead of every informer of the process waiting on it forever. Throws
   * TimeoutError then.
   */
  private async started(base: Promise<Informer>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(resolve, this.waits.startMs, 'late'); });
    try {
      if (await Promise.race([base, late]) !== 'late') return;
    } finally {
      clearTimeout(timer);
    }
    if (this.base === base) {
      this.generation++;
      this.base = undefined;
      void base.then((b) => b.stop(), () => undefined);
    }
    throw new TimeoutError(`the shared watch of the store did not list within ${this.waits.startMs / 1000} s; try again`);
  }

  /** How many informers share the watch now (for tests). */
  get size(): number {
    return this.subs.size;
  }

  private async fanOut(ev: InformerEvent<unknown>): Promise<void> {
    if (ev.type === 'DELETE') this.objects.delete(ev.key);
    else this.objects.set(ev.key, { object: ev.object, revision: ev.revision });
    const deliveries: Promise<void>[] = [];
    for (const sub of this.subs) if (sub.matches(ev.key)) deliveries.push(sub.enqueue(ev));
    await Promise.all(deliveries);
  }

  /**
   * Takes `sub` off the hub and waits until its handler no longer runs (unless asked from inside
   * that handler); the last one to leave stops the shared watch.
   */
  private async leave(sub: Subscriber): Promise<void> {
    if (!this.subs.delete(sub) && sub.running === 0) return;
    if (this.subs.size === 0 && this.base) {
      const base = this.base;
      this.base = undefined;
      // From now on the old watch's changes are dropped, so a new one may start before the old
      // one has stopped: a listing that hangs on a bus in trouble must not hold up every later
      // informer (a new leader's controllers waited forever for a failed term's watch).
      this.generation++;
      this.objects.clear();
      const stopped = (async () => { await (await base.catch(() => undefined))?.stop(); })();
      this.stopping = Promise.race([stopped, sleep(this.waits.stopMs)]);
    }
    if (sub.running === 0) await sub.idle();
  }
}
