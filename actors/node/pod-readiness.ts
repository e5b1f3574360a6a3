/**
 * Kubernetes' MarkPodsNotReady (the node lifecycle controller,
 * pkg/controller/util/node/controller_utils.go): a pod on a node whose Ready condition is not
 * True has its Ready condition set False, since no one can vouch for it, and a Warning event
 * NodeNotReady "Node is not ready" says why. The node agent writes the true status again when it
 * is back. Pure: the controller reads and writes.
 */
import type { Pod, PodStatus } from '../../messages';

/** The reason of the event (and, in mk, of the Ready condition), as Kubernetes words it. */
export const NODE_NOT_READY_REASON = 'NodeNotReady';
/** The message of the event (and, in mk, of the Ready condition), as Kubernetes words it. */
export const NODE_NOT_READY_MESSAGE = 'Node is not ready';

/**
 * The status `pod` should have while its node is not ready, or null when it has it already (no
 * Ready condition, or one that is not True). Ready goes False with the time of the change; unlike
 * Kubernetes, which keeps the condition's reason and sets no message, mk also puts the reason and
 * message on the condition and counts none of the containers ready, so `mk describe pod` says why
 * and `mk get pods` shows 0/1 rather than a readiness no one can vouch for.
 */
export function notReadyStatus(pod: Pod, now: string): PodStatus | null {
  const status = pod.status;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  if (!status || !ready || ready.status !== 'True') return null;
  return {
    ...status,
    conditions: status.conditions!.map((c) => (c.type === 'Ready'
      ? { ...c, status: 'False', reason: NODE_NOT_READY_REASON, message: NODE_NOT_READY_MESSAGE, lastTransitionTime: now }
      : c)),
    ...(status.containerStatuses ? { containerStatuses: status.containerStatuses.map((c) => ({ ...c, ready: false })) } : {}),
  };
}
