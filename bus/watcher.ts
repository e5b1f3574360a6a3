/**
 * A resumable watch on a KV bucket's stream: an ordered consumer from a start sequence, restarted
 * from the last delivered revision whenever it dies, the bus reconnects, or the handler fails.
 * Used by ObjectStore.watch; the ordering and resumption rules are documented there.
 *
 * Continuity is checked at every resumption. When the stream is not the one the watch started on
 * (the server came back without its store and the bucket was made again) or compaction removed
 * delete markers the watch has not seen (it fell behind the kept history), resuming would
 * silently skip changes: the watch ends and calls `onExpired` instead, so its owner relists
 * (Kubernetes' watch answers 410 Gone in that case). bus/informer.ts does the relisting. Older
 * revisions of a key that the bucket's per-key history dropped do not matter: the key's newest
 * revision, which the watch still gets, says everything a level-triggered reader needs.
 */
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg, type StreamInfo } from '@nats-io/jetstream';
import { backoffDelay, type BackoffPolicy } from '../common/backoff';
import type { Bus } from './connection';
import { isConsumerLost, leaderNextMessage, leaderStillHas, withConsumer, type SeenMessage } from './consumers';
import { JsApiCodes, jsApiCode, translateError } from './errors';
import { busLog } from './log';
import { watchLag, watchRestarts } from './metrics';
import { decodeObject } from './object-codec';
import type { KeyRing } from './secret-envelope';
import { ExpiredError } from '../messages/errors';

/** One change of a watched key. `object` is null for a DELETE. */
export interface WatchEvent<T> { type: 'PUT' | 'DELETE'; key: string; object: T | null; revision: number }

/** Why a watch cannot go on from where it was. */
export type ExpiredReason = 'stream-recreated' | 'history-expired';

/** Where a watch starts, and what it does when it cannot resume; see ObjectStore.watch. */
export interface WatchOptions {
  /** Start at this revision (stream sequence), inclusive. */
  fromRevision?: number;
  /** Without fromRevision: start at the oldest retained change instead of the next new one. */
  includeHistory?: boolean;
  /**
   * Called (once) when the watch cannot resume without missing changes; the watch has ended and
   * the owner should list again and start a new watch from the listing's revision. Without it,
   * the watch logs the gap and goes on from the oldest change the stream still has.
   */
  onExpired?: (reason: ExpiredReason) => void;
}

/** Between restarts of a failed watch: 100 ms doubling to 5 s. A reconnect resumes at once. */
const RESUME_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5000, jitter: 0.2 };
/**
 * How long one pull waits; idle heartbeats come at half of it, so a consumer that died without the
 * connection noticing is found within about this long.
 */
const PULL_EXPIRES_MS = 10_000;
/**
 * On a cluster, how often a watch that delivered nothing since the last look asks the stream's
 * leader whether there is something to deliver (see checkProgress).
 */
export const PROGRESS_CHECK_MS = 5000;

interface WatcherConfig<T> {
  bus: Bus;
  stream: string;
  /** `$KV.<bucket>.` */
  prefix: string;
  filter: string;
  onEvent: (ev: WatchEvent<T>) => void | Promise<void>;
  /** The store's compacted revision: delete markers at or below it may be gone. */
  compactedRevision: () => Promise<number>;
  /** Whether the watch checks its progress against the stream's leader (checkProgress). */
  leaderChecks?: boolean;
  /** What sealed values (Secrets) are opened with (object-codec.ts). */
  keys?: KeyRing;
}

/** Runs one watch until stopped. */
export class KvWatcher<T> {
  /** The revision the next consumer starts at: one after the last event handled. */
  private next = 1;
  /** The stream's creation time when the watch started: another value means another stream. */
  private streamCreated = '';
  /** The first revision written after the watch started: older ones are history, not lag. */
  private liveFrom = Infinity;
  private onExpired: WatchOptions['onExpired'];
  private stopped = false;
  private inHandler = false;
  private reconnected = false;
  private iter: ConsumerMessages | undefined;
  private consumer: Consumer | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private unlisten: (() => void) | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  /** What the last progress check found: the leader had revision `seq` (>= `next`) to deliver. */
  private probe: { next: number; seq: number } | undefined;
  private probing = false;
  /** The last message delivered (leaderChecks only): the leader must still hold it (diverged()). */
  private seen: SeenMessage | undefined;

  constructor(private readonly cfg: WatcherConfig<T>) {}

