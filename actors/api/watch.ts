/**
 * mk.api.watch: a server-side watch for clients that may not touch the store (the CLI has no
 * JetStream access). The client subscribes to a subject of its own (its inbox), then asks; the
 * api watches the store from the asked revision and publishes each change that passes the
 * request's namespace, name and selectors there, as Kubernetes' watch does
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
 * ADDED, MODIFIED, DELETED (with the object's last state), ADDED/DELETED when an object enters or
 * leaves the selection, BOOKMARK heartbeats, and an ERROR `Expired` when the store can no longer
 * say what changed since (`too old resource version`, Kubernetes' 410 Gone).
 *
 * Kinds outside the store stream from their source (KindModule.source.watch): events from the
 * events stream (actors/event/watch.ts). This module checks every request's subject and limits,
 * and sends the heartbeats, whatever the source.
 *
 * A stream ends on mk.api.unwatch, when its client goes (each heartbeat is a request to the
 * client's subject: "no responders" means nobody listens any more; a subscriber that does not
 * answer is fine), and when the control plane stops.
 */
import type { Bus, ObjectStore, WatchEvent as StoreEvent } from '../../bus';
import { encode, serve, translateError, type Served } from '../../bus';
import { errors as natsErrors, type Msg } from '@nats-io/transport-node';
import {
  API, ExpiredError, ForbiddenError, keyFilter, objectKey, ValidationError,
  type KindInfo, type KubeObject, type UnwatchRequest, type WatchRequest, type WatchStarted, type WatchStreamMessage,
} from '../../messages';
import type { OpenedWatch, WatchOutput } from '../kind-module';
import { moduleFor } from '../kinds';
import { log } from '../log';
import { checkRequest, checkTokens, selection } from './handlers';
import { timed } from './metrics';

/** How often a stream sends a BOOKMARK (and checks its client is still there). */
export const WATCH_HEARTBEAT_MS = 5_000;
/** How many streams one control plane serves at once. */
const MAX_WATCHES = 1_000;
/** How many of them one identity (one inbox prefix) may hold, so that one cannot take them all. */
export const MAX_WATCHES_PER_CLIENT = 250;

/** Limits of serveWatch, for tests. */
export interface WatchLimits { maxWatches?: number; maxPerClient?: number }
/** A stream's subject: an inbox, so only the asking identity can read it. */
const SUBJECT = /^_INBOX\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

interface Stream { stop(): Promise<void> }

/** The `too old resource version` error of a watch from before what the store keeps. */
export function tooOld(rv: number, compacted: number): ExpiredError {
  return new ExpiredError(`too old resource version: ${rv} (${compacted})`);
}

