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
  /**
   * The MAC address of the node's vxlan device (its VTEP), when the node runs the vxlan pod
   * network: other vxlan nodes reach its pods through the tunnel to `internalIP`. Absent on a
   * host-gw node.
   */
  vtepMAC?: string;
}

/**
 * The Node annotation in which a node agent of the vxlan pod network reports its VTEP's MAC
 * address (as flannel reports its backend data in `flannel.alpha.coreos.com/backend-data`). The
 * node writes it when it registers; the control plane copies it into the node's NodeRoute.
 */
export const VTEP_MAC_ANNOTATION = 'mk.io/vxlan-vtep-mac';

/** The Node annotation naming the pod network a node agent runs (`host-gw` or `vxlan`). */
export const POD_NETWORK_ANNOTATION = 'mk.io/pod-network';

/**
 * The Node annotation with the TCP port the node's ingress proxy listens on (absent: none). The
 * service controller keeps LoadBalancer services off that port: their rules would take the
 * ingress's traffic (the DNAT comes before any socket).
 */
export const INGRESS_PORT_ANNOTATION = 'mk.io/ingress-port';

/** The annotations a node agent owns on its Node: it sets them (or removes them) when registering. */
export const NODE_REPORTED_ANNOTATIONS: readonly string[] = [VTEP_MAC_ANNOTATION, POD_NETWORK_ANNOTATION, INGRESS_PORT_ANNOTATION];

/** The ingress port a Node reports, or undefined when it reports none (or a malformed one). */
export function ingressPortOf(node: Node): number | undefined {
  const v = node.metadata.annotations?.[INGRESS_PORT_ANNOTATION];
  return v !== undefined && isPortNumber(v) ? Number(v) : undefined;
}

/** Whether `v` is a TCP port number written in decimal (1-65535, no sign, no leading zero). */
export function isPortNumber(v: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(v) && Number(v) <= 65535;
}

/** The pod network backends: routes via the nodes' addresses (one L2 segment), or a vxlan overlay. */
export const POD_NETWORK_MODES = ['host-gw', 'vxlan'] as const;
/** A pod network backend. */
export type PodNetworkMode = (typeof POD_NETWORK_MODES)[number];

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Whether `mac` is a unicast MAC address written as six lower-case hex pairs. */
export function isUnicastMac(mac: string): boolean {
  return MAC.test(mac) && (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

/** The route of a node, or undefined while it has no pod CIDR or no InternalIP. */
export function nodeRouteOf(node: Node): NodeRoute | undefined {
  const podCIDR = node.spec?.podCIDR;
  const internalIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!podCIDR || !internalIP) return undefined;
  const vtepMAC = node.metadata.annotations?.[VTEP_MAC_ANNOTATION];
  return { name: node.metadata.name, podCIDR, internalIP, ...(vtepMAC && isUnicastMac(vtepMAC) ? { vtepMAC } : {}) };
}
