import { defaultHpa, type HorizontalPodAutoscaler, type HorizontalPodAutoscalerSpec, type Pod } from '../../messages';
import { emptyHistory, recordScale, type Rules } from './behavior';
import { hpaSyncPeriodFromEnv } from './controller';
import { reconcileHpa, rescaleFailed, type PodUsageSample } from './reconcile';

const T0 = Date.parse('2026-01-01T12:00:00Z');
const LONG_AGO = '2026-01-01T10:00:00Z';
const s = (n: number) => T0 + n * 1000;

const hpa = (spec: Partial<HorizontalPodAutoscalerSpec> = {}, status?: HorizontalPodAutoscaler['status']): HorizontalPodAutoscaler => defaultHpa({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default', generation: 1 },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    ...spec,
  },
  ...(status ? { status } : {}),
});
const pod = (name: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' }, creationTimestamp: LONG_AGO },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '200m' } } }] },
  status: { phase: 'Running', startTime: LONG_AGO, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: LONG_AGO }] },
} as Pod);
const pods = (n: number) => Array.from({ length: n }, (_, i) => pod(`web-${i}`));
/** Every pod of `n` using `millis` of cpu. */
const usage = (n: number, millis: number): Map<string, PodUsageSample> =>
  new Map(pods(n).map((p) => [p.metadata.name, { cpuMillis: millis, memoryBytes: 0, timestampMs: T0 - 1000, windowMs: 5000 }]));
const cond = (d: { status: HorizontalPodAutoscaler['status'] }, type: string) => d.status?.conditions?.find((c) => c.type === type);

