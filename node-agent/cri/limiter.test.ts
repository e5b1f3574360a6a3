import { ValidationError } from '../../messages/errors';
import { CallLimiter } from './limiter';

/** A task the test finishes by hand, recording when it was started. */
interface Held { started: boolean; resolve(v: string): void; reject(e: Error): void; promise: Promise<string> }

function held(): { task: () => Promise<string>; h: Held } {
  const h = { started: false } as Held;
  const task = (): Promise<string> => {
    h.started = true;
    h.promise = new Promise<string>((resolve, reject) => { h.resolve = resolve; h.reject = reject; });
    return h.promise;
  };
  return { task, h };
}

/** Lets queued promise callbacks run. */
const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

describe('CallLimiter', () => {
  it('never runs more than its limit at once, and starts waiters first come first served', async () => {
    const limiter = new CallLimiter(3);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const results = Array.from({ length: 10 }, (_, i) => limiter.run(async () => {
      order.push(i);
      peak = Math.max(peak, ++inFlight);
      await new Promise<void>((r) => releases.push(r));
      inFlight--;
      return i;
    }));
    await flush();
    expect(order).toEqual([0, 1, 2]);
    expect(limiter.stats()).toEqual({ limit: 3, inFlight: 3, queued: 7 });
    // Finish them out of order: the next waiter starts each time, in arrival order.
    while (releases.length > 0) {
      releases.splice(releases.length - 1, 1)[0]();
      await flush();
    }
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
    expect(limiter.stats()).toEqual({ limit: 3, inFlight: 0, queued: 0 });
  });

  it('frees the slot of a task that rejects or throws', async () => {
    const limiter = new CallLimiter(1);
    const a = held();
    const first = limiter.run(a.task);
    const second = limiter.run(async () => { throw new Error('synchronous failure'); });
    const c = held();
    const third = limiter.run(c.task);
    await flush();
    expect([a.h.started, c.h.started]).toEqual([true, false]);
    a.h.reject(new Error('deadline exceeded'));
    await expect(first).rejects.toThrow('deadline exceeded');
    await expect(second).rejects.toThrow('synchronous failure');
    await flush();
    expect(c.h.started).toBe(true);
    c.h.resolve('ok');
    await expect(third).resolves.toBe('ok');
    expect(limiter.stats().inFlight).toBe(0);
  });

  it('does not call a queued task before its turn, so what it measures from its start excludes the wait', async () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const limiter = new CallLimiter(1);
      const sentAt: number[] = [];
      const deadlines: number[] = [];
      const call = (ms: number) => limiter.run(async () => {
        sentAt.push(Date.now());
        deadlines.push(Date.now() + 1000);
        await new Promise((r) => setTimeout(r, ms));
      });
      const a = call(5000);
      const b = call(10);
      await flush();
      expect(sentAt).toEqual([0]);
      jest.advanceTimersByTime(5000);
      await a;
      await flush();
      expect(sentAt).toEqual([0, 5000]);
      expect(deadlines[1]).toBe(6000);
      jest.advanceTimersByTime(10);
      await b;
    } finally {
      jest.useRealTimers();
    }
  });

  it('lets high-priority waiters go first, each priority in the order it came', async () => {
    const limiter = new CallLimiter(1);
    const order: string[] = [];
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => { release = r; }));
    const queued = [
      limiter.run(async () => { order.push('sandbox-1'); }),
      limiter.run(async () => { order.push('sandbox-2'); }),
      limiter.run(async () => { order.push('container-1'); }, 'high'),
      limiter.run(async () => { order.push('container-2'); }, 'high'),
    ];
    expect(limiter.stats()).toEqual({ limit: 1, inFlight: 1, queued: 4 });
    release();
    await Promise.all([first, ...queued]);
    expect(order).toEqual(['container-1', 'container-2', 'sandbox-1', 'sandbox-2']);
  });

  it('accepts Infinity and rejects bounds that are not positive integers', () => {
    expect(new CallLimiter(Infinity).stats().limit).toBe(Infinity);
    for (const bad of [0, -1, 1.5, NaN]) expect(() => new CallLimiter(bad)).toThrow(ValidationError);
  });
});
