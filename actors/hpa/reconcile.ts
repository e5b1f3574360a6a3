/**
 * The HPA controller's decision for one sync, as a pure function of the HPA, its target's scale,
 * the target's pods, their usage, the HPA's history and the time: Kubernetes' reconcileAutoscaler
 * (pkg/controller/podautoscaler/horizontal.go). The shell (controller.ts) reads, calls this,
 * writes the target's spec.replicas when asked, then the status, and records the events.
 */
import {
  cpuMillis, memoryBytes, metricDescription, parseQuantity, timestamp,
  type HorizontalPodAutoscaler, type HorizontalPodAutoscalerCondition, type HorizontalPodAutoscalerStatus, type MetricSpec, type MetricStatus, type Pod,
} from '../../messages';
import { normalize, type HpaHistory, type Rules } from './behavior';
import { MetricError, resourceReplicas, type PodInfo, type PodSample } from './replicas';

/** An event to record on the HPA. */
export interface HpaEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

/** One pod's usage as the metrics API reports it. */
export interface PodUsageSample { cpuMillis: number; memoryBytes: number; timestampMs: number; windowMs: number }

/** The target's scale: its spec.replicas, or why it could not be read. */
export type TargetScale = { replicas: number; pods: Pod[] } | { error: string; reason?: 'FailedGetScale' | 'InvalidSelector' | 'AmbiguousSelector' };

/** What the shell does for one sync. */
export interface HpaDecision {
  /** Set spec.replicas of the target to `to` (from `from`), saying why; once done, record it (behavior.ts recordScale). */
  rescale?: { from: number; to: number; reason: string };
  /** The status, as it is if the rescale (if any) succeeds. */
  status: HorizontalPodAutoscalerStatus;
  events: HpaEvent[];
}

/** Sets a condition, keeping its lastTransitionTime when its status does not change. */
export function setCondition(
  conditions: HorizontalPodAutoscalerCondition[], type: HorizontalPodAutoscalerCondition['type'], status: 'True' | 'False', reason: string, message: string, now: number,
): HorizontalPodAutoscalerCondition[] {
  const old = conditions.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : timestamp(new Date(now));
  const next = { type, status, lastTransitionTime, reason, message };
  const order: HorizontalPodAutoscalerCondition['type'][] = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
  return [...conditions.filter((c) => c.type !== type), next].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

const ms = (t: string | undefined): number | undefined => (t ? Date.parse(t) : undefined);

/** What the replica calculator needs of a pod, for `resource`. */
export function podInfo(pod: Pod, resource: 'cpu' | 'memory'): PodInfo {
  let request = 0;
  let missingRequestIn: string | undefined;
  for (const c of pod.spec.containers) {
    const q = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
    if (q === undefined) { missingRequestIn ??= c.name; continue; }
    request += resource === 'cpu' ? cpuMillis(q) : memoryBytes(q);
  }
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: pod.metadata.name,
    phase: pod.status?.phase,
    deleting: !!pod.metadata.deletionTimestamp,
    ...(ready ? { ready: { status: ready.status, lastTransitionMs: ms(ready.lastTransitionTime) } } : {}),
    startMs: ms(pod.status?.startTime ?? pod.metadata.creationTimestamp),
    request,
    ...(missingRequestIn !== undefined ? { missingRequestIn } : {}),
  };
}

/** A metric's current value as status shows it. */
function currentOf(m: MetricSpec, utilization: number | undefined, average: number): MetricStatus {
  const name = m.resource!.name;
  const averageValue = name === 'cpu' ? `${Math.round(average)}m` : String(Math.round(average));
  return { type: 'Resource', resource: { name, current: { ...(utilization !== undefined ? { averageUtilization: utilization } : {}), averageValue } } };
}

/** The proposals of every metric: the largest wins; an invalid metric stops a scale down. */
function computeMetrics(hpa: HorizontalPodAutoscaler, current: number, pods: Pod[], usage: Map<string, PodUsageSample> | string, now: number) {
  const specs = hpa.spec.metrics ?? [];
  const statuses: MetricStatus[] = [];
  const events: HpaEvent[] = [];
  let replicas = 0;
  let metric = '';
  let invalid = 0;
  let firstError: { message: string; condition: string } | undefined;
  for (const m of specs) {
    const r = m.resource!;
    try {
      if (typeof usage === 'string') throw new MetricError(`unable to get metrics for resource ${r.name}: ${usage}`);
      const samples = new Map<string, PodSample>();
      for (const [name, u] of usage) samples.set(name, { value: r.name === 'cpu' ? u.cpuMillis : u.memoryBytes, timestampMs: u.timestampMs, windowMs: u.windowMs });
      const target = r.target.type === 'AverageValue' ? parseQuantity(r.target.averageValue!)! * (r.name === 'cpu' ? 1000 : 1) : undefined;
      const p = resourceReplicas(m, current, pods.map((x) => podInfo(x, r.name)), samples, now, target);
      statuses.push(currentOf(m, r.target.type === 'Utilization' ? p.utilization : undefined, p.averageValue));
      if (p.replicas > replicas) { replicas = p.replicas; metric = metricDescription(m); }
    } catch (err) {
      if (!(err instanceof MetricError)) throw err;
      invalid++;
      events.push({ type: 'Warning', reason: 'FailedGetResourceMetric', message: err.message });
      const what = r.target.type === 'Utilization' ? 'utilization' : 'usage';
      firstError ??= { message: `failed to get ${r.name} ${what}: ${err.message}`, condition: 'FailedGetResourceMetric' };
    }
  }
  return { replicas, metric, statuses, events, invalid, firstError, count: specs.length };
}

