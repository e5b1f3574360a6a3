/**
 * The NodeResourcesFit filter
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/): a pod fits when
 * the node's allocatable, less what the pods bound to it request, covers every resource it
 * requests (cpu, memory, nvidia.com/gpu and other extended resources) and the node runs fewer pods
 * than it may. Each resource that falls short is its own reason, as Kubernetes reports them.
 */
import { FITS, type FilterReasons, type NodeInfo, type PodInfo } from './types';

/** Kubernetes' reason for a node that runs as many pods as it may. */
export const REASON_TOO_MANY_PODS = 'Too many pods';

/** Kubernetes' reason for a resource the node has too little of. */
export function insufficientReason(resource: string): string {
  return `Insufficient ${resource}`;
}

/** Filters out nodes without room for the pod, naming each resource that falls short. */
export function resourcesFitFilter(pod: PodInfo, node: NodeInfo): FilterReasons {
  let reasons: string[] | undefined;
  if ((node.requested.pods ?? 0) + 1 > (node.allocatable.pods ?? 0)) (reasons ??= []).push(REASON_TOO_MANY_PODS);
  for (const name of pod.requestNames) {
    const free = (node.allocatable[name] ?? 0) - (node.requested[name] ?? 0);
    if (pod.requests[name] > free) (reasons ??= []).push(insufficientReason(name));
  }
  return reasons ?? FITS;
}
