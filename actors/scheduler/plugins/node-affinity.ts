/**
 * The NodeAffinity filter and score
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity): the
 * pod's nodeSelector and its required node affinity must both hold (terms ORed, the requirements of
 * a term ANDed); each preferred term a node matches adds its weight to the node's score.
 */
import { matchesNodeSelectorTerm, type Node, type Pod } from '../../../messages';

export { matchesNodeSelectorTerm, matchesRequirement } from '../../../messages';
import { FITS, type FilterReasons, type NodeInfo } from './types';

/** Kubernetes' reason for a node that fails the nodeSelector or the required node affinity. */
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

/** True when the node carries every label of the nodeSelector with its value. */
export function matchesNodeSelector(selector: Record<string, string> | undefined, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  return Object.entries(selector ?? {}).every(([k, v]) => Object.prototype.hasOwnProperty.call(labels, k) && labels[k] === v);
}

/** Filters out nodes that fail the nodeSelector or the required node affinity. */
export function nodeAffinityFilter(pod: Pod, node: NodeInfo): FilterReasons {
  if (!matchesNodeSelector(pod.spec.nodeSelector, node.node)) return [REASON_NODE_AFFINITY];
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !required.nodeSelectorTerms.some((t) => matchesNodeSelectorTerm(t, node.node))) return [REASON_NODE_AFFINITY];
  return FITS;
}

/** The raw score: the sum of the weights of the preferred terms the node matches (normalized to 0..100). */
export function nodeAffinityScore(pod: Pod, node: NodeInfo): number {
  let score = 0;
  for (const p of pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (matchesNodeSelectorTerm(p.preference, node.node)) score += p.weight;
  }
  return score;
}
