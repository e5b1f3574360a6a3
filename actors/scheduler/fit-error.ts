/**
 * The message of a pod that fits on no node, worded as kube-scheduler words it
 * (pkg/scheduler/framework/types.go, FitError.Error): `0/N nodes are available: ` and a histogram
 * of reasons, each "<count> <reason>", sorted as strings, then what preemption could do. mk has no
 * preemption, so that part always says the pod is not eligible.
 */

/** What follows the reasons: mk never evicts a pod to make room for another. */
export const PREEMPTION_MESSAGE = 'preemption: not eligible';

/** Kubernetes' message when the cluster has no nodes at all. */
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

/**
 * The FailedScheduling message for `total` nodes rejected for `reasons` (reason -> nodes), or,
 * when a pre-filter refused the pod before any node was looked at, for `preFilter` alone (as
 * kube-scheduler words a PreFilter rejection: the reason without a count).
 */
export function fitErrorMessage(total: number, reasons: ReadonlyMap<string, number>, preFilter?: string): string {
  if (total === 0) return NO_NODES_MESSAGE;
  if (preFilter) return `0/${total} nodes are available: ${preFilter}. ${PREEMPTION_MESSAGE}.`;
  // Go's sort.Strings: byte order of the whole "<count> <reason>" string, count included.
  const parts = [...reasons].map(([reason, n]) => `${n} ${reason}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `0/${total} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}. ${PREEMPTION_MESSAGE}.`;
}
