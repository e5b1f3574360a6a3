/**
 * A node's conditions as the control plane keeps them: the order Kubernetes shows them in, and
 * times that say when each was last posted and when its status last changed.
 */
import type { NodeCondition } from '../../messages';

/** kubectl shows a node's conditions in this order (the kubelet's setters' order). */
const ORDER: NodeCondition['type'][] = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'];

/**
 * `existing` with `reported` put over it at time `now` (RFC 3339): a reported condition gets
 * lastHeartbeatTime `now`, and lastTransitionTime `now` only when its status differs from the
 * one it replaces. Conditions not reported stay as they were.
 */
export function mergeConditions(
  existing: NodeCondition[],
  reported: Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>[],
  now: string,
): NodeCondition[] {
  const byType = new Map(existing.map((c) => [c.type, c]));
  for (const r of reported) {
    const old = byType.get(r.type);
    byType.set(r.type, {
      type: r.type, status: r.status, reason: r.reason, message: r.message, lastHeartbeatTime: now,
      lastTransitionTime: old && old.status === r.status && old.lastTransitionTime ? old.lastTransitionTime : now,
    });
  }
  const rank = (t: string): number => { const i = ORDER.indexOf(t as NodeCondition['type']); return i < 0 ? ORDER.length : i; };
  return [...byType.values()].sort((a, b) => rank(a.type) - rank(b.type));
}