describe('reconcileHpa', () => {
  it('scales up on high cpu, with the event, the status and a lastScaleTime', () => {
    // 180m of 200m = 90 % against 50 %: ceil(2 * 1.8) = 4.
    const d = reconcileHpa(hpa(), { replicas: 2, pods: pods(2) }, usage(2, 180), emptyHistory(), T0);
    expect(d.rescale).toEqual({ from: 2, to: 4, reason: 'cpu resource utilization (percentage of request) above target' });
    expect(d.events).toEqual([{ type: 'Normal', reason: 'SuccessfulRescale', message: 'New size: 4; reason: cpu resource utilization (percentage of request) above target' }]);
    expect(d.status).toMatchObject({
      currentReplicas: 2, desiredReplicas: 4, lastScaleTime: '2026-01-01T12:00:00Z',
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '180m' } } }],
    });
    expect(cond(d, 'AbleToScale')).toMatchObject({ status: 'True', reason: 'SucceededRescale' });
    expect(cond(d, 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect(cond(d, 'ScalingLimited')).toMatchObject({ status: 'False', reason: 'DesiredWithinRange' });
  });

  it('scales down only after the 300 s window, with "All metrics below target"', () => {
    const h = emptyHistory();
    const low = usage(4, 20);
    expect(reconcileHpa(hpa(), { replicas: 4, pods: pods(4) }, low, h, s(0)).rescale).toBeUndefined();
    const held = reconcileHpa(hpa(), { replicas: 4, pods: pods(4) }, low, h, s(150));
    expect(held.rescale).toBeUndefined();
    expect(cond(held, 'AbleToScale')).toMatchObject({ reason: 'ScaleDownStabilized' });
    const d = reconcileHpa(hpa(), { replicas: 4, pods: pods(4) }, low, h, s(301));
    expect(d.rescale).toEqual({ from: 4, to: 1, reason: 'All metrics below target' });
  });

  it('clamps to maxReplicas and to minReplicas, and brings a target outside them back at once', () => {
    const hot = reconcileHpa(hpa({ maxReplicas: 3 }), { replicas: 2, pods: pods(2) }, usage(2, 400), emptyHistory(), T0);
    expect(hot.rescale?.to).toBe(3);
    expect(cond(hot, 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });
    const over = reconcileHpa(hpa({ maxReplicas: 3 }), { replicas: 7, pods: pods(7) }, usage(7, 100), emptyHistory(), T0);
    expect(over.rescale).toEqual({ from: 7, to: 3, reason: 'Current number of replicas above Spec.MaxReplicas' });
    const under = reconcileHpa(hpa({ minReplicas: 2 }), { replicas: 1, pods: pods(1) }, usage(1, 100), emptyHistory(), T0);
    expect(under.rescale).toEqual({ from: 1, to: 2, reason: 'Current number of replicas below Spec.MinReplicas' });
  });

  it('without metrics: ScalingActive False FailedGetResourceMetric, warnings, and no rescale', () => {
    const d = reconcileHpa(hpa(), { replicas: 2, pods: pods(2) }, new Map(), emptyHistory(), T0);
    expect(d.rescale).toBeUndefined();
    expect(cond(d, 'ScalingActive')).toMatchObject({
      status: 'False', reason: 'FailedGetResourceMetric',
      message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    });
    expect(d.events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Warning FailedGetResourceMetric', 'Warning FailedComputeMetricsReplicas']);
    expect(d.status).toMatchObject({ currentReplicas: 2, desiredReplicas: 2, currentMetrics: [] });
    const down = reconcileHpa(hpa(), { replicas: 2, pods: pods(2) }, 'no responders', emptyHistory(), T0);
    expect(cond(down, 'ScalingActive')?.message).toMatch(/unable to get metrics for resource cpu: no responders/);
  });

  it('a target it cannot read or a zero-replica target: AbleToScale False / ScalingDisabled', () => {
    const gone = reconcileHpa(hpa(), { error: 'deployments "web" not found' }, new Map(), emptyHistory(), T0);
    expect(cond(gone, 'AbleToScale')).toMatchObject({ status: 'False', reason: 'FailedGetScale' });
    expect(gone.events[0]).toMatchObject({ type: 'Warning', reason: 'FailedGetScale' });
    const two = reconcileHpa(hpa(), { error: 'the pods of Deployment/web are controlled by multiple HPAs: [default/a default/b]', reason: 'AmbiguousSelector' }, new Map(), emptyHistory(), T0);
    expect(cond(two, 'ScalingActive')).toMatchObject({ status: 'False', reason: 'AmbiguousSelector', message: expect.stringMatching(/multiple HPAs/) });
    expect(two.rescale).toBeUndefined();
    const zero = reconcileHpa(hpa(), { replicas: 0, pods: [] }, new Map(), emptyHistory(), T0);
    expect(zero.rescale).toBeUndefined();
    expect(cond(zero, 'ScalingActive')).toMatchObject({ status: 'False', reason: 'ScalingDisabled' });
  });

  it('keeps a condition\'s lastTransitionTime while its status stays, and a failed write keeps the old size', () => {
    const h = emptyHistory();
    const first = reconcileHpa(hpa(), { replicas: 2, pods: pods(2) }, usage(2, 100), h, s(0));
    const second = reconcileHpa(hpa({}, first.status), { replicas: 2, pods: pods(2) }, usage(2, 100), h, s(15));
    expect(cond(second, 'ScalingActive')?.lastTransitionTime).toBe('2026-01-01T12:00:00Z');
    const d = reconcileHpa(hpa(), { replicas: 2, pods: pods(2) }, usage(2, 180), emptyHistory(), T0);
    const f = rescaleFailed(d, undefined, 'the store is down', T0);
    expect(f.status.desiredReplicas).toBe(2);
    expect(f.status.lastScaleTime).toBeUndefined();
    expect(cond(f, 'AbleToScale')).toMatchObject({ status: 'False', reason: 'FailedUpdateScale' });
    expect(f.events).toEqual([{ type: 'Warning', reason: 'FailedRescale', message: expect.stringMatching(/^New size: 4; reason: .*; error: the store is down$/) }]);
  });

  it('limits a second scale up within 15 s by the default policies', () => {
    const h = emptyHistory();
    const spec = hpa({ maxReplicas: 100 });
    const d = reconcileHpa(spec, { replicas: 2, pods: pods(2) }, usage(2, 1000), h, s(0));
    expect(d.rescale?.to).toBe(6); // 2 -> 20 wanted; 100 % or 4 pods: 6
    recordScale(h, 2, 6, spec.spec.behavior as Rules, s(0));
    const again = reconcileHpa(spec, { replicas: 6, pods: pods(6) }, usage(6, 1000), h, s(5));
    // Within the same 15 s the period began at 2: at most 6 now.
    expect(again.rescale).toBeUndefined();
    expect(cond(again, 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'ScaleUpLimit' });
  });
});

describe('the sync period setting', () => {
  it('reads MK_HPA_SYNC_PERIOD as a duration, 15 s without it, and names it when it is bad', () => {
    expect(hpaSyncPeriodFromEnv({})).toBe(15_000);
    expect(hpaSyncPeriodFromEnv({ MK_HPA_SYNC_PERIOD: '500ms' })).toBe(500);
    expect(hpaSyncPeriodFromEnv({ MK_HPA_SYNC_PERIOD: '1m' })).toBe(60_000);
    expect(() => hpaSyncPeriodFromEnv({ MK_HPA_SYNC_PERIOD: 'soon' })).toThrow(/MK_HPA_SYNC_PERIOD: "soon" is not a duration/);
    expect(() => hpaSyncPeriodFromEnv({ MK_HPA_SYNC_PERIOD: '0s' })).toThrow(/must be more than zero/);
  });
});
