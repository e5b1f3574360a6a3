/**
 * readConsumer with a fake consumer (a test double of the library's pull consumer): a read whose
 * consumer is lost mid-way, or whose connection drops, ends with TimeoutError instead of hanging.
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { TimeoutError } from '../messages/errors';
import type { Bus } from './connection';
import { isConsumerLost, readConsumer } from './consumers';

/** A fake pull consumer: yields `msgs`, then waits until stopped; `status` yields what the test pushes. */
function fakeConsumer(msgs: JsMsg[]) {
  let stopped = false;
  let wake: (() => void) | undefined;
  const statuses: { type: string; count?: number }[] = [];
  let statusWake: (() => void) | undefined;
  const iter = {
    stop() { stopped = true; wake?.(); statusWake?.(); },
    async *status() {
      for (;;) {
        while (statuses.length) yield statuses.shift()!;
        if (stopped) return;
        await new Promise<void>((r) => { statusWake = r; });
      }
    },
    async *[Symbol.asyncIterator]() {
      for (const m of msgs) yield m;
      while (!stopped) await new Promise<void>((r) => { wake = r; });
    },
  };
  return {
    consumer: { consume: async () => iter } as unknown as Consumer,
    pushStatus(s: { type: string; count?: number }) { statuses.push(s); statusWake?.(); },
  };
}

function fakeBus() {
  const listeners: (() => void)[] = [];
  return {
    bus: { onReconnect: (fn: () => void) => { listeners.push(fn); return () => listeners.splice(listeners.indexOf(fn), 1); } } as unknown as Bus,
    reconnect: () => [...listeners].forEach((fn) => fn()),
    listeners,
  };
}

const msg = (seq: number, pending: number) => ({ seq, info: { pending } }) as unknown as JsMsg;

describe('readConsumer', () => {
  it('reads until onMessage says stop, and stops listening for reconnects', async () => {
    const { consumer } = fakeConsumer([msg(1, 2), msg(2, 1), msg(3, 0)]);
    const { bus, listeners } = fakeBus();
    const seen: number[] = [];
    await readConsumer(bus, consumer, 'list', (m) => { seen.push(m.seq); return m.info.pending > 0; });
    expect(seen).toEqual([1, 2, 3]);
    expect(listeners).toHaveLength(0);
  });

  it('throws TimeoutError when the consumer is lost mid-read (missed heartbeats)', async () => {
    const fake = fakeConsumer([msg(1, 5)]);
    const { bus } = fakeBus();
    const read = readConsumer(bus, fake.consumer, 'list pods.>', () => true);
    fake.pushStatus({ type: 'heartbeats_missed', count: 1 });
    fake.pushStatus({ type: 'heartbeats_missed', count: 2 });
    const err = await read.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(String(err)).toMatch(/list pods\.>: its consumer was lost \(heartbeats_missed\)/);
  });

  it('throws TimeoutError when the connection drops mid-read', async () => {
    const fake = fakeConsumer([]);
    const f = fakeBus();
    const read = readConsumer(f.bus, fake.consumer, 'read the journal of x', () => true);
    await new Promise((r) => setImmediate(r));
    f.reconnect();
    await expect(read).rejects.toThrow(/connection to the bus was lost/);
  });

  it('tells lost consumers from passing trouble', () => {
    expect(isConsumerLost({ type: 'heartbeats_missed', count: 1 })).toBe(false);
    expect(isConsumerLost({ type: 'heartbeats_missed', count: 2 })).toBe(true);
    expect(isConsumerLost({ type: 'consumer_not_found' })).toBe(true);
    expect(isConsumerLost({ type: 'exceeded_limits' })).toBe(false);
  });
});
