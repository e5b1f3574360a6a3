/**
 * The names of the service proxy's iptables chains, laid out as kube-proxy's iptables mode lays
 * out its KUBE-* chains (https://kubernetes.io/docs/reference/networking/virtual-ips/ and
 * kubernetes pkg/proxy/iptables/proxier.go): fixed chains jumped to from the built-in ones, and
 * per service port and per endpoint chains named by a hash of what they stand for, so a name is
 * stable across restarts and at most 28 characters (iptables' limit is 28).
 */
import { createHash } from 'node:crypto';

/** nat: every packet's first stop (from PREROUTING and OUTPUT); filter: REJECT for ports without endpoints. */
export const SERVICES_CHAIN = 'MK-SERVICES';
/** nat: NodePorts (and LoadBalancer ports on node addresses), jumped to last from MK-SERVICES. */
export const NODEPORTS_CHAIN = 'MK-NODEPORTS';
/** nat: marks a packet for masquerade. */
export const MARK_MASQ_CHAIN = 'MK-MARK-MASQ';
/** nat: masquerades marked packets (jumped to first from POSTROUTING). */
export const POSTROUTING_CHAIN = 'MK-POSTROUTING';
/** filter: REJECT/DROP for external destinations (NodePorts, external and load balancer IPs). */
export const EXTERNAL_SERVICES_CHAIN = 'MK-EXTERNAL-SERVICES';
/** filter: accepts forwarded service traffic. */
export const FORWARD_CHAIN = 'MK-FORWARD';

/** The mark bit that asks MK-POSTROUTING to masquerade (kube-proxy's default is the same bit). */
export const MASQ_MARK = '0x4000';

/** The fixed chains of each table. */
export const FIXED_CHAINS = {
  nat: [SERVICES_CHAIN, NODEPORTS_CHAIN, MARK_MASQ_CHAIN, POSTROUTING_CHAIN],
  filter: [SERVICES_CHAIN, EXTERNAL_SERVICES_CHAIN, FORWARD_CHAIN],
} as const;

/** Prefixes of the hashed chains: a service port's, its local-only twin, its external entry, an endpoint's. */
export const HASHED_PREFIXES = ['MK-SVC-', 'MK-SVL-', 'MK-EXT-', 'MK-SEP-'] as const;

/** One jump from a built-in chain into the proxy's chains: appended or inserted first. */
export interface Jump { table: 'nat' | 'filter'; chain: string; args: string[]; first?: boolean }

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];
const comment = (c: string): string[] => ['-m', 'comment', '--comment', c];

/** The jumps from built-in chains, as kube-proxy makes them. */
export const JUMPS: readonly Jump[] = [
  { table: 'nat', chain: 'PREROUTING', args: [...comment('mk service portals'), '-j', SERVICES_CHAIN] },
  { table: 'nat', chain: 'OUTPUT', args: [...comment('mk service portals'), '-j', SERVICES_CHAIN] },
  // First: node-agent/network/routes.ts's MK-POD-NETWORK accepts pod-to-pod traffic before CNI's
  // masquerade, and service traffic marked for masquerade must still be masqueraded.
  { table: 'nat', chain: 'POSTROUTING', args: [...comment('mk service masquerade'), '-j', POSTROUTING_CHAIN], first: true },
  { table: 'filter', chain: 'INPUT', args: [...NEW, ...comment('mk external services'), '-j', EXTERNAL_SERVICES_CHAIN] },
  { table: 'filter', chain: 'FORWARD', args: [...NEW, ...comment('mk services'), '-j', SERVICES_CHAIN] },
  { table: 'filter', chain: 'FORWARD', args: [...NEW, ...comment('mk external services'), '-j', EXTERNAL_SERVICES_CHAIN] },
  { table: 'filter', chain: 'FORWARD', args: [...comment('mk forwarding rules'), '-j', FORWARD_CHAIN] },
  { table: 'filter', chain: 'OUTPUT', args: [...NEW, ...comment('mk services'), '-j', SERVICES_CHAIN] },
];

/** True for a chain this proxy makes (and only those: MK-POD-NETWORK and others are not). */
export function isProxyChain(table: 'nat' | 'filter', chain: string): boolean {
  return (FIXED_CHAINS[table] as readonly string[]).includes(chain)
    || HASHED_PREFIXES.some((p) => chain.startsWith(p) && chain.length === p.length + 16 && /^[A-Z2-7]+$/.test(chain.slice(p.length)));
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (no padding) of `bytes`. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Names already hashed: a sync names every chain again, and most are the same as last time. */
const hashed = new Map<string, string>();
const HASHED_CAP = 200_000;

/** `prefix` + the first 16 base32 characters of sha256(`identity`). */
export function hashedChain(prefix: (typeof HASHED_PREFIXES)[number], identity: string): string {
  const key = prefix + identity;
  let name = hashed.get(key);
  if (name === undefined) {
    name = prefix + base32(createHash('sha256').update(identity).digest()).slice(0, 16);
    if (hashed.size >= HASHED_CAP) hashed.clear();
    hashed.set(key, name);
  }
  return name;
}

/** A service port's identity: `ns/name:port/protocol` (port: its name, else its number). */
export function servicePortName(namespace: string, name: string, port: { name?: string; port: number }, protocol: string): string {
  return `${namespace}/${name}:${port.name || port.port}/${protocol}`;
}

/** The chains of one service port. */
export function serviceChains(portName: string): { svc: string; svl: string; ext: string } {
  return { svc: hashedChain('MK-SVC-', portName), svl: hashedChain('MK-SVL-', portName), ext: hashedChain('MK-EXT-', portName) };
}

/** The chain of one endpoint (`ip:port`) of a service port. */
export function endpointChain(portName: string, endpoint: string): string {
  return hashedChain('MK-SEP-', `${portName}/${endpoint}`);
}
