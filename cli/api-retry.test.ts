import { errors as natsErrors } from '@nats-io/transport-node';
import { translateCoreError } from '../bus/core-errors';
import { NotFoundError, TimeoutError, UnavailableError } from '../messages/errors';
import { replyLost, retryRead, retryUntaken } from './api-retry';

const noResponders = () => translateCoreError(new natsErrors.NoRespondersError('mk.api.apply'), { action: 'request mk.api.apply', subject: 'mk.api.apply' });
const timeout = () => new TimeoutError('request mk.api.get: no reply');

/** What a promise has come to so far, read without waiting for it. */
function watch<T>(p: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const s: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  void p.then((value) => { s.settled = true; s.value = value; }, (error: unknown) => { s.settled = true; s.error = error; });
  return s;
}

describe('api retries', () => {
  it('tells a lost reply (maybe done) from no responders (not done)', () => {
    expect(replyLost(timeout())).toBe(true);
    expect(replyLost(new UnavailableError('request: the bus connection is closed'))).toBe(true);
    expect(replyLost(noResponders())).toBe(false);
    expect(replyLost(new NotFoundError('pods "x" not found'))).toBe(false);
  });

  it('tries a read again after a failed try, each try given what is left of the budget', async () => {
    const tries: number[] = [];
    const out = await retryRead(async (t) => {
      tries.push(t);
      if (tries.length < 3) throw timeout();
      return 'ok';
    }, 15_000);
    expect(out).toBe('ok');
    expect(tries).toHaveLength(3);
    expect(tries[0]).toBeGreaterThan(14_000);
    expect(tries[2]).toBeLessThan(tries[0]);
  });

  it('sends a read again while a try hangs (a frozen replica), step after growing step, and takes the first answer', async () => {
    jest.useFakeTimers();
    try {
      const never = new Promise<string>(() => undefined);
      const started = Date.now();
      const tries: { at: number; timeoutMs: number }[] = [];
      // The first two tries go to a replica that never answers; the third to one that does.
      const out = watch(retryRead(async (t) => {
        tries.push({ at: Date.now() - started, timeoutMs: t });
        return tries.length <= 2 ? never : 'ok';
      }, 5_000, { stepMs: 50 }));
      await jest.advanceTimersByTimeAsync(149);
      expect(out.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(out).toEqual({ settled: true, value: 'ok' });
      // Tries at 0, 50 and 150 ms, each given what is left of the budget: the hedge, not the budget, sent them.
      expect(tries).toEqual([{ at: 0, timeoutMs: 5_000 }, { at: 50, timeoutMs: 4_950 }, { at: 150, timeoutMs: 4_850 }]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps listening to a slow try after the next is sent, and never sends more than the cap', async () => {
    let n = 0;
    const out = await retryRead(() => {
      n++;
      return n === 1 ? new Promise<string>((r) => setTimeout(() => r('slow but alive'), 300)) : new Promise<string>(() => undefined);
    }, 5_000, { stepMs: 40, maxTries: 3 });
    expect(out).toBe('slow but alive');
    expect(n).toBe(3);
  });

  it('goes on past the cap of tries out while the budget lasts (every try waits out a leader election and fails)', async () => {
    let n = 0;
    const started = Date.now();
    // Each try is answered Timeout after 300 ms until 1.5 s have passed: more than five tries fail.
    const out = await retryRead(async () => {
      n++;
      await new Promise((r) => setTimeout(r, 300));
      if (Date.now() - started < 1_500) throw timeout();
      return 'ok';
    }, 5_000, { stepMs: 50, maxTries: 3 });
    expect(out).toBe('ok');
    expect(n).toBeGreaterThan(5);
  });

  it('never has more than the cap of tries out at once', async () => {
    let out = 0;
    let most = 0;
    await expect(retryRead(async () => {
      most = Math.max(most, ++out);
      await new Promise((r) => setTimeout(r, 200));
      out--;
      throw timeout();
    }, 1_500, { stepMs: 20, maxTries: 3 })).rejects.toThrow(/no reply/);
    expect(most).toBe(3);
  });

  it('does not try a read again for an answer (NotFound)', async () => {
    let n = 0;
    await expect(retryRead(async () => { n++; throw new NotFoundError('gone'); }, 15_000)).rejects.toThrow('gone');
    expect(n).toBe(1);
  });

  it('gives up on a read when the budget is spent, with the last error', async () => {
    jest.useFakeTimers();
    try {
      let n = 0;
      // Every try takes all the time it is given, then fails.
      const read = watch(retryRead(async (t) => { n++; await new Promise((r) => setTimeout(r, t)); throw timeout(); }, 600, { stepMs: 100 }));
      await jest.advanceTimersByTimeAsync(599);
      expect(read.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(read.settled).toBe(true);
      expect(read.error).toBeInstanceOf(TimeoutError);
      expect((read.error as Error).message).toMatch(/no reply/);
      expect(n).toBeGreaterThan(1);
      // Spent: nothing more is sent, however long one waits.
      const sent = n;
      await jest.advanceTimersByTimeAsync(10_000);
      expect(n).toBe(sent);
    } finally {
      jest.useRealTimers();
    }
  });

  it('sends a write again only while nothing took it', async () => {
    let n = 0;
    expect(await retryUntaken(async () => { n++; if (n < 3) throw noResponders(); return 'created'; }, 15_000)).toBe('created');
    expect(n).toBe(3);
    let m = 0;
    await expect(retryUntaken(async () => { m++; throw timeout(); }, 15_000)).rejects.toThrow(/no reply/);
    expect(m).toBe(1);
  });
});
