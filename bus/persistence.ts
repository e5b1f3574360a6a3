/**
 * nact's persistence engine on JetStream. The journal is the stream JOURNAL_STREAM: every event of
 * persistence key K written by owner O (a process identity: `control-plane`, `node-n1`) is a JSON
 * message on `mk.journal.<O>.<base64url(K)>`, so one key's events are one subject, in order, and
 * the bus can let each identity write only its own journals. Snapshots are in the KV bucket
 * SNAPSHOT_BUCKET under `<O>.<base64url(K)>`.
 *
 * Single writer per key: each event is published with Nats-Expected-Last-Subject-Sequence set to
 * the stream sequence of the key's previous event (nact sequence number n-1). If another
 * incarnation of the actor wrote in between, the server rejects the write and persist() throws
 * ConflictError; the stale actor must be reset (supervision), which recovers it from the journal.
 * nact's interface (node_modules/nact/lib/persistence/persistence-engine.js) gives the engine no
 * incarnation id, so an actor that is *resumed* after such a ConflictError could write again.
 */
import { DeliverPolicy, RetentionPolicy, StorageType, type JsMsg, type StoredMsg } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { EventStream, PersistedEvent, PersistedSnapshot, PersistenceEngine } from 'nact';
import { ConflictError, ValidationError } from '../messages/errors';
import { JOURNAL_STREAM, JOURNAL_SUBJECT_PREFIX, SNAPSHOT_BUCKET } from '../messages/subjects';
import type { Bus } from './connection';
import { readConsumer, withConsumer } from './consumers';
import { JsApiCodes, jsApiCode, translateError } from './errors';
import { busLog } from './log';
import { decode, encode } from './request';

/** Where a key's journal stands: its last event's nact sequence number and stream sequence. */
interface Position { sequenceNumber: number; streamSeq: number }
/** Positions kept in memory; older ones are looked up again when needed. */
const MAX_POSITIONS = 10_000;

/** The stored form of a snapshot: nact's fields plus where in the journal it was taken. */
interface StoredSnapshot { data: unknown; sequenceNumber: number; key: string; createdAt: number; journalSeq?: number }

