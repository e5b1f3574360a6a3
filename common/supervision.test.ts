import { dispatch, spawn, start, stop, type Ref } from 'nact';
import { backoffDelay } from './backoff';
import { backoffOnCrash, crashRecords, DEFAULT_RESTART_POLICY, type RestartPolicy } from './supervision';

describe('restart policy', () => {
  it('doubles from the initial delay up to the cap', () => {
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay({ ...DEFAULT_RESTART_POLICY, jitter: 0 }, i));
    expect(delays).toEqual([200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  it('resets a crashing actor after a growing delay, wakes it, and keeps its siblings running', async () => {
    const policy: RestartPolicy = { initialMs: 20, maxMs: 1000, jitter: 0, maxRestarts: 10, windowMs: 60_000 };
    const system = start();
    const handled: string[] = [];
    const crashes: number[] = [];
    let failuresLeft = 3;
    type Msg = { type: 'work' } | { type: 'wake' };
    const flaky: Ref<Msg> = spawn(system, async (state: { n: number } = { n: 0 }, msg: Msg) => {
      // Level-triggered: any message makes it try again, and it fails three times.
      if (failuresLeft-- > 0) { crashes.push(Date.now()); throw new Error('boom'); }
      handled.push(msg.type);
      return { n: state.n + 1 };
    }, 'flaky', { onCrash: backoffOnCrash({ type: 'wake' }, () => undefined, policy) });
    const sibling = spawn(system, (s: number = 0, _m: 'ping') => { handled.push('sibling'); return s + 1; }, 'sibling');
    dispatch(flaky, { type: 'work' });
    dispatch(sibling, 'ping');
    const deadline = Date.now() + 5000;
    while (!handled.includes('wake') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Three crashes in a row, then the wake-up after the last reset is handled.
    expect(crashes).toHaveLength(3);
    expect(handled).toContain('sibling');
    expect(handled).toContain('wake');
    const gaps = [crashes[1] - crashes[0], crashes[2] - crashes[1]];
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    const rec = crashRecords().find((r) => r.path.endsWith('/flaky'));
    expect(rec).toMatchObject({ restarts: 3, lastError: 'boom' });
    stop(flaky);
    stop(sibling);
    stop(system);
  });
});
