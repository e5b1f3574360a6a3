/**
 * A resumable watch on the events stream (MK_EVENTS): the object store's watcher (watcher.ts),
 * an ordered consumer from a start sequence that resumes from its last delivered message after a
 * reconnect or a failure, pointed at the stream instead of a KV bucket. An event's stream sequence
 * is its resourceVersion. Messages the stream dropped (older than its max age, or past its
 * message limit) play the part of a compaction: a watch that would resume before the first kept
 * message, or on a stream that was made again (a server that lost its store), ends and calls
 * `onExpired`, and its owner lists again.
 */
import type { Event } from '../messages/event';
import { encodeToken } from '../messages/names';
import { EVENTS_STREAM } from '../messages/subjects';
import type { Bus } from './connection';
import { ensureEventsStream } from './events';
import { JsApiCodes, jsApiCode, translateError } from './errors';
import { KvWatcher, type ExpiredReason } from './watcher';

/** The sequences the events stream holds now. */
export interface EventsStreamBounds {
  /** The highest sequence it ever stored (0 when none): a listing's resourceVersion. */
  last: number;
  /** The highest sequence it dropped (by age or limit): a watch from before it misses events. */
  dropped: number;
  /** When the stream was made ('' when it does not exist): another value is another stream. */
  created: string;
}

/**
 * The stream's bounds; a missing stream reads as empty. Throws UnavailableError when the bus is
 * down.
 */
export async function eventsStreamBounds(bus: Bus): Promise<EventsStreamBounds> {
  try {
    // An empty stream has first_seq = last_seq + 1 (or 0 when it never held anything).
    const info = await bus.jsm.streams.info(EVENTS_STREAM);
    const { state } = info;
    return { last: state.last_seq, dropped: Math.max(0, state.first_seq - 1), created: info.created };
  } catch (err) {
    if (jsApiCode(err) === JsApiCodes.StreamNotFound) return { last: 0, dropped: 0, created: '' };
    throw translateError(err, { action: `read stream ${EVENTS_STREAM}` });
  }
}

/** What a watch of events reads. */
export interface EventWatchOptions {
  /** One namespace's events; absent means all. */
  namespace?: string;
  /** Only events about objects of this kind (a subject token such as `Pod`). */
  involvedKind?: string;
  /** The first stream sequence to deliver. */
  fromRevision: number;
  /** Called once when the watch cannot go on without missing events; it has ended then. */
  onExpired(reason: ExpiredReason): void;
}

/**
 * Watches the events stream from `fromRevision`, calling `onEvent` with each event (its
 * metadata.resourceVersion set to its sequence) in stream order, every repeat of an aggregated
 * event included. Makes the stream when it is missing; `created` says which stream it watches. Throws ExpiredError when `fromRevision` is
 * older than what the stream keeps, UnavailableError when the bus is down.
 */
export async function watchEventStream(
  bus: Bus, opts: EventWatchOptions, onEvent: (ev: Event, revision: number) => void | Promise<void>,
): Promise<{ stop(): Promise<void>; created: string }> {
  await ensureEventsStream(bus);
  const { created } = await eventsStreamBounds(bus);
  const ns = opts.namespace ? encodeToken(opts.namespace) : '*';
  const watcher = new KvWatcher<Event>({
    bus,
    stream: EVENTS_STREAM,
    prefix: 'mk.events.',
    filter: `${ns}.${opts.involvedKind ?? '*'}.*`,
    onEvent: (ev) => (ev.object ? onEvent(ev.object, ev.revision) : undefined),
    compactedRevision: async () => (await eventsStreamBounds(bus)).dropped,
  });
  await watcher.start({ fromRevision: opts.fromRevision, onExpired: opts.onExpired });
  return { stop: () => watcher.stop(), created };
}
