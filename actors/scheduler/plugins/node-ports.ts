/**
 * The NodePorts filter: two pods on one node may not ask for the same host port with the same
 * protocol on overlapping addresses (0.0.0.0, every address, overlaps them all), as Kubernetes
 * checks it (https://kubernetes.io/docs/concepts/configuration/overview/#services).
 */
import { FITS, type FilterReasons, type HostPort, type NodeInfo, type PodInfo } from './types';

/** Kubernetes' reason for a node where a requested host port is taken. */
export const REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

const ANY = '0.0.0.0';

/** True when the two host ports cannot both be bound on one node. */
export function portsConflict(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && a.protocol === b.protocol && (a.ip === b.ip || a.ip === ANY || b.ip === ANY);
}

/** Filters out nodes where one of the pod's host ports is already taken. */
export function nodePortsFilter(pod: PodInfo, node: NodeInfo): FilterReasons {
  if (pod.ports.length === 0 || node.ports.length === 0) return FITS;
  for (const want of pod.ports) {
    if (node.ports.some((used) => portsConflict(want, used))) return [REASON_NODE_PORTS];
  }
  return FITS;
}
