/**
 * Pod start latency, as the control plane sees it: from a pod's creationTimestamp to the status
 * write that first reports phase Running (what Kubernetes' pod startup SLI measures, from the
 * api's side: https://github.com/kubernetes/community/blob/master/sig-scalability/slos/pod_startup_latency.md).
 */
import { counter, histogram, secondsBuckets } from '../../common/metrics';
import type { Pod } from '../../messages';

/** Pod start latency: creation to the first status with phase Running. */
export const podStartDuration = histogram({
  name: 'mk_pod_start_duration_seconds',
  help: 'Seconds from a pod\'s creationTimestamp (whole seconds, so up to 1 s high) to the status write that first reports phase Running. '
    + 'Each pod (uid) counts once in this control plane\'s life; a restarted control plane counts only pods that reach Running after it started.',
  buckets: secondsBuckets(0.1, 600),
});

/** Pods counted, for dashboards that want a rate without the histogram. */
export const podsStarted = counter({
  name: 'mk_pods_started_total',
  help: 'Pods whose status first reported phase Running while this control plane served their node.',
});

/** The uids counted already; the oldest are forgotten past this many. */
const MAX_REMEMBERED = 100_000;
const counted = new Set<string>();

/**
 * Observes `pod`'s start when `before` (its stored status) was not Running and `after` (the phase
 * just written) is, once per uid. Returns whether it counted. A pod without a uid or a
 * creationTimestamp that does not parse is not counted.
 */
export function observePodStart(pod: Pod, before: string | undefined, after: string | undefined, nowMs = Date.now()): boolean {
  const uid = pod.metadata.uid;
  if (after !== 'Running' || before === 'Running' || !uid || counted.has(uid)) return false;
  const created = Date.parse(pod.metadata.creationTimestamp ?? '');
  if (!Number.isFinite(created)) return false;
  counted.add(uid);
  if (counted.size > MAX_REMEMBERED) counted.delete(counted.values().next().value as string);
  podStartDuration.observe(Math.max(0, nowMs - created) / 1000);
  podsStarted.inc();
  return true;
}
