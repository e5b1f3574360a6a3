/**
 * What an update may change on a pod its scheduling gates still hold, beyond what any pod update
 * may (Kubernetes' mutable scheduling directives,
 * https://kubernetes.io/docs/concepts/scheduling-eviction/pod-scheduling-readiness/): the
 * placement rules may only narrow, so they never allow a node the pod could not have gone to.
 */
import { stableJson } from '../api/stable-json';
import type { NodeSelectorTerm, Pod } from '../../messages';

/**
 * Why the update from `existing` (gated) to `next` changes nodeSelector or node affinity in a way
 * that is not allowed, or null: nodeSelector may gain entries; a required node affinity may be
 * set when there was none, else each of its terms may gain requirements; the preferred terms may
 * change freely.
 */
export function gatedPlacementError(existing: Pod, next: Pod): string | null {
  const oldSel = existing.spec.nodeSelector ?? {};
  const newSel = next.spec.nodeSelector ?? {};
  for (const [k, v] of Object.entries(oldSel)) {
    if (newSel[k] !== v) return `spec.nodeSelector: entries may only be added while the pod is gated, not changed or removed ("${k}")`;
  }
  const oldReq = existing.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!oldReq) return null;
  const newReq = next.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const path = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution';
  if (!newReq || newReq.nodeSelectorTerms.length !== oldReq.nodeSelectorTerms.length) {
    return `${path}: its terms may only gain requirements while the pod is gated, not be added or removed`;
  }
  for (let i = 0; i < oldReq.nodeSelectorTerms.length; i++) {
    if (!keeps(oldReq.nodeSelectorTerms[i], newReq.nodeSelectorTerms[i])) {
      return `${path}.nodeSelectorTerms[${i}]: requirements may only be added while the pod is gated, not changed or removed`;
    }
  }
  return null;
}

/** True when `next` has every requirement of `old`. */
function keeps(old: NodeSelectorTerm, next: NodeSelectorTerm): boolean {
  for (const field of ['matchExpressions', 'matchFields'] as const) {
    const have = new Set((next[field] ?? []).map((r) => stableJson(r)));
    if ((old[field] ?? []).some((r) => !have.has(stableJson(r)))) return false;
  }
  return true;
}

/** The spec without what a gated pod's update may change (compared separately). */
export function withoutGatedPlacement(spec: Pod['spec']): Pod['spec'] {
  const { nodeAffinity: _n, ...affinity } = spec.affinity ?? {};
  return { ...spec, nodeSelector: undefined, affinity: Object.keys(affinity).length ? affinity : undefined };
}