  /** Resolves the start revision, opens the first consumer, then runs in the background. */
  async start(opts: WatchOptions): Promise<void> {
    this.onExpired = opts.onExpired;
    try {
      const info = await this.cfg.bus.jsm.streams.info(this.cfg.stream);
      this.streamCreated = info.created;
      this.liveFrom = info.state.last_seq + 1;
      if (opts.fromRevision !== undefined) {
        this.next = Math.max(1, opts.fromRevision);
        const compacted = await this.cfg.compactedRevision();
        if (compacted >= this.next) {
          throw new ExpiredError(`watch ${this.cfg.filter} from revision ${this.next}: the store was compacted at revision ${compacted}, `
            + 'so deletions since may be gone; list again and watch from the revision of the listing');
        }
      } else if (opts.includeHistory) this.next = 1;
      // "New" as an explicit sequence, so a restart before the first event misses nothing.
      else this.next = info.state.last_seq + 1;
      this.iter = await this.open();
    } catch (err) {
      throw translateError(err, { action: `watch ${this.cfg.filter}` });
    }
    this.unlisten = this.cfg.bus.onReconnect(() => {
      // The pull in flight died with the old connection: resume now, not after the heartbeats lapse.
      this.reconnected = true;
      this.iter?.stop();
      this.wake?.();
    });
    this.loop = this.run(this.iter);
    if (this.cfg.leaderChecks) this.progressTimer = setInterval(() => void this.checkProgress(), PROGRESS_CHECK_MS).unref();
  }

  /**
   * A consumer reads the copy of the stream kept by the server it was placed on. On a cluster that
   * copy can fall behind the leader's and stay behind (a server that restarted while catching up),
   * and the consumer then delivers nothing new while its heartbeats say it is well. So at every
   * look the watch asks the leader for the first change it should deliver; if the leader had one
   * at the last look and the watch still has not moved past it, the consumer is stuck: it is
   * ended and the watch resumes on a new one (placed anew). Each look also checks that the leader
   * still holds the last change delivered (diverged()).
   */
  private async checkProgress(): Promise<void> {
    if (this.stopped || this.inHandler || this.probing) return;
    const next = this.next;
    const probe = this.probe;
    if (probe && probe.next === next && probe.seq >= next) {
      this.probe = undefined;
      busLog.warn({ filter: this.cfg.filter, next, leaderHas: probe.seq }, 'watch consumer is behind the stream\'s leader (its server\'s copy lags); resuming on a new one');
      watchRestarts.inc({ reason: 'lagging' });
      this.iter?.stop();
      return;
    }
    this.probing = true;
    try {
      if (await this.diverged()) {
        this.probe = undefined;
        // The loop checks again before resuming, and ends the watch for its owner to relist.
        this.iter?.stop();
        return;
      }
      const found = await leaderNextMessage(this.cfg.bus, this.cfg.stream, this.cfg.prefix + this.cfg.filter, next);
      this.probe = found && this.next === next ? { next, seq: found.seq } : undefined;
    } catch (err) {
      this.probe = undefined;
      busLog.debug({ filter: this.cfg.filter, next, err: String(err) }, 'watch progress check unanswered; trying again later');
    } finally {
      this.probing = false;
    }
  }

  /**
   * Stops the watch and waits until no handler runs. Called from inside the handler, it does not
   * wait for that handler (which would wait for itself).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    clearInterval(this.progressTimer);
    this.iter?.stop();
    this.wake?.();
    if (!this.inHandler) await this.loop;
    // Not awaited: with the server down a delete would wait for its timeout; the server drops an
    // idle ordered consumer by itself.
    void this.dropConsumer();
  }

  /** Deletes the server-side consumer now rather than when its inactivity threshold passes. */
  private async dropConsumer(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    await c?.delete().catch(() => false);
  }

  private async open(): Promise<ConsumerMessages> {
    return withConsumer(this.cfg.bus, `watch ${this.cfg.filter}`, async (js) => {
      await this.dropConsumer();
      const consumer = this.consumer = await js.consumers.get(this.cfg.stream, {
        filter_subjects: this.cfg.prefix + this.cfg.filter,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: this.next,
      });
      const iter = await consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
      this.watchHealth(iter);
      return iter;
    });
  }

  /**
   * Ends `iter` when its consumer is lost while the connection stays up: a consumer lives on one
   * server, and when that server of a cluster dies the client, connected to another, would pull
   * for it forever (the library retries a consumer it once found). Missed heartbeats or a
   * consumer or stream not found end the iteration, and the loop resumes from the last revision
   * on a new consumer.
   */
  private watchHealth(iter: ConsumerMessages): void {
    void (async () => {
      for await (const s of iter.status()) {
        if (!isConsumerLost(s) || this.stopped) continue;
        busLog.warn({ filter: this.cfg.filter, next: this.next, status: s.type }, 'watch consumer lost; resuming on a new one');
        iter.stop();
        break;
      }
    })().catch(() => undefined);
  }

  /**
   * Whether the last message delivered is no longer the stream's (leaderChecks only): the replicas
   * of a cluster diverged and the leader's history differs from what this watch was fed.
   */
  private async diverged(): Promise<boolean> {
    const seen = this.seen;
    if (!seen || !this.cfg.leaderChecks) return false;
    if ((await leaderStillHas(this.cfg.bus, this.cfg.stream, seen)) !== false) return false;
    busLog.warn({ filter: this.cfg.filter, revision: seen.seq, key: seen.subject.slice(this.cfg.prefix.length) },
      'the stream leader holds another change at a revision this watch delivered (the servers\' copies diverged)');
    return true;
  }

