/**
 * Taints as the node lifecycle keeps them and the taint manager reads them: which taints a node's
 * conditions call for (Kubernetes' TaintNodesByCondition and the NoExecute taints of the node
 * lifecycle controller, https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions),
 * and whether a toleration matches a taint. Pure functions.
 */
import {
  TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, tolerationMatches,
  type Node, type NodeCondition, type Taint,
} from '../../messages';

export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';

/** The taint keys the control plane owns: it adds and removes them; users' other taints stay. */
export const MANAGED_TAINT_KEYS: ReadonlySet<string> = new Set([
  TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE, TAINT_PID_PRESSURE,
]);

const cond = (node: Node, type: NodeCondition['type']): NodeCondition | undefined => node.status?.conditions?.find((c) => c.type === type);

/**
 * The managed taints `node` should carry now: not-ready (Ready False) or unreachable (Ready
 * Unknown) as NoSchedule and NoExecute, a NoSchedule taint per pressure condition that is True,
 * and unschedulable:NoSchedule when cordoned. Without timeAdded (see withSystemTaints).
 */
export function systemTaints(node: Node): Taint[] {
  const out: Taint[] = [];
  const ready = cond(node, 'Ready');
  const notReadyKey = !ready || ready.status === 'Unknown' ? TAINT_UNREACHABLE : ready.status === 'False' ? TAINT_NOT_READY : undefined;
  if (notReadyKey) out.push({ key: notReadyKey, effect: 'NoSchedule' }, { key: notReadyKey, effect: 'NoExecute' });
  for (const [type, key] of [['MemoryPressure', TAINT_MEMORY_PRESSURE], ['DiskPressure', TAINT_DISK_PRESSURE], ['PIDPressure', TAINT_PID_PRESSURE]] as const) {
    if (cond(node, type)?.status === 'True') out.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

const same = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;

/**
 * The node's taints with the managed ones made to match `wanted`: users' taints kept in their
 * order, managed taints that no longer apply removed, new ones appended. Every NoExecute taint
 * ends with a timeAdded: its old one when it was there already, else `now` (RFC 3339), so that
 * tolerationSeconds count from when it first appeared, across control-plane restarts.
 */
export function withSystemTaints(current: Taint[], wanted: Taint[], now: string): Taint[] {
  const stamp = (t: Taint): Taint => (t.effect === 'NoExecute' && !t.timeAdded ? { ...t, timeAdded: now } : t);
  const kept = current.filter((t) => !MANAGED_TAINT_KEYS.has(t.key) || wanted.some((w) => same(w, t)));
  const added = wanted.filter((w) => !kept.some((t) => same(t, w)));
  return [...kept, ...added].map(stamp);
}

/** Whether `tol` tolerates `taint` (Kubernetes' Toleration.ToleratesTaint). */
export const tolerates = tolerationMatches;
