/**
 * The NodeAffinity filter and score
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity): the
 * pod's nodeSelector and its required node affinity must both hold (terms ORed, the requirements of
 * a term ANDed); each preferred term a node matches adds its weight to the node's score.
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from '../../../messages';
import { FITS, type FilterReasons, type NodeInfo } from './types';

/** Kubernetes' reason for a node that fails the nodeSelector or the required node affinity. */
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

const INTEGER = /^[+-]?\d+$/;

/**
 * One requirement against a value (undefined: the label is absent). Gt and Lt compare integers:
 * a label that is no integer, or a requirement without exactly one integer, matches nothing.
 */
export function matchesRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !INTEGER.test(value) || !INTEGER.test(values[0])) return false;
      const have = BigInt(value);
      const want = BigInt(values[0]);
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default: return false;
  }
}

/**
 * One term against a node: every matchExpressions requirement on its labels and every matchFields
 * requirement on its fields (only `metadata.name`, with In or NotIn, as Kubernetes allows). An
 * empty term matches no node.
 */
export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of exprs) {
    const value = Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined;
    if (!matchesRequirement(r, value)) return false;
  }
  for (const r of fields) {
    if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
    if (!matchesRequirement(r, node.metadata.name)) return false;
  }
  return true;
}

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
