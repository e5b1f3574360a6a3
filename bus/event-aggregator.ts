/**
 * Aggregation of repeated events, as client-go's EventCorrelator does
 * (kubernetes/client-go tools/record/events_cache.go): the same event about the same object
 * (uid + reason + message) seen again within the window is the same Event with count + 1 and a new
 * lastTimestamp, under the same name. Pure and in memory; one per recorder.
 */
import { randomBytes } from 'node:crypto';
import { objectReference, type Event, type EventSource, type EventType } from '../messages/event';
import { timestamp, type KubeObject } from '../messages/meta';

/** Repeats within this window aggregate (client-go keeps its cache for 10 min as well). */
export const AGGREGATION_WINDOW_MS = 10 * 60_000;
/** Entries kept at most; the least recently seen go first. */
const MAX_ENTRIES = 4096;

interface Entry { name: string; count: number; firstTimestamp: string; lastSeenMs: number }

/** Turns what a component saw into the Event to publish, folding repeats together. */
export class EventAggregator {
  private readonly seen = new Map<string, Entry>();

  constructor(private readonly windowMs: number = AGGREGATION_WINDOW_MS, private readonly maxEntries: number = MAX_ENTRIES) {}

  /** The event to publish for this occurrence at `nowMs` (a repeat keeps its name and counts up). */
  next(obj: KubeObject, type: EventType, reason: string, message: string, source: EventSource, nowMs: number = Date.now()): Event {
    const ref = objectReference(obj);
    const key = JSON.stringify([ref.uid ?? `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`, type, reason, message]);
    const now = timestamp(new Date(nowMs));
    const prev = this.seen.get(key);
    const entry: Entry = prev && nowMs - prev.lastSeenMs < this.windowMs
      ? { ...prev, count: prev.count + 1, lastSeenMs: nowMs }
      : { name: eventName(ref.name, nowMs), count: 1, firstTimestamp: now, lastSeenMs: nowMs };
    // Re-inserting keeps the map in least-recently-seen order, so eviction takes the oldest.
    this.seen.delete(key);
    this.seen.set(key, entry);
    this.evict(nowMs);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: entry.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), creationTimestamp: entry.firstTimestamp },
      involvedObject: ref,
      reason,
      message,
      type,
      count: entry.count,
      firstTimestamp: entry.firstTimestamp,
      lastTimestamp: now,
      source: { ...source },
    };
  }

  /** How many distinct events are remembered (tests). */
  get size(): number { return this.seen.size; }

  private evict(nowMs: number): void {
    for (const [key, e] of this.seen) {
      if (this.seen.size <= this.maxEntries && nowMs - e.lastSeenMs < this.windowMs) break;
      this.seen.delete(key);
    }
  }
}

/** kubelet's naming: `<object>.<16 hex digits>`, unique per occurrence that starts a new event. */
function eventName(objectName: string, nowMs: number): string {
  const hex = (BigInt(nowMs) * 1_000_000n + BigInt(randomBytes(3).readUIntBE(0, 3))).toString(16).padStart(16, '0').slice(-16);
  return `${objectName}.${hex}`;
}
