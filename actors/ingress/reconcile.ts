/**
 * The Ingress controller's pure part: the status an Ingress should have (the InternalIP of every
 * Ready node, where each node's ingress proxy listens, as k3s's service load balancer reports
 * them) and which of the services it names do not exist.
 */
import type { Ingress, IngressStatus, Node } from '../../messages';
import { ingressServices } from '../../messages';

/** The InternalIP of each Ready node, sorted and without repeats. */
export function readyNodeAddresses(nodes: Iterable<Node>): string[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    if (n.metadata.deletionTimestamp) continue;
    if (n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') continue;
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (ip) ips.add(ip);
  }
  return [...ips].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** The status of an Ingress served at `addresses`. */
export function ingressStatus(addresses: string[]): IngressStatus {
  return { loadBalancer: addresses.length > 0 ? { ingress: addresses.map((ip) => ({ ip })) } : {} };
}

/** The services `ing` names that are not among `existing` (names in its namespace). */
export function missingServices(ing: Ingress, existing: (name: string) => boolean): string[] {
  return ingressServices(ing).filter((s) => !existing(s));
}
