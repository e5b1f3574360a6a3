/**
 * One kind's objects, kept in memory from the api's list and watch (mk.api.list, mk.api.watch)
 * as the dashboard's identity, shared by every page that shows the kind: one watch per kind
 * however many browsers look. A stream that expires is listed again; one that falls silent (the
 * control plane or the bus restarted) or loses a message is asked for again from the last
 * revision seen. Listeners hear of every change. Secrets are kept without their values
 * (withoutSecretValues), so no page is ever sent one.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@nats-io/transport-node';
import type { Bus } from '../../bus';
import { decode, encode, request } from '../../bus/core-client';
import {
  API, inboxPrefix, isExpired, type KindInfo, type KubeObject, type ListResult, type WatchRequest, type WatchStarted,
  type WatchStreamMessage,
} from '../../messages';
import { withoutSecretValues } from '../../messages/config-data';
import { FeedError } from './feed-error';
import { log } from './log';

/** The api's heartbeat (actors/api/watch.ts WATCH_HEARTBEAT_MS); three missed ones restart the watch. */
const HEARTBEAT_MS = 5_000;

/** A change of one object: its new state, or null when it was deleted (`last` is its last state). */
export interface ObjectChange { uid: string; object: KubeObject | null; last: KubeObject }

/** A kind's live objects. */
export class KindFeed {
  /** The objects by uid. */
  readonly objects = new Map<string, KubeObject>();
  /** Counts changes, so views recompute only when it moved. */
  version = 0;
  /** Resolves once the first listing is in (however many tries it takes). */
  readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  private lastError: unknown;
  private rv = '0';
  private epoch: string | undefined;
  private sub: Subscription | undefined;
  private subject: string | undefined;
  private lastHeard = Date.now();
  private stopped = false;
  private restarting: Promise<void> | undefined;
  private readonly listeners = new Set<(c: ObjectChange) => void>();
  private readonly watchdog: NodeJS.Timeout;
  private readonly offReconnect: () => void;

  constructor(private readonly bus: Bus, private readonly user: string, readonly kind: KindInfo) {
    this.ready = new Promise<void>((resolve) => { this.markReady = resolve; });
    this.restart(true);
    this.watchdog = setInterval(() => {
      if (!this.stopped && Date.now() - this.lastHeard > 3 * HEARTBEAT_MS) this.restart(false);
    }, HEARTBEAT_MS);
    this.watchdog.unref();
    this.offReconnect = bus.onReconnect(() => this.restart(false));
  }

  /**
   * Waits for the first listing; throws FeedError Unavailable (with the last failure) when it has
   * not come within `ms` (the api is not served yet: the feed keeps trying).
   */
  async whenReady(ms = 15_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FeedError('Unavailable', `the ${this.kind.plural} could not be listed yet`
        + `${this.lastError ? `: ${(this.lastError as Error).message}` : ''}; the dashboard keeps trying`)), ms);
    });
    try {
      await Promise.race([this.ready, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Calls `fn` on every change; returns the unsubscribe. */
  onChange(fn: (c: ObjectChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The object named, if present. */
  find(namespace: string | undefined, name: string): KubeObject | undefined {
    for (const o of this.objects.values()) {
      if (o.metadata.name === name && (!this.kind.namespaced || o.metadata.namespace === namespace)) return o;
    }
    return undefined;
  }

  private set(received: KubeObject): void {
    // A Secret's values never reach a page: only its keys and their sizes are kept.
    const o = withoutSecretValues(received);
    const uid = o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    this.objects.set(uid, o);
    this.version++;
    for (const l of this.listeners) l({ uid, object: o, last: o });
  }

  private remove(received: KubeObject): void {
    const o = withoutSecretValues(received);
    const uid = o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (!this.objects.delete(uid)) return;
    this.version++;
    for (const l of this.listeners) l({ uid, object: null, last: o });
  }

  /** Lists the kind again: objects gone meanwhile are removed, the others set. */
  private async relist(): Promise<void> {
    const list = await request<ListResult>(this.bus, API.list, { kind: this.kind.plural }, { timeoutMs: 15_000 });
    const present = new Set<string>();
    for (const o of list.items) {
      const uid = o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      present.add(uid);
      const had = this.objects.get(uid);
      if (had?.metadata.resourceVersion !== o.metadata.resourceVersion) this.set(o);
    }
    for (const o of [...this.objects.values()]) {
      if (!present.has(o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name}`)) this.remove(o);
    }
    this.rv = list.resourceVersion;
    this.epoch = undefined;
  }

  private async open(): Promise<void> {
    this.cancel();
    if (this.stopped) return;
    const subject = `${inboxPrefix(this.user)}.dash-${randomUUID().replace(/-/g, '')}`;
    let expected = 1;
    this.subject = subject;
    this.sub = this.bus.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err || this.subject !== subject) return;
        this.lastHeard = Date.now();
        const m = decode<WatchStreamMessage>(msg.data);
        if (m.n !== undefined) {
          if (m.n !== expected) {
            this.restart(false);
            return;
          }
          expected = m.n + 1;
        }
        if (m.type === 'BOOKMARK') {
          if (m.revision > Number(this.rv)) this.rv = String(m.revision);
        } else if (m.type === 'ERROR') {
          this.restart(m.error.code === 'Expired');
        } else {
          if (m.revision > Number(this.rv)) this.rv = String(m.revision);
          if (m.type === 'DELETED') this.remove(m.object); else this.set(m.object);
        }
      },
    });
    await this.bus.nc.flush();
    const req: WatchRequest = { kind: this.kind.plural, subject, resourceVersion: this.rv, ...(this.epoch ? { epoch: this.epoch } : {}) };
    try {
      const started = await request<WatchStarted>(this.bus, API.watch, req, { timeoutMs: 15_000 });
      this.epoch = started.epoch;
      this.lastHeard = Date.now();
    } catch (e) {
      if (!isExpired(e)) throw e;
      await this.relist();
      await this.open();
    }
  }

  private cancel(): void {
    const subject = this.subject;
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.subject = undefined;
    if (subject) {
      try { this.bus.nc.publish(API.unwatch, encode({ subject })); } catch { /* closed: the api notices by itself */ }
    }
  }

  /** Watches again from the last revision (after a relist when `expired`); failures retry after a pause. */
  private restart(expired: boolean): void {
    if (this.stopped || this.restarting) return;
    this.restarting = (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          if (expired) await this.relist();
          await this.open();
          this.markReady();
          return;
        } catch (err) {
          this.lastError = err;
          if (attempt === 3) log.warn({ err, kind: this.kind.plural }, 'cannot list and watch a kind; still trying');
          log.debug({ err, kind: this.kind.plural, attempt }, 'watch of a kind failed; retrying');
          expired = true;
          await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
        }
      }
    })().finally(() => { this.restarting = undefined; });
  }

  /** Ends the watch. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    this.offReconnect();
    this.cancel();
  }
}
