/**
 * The pod's resolver, as kubelet's dns configurer builds it (kubernetes/kubernetes
 * pkg/kubelet/network/dns/dns.go; https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/):
 * dnsPolicy picks a base (the node's resolv.conf, the cluster DNS, or nothing), and dnsConfig adds
 * nameservers and search domains after it and replaces options of the same name. Pure.
 */
import type { Pod } from '../../messages/pod';
import { MAX_DNS_NAMESERVERS, MAX_DNS_SEARCHES } from '../../messages/lifecycle';
import type { DNSConfig } from '../cri/types';

/** Reads resolv.conf text: nameserver, search (and domain) and options lines; the rest is ignored. */
export function parseResolvConf(text: string): DNSConfig {
  const servers: string[] = [];
  let searches: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) servers.push(rest[0]);
    // The last search or domain line wins, as in the resolver.
    else if (key === 'search' || key === 'domain') searches = rest;
    else if (key === 'options') options.push(...rest);
  }
  return { servers, searches, options };
}

const unique = (xs: string[]): string[] => [...new Set(xs)];
const optionName = (o: string): string => o.split(':')[0];

/** Options of `base`, each replaced by one of the same name from `extra`, then the new ones. */
function mergeOptions(base: string[], extra: string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...base, ...extra]) byName.set(optionName(o), o);
  return [...byName.values()];
}

/** Where the resolver's base comes from, per node. */
export interface NodeDns {
  /** The node's own resolv.conf, parsed: the base of Default (and of ClusterFirst without cluster DNS). */
  node?: DNSConfig;
  /** The cluster DNS (servers, searches, options): the base of ClusterFirst; none yet in mk. */
  cluster?: DNSConfig;
}

/**
 * The DNSConfig for RunPodSandbox, or undefined for the runtime's default (a copy of the node's
 * resolv.conf, which is what Default asks for when the pod adds nothing). Nameservers and search
 * domains beyond Kubernetes' limits are dropped, as kubelet does.
 */
export function podDnsConfig(pod: Pod, dns: NodeDns): DNSConfig | undefined {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  const extra = pod.spec.dnsConfig;
  let base: DNSConfig | undefined;
  if (policy === 'None') base = { servers: [], searches: [], options: [] };
  else if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && dns.cluster) base = dns.cluster;
  else if (!extra) return undefined;
  else base = dns.node ?? { servers: [], searches: [], options: [] };
  if (!extra) return base;
  return {
    servers: unique([...(base.servers ?? []), ...(extra.nameservers ?? [])]).slice(0, MAX_DNS_NAMESERVERS),
    searches: unique([...(base.searches ?? []), ...(extra.searches ?? [])]).slice(0, MAX_DNS_SEARCHES),
    options: mergeOptions(base.options ?? [], (extra.options ?? []).map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`))),
  };
}
