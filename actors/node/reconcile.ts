/**
 * The control plane's side of a Node: give it a pod CIDR once, mark it Unknown when its
 * heartbeats stop and taint it by its conditions, like the node lifecycle controller
 * (https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller).
 */
import { TAINT_NOT_READY, TAINT_UNREACHABLE, type Node, type NodeCondition, type Taint } from '../../messages';
import { systemTaints, withSystemTaints } from './taints';

export const CLUSTER_CIDR = '10.244.0.0/16';

/** The i-th /24 of a /16 cluster CIDR. */
export function podCidrAt(clusterCidr: string, index: number): string {
  const [base, bits] = clusterCidr.split('/');
  if (bits !== '16') throw new Error(`cluster CIDR ${clusterCidr}: only /16 cluster CIDRs are supported`);
  const [a, b] = base.split('.');
  if (index < 0 || index > 255) throw new Error(`cluster CIDR ${clusterCidr} has no room for another node`);
  return `${a}.${b}.${index}.0/24`;
}

/** The lowest free /24 index, skipping those other nodes hold. Index 0 is kept free (the network address block). */
export function nextFreeCidr(clusterCidr: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let i = 1; i < 256; i++) {
    const c = podCidrAt(clusterCidr, i);
    if (!used.has(c)) return c;
  }
  throw new Error(`cluster CIDR ${clusterCidr} is exhausted: 255 nodes hold a pod CIDR`);
}

export type NodeAction =
  | { type: 'assign-cidr'; cidr: string }
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
  clusterCidr?: string;
}

const isNotReadyTaint = (t: Taint): boolean => t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE);

/**
 * What to do with `node` now, given the CIDRs other nodes hold: assign a pod CIDR, mark the node
 * Unknown when its heartbeat is older than the grace period (every condition, as Kubernetes'
 * node lifecycle controller does), and keep the taints its conditions call for (taints.ts), with
 * NodeNotReady and NodeReady events when the node's not-ready or unreachable taint comes or goes.
 * `requeueAfterMs` is when the heartbeat would go stale.
 */
export function reconcileNode(node: Node, otherCidrs: string[], now: number, opts: NodeReconcileOptions): { actions: NodeAction[]; requeueAfterMs?: number } {
  const actions: NodeAction[] = [];
  if (!node.spec?.podCIDR) actions.push({ type: 'assign-cidr', cidr: nextFreeCidr(opts.clusterCidr ?? CLUSTER_CIDR, otherCidrs) });
  let conditions = node.status?.conditions ?? [];
  let requeueAfterMs: number | undefined;
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'Unknown') {
    const beat = Math.max(Date.parse(ready.lastHeartbeatTime ?? '') || 0, opts.startedAt ?? 0);
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