/** Serves mk.api.watch and mk.api.unwatch; `stop()` ends every stream. */
export function serveWatch(bus: Bus, store: ObjectStore, limits: WatchLimits = {}): Served {
  const streams = new Map<string, Stream>();
  const maxWatches = limits.maxWatches ?? MAX_WATCHES;
  const maxPerClient = limits.maxPerClient ?? MAX_WATCHES_PER_CLIENT;

  const start = async (req: WatchRequest, reply: string | undefined): Promise<WatchStarted> => {
    const module = moduleFor(req?.kind);
    const kind = module.info;
    const source = module.source?.(bus);
    if (source && !source.watch) throw new ValidationError(`${kind.plural} cannot be watched`);
    checkTokens({ namespace: req.namespace }, false);
    if (req.name !== undefined) checkTokens({ name: req.name }, true);
    if (typeof req.subject !== 'string' || !SUBJECT.test(req.subject) || req.subject.length > 200) {
      throw new ValidationError('subject must be an inbox subject of the client\'s own, such as "_INBOX.admin.abc", without wildcards');
    }
    // Only to the asker's own inbox: the request's reply subject has the same prefix (`_INBOX.<user>.`).
    const own = req.subject.slice(0, req.subject.lastIndexOf('.') + 1);
    if (!reply?.startsWith(own)) throw new ForbiddenError(`a watch streams only to an inbox of the asker's own (${own}... is not)`);
    if (streams.has(req.subject)) throw new ValidationError(`a watch already streams to ${req.subject}`);
    if (streams.size >= maxWatches) throw new ValidationError(`too many watches (${maxWatches}); stop some and retry`);
    let mine = 0;
    for (const k of streams.keys()) if (k.startsWith(own)) mine++;
    if (mine >= maxPerClient) {
      throw new ValidationError(`too many watches streaming to ${own}* (${maxPerClient} at most for one client); stop some (mk.api.unwatch) and retry`);
    }
    let rv: number | undefined;
    if (req.resourceVersion !== undefined && req.resourceVersion !== '') {
      rv = Number(req.resourceVersion);
      if (typeof req.resourceVersion !== 'string' || !/^\d+$/.test(req.resourceVersion) || !Number.isSafeInteger(rv)) {
        throw new ValidationError(`resourceVersion must be a revision such as "42" (got ${JSON.stringify(req.resourceVersion)})`);
      }
    }
    if (req.epoch !== undefined && (typeof req.epoch !== 'string' || req.epoch.length > 100)) {
      throw new ValidationError(`epoch must be the string a watch's reply gave (got ${JSON.stringify(req.epoch)})`);
    }
    const subject = req.subject;
    // Each message is numbered, so that the client notices one lost on the way.
    let n = 0;
    const send = (m: WatchStreamMessage): void => {
      try {
        bus.nc.publish(subject, encode({ ...m, n: ++n }));
      } catch (err) {
        // The connection closed under the stream: the client watches again from its last revision.
        log.debug({ subject, err: String(err) }, 'could not send on a watch stream');
      }
    };

    let ended = false;
    const timer: { heartbeat?: NodeJS.Timeout } = {};
    let watch: OpenedWatch | undefined;
    const end = async (why: string, error?: WatchStreamMessage): Promise<void> => {
      if (ended) return;
      ended = true;
      clearInterval(timer.heartbeat);
      streams.delete(subject);
      if (error) send(error);
      log.debug({ subject, why }, 'watch stream ended');
      await watch?.stop();
    };
    const out: WatchOutput = { send, expired: (message) => void end('expired', { type: 'ERROR', error: { code: 'Expired', message } }) };
    // The slot is taken while the watch opens, so that concurrent requests count it.
    streams.set(subject, { stop: () => end('stopped') });
    try {
      watch = source?.watch ? await source.watch(req, rv, out) : await watchStore(store, kind, req, rv, out);
    } catch (err) {
      streams.delete(subject);
      ended = true;
      throw err;
    }
    // Stopped (or expired) while it opened.
    const started: WatchStarted = { resourceVersion: watch.resourceVersion, ...(watch.epoch ? { epoch: watch.epoch } : {}) };
    if (ended) {
      await watch.stop();
      return started;
    }
    const opened = watch;
    timer.heartbeat = setInterval(() => {
      bus.nc.request(subject, encode({ type: 'BOOKMARK', revision: opened.last(), n: ++n } satisfies WatchStreamMessage), { timeout: 1_000 }).catch((err: unknown) => {
        const gone = err instanceof natsErrors.NoRespondersError || (err instanceof natsErrors.RequestError && err.isNoResponders());
        if (gone || bus.nc.isClosed()) void end('client gone');
      });
    }, WATCH_HEARTBEAT_MS).unref();
    return started;
  };

  const subs = [
    serve(bus, API.watch, timed('watch', (req: WatchRequest, msg: Msg) => start(checkRequest(req), msg.reply)), { queue: 'mk-api' }),
    // Every replica hears a cancel: only the one streaming there has something to stop.
    serve(bus, API.unwatch, async (req: UnwatchRequest) => {
      await streams.get(req?.subject)?.stop();
      return {};
    }),
  ];
  return {
    ready: Promise.all(subs.map((s) => s.ready)).then(() => undefined),
    async stop() {
      await Promise.all(subs.map((s) => s.stop()));
      await Promise.all([...streams.values()].map((s) => s.stop()));
    },
  };
}

/**
 * A watch of a kind in the object store: the changes after `rv` (or, without, an ADDED for every
 * object now and a BOOKMARK at the listing's revision, then the changes after it).
 */
