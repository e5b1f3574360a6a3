/**
 * The object store: etcd semantics on one JetStream KV bucket, after kine's NATS driver
 * (k3s-io/kine pkg/drivers/nats). A key's revision is the sequence of its message in the bucket's
 * stream, so revisions are monotonic across the bucket like etcd's; create and update are publishes
 * with an expected last subject sequence; watch is an ordered consumer from a start sequence; the
 * bucket keeps a bounded history per key.
 *
 * Delete writes a KV delete marker (not a purge): the key's history stays until it ages out of the
 * per-key history, and a watcher sees the marker as a DELETE event with its own revision, exactly
 * like etcd's delete event. Markers of deleted keys would accumulate and slow every listing down:
 * `compact()` (the control plane runs it periodically) removes old ones and records, like etcd's
 * compact revision, the highest revision it removed; a watch that resumes from before it would
 * miss deletions, so it is told to relist instead (see watcher.ts).
 */
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { ConflictError, isConflict, NotFoundError, TimeoutError, ValidationError } from '../messages/errors';
import { META_BUCKET, OBJECTS_BUCKET } from '../messages/subjects';
import type { Bus } from './connection';
import { JsApiCodes, jsApiCode, translateError } from './errors';
import { isClustered, leaderNextMessage, readConsumer, withConsumer } from './consumers';
import { busLog } from './log';
import { checkFilter, checkKey, decodeObject, encodeObject } from './object-codec';
import type { KeyRing } from './secret-envelope';
import { KvWatcher, type WatchEvent, type WatchOptions } from './watcher';

export type { ExpiredReason, WatchEvent, WatchOptions } from './watcher';

/** An object read from the store, with the revision it was read at. */
export interface Stored<T> { key: string; object: T; revision: number }

/** KV operation header values that mean the key is gone. */
const GONE = new Set(['DEL', 'PURGE']);
const KV_OPERATION = 'KV-Operation';

/** etcd-like store of JSON objects on a JetStream KV bucket. */
export class ObjectStore {
  /** `$KV.<bucket>.`: the subject prefix of every key. */
  private readonly prefix: string;

  /**
   * `bus`: the connection the store reads and writes through (also for events about its objects).
   * `fence`: called before every write; it throws to refuse the write (see fenced()).
   * `keys`: what Secrets are sealed and opened with (object-codec.ts); without, they are written
   * in clear and sealed ones cannot be read.
   */
  private constructor(
    readonly bus: Bus, private readonly kv: KV, readonly bucket: string, private readonly config: BucketConfig,
    readonly fence?: (action: string) => void, readonly keys?: KeyRing,
  ) {
    this.prefix = `$KV.${bucket}.`;
  }

  /**
   * The same bucket, with every write (create, update, put, delete, mutate, compact) first passed
   * to `check`, which throws to refuse it: the control plane's leader writes through a store
   * fenced by its lease, so a deposed leader's late writes never reach the store. Reads and
   * watches are not fenced.
   */
  fenced(check: (action: string) => void): ObjectStore {
    return new ObjectStore(this.bus, this.kv, this.bucket, this.config, check, this.keys);
  }

  /**
   * Whether lists and watches check what they read against the stream's leader (see
   * leaderNextMessage): on a cluster, by the bucket's owner. Other readers (node agents, the
   * dashboard) may not ask the leader for any key, only consume their own part.
   */
  private get leaderChecks(): boolean {
    return this.config.owner && isClustered(this.bus);
  }

  /** The JetStream stream that holds the bucket. */
  get stream(): string { return `KV_${this.bucket}`; }

  /**
   * Opens the bucket (default OBJECTS_BUCKET), creating it when missing with `history` revisions
   * kept per key (default 5) and `replicas` (default: the bus's, 1 on one server, 3 on a 3-server
   * cluster). An existing bucket is used as it is. `fence`: see fenced(). `keys`: seal Secrets
   * with them (see the constructor). Throws UnavailableError when JetStream cannot be reached.
   */
  static async open(bus: Bus, opts: {
    bucket?: string; history?: number; replicas?: number; description?: string; create?: boolean; fence?: (action: string) => void;
    keys?: KeyRing;
  } = {}): Promise<ObjectStore> {
    const bucket = opts.bucket ?? OBJECTS_BUCKET;
    const config: BucketConfig = {
      history: opts.history ?? 5,
      replicas: opts.replicas ?? bus.replicas ?? 1,
      description: opts.description ?? 'mk objects: <plural>.<namespace>.<name> -> JSON',
      owner: opts.create !== false,
    };
    try {
      const kvm = new Kvm(bus.js);
      const kv = opts.create === false ? await kvm.open(bucket) : await createBucket(kvm, bucket, config);
      return new ObjectStore(bus, kv, bucket, config, opts.fence, opts.keys);
    } catch (err) {
      throw translateError(err, { action: `open bucket ${bucket}` });
    }
  }

