/**
 * The routes of the pod network (host-gw): for every node with a pod CIDR and an InternalIP, the
 * control plane keeps one entry in NODE_ROUTES_BUCKET under the node's name. Every node agent
 * reads them all (and nothing else of the other nodes) and routes each other node's pod CIDR via
 * that node's address, as flannel's host-gw backend does.
 */
import type { Node } from './cluster';

/** KV bucket of node routes, key `<node>` -> NodeRoute. Only the control plane writes it. */
export const NODE_ROUTES_BUCKET = 'mk-node-routes';

/** One node's entry: pods in `podCIDR` are reached via `internalIP`. */
export interface NodeRoute {
  name: string;
  podCIDR: string;
  internalIP: string;
}

/** The route of a node, or undefined while it has no pod CIDR or no InternalIP. */
export function nodeRouteOf(node: Node): NodeRoute | undefined {
  const podCIDR = node.spec?.podCIDR;
  const internalIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!podCIDR || !internalIP) return undefined;
  return { name: node.metadata.name, podCIDR, internalIP };
}
