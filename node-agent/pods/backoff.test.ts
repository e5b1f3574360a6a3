import { ValidationError } from '../../messages/errors';
import {
  applyBackoffEvent, crashLoopPolicy, backoffRemainingMs, DEFAULT_CRASH_LOOP_POLICY, emptyBackoff, formatGoDuration, isBackoffEvent, type BackoffEvent,
} from './backoff';

const exited = (containerId: string, finishedAt: number, ranMs = 1000): BackoffEvent =>
  ({ type: 'container-exited', container: 'app', containerId, finishedAt, ranMs });

describe('backoff', () => {
  it("follows Kubernetes' 10 s doubling to 5 min", () => {
    let s = emptyBackoff();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      s = applyBackoffEvent(s, exited(`c${i}`, i * 1_000_000), DEFAULT_CRASH_LOOP_POLICY);
      delays.push(s.entries['container:app'].delayMs / 1000);
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it('counts an exit once, starts again after a 10 minute run, and never mutates its input', () => {
    const a = applyBackoffEvent(emptyBackoff(), exited('c1', 0), DEFAULT_CRASH_LOOP_POLICY);
    const b = applyBackoffEvent(a, exited('c2', 50_000), DEFAULT_CRASH_LOOP_POLICY);
    expect(applyBackoffEvent(b, exited('c2', 50_000), DEFAULT_CRASH_LOOP_POLICY)).toBe(b);
    expect(a.entries['container:app'].delayMs).toBe(10_000);
    const c = applyBackoffEvent(b, exited('c3', 900_000, 600_000), DEFAULT_CRASH_LOOP_POLICY);
    expect(c.entries['container:app']).toEqual({ delayMs: 10_000, until: 910_000, lastContainerId: 'c3' });
    expect(backoffRemainingMs(c, 'container:app', 905_000)).toBe(5000);
    expect(backoffRemainingMs(c, 'container:app', 920_000)).toBe(0);
  });

  it('backs off image pulls and forgets them on reset', () => {
    const p = crashLoopPolicy({ initialMs: 100, maxMs: 1000 });
    let s = applyBackoffEvent(emptyBackoff(), { type: 'image-pull-failed', image: 'x', at: 0, message: 'no' }, p);
    s = applyBackoffEvent(s, { type: 'image-pull-failed', image: 'x', at: 100, message: 'no' }, p);
    expect(s.entries['image:x']).toEqual({ delayMs: 200, until: 300 });
    expect(applyBackoffEvent(s, { type: 'backoff-reset', key: 'image:x' }, p).entries).toEqual({});
  });

  it('counts a failed start once even when the container then shows up exited', () => {
    let s = applyBackoffEvent(emptyBackoff(), { type: 'container-start-failed', container: 'app', at: 0, message: 'no sh', containerId: 'c1' }, DEFAULT_CRASH_LOOP_POLICY);
    s = applyBackoffEvent(s, exited('c1', 0, 0), DEFAULT_CRASH_LOOP_POLICY);
    expect(s.entries['container:app'].delayMs).toBe(10_000);
  });

  it('validates the policy', () => {
    expect(() => crashLoopPolicy({ initialMs: 0 })).toThrow(ValidationError);
    expect(() => crashLoopPolicy({ initialMs: 10, maxMs: 5 })).toThrow(/maxMs/);
  });

  it('prints durations like Go', () => {
    expect([10_000, 80_000, 300_000, 1500, 250].map(formatGoDuration)).toEqual(['10s', '1m20s', '5m0s', '1.5s', '250ms']);
  });

  it('recognizes its events', () => {
    expect(isBackoffEvent(exited('c', 0))).toBe(true);
    expect(isBackoffEvent({ type: 'pod/sync' })).toBe(false);
  });
});
