/**
 * How many replicas one Resource metric asks for: the replica calculator of Kubernetes' HPA
 * controller (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details,
 * pkg/controller/podautoscaler/replica_calculator.go), as a pure function of the target's pods,
 * their usage and the time.
 *
 * desired = ceil(current * usage / target), where usage is the mean over the pods that are ready
 * and have metrics. A ratio within the tolerance (10 %) keeps the current count. Pods being
 * deleted or failed are ignored; pods not yet ready (cpu only) and pods without metrics are set
 * aside and, only if the first ratio would scale, counted again conservatively: a missing pod as
 * using 100 % of its target on a scale down and 0 on a scale up, a not-ready pod as 0 on a scale
 * up. If that reverses the direction or lands within the tolerance, nothing changes.
 */
import type { MetricSpec } from '../../messages/hpa';

/** Kubernetes' --horizontal-pod-autoscaler-tolerance. */
export const HPA_TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period: a pod this young may still be warming up. */
export const CPU_INITIALIZATION_PERIOD_MS = 300_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay. */
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** What the calculator needs of one pod of the target. */
export interface PodInfo {
  name: string;
  phase?: string;
  deleting: boolean;
  /** The Ready condition, if the pod has one. */
  ready?: { status: string; lastTransitionMs?: number };
  /** When the pod started (status.startTime), epoch ms. */
  startMs?: number;
  /** The sum of the containers' requests of the metric's resource (cpu in millicores, memory in bytes). */
  request: number;
  /** A container without a request of the resource, if any (Utilization cannot be computed then). */
  missingRequestIn?: string;
}

/** One pod's usage of the resource (cpu in millicores, memory in bytes), with its sample's time. */
export interface PodSample { value: number; timestampMs: number; windowMs: number }

/** A metric's proposal: replicas, and what status reports as the current value. */
export interface MetricProposal {
  replicas: number;
  /** The mean utilization in percent of the requests (Utilization targets). */
  utilization?: number;
  /** The mean usage per pod (cpu in millicores, memory in bytes). */
  averageValue: number;
}

/** Thrown when a metric cannot give a replica count; the message is Kubernetes' wording. */
export class MetricError extends Error {
  override name = 'MetricError';
}

type Groups = { ready: number; unready: Set<string>; missing: Set<string>; ignored: Set<string> };

/** Sorts the pods as Kubernetes' groupPods does. */
function groupPods(pods: PodInfo[], samples: Map<string, PodSample>, resource: 'cpu' | 'memory', now: number): Groups {
  const g: Groups = { ready: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const p of pods) {
    if (p.deleting || p.phase === 'Failed') { g.ignored.add(p.name); continue; }
    if (p.phase === 'Pending') { g.unready.add(p.name); continue; }
    const s = samples.get(p.name);
    if (!s) { g.missing.add(p.name); continue; }
    if (resource === 'cpu') {
      let unready: boolean;
      if (!p.ready) {
        unready = true;
      } else if (p.startMs === undefined || p.startMs + CPU_INITIALIZATION_PERIOD_MS > now) {
        // Young pods: not ready, or the sample was (partly) taken before it became ready.
        unready = p.ready.status === 'False' || s.timestampMs < (p.ready.lastTransitionMs ?? 0) + s.windowMs;
      } else {
        // Older pods: only if they never became ready since their start.
        unready = p.ready.status === 'False' && p.startMs + INITIAL_READINESS_DELAY_MS > (p.ready.lastTransitionMs ?? 0);
      }
      if (unready) { g.unready.add(p.name); continue; }
    }
    g.ready++;
  }
  return g;
}

/** The usage ratio over `samples`: mean usage / target, the mean itself and, for Utilization, the percentage. */
function ratioOf(samples: Map<string, number>, requests: Map<string, number>, target: { utilization?: number; averageValue?: number }) {
  let usage = 0;
  let request = 0;
  let n = 0;
  for (const [name, v] of samples) {
    const r = requests.get(name);
    if (r === undefined) continue;
    usage += v; request += r; n++;
  }
  if (target.utilization !== undefined) {
    const utilization = request > 0 ? Math.trunc((usage * 100) / request) : 0;
    return { ratio: utilization / target.utilization, utilization, average: n > 0 ? usage / n : 0 };
  }
  const average = n > 0 ? usage / n : 0;
  return { ratio: average / target.averageValue!, utilization: undefined, average };
}

/**
 * The replicas `metric` asks for, given the target's `current` spec.replicas, its pods and their
 * samples. `targetValue` is the AverageValue target in the resource's unit (ignored for
 * Utilization). Throws MetricError when there is nothing to compute from.
 */
export function resourceReplicas(
  metric: MetricSpec, current: number, pods: PodInfo[], samples: Map<string, PodSample>, now: number, targetValue?: number,
): MetricProposal {
  const r = metric.resource!;
  const resource = r.name;
  const target = r.target.type === 'Utilization' ? { utilization: r.target.averageUtilization! } : { averageValue: targetValue! };
  if (samples.size === 0) throw new MetricError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  if (pods.length === 0) throw new MetricError('no pods returned by selector while calculating replica count');
  const g = groupPods(pods, samples, resource, now);
  const requests = new Map<string, number>();
  for (const p of pods) {
    if (g.ignored.has(p.name)) continue;
    if (target.utilization !== undefined && p.missingRequestIn !== undefined) {
      throw new MetricError(`missing request for ${resource} in container ${p.missingRequestIn} of Pod ${p.name}`);
    }
    // For AverageValue every pod counts alike: its "request" is the target.
    requests.set(p.name, target.utilization !== undefined ? p.request : target.averageValue!);
  }
  const values = new Map<string, number>();
  for (const p of pods) {
    const s = samples.get(p.name);
    if (s && !g.ignored.has(p.name) && !g.unready.has(p.name)) values.set(p.name, s.value);
  }
  if (values.size === 0) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');
  const first = ratioOf(values, requests, target);
  const upWithUnready = g.unready.size > 0 && first.ratio > 1;
  const within = (ratio: number) => Math.abs(1 - ratio) <= HPA_TOLERANCE;
  if (!upWithUnready && g.missing.size === 0) {
    const replicas = within(first.ratio) ? current : Math.ceil(first.ratio * g.ready);
    return { replicas, utilization: first.utilization, averageValue: first.average };
  }
  // Count the pods set aside, against the direction the first ratio points to.
  for (const name of g.missing) {
    if (first.ratio < 1) values.set(name, target.utilization !== undefined ? requests.get(name) ?? 0 : target.averageValue!);
    else if (first.ratio > 1) values.set(name, 0);
  }
  if (upWithUnready) for (const name of g.unready) values.set(name, 0);
  const second = ratioOf(values, requests, target);
  if (within(second.ratio) || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) {
    return { replicas: current, utilization: first.utilization, averageValue: first.average };
  }
  const replicas = Math.ceil(second.ratio * values.size);
  if ((second.ratio < 1 && replicas > current) || (second.ratio > 1 && replicas < current)) {
    return { replicas: current, utilization: first.utilization, averageValue: first.average };
  }
  return { replicas, utilization: first.utilization, averageValue: first.average };
}