  /**
   * Makes the bucket (and its compaction record) again if the server lost them: a server that came
   * back without its store. Idempotent; the owner calls it after every reconnect. Throws
   * UnavailableError when JetStream cannot be reached.
   */
  async ensure(): Promise<void> {
    this.metaKv = undefined;
    try {
      await createBucket(new Kvm(this.bus.js), this.bucket, this.config);
    } catch (err) {
      throw translateError(err, { action: `make bucket ${this.bucket} again` });
    }
  }

  /** Reads one object, or null when absent or deleted. */
  async get<T>(key: string): Promise<Stored<T> | null> {
    checkKey(key);
    let e: KvEntry | null;
    try {
      e = await this.kv.get(key);
    } catch (err) {
      throw translateError(err, { action: `get ${key}` });
    }
    if (!e || GONE.has(e.operation)) return null;
    return { key, object: decodeObject<T>(key, e.value, e.revision, this.keys), revision: e.revision };
  }

  /**
   * Lists the live objects whose keys match `filter` (`pods.>`, `pods.default.>`, `>`), sorted by
   * key. The listing is consistent: it is the state at `revision`, and a watch from `revision + 1`
   * sees every later change. How: the stream's last sequence L is read first; then an ordered
   * consumer delivers the last message of every matching key and everything after, until nothing
   * is pending. Every matching change up to that moment is folded in, so the result is the state at
   * max(L, the highest sequence seen), with no matching change after it.
   */
  async list<T>(filter: string): Promise<{ items: Stored<T>[]; revision: number }> {
    const { values, revision } = await this.values(filter);
    return { items: values.map((v) => ({ key: v.key, object: decodeObject<T>(v.key, v.value, v.revision, this.keys), revision: v.revision })), revision };
  }

