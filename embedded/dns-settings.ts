/**
 * The node agent's cluster DNS settings from its flags or, for the nodes `mk up` starts, from the
 * environment `mk up` passes down: MK_CLUSTER_DOMAIN and MK_DNS_UPSTREAM (comma-separated
 * `host[:port]`, or `none` to refuse names outside the cluster).
 */
import { dns1123SubdomainError } from '../messages';
import { parseUpstream, type Upstream } from '../node-agent/dns/forward';
import { ClusterError } from './errors';

/** What the flags say; an absent one falls back to the environment, then to the node's defaults. */
export interface DnsFlags {
  clusterDomain?: string;
  dnsUpstreams?: string[];
}

/**
 * The node agent's `dns` option. Throws ClusterError naming the flag (or variable) whose value is
 * not a domain name, or not `none` or a list of IP addresses with optional ports.
 */
export function nodeDnsSettings(flags: DnsFlags, env: NodeJS.ProcessEnv = process.env): { domain?: string; upstreams?: Upstream[] } {
  const out: { domain?: string; upstreams?: Upstream[] } = {};
  const domainFrom = flags.clusterDomain !== undefined ? '--cluster-domain' : 'MK_CLUSTER_DOMAIN';
  const domain = (flags.clusterDomain ?? env.MK_CLUSTER_DOMAIN)?.replace(/\.$/, '').toLowerCase();
  if (domain !== undefined && domain !== '') {
    const bad = dns1123SubdomainError(domain);
    if (bad) throw new ClusterError(`${domainFrom}: "${domain}" is not a domain name: ${bad}`);
    out.domain = domain;
  }
  const upFrom = flags.dnsUpstreams !== undefined ? '--dns-upstream' : 'MK_DNS_UPSTREAM';
  const raw = flags.dnsUpstreams ?? (env.MK_DNS_UPSTREAM ? [env.MK_DNS_UPSTREAM] : undefined);
  if (raw !== undefined) {
    const items = raw.flatMap((r) => r.split(',')).map((r) => r.trim()).filter((r) => r !== '');
    if (items.includes('none')) {
      if (items.length > 1) throw new ClusterError(`${upFrom}: "none" cannot be combined with resolvers`);
      out.upstreams = [];
    } else {
      try {
        out.upstreams = items.map(parseUpstream);
      } catch (err) {
        throw new ClusterError(`${upFrom}: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

/**
 * What `mk up` keeps for its nodes (credentials.json): the cluster domain and resolvers as given
 * this start, by flag or in the environment (`mk up` puts its flags there for its nodes); what is
 * not given is left to what the data directory already keeps. Check with nodeDnsSettings first.
 */
export function dnsSettingsToKeep(env: NodeJS.ProcessEnv = process.env): { clusterDomain?: string; dnsUpstreams?: string[] } {
  const domain = env.MK_CLUSTER_DOMAIN?.replace(/\.$/, '').toLowerCase();
  const upstreams = env.MK_DNS_UPSTREAM?.split(',').map((u) => u.trim()).filter((u) => u !== '');
  return {
    ...(domain ? { clusterDomain: domain } : {}),
    ...(upstreams && upstreams.length > 0 ? { dnsUpstreams: upstreams } : {}),
  };
}
