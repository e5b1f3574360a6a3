/**
 * The control plane's side of a Node: ask for its pod CIDR once, mark it Unknown when its
 * heartbeats stop and taint it by its conditions, like the node lifecycle controller
 * (https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller).
 */
import { TAINT_NOT_READY, TAINT_UNREACHABLE, type Node, type NodeCondition, type Taint } from '../../messages';
import { lastHeardFrom } from './heartbeat';
import { systemTaints, withSystemTaints } from './taints';

export type NodeAction =
  /** The node has no pod CIDR yet: the controller allocates one (cidr.ts). */
  | { type: 'need-cidr' }
  /** Every condition goes Unknown: the node stopped posting status. */
  | { type: 'mark-unknown'; conditions: NodeCondition[] }
  | { type: 'set-taints'; taints: Taint[] }
  | { type: 'event'; eventType: 'Normal' | 'Warning'; reason: string; message: string };

/** What reconcileNode needs besides the node. */
export interface NodeReconcileOptions {
  /** A heartbeat older than this makes the node Unknown (node-monitor-grace-period). */
  gracePeriodMs: number;
  /**
   * When this control plane started (ms): a heartbeat counts as no older than that, so a control
   * plane that was down longer than the grace period gives every node a full grace period before
   * it judges it, as Kubernetes' node lifecycle controller does with the times it observed.
   */
  startedAt?: number;
  /** The renewTime of the node's Lease in kube-node-lease, when the controller has seen one. */
  leaseRenewTime?: string;
}

const isNotReadyTaint = (t: Taint): boolean => t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE);

/**
 * What to do with `node` now: ask for a pod CIDR when it has none, mark the node
 * Unknown when it was last heard from (the later of its Lease's renewTime and its Ready
 * condition's lastHeartbeatTime) longer ago than the grace period (every condition, as Kubernetes'
 * node lifecycle controller does), and keep the taints its conditions call for (taints.ts), with
 * NodeNotReady and NodeReady events when the node's not-ready or unreachable taint comes or goes.
 * `requeueAfterMs` is when the heartbeat would go stale.
 */
export function reconcileNode(node: Node, now: number, opts: NodeReconcileOptions): { actions: NodeAction[]; requeueAfterMs?: number } {
  const actions: NodeAction[] = [];
  if (!node.spec?.podCIDR) actions.push({ type: 'need-cidr' });
  let conditions = node.status?.conditions ?? [];
  let requeueAfterMs: number | undefined;
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'Unknown') {
    const beat = Math.max(lastHeardFrom(ready.lastHeartbeatTime, opts.leaseRenewTime), opts.startedAt ?? 0);
    const staleAt = beat + opts.gracePeriodMs;
    if (now >= staleAt) {
      const at = new Date(now).toISOString();
      conditions = conditions.map((c) => ({
        ...c,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'the node agent stopped posting node status',
        lastTransitionTime: c.status === 'Unknown' ? c.lastTransitionTime : at,
      }));
      actions.push({ type: 'mark-unknown', conditions });
    } else {
      requeueAfterMs = staleAt - now + 100;
    }
  }
  const effective: Node = { ...node, status: { ...node.status, conditions } };
  const current = node.spec?.taints ?? [];
  const taints = withSystemTaints(current, systemTaints(effective), new Date(now).toISOString());
  if (JSON.stringify(taints) !== JSON.stringify(current)) {
    actions.push({ type: 'set-taints', taints });
    const was = current.some(isNotReadyTaint);
    const is = taints.some(isNotReadyTaint);
    const name = node.metadata.name;
    if (!was && is) actions.push({ type: 'event', eventType: 'Normal', reason: 'NodeNotReady', message: `Node ${name} status is now: NodeNotReady` });
    if (was && !is) actions.push({ type: 'event', eventType: 'Normal', reason: 'NodeReady', message: `Node ${name} status is now: NodeReady` });
  }
  return { actions, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}