/** Encodes a persistence key as one subject/KV token (base64url: letters, digits, '-', '_'). */
export function keyToken(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** nact's PersistenceEngine on a JetStream journal stream and a snapshot KV bucket. */
export class JetStreamPersistenceEngine implements PersistenceEngine {
  private readonly positions = new Map<string, Position>();
  /** Journal position of each key's latest snapshot, so recovery reads only the events after it. */
  private readonly snapshotHints = new Map<string, Position>();

  private constructor(private readonly bus: Bus, private readonly snapshots: KV, readonly owner: string) {}

  /**
   * Opens the journal stream and the snapshot bucket for `owner` (one subject token, default
   * `control-plane`). With `create` (the default) they are made when missing (file storage,
   * `replicas` default 1); without, they must exist already (a node may not make streams). Throws
   * ValidationError for a bad owner, NotFoundError when a stream is missing and may not be made,
   * UnavailableError when JetStream cannot be reached.
   */
  static async open(bus: Bus, opts: { replicas?: number; owner?: string; create?: boolean } = {}): Promise<JetStreamPersistenceEngine> {
    const owner = opts.owner ?? 'control-plane';
    if (!/^[-\w]+$/.test(owner)) throw new ValidationError(`journal owner "${owner}" must be one subject token of letters, digits, '-' and '_'`);
    try {
      if (opts.create === false) {
        await bus.jsm.streams.info(JOURNAL_STREAM);
        return new JetStreamPersistenceEngine(bus, await new Kvm(bus.js).open(SNAPSHOT_BUCKET), owner);
      }
      const engine = new JetStreamPersistenceEngine(bus, await makeSnapshots(bus, opts.replicas ?? bus.replicas ?? 1), owner);
      await makeJournal(bus, opts.replicas ?? bus.replicas ?? 1);
      return engine;
    } catch (err) {
      throw translateError(err, { action: 'open the actor journal' });
    }
  }

  /**
   * Makes the journal stream and the snapshot bucket again if the server lost them (it came back
   * without its store), and forgets cached positions, which may belong to a stream that is gone.
   * For the owner that may make streams (the control plane). Idempotent.
   */
  async ensure(replicas = this.bus.replicas ?? 1): Promise<void> {
    try {
      await makeJournal(this.bus, replicas);
      await makeSnapshots(this.bus, replicas);
    } catch (err) {
      throw translateError(err, { action: 'make the actor journal again' });
    }
    this.forgetPositions();
  }

  /** Forgets cached journal positions; they are looked up again on the next write. */
  forgetPositions(): void {
    this.positions.clear();
    this.snapshotHints.clear();
  }

  /**
   * The events of `persistenceKey` with sequence numbers above `offset`, in order; at most `limit`
   * of them; only those carrying every tag in `tags`. Lazy and read once, whether awaited or
   * reduced. Rejects with UnavailableError/TimeoutError when the bus fails.
   */
  events(persistenceKey: string, offset = 0, limit?: number, tags?: string[]): EventStream {
    let loaded: Promise<PersistedEvent[]> | undefined;
    const load = () => (loaded ??= this.readEvents(persistenceKey, offset, limit, tags));
    return {
      // nact's typings name the element type Event (the DOM's), but it is PersistedEvent[].
      then: ((onOk, onErr) => load().then(onOk as never, onErr)) as EventStream['then'],
      reduce: async (cb, init) => (await load()).reduce(cb, init),
    };
  }

  private async readEvents(key: string, offset: number, limit: number | undefined, tags: string[] | undefined): Promise<PersistedEvent[]> {
    const subject = this.subjectOf(key);
    const out: PersistedEvent[] = [];
    try {
      const last = await this.bus.jsm.streams.getMessage(JOURNAL_STREAM, { last_by_subj: subject });
      if (!last) return out;
      this.remember(key, { sequenceNumber: decode<PersistedEvent>(last.data).sequenceNumber, streamSeq: last.seq });
      const hint = this.snapshotHints.get(key);
      const start = hint && hint.sequenceNumber <= offset ? hint.streamSeq + 1 : 1;
      if (start > last.seq || (limit !== undefined && limit <= 0)) return out;
      await withConsumer(this.bus, `read the journal of ${key}`, async (js) => {
        out.length = 0;
        const consumer = await js.consumers.get(JOURNAL_STREAM, {
          filter_subjects: subject,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: start,
        });
        try {
          await readConsumer(this.bus, consumer, `read the journal of ${key}`, (m) => {
            const ev = toEvent(m);
            if (ev.sequenceNumber > offset && hasTags(ev, tags)) out.push(ev);
            return m.seq < last.seq && (limit === undefined || out.length < limit);
          });
        } finally {
          await consumer.delete().catch(() => false);
        }
      });
    } catch (err) {
      throw translateError(err, { action: `read the journal of ${key}` });
    }
    return out;
  }

  /**
   * Appends one event. Throws ConflictError when another writer has appended to this key since
   * this actor's last known event (a stale incarnation); ValidationError when it is over the
   * server's max payload; UnavailableError/TimeoutError when the bus fails.
   */
  async persist(event: PersistedEvent): Promise<void> {
    await this.persistRange(event, event.sequenceNumber);
  }

  /**
   * Appends one message that stands for the events `first`..`event.sequenceNumber` of its key
   * (`event.data` holds them all, in the caller's format): one round trip for what one step of an
   * actor produced, under the same single-writer check as persist(), against event `first - 1`.
   * Reads return it as one event, numbered with its last sequence number.
   */
  async persistRange(event: PersistedEvent, first: number): Promise<void> {
    const subject = this.subjectOf(event.key);
    if (!Number.isInteger(first) || first > event.sequenceNumber) {
      throw new ValidationError(`persist events ${first}..${event.sequenceNumber} of ${event.key}: not a range of sequence numbers`);
    }
    try {
      const expected = await this.expectedStreamSeq(event.key, first);
      const ack = await this.bus.js.publish(subject, encode(event), { expect: { lastSubjectSequence: expected } });
      this.remember(event.key, { sequenceNumber: event.sequenceNumber, streamSeq: ack.seq });
    } catch (err) {
      this.positions.delete(event.key);
      const which = first === event.sequenceNumber ? `event ${first}` : `events ${first}..${event.sequenceNumber}`;
      throw translateError(err, { action: `persist ${which} of ${event.key}` });
    }
  }

  /** The stream sequence event n must follow: that of event n-1 (0 for the first event). */
  private async expectedStreamSeq(key: string, n: number): Promise<number> {
    const known = this.positions.get(key);
    if (known && known.sequenceNumber === n - 1) return known.streamSeq;
    const last: StoredMsg | null = await this.bus.jsm.streams.getMessage(JOURNAL_STREAM, { last_by_subj: this.subjectOf(key) });
    if (!last) return 0;
    const lastN = decode<PersistedEvent>(last.data).sequenceNumber;
    if (lastN >= n) {
      throw new ConflictError(`persist event ${n} of ${key}: the journal already has event ${lastN}; another incarnation of this actor is writing, so this one is stale and must restart`);
    }
    // lastN < n-1 only if the journal lost events (limits): follow what is there.
    return last.seq;
  }

  /** The latest snapshot of `persistenceKey`, or undefined when there is none. */
  async latestSnapshot(persistenceKey: string): Promise<PersistedSnapshot> {
    try {
      const e = await this.snapshots.get(this.snapshotKey(persistenceKey));
      if (!e || e.operation !== 'PUT') return undefined as unknown as PersistedSnapshot;
      const s = e.json<StoredSnapshot>();
      if (s.journalSeq) this.snapshotHints.set(persistenceKey, { sequenceNumber: s.sequenceNumber, streamSeq: s.journalSeq });
      // nact's typings omit the absent case; its recovery checks `if (snapshot)`.
      return { data: s.data, sequenceNumber: s.sequenceNumber, key: s.key, createdAt: s.createdAt };
    } catch (err) {
      throw translateError(err, { action: `read the snapshot of ${persistenceKey}` });
    }
  }

  /**
   * Stores a snapshot unless a newer one is already stored (a stale incarnation must not roll it
   * back). nact logs a snapshot failure and goes on, so failures only cost recovery time.
   */
  async takeSnapshot(snapshot: PersistedSnapshot): Promise<void> {
    const token = this.snapshotKey(snapshot.key);
    try {
      const cur = await this.snapshots.get(token);
      const curN = cur && cur.operation === 'PUT' ? cur.json<StoredSnapshot>().sequenceNumber : -1;
      if (curN >= snapshot.sequenceNumber) {
        busLog.debug({ key: snapshot.key, stored: curN, offered: snapshot.sequenceNumber }, 'kept the newer snapshot');
        return;
      }
      const pos = this.positions.get(snapshot.key);
      const stored: StoredSnapshot = {
        ...snapshot,
        journalSeq: pos && pos.sequenceNumber === snapshot.sequenceNumber ? pos.streamSeq : undefined,
      };
      const data = encode(stored);
      if (cur) await this.snapshots.update(token, data, cur.revision);
      else await this.snapshots.create(token, data);
    } catch (err) {
      throw translateError(err, { action: `snapshot ${snapshot.key} at ${snapshot.sequenceNumber}` });
    }
  }

  /**
   * The persistence keys that have a journal, with their owners: of every owner (`*`, the
   * default) or of one; optionally only keys starting with `prefix`. Read from the stream's
   * per-subject counts. Throws UnavailableError/TimeoutError when the bus fails.
   */
  async keys(prefix = '', owner = '*'): Promise<{ owner: string; key: string }[]> {
    try {
      const info = await this.bus.jsm.streams.info(JOURNAL_STREAM, { subjects_filter: `${JOURNAL_SUBJECT_PREFIX}.${owner}.*` });
      return Object.keys(info.state.subjects ?? {})
        .map((s) => {
          const [o, token] = s.slice(JOURNAL_SUBJECT_PREFIX.length + 1).split('.');
          return { owner: o, key: Buffer.from(token ?? '', 'base64url').toString('utf8') };
        })
        .filter((k) => k.key.startsWith(prefix));
    } catch (err) {
      throw translateError(err, { action: 'list actor journals' });
    }
  }

  /**
   * Removes a key's journal and snapshot (of this engine's owner, or of `owner`), for an actor
   * whose object is gone for good (a deleted pod's backoff). An actor of that key must not be
   * running.
   */
  async forget(key: string, owner = this.owner): Promise<void> {
    try {
      await this.bus.jsm.streams.purge(JOURNAL_STREAM, { filter: subjectOf(owner, key) });
      await this.snapshots.purge(`${owner}.${keyToken(key)}`);
      if (owner === this.owner) {
        this.positions.delete(key);
        this.snapshotHints.delete(key);
      }
    } catch (err) {
      throw translateError(err, { action: `forget the journal of ${key}` });
    }
  }

  private subjectOf(key: string): string { return subjectOf(this.owner, key); }
  private snapshotKey(key: string): string { return `${this.owner}.${keyToken(key)}`; }

  private remember(key: string, pos: Position): void {
    this.positions.delete(key);
    this.positions.set(key, pos);
    // Map keeps insertion order: the first key is the least recently written.
    if (this.positions.size > MAX_POSITIONS) this.positions.delete(this.positions.keys().next().value as string);
  }
}

function subjectOf(owner: string, key: string): string {
  return `${JOURNAL_SUBJECT_PREFIX}.${owner}.${keyToken(key)}`;
}

async function makeJournal(bus: Bus, replicas: number): Promise<void> {
  await bus.jsm.streams.info(JOURNAL_STREAM).catch(async (err: unknown) => {
    if (jsApiCode(err) !== JsApiCodes.StreamNotFound) throw err;
    await bus.jsm.streams.add({
      name: JOURNAL_STREAM,
      subjects: [`${JOURNAL_SUBJECT_PREFIX}.*.*`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
      description: 'mk: nact journals, one subject per owner and persistence key',
    }).catch((e: unknown) => {
      // Another process created it first: fine.
      if (jsApiCode(e) !== JsApiCodes.StreamNameInUse) throw e;
    });
  });
}

function makeSnapshots(bus: Bus, replicas: number): Promise<KV> {
  return new Kvm(bus.js).create(SNAPSHOT_BUCKET, { history: 1, replicas, allow_direct: false });
}

function toEvent(m: JsMsg): PersistedEvent {
  const e = decode<PersistedEvent>(m.data);
  return { data: e.data, sequenceNumber: e.sequenceNumber, key: e.key, createdAt: e.createdAt, isDeleted: e.isDeleted ?? false, tags: e.tags ?? [] };
}

function hasTags(ev: PersistedEvent, tags: string[] | undefined): boolean {
  return !tags || tags.length === 0 || tags.every((t) => ev.tags.includes(t));
}
