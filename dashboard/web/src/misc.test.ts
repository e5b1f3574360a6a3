import { reconnectDelay } from './backoff';
import { linePoints } from './chart';
import { pluralOf } from './kinds';
import { withoutToken } from './session';
import { appendCapped } from './views/logs';
import { keeps } from './views/object-actors';
import { CpuRates } from './views/actors';
import { mergeSamples } from './views/usage';
import { keepNewest } from './views/subject';

describe('the page\'s pure parts', () => {
  it('backs off reconnects from 250 ms doubling to 10 s, with jitter within 20 %', () => {
    expect(reconnectDelay(0, 0.5)).toBe(250);
    expect(reconnectDelay(3, 0.5)).toBe(2000);
    expect(reconnectDelay(50, 0.5)).toBe(10_000);
    expect(reconnectDelay(50, 0)).toBe(8000);
    expect(reconnectDelay(50, 0.999)).toBeLessThanOrEqual(12_000);
  });

  it('takes the token out of the URL and keeps the rest', () => {
    expect(withoutToken('http://127.0.0.1:9/?token=abc&x=1#/objects/pods')).toEqual({ token: 'abc', url: '/?x=1#/objects/pods' });
    expect(withoutToken('http://127.0.0.1:9/#/actors')).toBeNull();
  });

  it('scales chart points into the box, time on x and value on y', () => {
    expect(linePoints([], 100, 10)).toBe('');
    expect(linePoints([{ t: 0, v: 0 }, { t: 50, v: 5 }, { t: 100, v: 10 }], 100, 10)).toBe('0.0,10.0 50.0,5.0 100.0,0.0');
    expect(linePoints([{ t: 0, v: 0 }, { t: 10, v: 0 }], 100, 10)).toBe('0.0,10.0 100.0,10.0');
  });

  it('keeps a log to its cap, starting at a whole line', () => {
    expect(appendCapped('a\n', 'b\n', 100)).toBe('a\nb\n');
    expect(appendCapped('line1\nline2\n', 'line3\n', 10)).toBe('line3\n');
  });

  it('merges usage samples by time, in order, dropping the older than ten minutes', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const s = (t: string, cpu: number) => ({ t, cpuNanoCores: cpu, memoryBytes: 1 });
    const merged = mergeSamples([s('2026-01-01T11:40:00Z', 1), s('2026-01-01T11:59:00Z', 2)], [s('2026-01-01T11:58:00Z', 3), s('2026-01-01T11:59:00Z', 4)], now);
    expect(merged.map((x) => x.cpuNanoCores)).toEqual([3, 4]);
  });

  it('names plurals and finds the actors keeping an object by Kind or plural', () => {
    expect(pluralOf('Pod')).toBe('pods');
    expect(pluralOf('pods')).toBe('pods');
    expect(pluralOf('Ingress')).toBe('ingresses');
    expect(pluralOf('NetworkPolicy')).toBe('networkpolicies');
    expect(keeps({ object: { kind: 'Pod', namespace: 'default', name: 'web' } }, 'pods', 'default', 'web')).toBe(true);
    expect(keeps({ object: { kind: 'pods', namespace: 'default', name: 'web' } }, 'pods', 'default', 'web')).toBe(true);
    expect(keeps({ object: { kind: 'Pod', namespace: 'other', name: 'web' } }, 'pods', 'default', 'web')).toBe(false);
    expect(keeps({ object: { kind: 'Node', name: 'web' } }, 'pods', 'default', 'web')).toBe(false);
    expect(keeps({}, 'pods', 'default', 'web')).toBe(false);
  });
});

describe('a process\'s CPU share', () => {
  const report = (cpuSeconds: number, lastSeen: string) => ({
    key: 'cp-a', process: 'cp-a', incarnation: 'i', lastSeen,
    self: { pid: 1, role: 'control-plane' as const, actors: 1, cpuSeconds, rssBytes: 0, heapUsedBytes: 0, eventLoopLagMs: 0 },
  });
  it('is the CPU seconds between two reports over the seconds between them, and starts again after a restart', () => {
    const rates = new CpuRates();
    expect(rates.observe(report(10, '2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(rates.observe(report(10.5, '2026-01-01T00:00:02Z'))).toBeCloseTo(0.25);
    expect(rates.observe(report(10.6, '2026-01-01T00:00:02.2Z'))).toBeCloseTo(0.25);
    expect(rates.observe(report(1, '2026-01-01T00:00:05Z'))).toBeUndefined();
    expect(rates.observe(report(3, '2026-01-01T00:00:06Z'))).toBeCloseTo(2);
  });
});

describe('a subject\'s messages', () => {
  it('keeps the newest first, at most the cap', () => {
    const m = (n: number) => ({ subject: 's', data: String(n), received: `t${n}` });
    expect(keepNewest([m(2), m(1)], [m(3), m(4)], 3).map((x) => x.data)).toEqual(['4', '3', '2']);
  });
});
