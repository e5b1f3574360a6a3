/**
 * The NodeUnschedulable filter: a cordoned node (spec.unschedulable) takes no new pods, unless the
 * pod tolerates node.kubernetes.io/unschedulable:NoSchedule
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-nodes-by-condition).
 */
import { TAINT_UNSCHEDULABLE, type Pod } from '../../../messages';
import { toleratesTaint } from './taint-toleration';
import { FITS, type FilterReasons, type NodeInfo } from './types';

/** Kubernetes' reason for a node this filter rejects. */
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

/** Filters out cordoned nodes for pods that do not tolerate it. */
export function nodeUnschedulableFilter(pod: Pod, node: NodeInfo): FilterReasons {
  if (!node.node.spec?.unschedulable) return FITS;
  const tolerated = toleratesTaint(pod.spec.tolerations, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return tolerated ? FITS : [REASON_UNSCHEDULABLE];
}