  /**
   * The stored bytes of the live keys matching `filter`, sorted by key, as list() reads them (the
   * same consistency; sealed values stay sealed): for code that looks at how values are stored
   * (bus/secret-sealing.ts), never to read objects.
   */
  async values(filter: string): Promise<{ values: { key: string; value: Uint8Array; revision: number }[]; revision: number }> {
    checkFilter(filter);
    let latest = new Map<string, JsMsg>();
    let before = 0;
    let maxSeq = 0;
    try {
      await withConsumer(this.bus, `list ${filter}`, async (js) => {
        latest = new Map<string, JsMsg>();
        maxSeq = 0;
        before = (await this.bus.jsm.streams.info(this.stream)).state.last_seq;
        const consumer = await js.consumers.get(this.stream, {
          filter_subjects: this.prefix + filter,
          deliver_policy: DeliverPolicy.LastPerSubject,
        });
        try {
          if ((await consumer.info(true)).num_pending > 0) {
            await readConsumer(this.bus, consumer, `list ${filter}`, (m) => {
              latest.set(m.subject.slice(this.prefix.length), m);
              maxSeq = Math.max(maxSeq, m.seq);
              return m.info.pending > 0;
            });
          }
        } finally {
          await consumer.delete().catch(() => false);
        }
        // On a cluster the consumer read its server's copy of the stream, which may be behind the
        // leader's (a server still catching up): a change at or below `before` that the listing
        // lacks shows it. Tried again on a new consumer, placed anew.
        if (this.leaderChecks) {
          const missed = await leaderNextMessage(this.bus, this.stream, this.prefix + filter, maxSeq + 1);
          if (missed && missed.seq <= before) {
            throw new TimeoutError(`list ${filter}: read from a server whose copy of the store is behind (revision ${missed.seq} missing); read again`);
          }
        }
      });
    } catch (err) {
      throw translateError(err, { action: `list ${filter}` });
    }
    const values: { key: string; value: Uint8Array; revision: number }[] = [];
    for (const [key, m] of [...latest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (GONE.has(m.headers?.get(KV_OPERATION) ?? '')) continue;
      values.push({ key, value: m.data, revision: m.seq });
    }
    return { values, revision: Math.max(before, maxSeq) };
  }

  /**
   * Creates `key` and returns its revision. Throws AlreadyExistsError when it is present; a
   * deleted key can be created again (KV create writes over a delete marker). Throws
   * ValidationError for an invalid key or a value over 1 MiB.
   */
  async create<T>(key: string, object: T): Promise<number> {
    checkKey(key);
    const data = encodeObject(key, object, this.keys);
    this.fence?.(`create ${key}`);
    try {
      return await this.kv.create(key, data);
    } catch (err) {
      throw translateError(err, { action: `create ${key}`, create: true });
    }
  }

  /**
   * Replaces `key` if its revision is still `expectedRevision`; returns the new revision. Throws
   * ConflictError when the key changed since (re-read and retry, or use mutate), NotFoundError
   * when it no longer exists, ValidationError for a bad key, revision or a value over 1 MiB.
   * Pass a revision read from a live object: the revision of a delete marker would revive the key.
   */
  async update<T>(key: string, object: T, expectedRevision: number): Promise<number> {
    checkKey(key);
    if (!Number.isSafeInteger(expectedRevision) || expectedRevision <= 0) {
      throw new ValidationError(`update ${key}: expected revision must be a positive integer (got ${expectedRevision})`);
    }
    const data = encodeObject(key, object, this.keys);
    this.fence?.(`update ${key}`);
    try {
      return await this.kv.update(key, data, expectedRevision);
    } catch (err) {
      const e = translateError(err, { action: `update ${key} at revision ${expectedRevision}` });
      // A stale revision of a key that is gone is better reported as NotFound, as Kubernetes does.
      if (isConflict(e) && (await this.get(key)) === null) throw new NotFoundError(`update ${key}: not found`, { cause: err });
      throw e;
    }
  }

  /**
   * Writes `key` whatever it holds (no revision check) and returns the new revision: for data
   * derived from other objects by their single owner (the per-node views of pods), never for
   * objects users and controllers share. Throws ValidationError for a bad key or a value over
   * 1 MiB, UnavailableError when the bus is down.
   */
  async put<T>(key: string, object: T): Promise<number> {
    checkKey(key);
    const data = encodeObject(key, object, this.keys);
    this.fence?.(`put ${key}`);
    try {
      return await this.kv.put(key, data);
    } catch (err) {
      throw translateError(err, { action: `put ${key}` });
    }
  }

  /**
   * Deletes `key` by writing a delete marker. Throws NotFoundError when it is absent. With
   * `expectedRevision`, throws ConflictError unless the key is still at that revision; without,
   * deletes whatever revision is current (retrying if it changes under us).
   */
  async delete(key: string, expectedRevision?: number): Promise<void> {
    checkKey(key);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.get(key);
      if (!cur) throw new NotFoundError(`delete ${key}: not found`);
      if (expectedRevision !== undefined && cur.revision !== expectedRevision) {
        throw new ConflictError(`delete ${key}: it is at revision ${cur.revision}, not ${expectedRevision}; re-read and retry`);
      }
      try {
        // previousSeq makes "exists, then delete" atomic: a concurrent write makes this fail.
        this.fence?.(`delete ${key}`);
        await this.kv.delete(key, { previousSeq: cur.revision });
        return;
      } catch (err) {
        const e = translateError(err, { action: `delete ${key} at revision ${cur.revision}` });
        if (!isConflict(e) || expectedRevision !== undefined || attempt >= 10) throw e;
      }
    }
  }

  /**
   * Watches the keys matching `filter` and calls `onEvent` for each change, in revision order, one
   * at a time (an async handler is awaited). Where it starts: at `fromRevision` when given (every
   * retained change from that revision on); else with `includeHistory` at the oldest retained
   * change; else at the first change after the call. Resumption: when the consumer dies (server
   * restart, connection loss) or `onEvent` throws, the watcher starts a new consumer at the
   * revision after the last event `onEvent` completed, with backoff; a throwing event is
   * therefore delivered again (handlers must be idempotent). Resolves once the first consumer
   * exists; throws ValidationError for a bad filter, UnavailableError when the bus is down.
   */
  async watch<T>(filter: string, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void | Promise<void>): Promise<{ stop(): Promise<void> }> {
    checkFilter(filter);
    const watcher = new KvWatcher<T>({
      bus: this.bus,
      stream: this.stream,
      prefix: this.prefix,
      filter,
      onEvent,
      compactedRevision: () => this.compactedRevision(),
      leaderChecks: this.leaderChecks,
      keys: this.keys,
    });
    await watcher.start(opts);
    return { stop: () => watcher.stop() };
  }

