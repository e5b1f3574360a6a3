/**
 * A watch whose consumer reads a copy of the stream that stays behind the leader's: on a cluster,
 * a consumer placed on a server still catching up delivers nothing new while its heartbeats say
 * it is well. The watch asks the stream's leader what it should have delivered and moves to a new
 * consumer. A real nats-server answers the leader's side; the lagging consumer is a fake (a server
 * cannot be made to lag on cue), named as such, and the bus is marked as a cluster's so the
 * watch makes its checks. Also a watch fed a change the leader no longer holds (the servers'
 * copies diverged): it ends, and its owner lists again.
 */
import type { ConsumerMessages } from '@nats-io/jetstream';
import * as consumers from '../../../bus/consumers';
import { connectBus, type Bus } from '../../../bus/connection';
import { ObjectStore, type WatchEvent } from '../../../bus/object-store';
import { KvWatcher, PROGRESS_CHECK_MS } from '../../../bus/watcher';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

/** A fake consumer's messages that never come: a copy of the stream that stopped moving. */
function stuckMessages(): ConsumerMessages {
  let release: () => void = () => {};
  const ended = new Promise<void>((r) => { release = r; });
  // Iterators that end once stopped, having yielded nothing.
  const nothing = (): AsyncIterator<never> => ({ next: async () => { await ended; return { done: true, value: undefined }; } });
  const iter = {
    stop() { release(); },
    close() { release(); return Promise.resolve(); },
    status() { return { [Symbol.asyncIterator]: nothing }; },
    [Symbol.asyncIterator]: nothing,
  };
  return iter as unknown as ConsumerMessages;
}

describe('a watch whose consumer lags behind the stream leader', () => {
  let server: NatsServer;
  let bus: Bus;

  beforeEach(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'test-watch-lagging' });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await bus?.close();
    await server?.stop();
  });

  it('moves to a new consumer and delivers what the leader has, in order, once', async () => {
    const store = await ObjectStore.open(bus, { bucket: 'lagging', replicas: 1 });
    (bus as { replicas?: number }).replicas = 3;
    const proto = KvWatcher.prototype as unknown as { open(): Promise<ConsumerMessages> };
    const realOpen = proto.open;
    let opens = 0;
    jest.spyOn(proto, 'open').mockImplementation(async function (this: unknown) {
      opens++;
      const real = await realOpen.call(this);
      if (opens > 1) return real;
      real.stop();
      return stuckMessages();
    });
    const seen: WatchEvent<{ n: number }>[] = [];
    const w = await store.watch<{ n: number }>('pods.>', {}, (ev) => { seen.push(ev); });
    try {
      await store.create('other.default.x', { n: -1 });
      for (let n = 0; n < 3; n++) await store.create(`pods.default.p${n}`, { n });
      // Found at one look, still not delivered at the next: two checks, and the new consumer's start.
      await waitFor(() => seen.length === 3, 'the changes through a new consumer', 3 * PROGRESS_CHECK_MS + 5000);
      expect(opens).toBe(2);
      expect(seen.map((e) => e.key)).toEqual(['pods.default.p0', 'pods.default.p1', 'pods.default.p2']);
    } finally {
      await w.stop();
    }
  }, 40_000);

  it('leaves a quiet watch on its consumer: nothing to deliver is not lag', async () => {
    const store = await ObjectStore.open(bus, { bucket: 'quiet', replicas: 1 });
    await store.create('other.default.x', { n: -1 });
    (bus as { replicas?: number }).replicas = 3;
    const open = jest.spyOn(KvWatcher.prototype as unknown as { open(): Promise<ConsumerMessages> }, 'open');
    const seen: WatchEvent<unknown>[] = [];
    const w = await store.watch('pods.>', {}, (ev) => { seen.push(ev); });
    const asked = jest.spyOn(bus.jsm.streams, 'getMessage');
    try {
      // Two looks, each asking the leader, found nothing to deliver: the consumer stays.
      await waitFor(() => asked.mock.calls.length >= 2, 'two progress checks', 3 * PROGRESS_CHECK_MS);
      expect(open).toHaveBeenCalledTimes(1);
      await store.create('pods.default.late', { n: 1 });
      await waitFor(() => seen.length === 1, 'a change on the same consumer');
      expect(open).toHaveBeenCalledTimes(1);
    } finally {
      await w.stop();
    }
  }, 40_000);

  it('tells whether the leader still holds a message a reader saw', async () => {
    const store = await ObjectStore.open(bus, { bucket: 'held', replicas: 1, history: 1 });
    const first = await store.create('pods.default.a', { n: 1 });
    const m = await bus.jsm.streams.getMessage(store.stream, { seq: first });
    const seen = { seq: first, subject: m!.subject, timeMs: m!.time.getTime() };
    expect(await consumers.leaderStillHas(bus, store.stream, seen)).toBe(true);
    expect(await consumers.leaderStillHas(bus, store.stream, { ...seen, subject: '$KV.held.pods.default.b' })).toBe(false);
    expect(await consumers.leaderStillHas(bus, store.stream, { ...seen, timeMs: seen.timeMs - 1000 })).toBe(false);
    // A history of one: the first revision is gone once the key is written again; nothing known.
    await store.update('pods.default.a', { n: 2 }, first);
    expect(await consumers.leaderStillHas(bus, store.stream, seen)).toBeUndefined();
  });

  it('ends for its owner to list again when the leader holds another change at a revision it delivered', async () => {
    const store = await ObjectStore.open(bus, { bucket: 'diverged', replicas: 1 });
    (bus as { replicas?: number }).replicas = 3;
    const expired: string[] = [];
    const seen: WatchEvent<unknown>[] = [];
    const w = await store.watch('pods.>', { onExpired: (r) => expired.push(r) }, (ev) => { seen.push(ev); });
    try {
      await store.create('pods.default.a', { n: 1 });
      await waitFor(() => seen.length === 1, 'the first change');
      expect(expired).toEqual([]);
      // As if the servers' copies had diverged: the leader answers with another message there.
      const streams = bus.jsm.streams;
      const real = streams.getMessage.bind(streams);
      jest.spyOn(streams, 'getMessage').mockImplementation(async (stream, query) => {
        const m = await real(stream, query);
        if (!m || 'next_by_subj' in query) return m;
        return { ...m, subject: `${m.subject}.other`, time: m.time, seq: m.seq } as typeof m;
      });
      await waitFor(() => expired.length === 1, 'the watch to end for a relist', 2 * PROGRESS_CHECK_MS + 5000);
      expect(expired).toEqual(['stream-recreated']);
    } finally {
      await w.stop();
    }
  }, 40_000);
});
