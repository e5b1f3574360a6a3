/**
 * Making consumers on a replicated stream (a 3-server cluster). nats-server places each new
 * consumer on members of the stream's group, and a member that died without a word (SIGKILL,
 * power loss) still counts as one until the others notice, which takes nats-server 2.9 minutes:
 * a consumer placed there is never answered for. Such a request fails by timeout while the next
 * one, placed elsewhere, is answered in milliseconds. So on a replicated bus, making a consumer
 * (and reading through it, for lists) is tried a few times with a short timeout. On a server that
 * is not in a cluster nothing changes: one try with the bus's own timeout.
 */
import { jetstream, type Consumer, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { ErrorCodes, TimeoutError } from '../messages/errors';
import type { Bus } from './connection';
import { translateError } from './errors';
import { busLog } from './log';

/** Each try's timeout on a replicated bus (creating a consumer takes milliseconds when it works). */
export const CONSUMER_TRY_TIMEOUT_MS = 1500;
/** How many tries on a replicated bus. */
export const CONSUMER_TRIES = 4;

const quick = new WeakMap<Bus, JetStreamClient>();

/** Whether the bus is a cluster: the server says it is part of one (INFO's `cluster`), or this process makes replicas. */
export function isClustered(bus: Bus): boolean {
  return (bus.replicas ?? 1) > 1 || Boolean(bus.nc.info?.cluster);
}

/**
 * The stream leader's first message at or after `seq` whose subject matches `subject` (wildcards
 * allowed), or null when it has none. A consumer reads the copy of the stream kept by the server
 * it was placed on, and on a cluster that copy may be behind (a server that restarted and is
 * still catching up, or one whose catching up stalled): asking the leader tells whether a
 * consumer missed something. Get requests that are not direct are answered by the leader only.
 */
export async function leaderNextMessage(bus: Bus, stream: string, subject: string, seq: number): Promise<{ seq: number } | null> {
  // nats-server (2.9+) answers `next_by_subj` on the leader's get; the client's type lacks it.
  const query = { seq: Math.max(1, seq), next_by_subj: subject } as unknown as { seq: number };
  const m = await bus.jsm.streams.getMessage(stream, query);
  return m ? { seq: m.seq } : null;
}

/** A message as a reader saw it: enough to tell whether the stream still holds that very message. */
export interface SeenMessage { seq: number; subject: string; timeMs: number }

/**
 * Whether the stream leader still holds `seen` at its sequence: false when it holds another
 * message there (another subject or time), which happens when replicas of a cluster diverged
 * (a server that died with writes its peers never got, nats-server 2.9): what a reader saw from
 * it is not the stream's history any more, and the reader must list again. Undefined when the
 * leader no longer has that sequence (removed by the per-key history, a purge): nothing known.
 */
export async function leaderStillHas(bus: Bus, stream: string, seen: SeenMessage): Promise<boolean | undefined> {
  const m = await bus.jsm.streams.getMessage(stream, { seq: seen.seq });
  if (!m) return undefined;
  return m.subject === seen.subject && Math.abs(m.time.getTime() - seen.timeMs) <= 1;
}

/**
 * Runs `fn` with a JetStream client, retrying on timeouts when the bus is replicated (see the
 * module comment). `fn` must be safe to run again: it makes its own consumer each time. Throws
 * what the last try threw.
 */
export async function withConsumer<T>(bus: Bus, what: string, fn: (js: JetStreamClient) => Promise<T>): Promise<T> {
  if (!isClustered(bus)) return fn(bus.js);
  let js = quick.get(bus);
  if (!js) {
    js = jetstream(bus.nc, { timeout: CONSUMER_TRY_TIMEOUT_MS });
    quick.set(bus, js);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(js);
    } catch (err) {
      if (attempt >= CONSUMER_TRIES || translateError(err, { action: what }).code !== ErrorCodes.Timeout) throw err;
      busLog.debug({ what, attempt }, 'consumer request unanswered (placed on a server that is down?); trying again');
    }
  }
}

/** How long one pull of a one-shot read waits; heartbeats come at half of it. */
const READ_PULL_EXPIRES_MS = 5000;

/**
 * Whether a consumer status says the consumer behind an iteration is gone: it lived on a server
 * that died (missed heartbeats) or was removed. The library would go on pulling for it forever.
 */
export function isConsumerLost(s: { type: string; count?: number }): boolean {
  return (s.type === 'heartbeats_missed' && (s.count ?? 0) >= 2) || s.type === 'consumer_not_found'
    || s.type === 'consumer_deleted' || s.type === 'stream_not_found';
}

/**
 * Reads a one-shot consumer (a listing, a journal replay) to its end: `onMessage` gets each
 * message and returns false to stop. When the consumer is lost mid-read (its server died while
 * this client stays connected to another, or the connection dropped and the pull in flight will
 * never be answered), throws TimeoutError, so withConsumer tries again on a new consumer instead
 * of the read hanging.
 */
export async function readConsumer(
  bus: Bus,
  consumer: Consumer,
  what: string,
  onMessage: (m: JsMsg) => boolean,
): Promise<void> {
  const iter = await consumer.consume({ max_messages: 512, expires: READ_PULL_EXPIRES_MS });
  let lost: string | undefined;
  const stop = (why: string): void => {
    lost ??= why;
    iter.stop();
  };
  const unlisten = bus.onReconnect(() => stop('the connection to the bus was lost'));
  void (async () => {
    for await (const s of iter.status()) {
      if (isConsumerLost(s)) {
        stop(`its consumer was lost (${s.type})`);
        break;
      }
    }
  })().catch(() => undefined);
  try {
    for await (const m of iter) {
      if (!onMessage(m)) break;
    }
  } finally {
    unlisten();
    iter.stop();
  }
  if (lost) throw new TimeoutError(`${what}: ${lost} during the read; read again`);
}