async function watchStore(store: ObjectStore, kind: KindInfo, req: WatchRequest, rv: number | undefined, out: WatchOutput): Promise<OpenedWatch> {
  const select = selection(kind, req);
  let epoch: string;
  try {
    epoch = (await store.bus.jsm.streams.info(store.stream)).created;
  } catch (err) {
    throw translateError(err, { action: `watch ${kind.plural}` });
  }
  let from: number | undefined;
  if (rv !== undefined) {
    if (req.epoch !== undefined && req.epoch !== epoch) {
      throw new ExpiredError(`resource version ${rv} is of a store that was made again since: list again`);
    }
    const compacted = await store.compactedRevision();
    if (rv < compacted) throw tooOld(rv, compacted);
    from = rv + 1;
  }
  const namespace = kind.namespaced ? req.namespace : undefined;
  const filter = req.name !== undefined ? objectKey(kind.plural, kind.namespaced ? namespace ?? 'default' : undefined, req.name) : keyFilter(kind.plural, namespace);
  const { send } = out;

  // What each key held before the watch's first revision: the last state a DELETED carries, and
  // whether an object enters or leaves the selection. Keys changed since are learnt as they come.
  const { items, revision } = await store.list<KubeObject>(filter);
  const known = new Map<string, KubeObject>();
  const initial: KubeObject[] = [];
  for (const i of items) {
    if (from === undefined || i.revision < from) known.set(i.key, i.object);
    if (from === undefined && select(i.object)) initial.push(i.object);
  }
  // A revision the store has not reached comes from a store that was lost and made again since.
  if (from !== undefined && from - 1 > revision) {
    throw new ExpiredError(`too large resource version: ${from - 1} (the store is at ${revision}; it was made again since): list again`);
  }
  // Without a resourceVersion the listing is the whole state: a key not in it is new.
  const resumed = from !== undefined;
  from ??= revision + 1;
  let last = from - 1;
  for (const o of initial) send({ type: 'ADDED', object: o, revision: Number(o.metadata.resourceVersion ?? 0) });
  // The initial state is the store's at the listing's revision, not at its newest object's: a
  // client that goes on from there after a break must not be told again of what it has seen.
  if (!resumed) send({ type: 'BOOKMARK', revision });

  /** A key first met in the stream: its state before `revision`, from the key's kept history. */
  const before = async (key: string, revision: number): Promise<KubeObject | undefined> => {
    const h = (await store.history<KubeObject>(key)).filter((e) => e.revision < revision);
    return h.at(-1)?.object ?? undefined;
  };
  const onEvent = async (ev: StoreEvent<KubeObject>): Promise<void> => {
    last = ev.revision;
    if (resumed && !known.has(ev.key)) {
      const prior = await before(ev.key, ev.revision);
      if (prior) known.set(ev.key, prior);
    }
    const prev = known.get(ev.key);
    const was = prev !== undefined && select(prev);
    if (ev.type === 'DELETE' || !ev.object) {
      known.delete(ev.key);
      if (was) send({ type: 'DELETED', object: prev, revision: ev.revision });
      return;
    }
    const o = { ...ev.object, metadata: { ...ev.object.metadata, resourceVersion: String(ev.revision) } };
    known.set(ev.key, o);
    const is = select(o);
    if (is) send({ type: was ? 'MODIFIED' : 'ADDED', object: o, revision: ev.revision });
    else if (was) send({ type: 'DELETED', object: o, revision: ev.revision });
  };
  const watch = await store.watch<KubeObject>(filter, {
    fromRevision: from,
    onExpired: (reason) => {
      if (reason === 'stream-recreated') {
        out.expired(`resource version ${last} is gone: the store was made again; list again`);
        return;
      }
      void store.compactedRevision().then(
        (c) => out.expired(tooOld(last, c).message),
        () => out.expired(`too old resource version: ${last}`),
      );
    },
  }, onEvent);
  return { resourceVersion: String(from - 1), epoch, last: () => last, stop: () => watch.stop() };
}
