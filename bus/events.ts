/**
 * Cluster events on the bus: the recorder that mk's components use to say what happened to an
 * object (kubelet's and the scheduler's EventRecorder), and the reader behind `mk get events`.
 * Events live in the MK_EVENTS stream, subject `mk.events.<namespace>.<kind>.<source>`, for an
 * hour; a repeat is published again under the same name with a higher count, and readers keep the
 * newest. The source token lets the bus allow each node to publish only its own events.
 */
import { DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type JsMsg } from '@nats-io/jetstream';
import { encodeToken } from '../messages/names';
import type { Event, EventSource, EventType } from '../messages/event';
import type { KubeObject } from '../messages/meta';
import { EVENTS_STREAM, eventSubject } from '../messages/subjects';
import type { Bus } from './connection';
import { JsApiCodes, jsApiCode, translateError } from './errors';
import { EventAggregator } from './event-aggregator';
import { readConsumer, withConsumer } from './consumers';
import { busLog } from './log';
import { decode, encode } from './request';

/** How long the stream keeps an event (Kubernetes' default event TTL is 1 h as well). */
export const EVENTS_MAX_AGE_MS = 60 * 60_000;
/** A cap on the stream beside its age, so an event storm cannot fill the disk. */
export const EVENTS_MAX_MSGS = 100_000;
/** The most events one listing returns (the newest). */
export const EVENTS_LIST_LIMIT = 1000;
/** How far back (in stream messages, all namespaces together) a listing reads. */
const LIST_SCAN_MSGS = 10_000;
/** Events waiting to be published; beyond this new ones are dropped (and logged). */
const MAX_QUEUE = 1000;
/**
 * Events published at once, their acknowledgements awaited together: one at a time, a burst (a
 * Scheduled event per pod at hundreds of pods a second) waited a round trip per event and filled
 * the queue. One connection keeps their order.
 */
const PUBLISH_BATCH = 64;

/**
 * Makes sure the MK_EVENTS stream exists (file storage, subjects `mk.events.>`, max age 1 h); an
 * existing stream is used as it is. Throws UnavailableError when JetStream cannot be reached.
 */
export async function ensureEventsStream(bus: Bus, opts: { replicas?: number } = {}): Promise<void> {
  try {
    await bus.jsm.streams.info(EVENTS_STREAM).catch(async (err: unknown) => {
      if (jsApiCode(err) !== JsApiCodes.StreamNotFound) throw err;
      await bus.jsm.streams.add({
        name: EVENTS_STREAM,
        subjects: ['mk.events.*.*.*'],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: EVENTS_MAX_AGE_MS * 1_000_000, // nanoseconds
        max_msgs: EVENTS_MAX_MSGS,
        discard: DiscardPolicy.Old,
        num_replicas: opts.replicas ?? bus.replicas ?? 1,
        description: 'mk: cluster events (mk get events), kept for an hour',
      }).catch((e: unknown) => {
        // Another process created it first: fine.
        if (jsApiCode(e) !== JsApiCodes.StreamNameInUse) throw e;
      });
    });
  } catch (err) {
    throw translateError(err, { action: `open stream ${EVENTS_STREAM}` });
  }
}

/** Records one event about `obj`; never throws and never waits for the bus. */
export type RecordEvent = (obj: KubeObject, type: EventType, reason: string, message: string) => void;

/**
 * Records events for one component. `record` aggregates repeats and queues the publish: callers
 * are never blocked by the bus and never see its errors (a failed publish is logged and dropped,
 * as client-go's broadcaster drops events it cannot write).
 */
export class EventRecorder {
  private readonly aggregator = new EventAggregator();
  private readonly queue: Event[] = [];
  private draining: Promise<void> | undefined;
  private streamReady: Promise<void> | undefined;
  private dropped = 0;

  /**
   * `create`: make the stream when it is missing (the control plane; a node may not, and waits
   * for the control plane to have made it).
   */
  constructor(
    private readonly bus: Bus,
    private readonly source: EventSource,
    private readonly now: () => number = Date.now,
    private readonly opts: { create?: boolean } = {},
  ) {}

  /** `record` bound to this recorder, for dependency injection. */
  readonly recordEvent: RecordEvent = (obj, type, reason, message) => this.record(obj, type, reason, message);

