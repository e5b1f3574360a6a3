/**
 * What a node's heartbeat writes. Liveness goes to the node's Lease (renewed on every beat); the
 * Node itself is written only when its reported conditions changed or its last write is old, as
 * the kubelet does with nodeStatusReportFrequency
 * (https://kubernetes.io/docs/concepts/architecture/nodes/#node-heartbeats).
 */
import {
  NODE_LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE,
  type Lease, type Node, type NodeCondition,
} from '../../messages';
import { mergeConditions } from './conditions';

/** The Node is written at least this often even when nothing changed (Kubernetes' 5 min). */
export const NODE_STATUS_REPORT_MS = 5 * 60_000;

/** A condition as a node reports it. */
export type ReportedCondition = Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>;

const sameIgnoringTimes = (a: NodeCondition[], b: NodeCondition[]): boolean =>
  a.length === b.length && a.every((c, i) => c.type === b[i]!.type && c.status === b[i]!.status
    && c.reason === b[i]!.reason && c.message === b[i]!.message);

/**
 * The conditions to write onto the Node for a heartbeat at `now` (ms), or null when the Node need
 * not be written: the reported conditions change nothing but heartbeat times and the Ready
 * condition's lastHeartbeatTime is younger than NODE_STATUS_REPORT_MS.
 */
export function heartbeatConditions(existing: NodeCondition[], reported: ReportedCondition[], now: number): NodeCondition[] | null {
  const merged = mergeConditions(existing, reported, new Date(now).toISOString());
  if (!sameIgnoringTimes(existing, merged)) return merged;
  const ready = existing.find((c) => c.type === 'Ready');
  const last = Date.parse(ready?.lastHeartbeatTime ?? '');
  if (!Number.isFinite(last) || now - last >= NODE_STATUS_REPORT_MS) return merged;
  return null;
}

/** RFC 3339 with microseconds, as Kubernetes writes a lease's times. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');

/**
 * The node's lease renewed at `now` (ms): `existing` with holder and renew time set, or a new
 * one owned by the Node (so the garbage collector removes it with the Node).
 */
export function renewedLease(node: Node, existing: Lease | undefined, now: number): Lease {
  const name = node.metadata.name;
  const at = microTime(now);
  const lease: Lease = existing ? structuredClone(existing) : {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name, namespace: NODE_LEASE_NAMESPACE },
  };
  if (node.metadata.uid) {
    lease.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }];
  }
  const holder = lease.spec?.holderIdentity;
  lease.spec = {
    ...lease.spec,
    holderIdentity: name,
    leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS,
    renewTime: at,
    ...(holder !== name || !lease.spec?.acquireTime ? { acquireTime: at } : {}),
  };
  return lease;
}

/**
 * When the node was last heard from (ms): the later of its lease's renewTime and its Ready
 * condition's lastHeartbeatTime (the node lifecycle controller's rule); 0 when neither is known.
 */
export function lastHeardFrom(readyHeartbeat: string | undefined, leaseRenew: string | undefined): number {
  const a = Date.parse(readyHeartbeat ?? '');
  const b = Date.parse(leaseRenew ?? '');
  return Math.max(Number.isFinite(a) ? a : 0, Number.isFinite(b) ? b : 0);
}
