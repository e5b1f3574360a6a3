/**
 * The NodeResourcesBalancedAllocation score
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/): nodes whose cpu
 * and memory would be used in like shares once the pod is placed score higher, so one resource is
 * not exhausted while the other lies idle. Score = (1 - standard deviation of the shares) * 100.
 */
import { MAX_NODE_SCORE, type NodeInfo, type PodInfo } from './types';

/** The node's score for the pod, 0..100 (from the actual requests, as Kubernetes counts this one). */
export function balancedAllocationScore(pod: PodInfo, node: NodeInfo): number {
  const shares: number[] = [];
  for (const name of ['cpu', 'memory']) {
    const capacity = node.allocatable[name] ?? 0;
    if (capacity <= 0) continue;
    shares.push(Math.min(1, ((node.requested[name] ?? 0) + (pod.requests[name] ?? 0)) / capacity));
  }
  if (shares.length === 0) return 0;
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  const variance = shares.reduce((a, s) => a + (s - mean) ** 2, 0) / shares.length;
  return (1 - Math.sqrt(variance)) * MAX_NODE_SCORE;
}
