import { makePod } from '../pods/fixtures';
import { FAST_READINESS_INTERVAL_MS, FAST_READINESS_LIMIT_MS, isFunctionInstance, pollReadiness, type FastReadinessDeps } from './fast-readiness';

beforeEach(() => { jest.useFakeTimers({ now: 1_700_000_000_000 }); });
afterEach(() => { jest.useRealTimers(); });

/** A loader that answers ready from its `readyAt`-th probe on (never when undefined). */
function loader(readyAt?: number): { deps: FastReadinessDeps; probes: () => number; readies: () => number; alive: { value: boolean } } {
  let probes = 0;
  let readies = 0;
  const alive = { value: true };
  return {
    deps: {
      probe: async () => {
        probes++;
        const ok = readyAt !== undefined && probes >= readyAt;
        return { outcome: ok ? 'success' : 'failure', message: ok ? '' : 'connection refused' };
      },
      running: () => alive.value,
      onReady: () => { readies++; },
      now: () => Date.now(),
    },
    probes: () => probes,
    readies: () => readies,
    alive,
  };
}

describe('pollReadiness', () => {
  it('probes every interval until the loader answers, then asks for a probe once and stops', async () => {
    const l = loader(5);
    const poll = pollReadiness(l.deps);
    await jest.advanceTimersByTimeAsync(4 * FAST_READINESS_INTERVAL_MS);
    await expect(poll.done).resolves.toBe('ready');
    expect(l.probes()).toBe(5);
    expect(l.readies()).toBe(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(l.probes()).toBe(5);
  });

  it('stops when the instance is gone (it exited or was replaced), without asking for a probe', async () => {
    const l = loader();
    const poll = pollReadiness(l.deps);
    await jest.advanceTimersByTimeAsync(3 * FAST_READINESS_INTERVAL_MS);
    l.alive.value = false;
    await jest.advanceTimersByTimeAsync(FAST_READINESS_INTERVAL_MS);
    await expect(poll.done).resolves.toBe('gone');
    const n = l.probes();
    await jest.advanceTimersByTimeAsync(1000);
    expect(l.probes()).toBe(n);
    expect(l.readies()).toBe(0);
  });

  it('stops at once when stopped (the pod deleted, the actor stopped)', async () => {
    const l = loader();
    const poll = pollReadiness(l.deps);
    await jest.advanceTimersByTimeAsync(2 * FAST_READINESS_INTERVAL_MS);
    poll.stop();
    await expect(poll.done).resolves.toBe('stopped');
    const n = l.probes();
    await jest.advanceTimersByTimeAsync(1000);
    expect(l.probes()).toBe(n);
    expect(l.readies()).toBe(0);
  });

  it('gives up after its limit, leaving the probe to its own period', async () => {
    const l = loader();
    const poll = pollReadiness(l.deps);
    await jest.advanceTimersByTimeAsync(FAST_READINESS_LIMIT_MS + FAST_READINESS_INTERVAL_MS);
    await expect(poll.done).resolves.toBe('timeout');
    const n = l.probes();
    expect(n).toBeGreaterThan(FAST_READINESS_LIMIT_MS / FAST_READINESS_INTERVAL_MS / 2);
    await jest.advanceTimersByTimeAsync(1000);
    expect(l.probes()).toBe(n);
  });

  it('counts a probe that throws as not ready', async () => {
    const l = loader();
    let calls = 0;
    const poll = pollReadiness({ ...l.deps, probe: async () => { if (++calls < 3) throw new Error('boom'); return { outcome: 'success', message: '' }; } });
    await jest.advanceTimersByTimeAsync(2 * FAST_READINESS_INTERVAL_MS);
    await expect(poll.done).resolves.toBe('ready');
    expect(calls).toBe(3);
  });
});

describe('isFunctionInstance', () => {
  const owner = { apiVersion: 'mk.io/v1', kind: 'Function', name: 'add', uid: 'u1', controller: true };
  it('needs both the mk.io/function label and a Function owner', () => {
    expect(isFunctionInstance(makePod({}, { labels: { 'mk.io/function': 'add' }, ownerReferences: [owner] }))).toBe(true);
    expect(isFunctionInstance(makePod({}, { labels: { 'mk.io/function': 'add' } }))).toBe(false);
    expect(isFunctionInstance(makePod({}, { ownerReferences: [owner] }))).toBe(false);
    expect(isFunctionInstance(makePod({}, { labels: { 'mk.io/function': 'add' }, ownerReferences: [{ ...owner, kind: 'ReplicaSet', apiVersion: 'apps/v1' }] }))).toBe(false);
  });
});
