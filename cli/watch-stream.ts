/**
 * The client half of mk.api.watch (actors/api/watch.ts): subscribe to an inbox subject of this
 * identity, ask the api to stream there from a revision, hand each change to the caller. It keeps
 * going by itself: an `Expired` answer (the store no longer has what changed since that revision)
 * makes the caller relist and gives the listing's revision to go on from; a stream that falls
 * silent for three heartbeats (the control plane restarted) is asked for again from the last
 * revision seen, and so is one where a message is missing (the stream numbers its messages: one
 * lost while the connection was down). No JetStream, no zod: `mk get -w` runs on the CLI's fast
 * path.
 */
import { randomUUID } from 'node:crypto';
import { decode, encode, request, type CoreBus } from '../bus/core-client';
import type { KindInfo, WatchEvent, WatchRequest, WatchStarted, WatchStreamMessage } from '../messages';
import { errorFromCode, isExpired } from '../messages/errors';
import { API, inboxPrefix } from '../messages/subjects';

/** What to watch and from where. */
export interface WatchTarget {
  kind: KindInfo;
  namespace?: string;
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Changes after this revision. */
  resourceVersion: string;
}

/** What the caller does with the stream. */
export interface WatchHandlers {
  onEvent(ev: WatchEvent): void;
  /** The watch expired: list again and return the listing's resourceVersion. */
  relist(): Promise<string>;
}

/** A running watch: `done` rejects with an error the stream cannot get past; `stop()` ends it. */
export interface WatchHandle { done: Promise<void>; stop(): Promise<void> }

/** The server's heartbeat period (actors/api/watch.ts WATCH_HEARTBEAT_MS); three missed ones mean it is gone. */
const HEARTBEAT_MS = 5_000;

/** Starts the watch; resolves once the api has accepted it (rejects with what it refused). */
export async function streamWatch(bus: CoreBus, user: string | undefined, target: WatchTarget, h: WatchHandlers): Promise<WatchHandle> {
  const nc = bus.nc;
  let rv = target.resourceVersion;
  // The incarnation `rv` belongs to, once a watch's reply said it; a relist starts afresh.
  let epoch: string | undefined;
  let stopped = false;
  let lastHeard = Date.now();
  let current: { subject: string; unsubscribe(): void } | undefined;
  let fail: (e: unknown) => void = () => undefined;
  let stopDone: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => { fail = reject; stopDone = resolve; });
  let restarting: Promise<void> | undefined;

  const cancel = (): void => {
    const c = current;
    current = undefined;
    if (!c) return;
    c.unsubscribe();
    try { nc.publish(API.unwatch, encode({ subject: c.subject })); } catch { /* closed: the server notices by itself */ }
  };

  const open = async (): Promise<void> => {
    cancel();
    const subject = `${user ? inboxPrefix(user) : '_INBOX'}.watch-${randomUUID().replace(/-/g, '')}`;
    let expected = 1;
    const sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        if (current?.subject !== subject) return;
        lastHeard = Date.now();
        const m = decode<WatchStreamMessage>(msg.data);
        if (m.n !== undefined) {
          // A message was lost on the way (the connection was down): ask again from the last revision received.
          if (m.n !== expected) {
            restart(false);
            return;
          }
          expected = m.n + 1;
        }
        if (m.type === 'BOOKMARK') {
          if (m.revision > Number(rv)) rv = String(m.revision);
        } else if (m.type === 'ERROR') {
          const e = errorFromCode(m.error.code, m.error.message, m.error.issues);
          if (isExpired(e)) restart(true); else fail(e);
        } else {
          if (m.revision > Number(rv)) rv = String(m.revision);
          h.onEvent(m);
        }
      },
    });
    current = { subject, unsubscribe: () => sub.unsubscribe() };
    await nc.flush();
    const req: WatchRequest = {
      kind: target.kind.plural, subject, resourceVersion: rv,
      ...(target.kind.namespaced && target.namespace ? { namespace: target.namespace } : {}),
      ...(target.name ? { name: target.name } : {}),
      ...(target.labelSelector ? { labelSelector: target.labelSelector } : {}),
      ...(target.fieldSelector ? { fieldSelector: target.fieldSelector } : {}),
      ...(epoch ? { epoch } : {}),
    };
    try {
      const started = await request<WatchStarted>(bus, API.watch, req, { timeoutMs: 15_000 });
      epoch = started.epoch;
      lastHeard = Date.now();
    } catch (e) {
      if (!isExpired(e)) throw e;
      epoch = undefined;
      rv = await h.relist();
      await open();
    }
  };

  const restart = (expired: boolean): void => {
    if (stopped || restarting) return;
    restarting = (async () => {
      if (expired) {
        epoch = undefined;
        rv = await h.relist();
      }
      await open();
    })().catch(fail).finally(() => { restarting = undefined; });
  };

  await open();
  const watchdog = setInterval(() => {
    if (!stopped && Date.now() - lastHeard > 3 * HEARTBEAT_MS) restart(false);
  }, HEARTBEAT_MS).unref();
  return {
    done,
    async stop() {
      stopped = true;
      clearInterval(watchdog);
      cancel();
      await nc.flush().catch(() => undefined);
      stopDone();
    },
  };
}