  /**
   * Before resuming: is this still the stream the watch began on (the same creation, at least as
   * long, and on a cluster the same message at the last revision delivered), and has compaction
   * left every delete marker from revision `next` on? Returns the reason it cannot resume, or
   * undefined.
   */
  private async gap(info: StreamInfo): Promise<ExpiredReason | undefined> {
    if (info.created !== this.streamCreated || info.state.last_seq < this.next - 1) return 'stream-recreated';
    if (await this.diverged()) return 'stream-recreated';
    if ((await this.cfg.compactedRevision()) >= this.next) return 'history-expired';
    return undefined;
  }

  /** Checks continuity; false when the watch must end (its owner relists). */
  private async canResume(): Promise<boolean> {
    let info: StreamInfo;
    try {
      info = await this.cfg.bus.jsm.streams.info(this.cfg.stream);
    } catch (err) {
      // The bucket is not there (yet): a server that lost its store, before its owner makes it again.
      if (jsApiCode(err) === JsApiCodes.StreamNotFound) throw new Error(`stream ${this.cfg.stream} not found`, { cause: err });
      throw err;
    }
    const reason = await this.gap(info);
    if (!reason) return true;
    if (this.onExpired) {
      busLog.warn({ filter: this.cfg.filter, next: this.next, reason }, 'watch cannot resume without missing changes; relisting');
      this.stopped = true;
      this.unlisten?.();
      const notify = this.onExpired;
      queueMicrotask(() => notify(reason));
      return false;
    }
    busLog.error({ filter: this.cfg.filter, next: this.next, reason }, 'watch resumes with a gap: changes may have been missed');
    this.streamCreated = info.created;
    if (reason === 'stream-recreated') this.next = Math.max(1, info.state.first_seq);
    return true;
  }

  private async run(first: ConsumerMessages): Promise<void> {
    let reuse: ConsumerMessages | undefined = first;
    let failures = 0;
    while (!this.stopped) {
      if (this.cfg.bus.nc.isClosed()) {
        // Closing the bus ends every watch on it; resuming could never succeed.
        busLog.info({ filter: this.cfg.filter, next: this.next }, 'bus closed; watch ends');
        break;
      }
      let iter: ConsumerMessages | undefined = reuse;
      reuse = undefined;
      try {
        if (!iter) {
          this.reconnected = false;
          if (!(await this.canResume())) break;
          iter = await this.open();
          watchRestarts.inc({ reason: 'resume' });
        }
        this.iter = iter;
        // stop() may have run while the consumer was being created.
        if (this.stopped) break;
        for await (const m of iter) {
          if (this.stopped) break;
          await this.deliver(m);
          failures = 0;
        }
        if (!this.stopped && !this.reconnected) busLog.warn({ filter: this.cfg.filter, next: this.next }, 'watch consumer ended; resuming');
      } catch (err) {
        if (!this.stopped) busLog.warn({ filter: this.cfg.filter, next: this.next, err }, 'watch failed; resuming from the last revision');
      } finally {
        iter?.stop();
      }
      if (this.stopped) break;
      if (this.reconnected) failures = 0;
      else await this.pause(backoffDelay(RESUME_BACKOFF, failures++));
    }
    clearInterval(this.progressTimer);
  }

  /** Calls the handler for one message; `next` moves only when the handler succeeded. */
  private async deliver(m: JsMsg): Promise<void> {
    const key = m.subject.slice(this.cfg.prefix.length);
    const op = m.headers?.get('KV-Operation') ?? '';
    let ev: WatchEvent<T>;
    try {
      ev = op === 'DEL' || op === 'PURGE'
        ? { type: 'DELETE', key, object: null, revision: m.seq }
        : { type: 'PUT', key, object: decodeObject<T>(key, m.data, m.seq, this.cfg.keys), revision: m.seq };
    } catch (err) {
      // A value no reader can parse would stop the watch forever if it were retried: skip it.
      busLog.error({ key, revision: m.seq, err }, 'watch skipped a value it cannot read (not JSON, or sealed with a key it lacks)');
      this.next = m.seq + 1;
      return;
    }
    if (m.seq >= this.liveFrom) {
      // The stream's timestamp of the write; a clock a little behind the server's reads as 0.
      const writtenMs = m.info.timestampNanos / 1e6;
      watchLag.observe(Math.max(0, Date.now() - writtenMs) / 1000);
    }
    this.inHandler = true;
    try {
      await this.cfg.onEvent(ev);
    } finally {
      this.inHandler = false;
    }
    this.next = m.seq + 1;
    if (this.cfg.leaderChecks) this.seen = { seq: m.seq, subject: m.subject, timeMs: Math.floor(m.info.timestampNanos / 1e6) };
  }

  /** Waits `ms`, or less if stop() is called or the bus reconnects. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() { clearTimeout(t); resolve(); }
      this.wake = done;
    });
  }
}
