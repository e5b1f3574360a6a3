/**
 * A node that is not Ready takes no new pods. Kubernetes says so with taints its node lifecycle
 * controller adds (node.kubernetes.io/not-ready when Ready is False, node.kubernetes.io/unreachable
 * when it is Unknown: https://kubernetes.io/docs/reference/labels-annotations-taints/); the
 * scheduler reads the condition itself as the same taints, so a node goes out of rotation the
 * moment it reports, and a pod that tolerates those taints may still go there.
 */
import { TAINT_NOT_READY, TAINT_UNREACHABLE, type Node, type Taint } from '../../../messages';

/** The NoSchedule taints that the node's Ready condition stands for (none when it is Ready). */
export function conditionTaints(node: Node): Taint[] {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return [];
  const key = ready?.status === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
  if (node.spec?.taints?.some((t) => t.key === key && t.effect !== 'PreferNoSchedule')) return [];
  return [{ key, effect: 'NoSchedule' }];
}

/** True when the node's Ready condition is True. */
export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