/**
 * The decision for one sync of `hpa` (defaulted). `usage` is the pods' usage by pod name, or why
 * it could not be read. `history` is updated in place (the caller's copy).
 */
export function reconcileHpa(
  hpa: HorizontalPodAutoscaler, scale: TargetScale, usage: Map<string, PodUsageSample> | string, history: HpaHistory, now: number,
): HpaDecision {
  const old = hpa.status ?? {};
  let conditions = old.conditions ?? [];
  const base: HorizontalPodAutoscalerStatus = {
    ...(hpa.metadata.generation !== undefined ? { observedGeneration: hpa.metadata.generation } : {}),
    ...(old.lastScaleTime ? { lastScaleTime: old.lastScaleTime } : {}),
  };
  if ('error' in scale) {
    const reason = scale.reason ?? 'FailedGetScale';
    // A target that cannot be read cannot be scaled; one whose pods cannot be told apart cannot be measured.
    if (reason === 'FailedGetScale') {
      conditions = setCondition(conditions, 'AbleToScale', 'False', reason, `the HPA controller was unable to get the target's current scale: ${scale.error}`, now);
    } else {
      conditions = setCondition(conditions, 'ScalingActive', 'False', reason, scale.error, now);
    }
    return {
      status: { ...base, currentReplicas: old.currentReplicas ?? 0, desiredReplicas: old.desiredReplicas ?? 0, ...(old.currentMetrics ? { currentMetrics: old.currentMetrics } : {}), conditions },
      events: [{ type: 'Warning', reason, message: scale.error }],
    };
  }
  const spec = hpa.spec;
  const min = spec.minReplicas ?? 1;
  const max = spec.maxReplicas;
  const rules = spec.behavior as Rules;
  const current = scale.replicas;
  if (history.recommendations.length === 0) history.recommendations.push({ replicas: current, atMs: now });
  const events: HpaEvent[] = [];
  let desired = 0;
  let reason = '';
  let rescale = true;
  let statuses: MetricStatus[] | undefined;
  if (current === 0 && min !== 0) {
    rescale = false;
    conditions = setCondition(conditions, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', now);
  } else if (current > max) {
    reason = 'Current number of replicas above Spec.MaxReplicas';
    desired = max;
  } else if (current < min) {
    reason = 'Current number of replicas below Spec.MinReplicas';
    desired = min;
  } else {
    const c = computeMetrics(hpa, current, scale.pods, usage, now);
    statuses = c.statuses;
    events.push(...c.events);
    if (c.invalid >= c.count || (c.invalid > 0 && c.replicas < current)) {
      const err = c.firstError!;
      conditions = setCondition(conditions, 'ScalingActive', 'False', err.condition, `the HPA was unable to compute the replica count: ${err.message}`, now);
      events.push({ type: 'Warning', reason: 'FailedComputeMetricsReplicas', message: `invalid metrics (${c.invalid} invalid out of ${c.count}), first error is: ${err.message}` });
      return { status: { ...base, currentReplicas: current, desiredReplicas: old.desiredReplicas ?? current, currentMetrics: statuses, conditions }, events };
    }
    conditions = setCondition(conditions, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${c.metric}`, now);
    desired = c.replicas;
    if (desired > current) reason = `${c.metric} above target`;
    if (desired < current) reason = 'All metrics below target';
    const n = normalize(current, desired, min, max, history, rules, now);
    conditions = setCondition(conditions, 'AbleToScale', 'True', n.ableToScale.reason, n.ableToScale.message, now);
    conditions = setCondition(conditions, 'ScalingLimited', n.limited ? 'True' : 'False', n.limit.reason, n.limit.message, now);
    desired = n.replicas;
    rescale = desired !== current;
  }
  const status: HorizontalPodAutoscalerStatus = {
    ...base,
    currentReplicas: current,
    desiredReplicas: rescale ? desired : current,
    ...(statuses ? { currentMetrics: statuses } : old.currentMetrics ? { currentMetrics: old.currentMetrics } : {}),
    conditions,
  };
  if (!rescale) return { status, events };
  status.lastScaleTime = timestamp(new Date(now));
  status.conditions = setCondition(conditions, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`, now);
  events.push({ type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${desired}; reason: ${reason}` });
  return { rescale: { from: current, to: desired, reason }, status, events };
}

/** The status and event when writing the target's scale failed (not a Conflict, which is retried). */
export function rescaleFailed(d: HpaDecision, old: HorizontalPodAutoscalerStatus | undefined, error: string, now: number): HpaDecision {
  const r = d.rescale!;
  const conditions = setCondition(d.status.conditions ?? [], 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${error}`, now);
  const status: HorizontalPodAutoscalerStatus = { ...d.status, desiredReplicas: r.from, conditions };
  if (old?.lastScaleTime) status.lastScaleTime = old.lastScaleTime; else delete status.lastScaleTime;
  return {
    status,
    events: [...d.events.filter((e) => e.reason !== 'SuccessfulRescale'), { type: 'Warning', reason: 'FailedRescale', message: `New size: ${r.to}; reason: ${r.reason}; error: ${error}` }],
  };
}
