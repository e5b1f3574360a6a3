/**
 * A resumable watch on a KV bucket's stream: an ordered consumer from a start sequence, restarted
 * from the last delivered revision whenever it dies or the handler fails. Used by
 * ObjectStore.watch; the ordering and resumption rules are documented there.
 */
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Bus } from './connection';
import { translateError } from './errors';
import { busLog } from './log';
import { decodeObject } from './object-codec';

/** One change of a watched key. `object` is null for a DELETE. */
export interface WatchEvent<T> { type: 'PUT' | 'DELETE'; key: string; object: T | null; revision: number }

/** Where a watch starts; see ObjectStore.watch. */
export interface WatchOptions {
  /** Start at this revision (stream sequence), inclusive. */
  fromRevision?: number;
  /** Without fromRevision: start at the oldest retained change instead of the next new one. */
  includeHistory?: boolean;
}

/** Backoff between restarts of a failed watch: 100 ms doubling to 5 s. */
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

interface WatcherConfig<T> {
  bus: Bus;
  stream: string;
  /** `$KV.<bucket>.` */
  prefix: string;
  filter: string;
  onEvent: (ev: WatchEvent<T>) => void | Promise<void>;
}

/** Runs one watch until stopped. */
export class KvWatcher<T> {
  /** The revision the next consumer starts at: one after the last event handled. */
  private next = 1;
  private stopped = false;
  private inHandler = false;
  private iter: ConsumerMessages | undefined;
  private consumer: Consumer | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly cfg: WatcherConfig<T>) {}

  /** Resolves the start revision, opens the first consumer, then runs in the background. */
  async start(opts: WatchOptions): Promise<void> {
    try {
      if (opts.fromRevision !== undefined) {
        this.next = Math.max(1, opts.fromRevision);
      } else if (opts.includeHistory) {
        this.next = 1;
      } else {
        // "New" as an explicit sequence, so a restart before the first event misses nothing.
        this.next = (await this.cfg.bus.jsm.streams.info(this.cfg.stream)).state.last_seq + 1;
      }
      this.iter = await this.open();
    } catch (err) {
      throw translateError(err, { action: `watch ${this.cfg.filter}` });
    }
    this.loop = this.run(this.iter);
  }

  /**
   * Stops the watch and waits until no handler runs. Called from inside the handler, it does not
   * wait for that handler (which would wait for itself).
   */
  async stop(): Promise<void> {
    this.stopped = true;
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
    await this.dropConsumer();
    const consumer = this.consumer = await this.cfg.bus.js.consumers.get(this.cfg.stream, {
      filter_subjects: this.cfg.prefix + this.cfg.filter,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.next,
    });
    return consumer.consume({ max_messages: 256 });
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
        iter ??= await this.open();
        this.iter = iter;
        // stop() may have run while the consumer was being created.
        if (this.stopped) break;
        for await (const m of iter) {
          if (this.stopped) break;
          await this.deliver(m);
          failures = 0;
        }
        if (!this.stopped) busLog.warn({ filter: this.cfg.filter, next: this.next }, 'watch consumer ended; resuming');
      } catch (err) {
        if (!this.stopped) busLog.warn({ filter: this.cfg.filter, next: this.next, err }, 'watch failed; resuming from the last revision');
      } finally {
        iter?.stop();
      }
      if (!this.stopped) await this.pause(Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** failures++));
    }
  }

  /** Calls the handler for one message; `next` moves only when the handler succeeded. */
  private async deliver(m: JsMsg): Promise<void> {
    const key = m.subject.slice(this.cfg.prefix.length);
    const op = m.headers?.get('KV-Operation') ?? '';
    let ev: WatchEvent<T>;
    try {
      ev = op === 'DEL' || op === 'PURGE'
        ? { type: 'DELETE', key, object: null, revision: m.seq }
        : { type: 'PUT', key, object: decodeObject<T>(key, m.data, m.seq), revision: m.seq };
    } catch (err) {
      // A value no reader can parse would stop the watch forever if it were retried: skip it.
      busLog.error({ key, revision: m.seq, err }, 'watch skipped a value that is not JSON');
      this.next = m.seq + 1;
      return;
    }
    this.inHandler = true;
    try {
      await this.cfg.onEvent(ev);
    } finally {
      this.inHandler = false;
    }
    this.next = m.seq + 1;
  }

  /** Waits `ms`, or less if stop() is called. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() { clearTimeout(t); resolve(); }
      this.wake = done;
    });
  }
}
