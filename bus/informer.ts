/**
 * List-then-watch, the way every reader of the store keeps an up-to-date view (client-go's
 * reflector, in small): it lists the keys under a filter, watches from the listing's revision, and
 * whenever the watch cannot resume without missing changes (the server came back without its
 * store, or compaction passed it) it lists again and reports the difference, so its owner sees one
 * consistent stream of changes across any number of server restarts.
 */
import { backoffDelay, sleep, type BackoffPolicy } from '../common/backoff';
import { InformerHub } from './informer-hub';
import { busLog } from './log';
import { watchRestarts } from './metrics';
import type { ObjectStore } from './object-store';
import type { ExpiredReason, WatchEvent } from './watcher';

/** A change as the informer reports it: `previous` is the revision the key had before, if any. */
export type InformerEvent<T> = WatchEvent<T> & { previous?: number };

/** A running informer. */
export interface Informer {
  /** Stops the watch (and any relist in progress); resolves when no handler runs. */
  stop(): Promise<void>;
}

/** Between failed relists (the bus is down): 200 ms doubling to 10 s. */
const RELIST_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 10_000, jitter: 0.2 };

/**
 * Starts an informer on the keys matching `filter`. `onEvent` is called one change at a time, in
 * order: first a PUT for every key listed, then every change; after a relist, a PUT for each key
 * whose revision is new to the informer and a DELETE for each key that vanished. Resolves once the
 * first listing has been delivered and the watch runs; throws what the first list or watch throws
 * (UnavailableError when the bus is down) or what `onEvent` threw during the first listing. Later
 * handler failures are retried by the watch (handlers must be idempotent).
 */
export async function startInformer<T>(store: ObjectStore, filter: string, onEvent: (ev: InformerEvent<T>) => void | Promise<void>): Promise<Informer> {
  const hub = hubs.get(store);
  return hub ? hub.subscribe(filter, onEvent) : startOwnInformer(store, filter, onEvent);
}

/** Stores whose informers share one watch (shareInformers). */
const hubs = new WeakMap<ObjectStore, InformerHub>();

/**
 * From now on, informers started on `store` (this very instance) share one watch of the whole
 * bucket (bus/informer-hub.ts): the server sends each change once and it is decoded once, however
 * many informers the process runs. Meant for a process that watches most of a bucket several times
 * over (the control plane's leader); an informer on a small part of a big bucket is better off
 * with a consumer of its own. Informers started before keep their own watch.
 */
export function shareInformers(store: ObjectStore): void {
  if (!hubs.has(store)) hubs.set(store, new InformerHub(store, startOwnInformer));
}

async function startOwnInformer<T>(store: ObjectStore, filter: string, onEvent: (ev: InformerEvent<T>) => void | Promise<void>): Promise<Informer> {
  const known = new Map<string, number>();
  let stopped = false;
  let watch: { stop(): Promise<void> } | undefined;
  let relisting: Promise<void> | undefined;

  const deliver = async (ev: WatchEvent<T>): Promise<void> => {
    const previous = known.get(ev.key);
    if (ev.type === 'DELETE') known.delete(ev.key); else known.set(ev.key, ev.revision);
    await onEvent({ ...ev, ...(previous !== undefined ? { previous } : {}) });
  };

  const listAndWatch = async (reason?: ExpiredReason): Promise<void> => {
    const { items, revision } = await store.list<T>(filter);
    // Revisions of a store that was made again start over: nothing known can be trusted.
    if (reason === 'stream-recreated') for (const k of known.keys()) known.set(k, -1);
    const listed = new Set<string>();
    for (const i of items) {
      listed.add(i.key);
      if (known.get(i.key) !== i.revision) await deliver({ type: 'PUT', key: i.key, object: i.object, revision: i.revision });
    }
    for (const key of [...known.keys()]) {
      if (!listed.has(key)) await deliver({ type: 'DELETE', key, object: null, revision });
    }
    if (stopped) return;
    watch = await store.watch<T>(filter, { fromRevision: revision + 1, onExpired: (r) => { relisting = relist(r); } }, deliver);
  };

  const relist = async (r: ExpiredReason): Promise<void> => {
    watch = undefined;
    watchRestarts.inc({ reason: 'relist' });
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await listAndWatch(r);
        busLog.info({ filter, reason: r, keys: known.size }, 'relisted after the watch expired');
        return;
      } catch (err) {
        busLog.warn({ filter, err, attempt }, 'relist failed; retrying');
        await sleep(backoffDelay(RELIST_BACKOFF, attempt));
      }
    }
  };

  await listAndWatch();
  return {
    async stop() {
      stopped = true;
      await watch?.stop();
      await relisting;
      await watch?.stop();
    },
  };
}