  /** Queues the event (or the next count of a repeat) for publishing. Never throws. */
  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    try {
      if (this.bus.nc.isClosed()) return;
      if (this.queue.length >= MAX_QUEUE) {
        if (this.dropped++ % 100 === 0) busLog.warn({ reason, object: obj.metadata.name, dropped: this.dropped }, 'event queue full; dropping events');
        return;
      }
      this.queue.push(this.aggregator.next(obj, type, reason, message, this.source, this.now()));
      this.draining ??= this.drain().finally(() => { this.draining = undefined; });
    } catch (err) {
      busLog.warn({ err, reason, object: obj?.metadata?.name }, 'could not record event');
    }
  }

  /**
   * Resolves once every queued event was published or dropped, or after `timeoutMs` (default
   * 2 s) so that a shutdown with the bus down is not held up.
   */
  async flush(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    const done = (async () => { while (this.draining) await this.draining; })();
    try {
      await Promise.race([done, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Makes the stream and publishes `ev` again; false when that failed too. */
  private async republish(ev: Event): Promise<boolean> {
    try {
      await (this.streamReady = ensureEventsStream(this.bus));
      await this.bus.js.publish(eventSubject(ev.involvedObject.namespace, ev.involvedObject.kind, this.source), encode(ev));
      return true;
    } catch {
      this.streamReady = undefined;
      return false;
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.bus.nc.isClosed()) { this.queue.length = 0; return; }
      const batch = this.queue.splice(0, PUBLISH_BATCH);
      try {
        if (this.opts.create !== false) await (this.streamReady ??= ensureEventsStream(this.bus));
      } catch (err) {
        this.streamReady = undefined;
        for (const ev of batch) this.logDropped(ev, err);
        continue;
      }
      const failed: { ev: Event; err: unknown }[] = [];
      const sent = await Promise.allSettled(batch.map((ev) =>
        this.bus.js.publish(eventSubject(ev.involvedObject.namespace, ev.involvedObject.kind, this.source), encode(ev))));
      sent.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        // Look for the stream again next time: it may have been deleted, or the bus was down.
        this.streamReady = undefined;
        failed.push({ ev: batch[i], err: r.reason });
      });
      // Nothing took them: the stream is missing (a server that came back without its store).
      // Make it and publish once more, rather than lose the first events after such a restart.
      for (const { ev, err } of failed) {
        if (err instanceof Error && err.name === 'JetStreamNotEnabled' && this.opts.create !== false && await this.republish(ev)) continue;
        this.logDropped(ev, err);
      }
    }
  }

  private logDropped(ev: Event, err: unknown): void {
    busLog.warn({ err: String(err), reason: ev.reason, object: `${ev.involvedObject.kind}/${ev.involvedObject.name}` }, 'could not publish event; dropped');
  }
}

/**
 * Removes every event of one namespace from the stream (the namespace is being deleted, and
 * events are namespaced objects like any other). A stream that does not exist holds none.
 */
export async function purgeNamespaceEvents(bus: Bus, namespace: string): Promise<void> {
  try {
    await bus.jsm.streams.purge(EVENTS_STREAM, { filter: `mk.events.${encodeToken(namespace)}.>` });
  } catch (err) {
    if (jsApiCode(err) === JsApiCodes.StreamNotFound) return;
    throw translateError(err, { action: `delete the events of namespace ${namespace}` });
  }
}

/** What listEvents selects. */
export interface ListEventsOptions {
  /** One namespace; absent means all. */
  namespace?: string;
  involvedKind?: string;
  involvedName?: string;
  involvedUid?: string;
  /** The most events returned, newest kept (default 1000). */
  limit?: number;
}

/**
 * The events in the stream that match, one per name (the highest count), oldest first by
 * lastTimestamp. Reads at most the last 10 000 messages of the stream. Returns [] when the stream
 * does not exist yet; throws UnavailableError when the bus is down.
 */
export async function listEvents(bus: Bus, opts: ListEventsOptions = {}): Promise<{ items: Event[]; revision: number }> {
  const byName = new Map<string, Event>();
  let revision: number;
  try {
    let state;
    try {
      state = (await bus.jsm.streams.info(EVENTS_STREAM)).state;
    } catch (err) {
      if (jsApiCode(err) === JsApiCodes.StreamNotFound) return { items: [], revision: 0 };
      throw err;
    }
    revision = state.last_seq;
    if (state.messages === 0) return { items: [], revision };
    const ns = opts.namespace ? encodeToken(opts.namespace) : '*';
    await withConsumer(bus, 'list events', async (js) => {
      byName.clear();
      const consumer = await js.consumers.get(EVENTS_STREAM, {
        filter_subjects: `mk.events.${ns}.${opts.involvedKind ?? '*'}.*`,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: Math.max(state.first_seq, state.last_seq - LIST_SCAN_MSGS + 1),
      });
      try {
        if ((await consumer.info(true)).num_pending > 0) {
          await readConsumer(bus, consumer, 'list events', (m) => {
            // The listing is the stream at `revision`: later events are a watch's to tell.
            if (m.seq > revision) return false;
            keep(byName, m, opts);
            return m.info.pending > 0 && m.seq !== revision;
          });
        }
      } finally {
        await consumer.delete().catch(() => false);
      }
    });
  } catch (err) {
    throw translateError(err, { action: `list events${opts.namespace ? ` in ${opts.namespace}` : ''}` });
  }
  // Timestamps have whole seconds; within one second the stream's order decides (the sort is stable).
  const items = [...byName.values()].sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp));
  return { items: items.slice(-(opts.limit ?? EVENTS_LIST_LIMIT)), revision };
}

function keep(byName: Map<string, Event>, m: JsMsg, opts: ListEventsOptions): void {
  let ev: Event;
  try {
    ev = decode<Event>(m.data);
  } catch {
    busLog.warn({ subject: m.subject, seq: m.seq }, 'undecodable event in the events stream; skipped');
    return;
  }
  const io = ev?.involvedObject;
  if (!io || !ev.metadata?.name) return;
  if (opts.involvedName !== undefined && io.name !== opts.involvedName) return;
  if (opts.involvedUid !== undefined && io.uid !== opts.involvedUid) return;
  const prev = byName.get(ev.metadata.name);
  if (prev && (ev.count ?? 1) < (prev.count ?? 1)) return;
  // Its stream sequence is its resourceVersion, as a watch of events reports it.
  ev.metadata.resourceVersion = String(m.seq);
  // Re-insert so the map's order is the order of each event's latest message in the stream.
  byName.delete(ev.metadata.name);
  byName.set(ev.metadata.name, ev);
}
