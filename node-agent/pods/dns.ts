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

/**
 * The cluster DNS as pods see it: its servers, searches and options, and the cluster domain. With
 * a domain, a pod's search list starts `<pod ns>.svc.<domain> svc.<domain> <domain>`, as
 * kubelet's does, before `searches`.
 */
export interface ClusterDnsConfig extends DNSConfig {
  domain?: string;
}

/** Where the resolver's base comes from, per node. */
export interface NodeDns {
  /** The node's own resolv.conf, parsed: the base of Default (and of ClusterFirst without cluster DNS). */
  node?: DNSConfig;
  /** The cluster DNS (the node's own server, node-agent/dns): the base of ClusterFirst. */
  cluster?: ClusterDnsConfig;
}

/** Kubernetes' ndots for cluster DNS: a name with fewer than 5 dots tries the search list first. */
export const CLUSTER_DNS_NDOTS = 5;

/** The cluster DNS served at `server` for `domain`: that nameserver, ndots:5, the domain's searches. */
export function clusterDnsConfig(server: string, domain: string): ClusterDnsConfig {
  return { servers: [server], searches: [], options: [`ndots:${CLUSTER_DNS_NDOTS}`], domain };
}

/**
 * The ClusterFirst base of a pod in `namespace`: its namespace's search domains first, then the
 * cluster's own and the node's, as kubelet appends the host's search list.
 */
function clusterBase(cluster: ClusterDnsConfig, namespace: string, node?: DNSConfig): DNSConfig {
  const { domain, ...rest } = cluster;
  if (!domain) return rest;
  const d = domain.replace(/\.$/, '');
  const searches = [`${namespace}.svc.${d}`, `svc.${d}`, d, ...(rest.searches ?? []), ...(node?.searches ?? [])];
  return { ...rest, searches: unique(searches).slice(0, MAX_DNS_SEARCHES) };
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
  else if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && dns.cluster) base = clusterBase(dns.cluster, pod.metadata.namespace ?? 'default', dns.node);
  else if (!extra) return undefined;
  else base = dns.node ?? { servers: [], searches: [], options: [] };
  if (!extra) return base;
  return {
    servers: unique([...(base.servers ?? []), ...(extra.nameservers ?? [])]).slice(0, MAX_DNS_NAMESERVERS),
    searches: unique([...(base.searches ?? []), ...(extra.searches ?? [])]).slice(0, MAX_DNS_SEARCHES),
    options: mergeOptions(base.options ?? [], (extra.options ?? []).map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`))),
  };
}
