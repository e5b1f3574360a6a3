import type { MetricSpec } from '../../messages/hpa';
import { MetricError, resourceReplicas, type PodInfo, type PodSample } from './replicas';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const LONG_AGO = NOW - 3_600_000;
const cpu = (averageUtilization: number): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } });
const memAvg: MetricSpec = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };

/** A running, long-ready pod requesting 100m. */
const pod = (name: string, extra: Partial<PodInfo> = {}): PodInfo => ({
  name, phase: 'Running', deleting: false, ready: { status: 'True', lastTransitionMs: LONG_AGO + 10_000 }, startMs: LONG_AGO, request: 100, ...extra,
});
const samples = (values: Record<string, number>): Map<string, PodSample> =>
  new Map(Object.entries(values).map(([k, v]) => [k, { value: v, timestampMs: NOW - 1000, windowMs: 5000 }]));

describe('the replica calculator (Resource metrics)', () => {
  it('scales by ceil(current * usage / target)', () => {
    const pods = [pod('a'), pod('b')];
    // 90m and 70m of 100m: 80 % against a 50 % target -> ceil(2 * 1.6) = 4.
    const p = resourceReplicas(cpu(50), 2, pods, samples({ a: 90, b: 70 }), NOW);
    expect(p).toEqual({ replicas: 4, utilization: 80, averageValue: 80 });
    // 20 % against 50 % -> ceil(2 * 0.4) = 1.
    expect(resourceReplicas(cpu(50), 2, pods, samples({ a: 20, b: 20 }), NOW).replicas).toBe(1);
  });

  it('keeps the current count within the 10 % tolerance, and leaves it beyond', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    expect(resourceReplicas(cpu(50), 3, pods, samples({ a: 54, b: 55, c: 55 }), NOW).replicas).toBe(3); // ratio 1.08
    expect(resourceReplicas(cpu(50), 3, pods, samples({ a: 46, b: 45, c: 45 }), NOW).replicas).toBe(3); // ratio 0.90
    expect(resourceReplicas(cpu(50), 3, pods, samples({ a: 56, b: 56, c: 56 }), NOW).replicas).toBe(4); // ratio 1.12
  });

  it('counts a pod without metrics as 100 % on a scale down, so it scales down less', () => {
    const pods = [pod('a'), pod('b'), pod('c'), pod('d')];
    // Three pods at 10 %, d unknown: alone they would give ceil(3 * 0.2) = 1; with d at 100 % of
    // its request (50m over target): (10+10+10+100) / 400 = 32 % -> ceil(4 * 0.65) = 3.
    expect(resourceReplicas(cpu(50), 4, pods, samples({ a: 10, b: 10, c: 10 }), NOW).replicas).toBe(3);
  });

  it('counts a pod without metrics as 0 on a scale up, and keeps the count when that reverses the direction', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    // a and b at 100 % of a 50 % target (ratio 2), c missing as 0: (100+100+0)/300 = 66 % -> ceil(3 * 1.32) = 4.
    expect(resourceReplicas(cpu(50), 3, pods, samples({ a: 100, b: 100 }), NOW).replicas).toBe(4);
    // One pod at 60 % of 50 % (ratio 1.2), two missing as 0: 20 % -> would be a scale down: keep 3.
    expect(resourceReplicas(cpu(50), 3, pods, samples({ a: 60 }), NOW).replicas).toBe(3);
  });

  it('ignores not-yet-ready pods on a scale up (counted as 0) and deleted or failed pods always', () => {
    const young = pod('young', { startMs: NOW - 60_000, ready: { status: 'False', lastTransitionMs: NOW - 60_000 } });
    const pods = [pod('a'), pod('b'), young, pod('gone', { deleting: true }), pod('failed', { phase: 'Failed' }), pod('pending', { phase: 'Pending' })];
    const s = samples({ a: 100, b: 100, young: 500, gone: 900, failed: 900 });
    // a, b at 200 % of target; young and pending count as 0: (100+100+0+0)/400 = 50 % -> ratio 1.0: within tolerance.
    expect(resourceReplicas(cpu(50), 4, pods, s, NOW).replicas).toBe(4);
    // The not-ready pod's own high usage never counts: without the pending one, 200/300 = 66 % -> ceil(3 * 1.33) = 4.
    expect(resourceReplicas(cpu(50), 3, pods.filter((p) => p.name !== 'pending'), s, NOW).replicas).toBe(4);
    // A pod whose sample predates its readiness is still warming up.
    const justReady = pod('just', { startMs: NOW - 60_000, ready: { status: 'True', lastTransitionMs: NOW - 2000 } });
    const p = resourceReplicas(cpu(50), 2, [pod('a'), justReady], samples({ a: 50, just: 500 }), NOW);
    expect(p.utilization).toBe(50);
  });

  it('averages raw values for AverageValue targets (memory) with the same rules', () => {
    const mi = 2 ** 20;
    const pods = [pod('a', { request: 0, missingRequestIn: 'c' }), pod('b', { request: 0, missingRequestIn: 'c' })];
    const p = resourceReplicas(memAvg, 2, pods, samples({ a: 150 * mi, b: 250 * mi }), NOW, 100 * mi);
    expect(p.replicas).toBe(4);
    expect(p.utilization).toBeUndefined();
    expect(p.averageValue).toBe(200 * mi);
  });

  it('fails, in Kubernetes\' words, without metrics, without pods, or without requests', () => {
    expect(() => resourceReplicas(cpu(50), 2, [pod('a')], new Map(), NOW)).toThrow(/unable to get metrics for resource cpu: no metrics returned from resource metrics API/);
    expect(() => resourceReplicas(cpu(50), 2, [], samples({ x: 1 }), NOW)).toThrow(/no pods returned by selector/);
    expect(() => resourceReplicas(cpu(50), 2, [pod('a', { missingRequestIn: 'app' })], samples({ a: 1 }), NOW))
      .toThrow(new MetricError('missing request for cpu in container app of Pod a'));
    const unready = pod('u', { ready: { status: 'False', lastTransitionMs: NOW - 1000 }, startMs: NOW - 10_000 });
    expect(() => resourceReplicas(cpu(50), 1, [unready], samples({ u: 1 }), NOW)).toThrow(/did not receive metrics for targeted pods \(pods might be unready\)/);
  });
});
