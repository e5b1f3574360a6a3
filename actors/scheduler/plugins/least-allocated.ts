/**
 * The NodeResourcesFit score with the LeastAllocated strategy, kube-scheduler's default
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/): the share of cpu
 * and memory left free once the pod is placed, 0..100, cpu and memory weighing the same. It
 * spreads pods across nodes. Containers without requests count with the non-zero defaults.
 */
import { MAX_NODE_SCORE, type NodeInfo, type PodInfo } from './types';

/** The free share of one resource after placing `want`, 0..100 (0 when the node has none or too little). */
export function leastRequested(want: number, used: number, capacity: number): number {
  if (capacity <= 0 || used + want > capacity) return 0;
  return ((capacity - used - want) * MAX_NODE_SCORE) / capacity;
}

/** The node's score for the pod, 0..100. */
export function leastAllocatedScore(pod: PodInfo, node: NodeInfo): number {
  const cpu = leastRequested(pod.nonZero.cpu, node.nonZeroRequested.cpu, node.allocatable.cpu ?? 0);
  const memory = leastRequested(pod.nonZero.memory, node.nonZeroRequested.memory, node.allocatable.memory ?? 0);
  return (cpu + memory) / 2;
}
