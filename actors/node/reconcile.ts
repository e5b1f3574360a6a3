/**
 * The control plane's side of a Node: give it a pod CIDR once, and mark it NotReady (Unknown)
 * when its heartbeats stop, like the node lifecycle controller
 * (https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller).
 */
import { NODE_GRACE_MS, type Node, type NodeCondition } from '../../messages';

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
  | { type: 'mark-unknown'; condition: NodeCondition };

/**
 * What to do with `node` now, given the CIDRs other nodes hold. `requeueAfterMs` is when the
 * heartbeat would go stale.
 */
export function reconcileNode(node: Node, otherCidrs: string[], now: number, clusterCidr = CLUSTER_CIDR): { actions: NodeAction[]; requeueAfterMs?: number } {
  const actions: NodeAction[] = [];
  if (!node.spec?.podCIDR) actions.push({ type: 'assign-cidr', cidr: nextFreeCidr(clusterCidr, otherCidrs) });
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'Unknown') return { actions };
  const beat = Date.parse(ready.lastHeartbeatTime ?? '') || 0;
  const staleAt = beat + NODE_GRACE_MS;
  if (now >= staleAt) {
    actions.push({
      type: 'mark-unknown',
      condition: {
        ...ready,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'the node agent stopped posting node status',
        lastTransitionTime: new Date(now).toISOString(),
      },
    });
    return { actions };
  }
  return { actions, requeueAfterMs: staleAt - now + 100 };
}
