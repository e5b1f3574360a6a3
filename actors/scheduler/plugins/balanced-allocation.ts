/**
 * The NodeResourcesBalancedAllocation score
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/): nodes whose cpu
 * and memory would be used in like shares once the pod is placed score higher, so one resource is
 * not exhausted while the other lies idle. Score = (1 - standard deviation of the shares) * 100.
 */
import { MAX_NODE_SCORE, type NodeInfo, type PodInfo } from './types';

/** The node's score for the pod, 0..100 (from the actual requests, as Kubernetes counts this one). */
export function balancedAllocationScore(pod: PodInfo, node: NodeInfo): number {
  const cpu = share(pod, node, 'cpu');
  const memory = share(pod, node, 'memory');
  if (cpu === undefined && memory === undefined) return 0;
  if (cpu === undefined || memory === undefined) return MAX_NODE_SCORE; // one share: no deviation
  // The standard deviation of two values is half their distance.
  return (1 - Math.abs(cpu - memory) / 2) * MAX_NODE_SCORE;
}

/** The share of a resource the node's pods and this one request, at most 1; undefined when the node has none. */
function share(pod: PodInfo, node: NodeInfo, name: 'cpu' | 'memory'): number | undefined {
  const capacity = node.allocatable[name] ?? 0;
  if (capacity <= 0) return undefined;
  return Math.min(1, ((node.requested[name] ?? 0) + (pod.requests[name] ?? 0)) / capacity);
}
