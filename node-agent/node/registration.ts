/**
 * The node agent's Node object: registered on start (created, or its status refreshed when it
 * already exists), then a heartbeat that keeps the Ready condition's lastHeartbeatTime fresh.
 */
import type { ObjectStore } from '../../bus';
import { isAlreadyExists, objectKey, timestamp, type Node, type NodeCondition, type NodeStatus } from '../../messages';

const now = () => timestamp();

/**
 * Creates or refreshes this node's object. Returns it as stored. `podCIDR` re-registers a node
 * that was deleted while its agent ran, keeping the pod network it already has.
 */
export async function registerNode(store: ObjectStore, name: string, status: NodeStatus, podCIDR?: string): Promise<Node> {
  const key = objectKey('nodes', undefined, name);
  const labels = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': status.nodeInfo?.architecture ?? 'amd64' };
  const ready: NodeCondition = { type: 'Ready', status: 'False', reason: 'NodeStarting', message: 'waiting for a pod CIDR', lastHeartbeatTime: now(), lastTransitionTime: now() };
  const fresh: Node = {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels, creationTimestamp: now(), uid: crypto.randomUUID(), generation: 1 },
    spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
    status: { ...status, conditions: [ready] },
  };
  try {
    await store.create(key, fresh);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    await store.mutate<Node>(key, (n) => {
      n.metadata.labels = { ...n.metadata.labels, ...labels };
      n.status = { ...n.status, ...status, conditions: n.status?.conditions ?? [ready] };
      return n;
    });
  }
  return (await store.get<Node>(key))!.object;
}

/**
 * Sets the Ready condition (status, reason, message) and the heartbeat time. lastTransitionTime
 * moves only when the status changes.
 */
export async function setReady(store: ObjectStore, name: string, status: 'True' | 'False', reason: string, message: string): Promise<Node | null> {
  const out = await store.mutate<Node>(objectKey('nodes', undefined, name), (n) => {
    const conds = n.status?.conditions ?? [];
    const old = conds.find((c) => c.type === 'Ready');
    const t = now();
    const cond: NodeCondition = {
      type: 'Ready', status, reason, message, lastHeartbeatTime: t,
      lastTransitionTime: old && old.status === status ? old.lastTransitionTime : t,
    };
    n.status = { ...n.status, conditions: [...conds.filter((c) => c.type !== 'Ready'), cond] };
    return n;
  });
  return out?.object ?? null;
}