  /**
   * The revisions of `key` the bucket still keeps (at most its per-key history), oldest first:
   * each with the object, or null for a deletion. For readers that need an object's state before
   * a given revision (a watch's DELETED carries the last state), and for the dashboard's time
   * scrubber (`written`: when the revision was stored, ISO 8601). Throws UnavailableError when
   * the bus is down.
   */
  async history<T>(key: string): Promise<{ revision: number; object: T | null; written: string }[]> {
    checkKey(key);
    const out: { revision: number; object: T | null; written: string }[] = [];
    try {
      for await (const e of await this.kv.history({ key })) {
        out.push({
          revision: e.revision, object: GONE.has(e.operation) ? null : decodeObject<T>(key, e.value, e.revision, this.keys),
          written: e.created.toISOString(),
        });
      }
    } catch (err) {
      throw translateError(err, { action: `read the history of ${key}` });
    }
    return out;
  }

  /**
   * Read-modify-write: reads `key`, calls `fn` on a deep copy, writes the result with the read
   * revision; on ConflictError re-reads and retries (at most `retries` times, default 10, with a
   * little jitter). `fn` returning null means "no change": nothing is written and null is
   * returned. Returns what was stored. Throws NotFoundError when the key is absent, and the last
   * ConflictError when every retry lost the race. `fn` may run several times: keep it pure.
   */
  async mutate<T>(key: string, fn: (current: T) => T | null, opts: { retries?: number } = {}): Promise<Stored<T> | null> {
    const retries = opts.retries ?? 10;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.get<T>(key);
      if (!cur) throw new NotFoundError(`mutate ${key}: not found`);
      const next = fn(structuredClone(cur.object));
      if (next === null) return null;
      try {
        const revision = await this.update(key, next, cur.revision);
        // What was stored, as a reader would see it (and not the object fn may still hold).
        return { key, object: decodeObject<T>(key, encodeObject(key, next), revision), revision };
      } catch (err) {
        if (!isConflict(err) || attempt >= retries) throw err;
        busLog.debug({ key, attempt, revision: cur.revision }, 'mutate lost a race; retrying');
        await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
      }
    }
  }

  /**
   * Removes the delete markers (and the older revisions of those keys) written more than
   * `olderThanMs` ago (default 30 min), so deleted keys stop costing list and watch time. First
   * records the highest revision it removes as the compacted revision: a watch that resumes from
   * at or below it is told to relist (it could have missed those deletions). A key written again
   * meanwhile keeps its new revisions (the purge stops at the marker). Returns how many markers
   * went and the compacted revision. Throws UnavailableError when the bus is down.
   */
  async compact(olderThanMs = 30 * 60 * 1000): Promise<{ removed: number; revision: number }> {
    const cutoffNs = (Date.now() - olderThanMs) * 1e6;
    const markers: { subject: string; seq: number }[] = [];
    try {
      await withConsumer(this.bus, `compact ${this.bucket}`, async (js) => {
        markers.length = 0;
        const consumer = await js.consumers.get(this.stream, {
          filter_subjects: `${this.prefix}>`,
          deliver_policy: DeliverPolicy.LastPerSubject,
          headers_only: true,
        });
        try {
          if ((await consumer.info(true)).num_pending > 0) {
            await readConsumer(this.bus, consumer, `compact ${this.bucket}`, (m) => {
              if (GONE.has(m.headers?.get(KV_OPERATION) ?? '') && m.info.timestampNanos < cutoffNs) markers.push({ subject: m.subject, seq: m.seq });
              return m.info.pending > 0;
            });
          }
        } finally {
          await consumer.delete().catch(() => false);
        }
      });
      const previous = await this.compactedRevision();
      const revision = Math.max(previous, ...markers.map((m) => m.seq));
      if (markers.length === 0) return { removed: 0, revision };
      this.fence?.(`compact ${this.bucket}`);
      await (await this.meta()).put(this.compactedKey(), String(revision));
      for (const m of markers) await this.bus.jsm.streams.purge(this.stream, { filter: m.subject, seq: m.seq + 1 });
      busLog.info({ bucket: this.bucket, removed: markers.length, revision }, 'compacted the store');
      return { removed: markers.length, revision };
    } catch (err) {
      throw translateError(err, { action: `compact ${this.bucket}` });
    }
  }

  /**
   * Removes from the bucket's history every revision of `key` older than `revision` (for a value
   * re-written so that no older copy of it may stay, such as a Secret stored in clear before it
   * was sealed). Revisions from `revision` on stay, so a writer that came after is never undone.
   * Throws ValidationError for a bad key or revision, UnavailableError when the bus is down.
   */
  async forgetOlderRevisions(key: string, revision: number): Promise<void> {
    checkKey(key);
    if (!Number.isSafeInteger(revision) || revision <= 0) {
      throw new ValidationError(`forget the history of ${key}: revision must be a positive integer (got ${revision})`);
    }
    this.fence?.(`forget the history of ${key}`);
    try {
      // JetStream purges the subject's messages below `seq`, not `seq` itself.
      await this.bus.jsm.streams.purge(this.stream, { filter: `${this.prefix}${key}`, seq: revision });
    } catch (err) {
      throw translateError(err, { action: `forget the history of ${key}` });
    }
  }

  /** The highest revision compaction removed (0 when none): watches resuming at or below it relist. */
  async compactedRevision(): Promise<number> {
    try {
      const e = await (await this.meta()).get(this.compactedKey());
      return e && e.operation === 'PUT' ? Number(e.string()) || 0 : 0;
    } catch (err) {
      // No record yet (a bucket never compacted, or a fresh server).
      if (jsApiCode(err) === JsApiCodes.StreamNotFound) return 0;
      throw translateError(err, { action: `read the compacted revision of ${this.bucket}` });
    }
  }

  /** The meta bucket's key of the encryption canary of this bucket (bus/secret-sealing.ts). */
  get canaryKey(): string { return `${this.bucket}.encryption-canary`; }

  /** The stored encryption canary and its revision, or null when none was written yet. */
  async readCanary(): Promise<{ value: Uint8Array; revision: number } | null> {
    try {
      const e = await (await this.meta()).get(this.canaryKey);
      return e && e.operation === 'PUT' ? { value: e.value, revision: e.revision } : null;
    } catch (err) {
      throw translateError(err, { action: `read ${this.canaryKey}` });
    }
  }

  /**
   * Writes the encryption canary: created when `revision` is 0, else replaced under that revision.
   * Throws the store's errors as they are (another writer's canary: a Conflict or AlreadyExists).
   */
  async writeCanary(value: Uint8Array, revision: number): Promise<void> {
    const meta = await this.meta();
    try {
      if (revision === 0) await meta.create(this.canaryKey, value);
      else await meta.update(this.canaryKey, value, revision);
    } catch (err) {
      throw translateError(err, { action: `write ${this.canaryKey}` });
    }
  }

  private metaKv: Promise<KV> | undefined;
  /** The bookkeeping bucket: made by the store's owner, only read by the others. */
  private meta(): Promise<KV> {
    const kvm = new Kvm(this.bus.js);
    this.metaKv ??= (this.config.owner
      ? kvm.create(META_BUCKET, { history: 1, replicas: this.config.replicas, allow_direct: false, description: 'mk: bookkeeping of the object buckets' })
      : kvm.open(META_BUCKET))
      .catch((err: unknown) => { this.metaKv = undefined; throw err; });
    return this.metaKv;
  }

  private compactedKey(): string { return `${this.bucket}.compacted`; }
}

/** How a bucket is made, and whether this process owns (makes) it. */
interface BucketConfig { history: number; replicas: number; description: string; owner: boolean }

function createBucket(kvm: Kvm, bucket: string, c: BucketConfig): Promise<KV> {
  // allow_direct off: reads go to the stream leader, so a read after a write sees it (direct gets
  // may be served by a lagging replica).
  return kvm.create(bucket, { history: c.history, replicas: c.replicas, allow_direct: false, description: c.description });
}
