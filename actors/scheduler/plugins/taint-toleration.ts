/**
 * The TaintToleration filter and score
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/): a NoSchedule or
 * NoExecute taint the pod does not tolerate keeps it off the node; each PreferNoSchedule taint it
 * does not tolerate makes the node less preferred.
 */
import { tolerationMatches, type Pod, type Taint, type Toleration } from '../../../messages';
import { conditionTaints } from './node-ready';
import { FITS, type FilterReasons, type NodeInfo } from './types';

/** Kubernetes' reason for a node with a taint the pod does not tolerate. */
export function untoleratedTaintReason(taint: Pick<Taint, 'key' | 'value'>): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

/** True when the toleration matches the taint (key, value by operator, effect). */
export const toleratesOne = tolerationMatches;

/** True when any of the tolerations matches the taint. */
export function toleratesTaint(tolerations: Toleration[] | undefined, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  return (tolerations ?? []).some((t) => toleratesOne(t, taint));
}

/** The node's taints, with those its Ready condition stands for. */
export function nodeTaints(node: NodeInfo): Taint[] {
  const extra = conditionTaints(node.node);
  const own = node.node.spec?.taints ?? [];
  return extra.length ? [...own, ...extra] : own;
}

/** Filters out nodes with a NoSchedule or NoExecute taint the pod does not tolerate (the first one is named). */
export function taintTolerationFilter(pod: Pod, node: NodeInfo): FilterReasons {
  for (const taint of nodeTaints(node)) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!toleratesTaint(pod.spec.tolerations, taint)) return [untoleratedTaintReason(taint)];
  }
  return FITS;
}

/** The raw score: how many PreferNoSchedule taints the pod does not tolerate (fewer is better; normalized reversed). */
export function taintTolerationScore(pod: Pod, node: NodeInfo): number {
  let n = 0;
  for (const taint of node.node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule' && !toleratesTaint(pod.spec.tolerations, taint)) n++;
  }
  return n;
}
