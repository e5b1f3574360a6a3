/**
 * The node's cluster DNS: a server on the pod bridge's gateway address (the first address of the
 * node's pod CIDR), port 53, answering from the node's view of Services and EndpointSlices. The
 * bridge appears with the node's first pod sandbox, so listening is retried with backoff until the
 * address exists; a new pod CIDR (the node registered again) moves the server.
 */
import type { Logger } from 'pino';
import { backoffDelay, type BackoffPolicy } from '../../common/backoff';
import { gatewayOf } from '../network/cni';
import { clusterDnsConfig, type ClusterDnsConfig } from '../pods/dns';
import type { ServiceNetworkSource } from '../service-network/types';
import type { Upstream } from './forward';
import { ClusterRecords, DEFAULT_CLUSTER_CIDR, DEFAULT_SERVICE_CIDR } from './records';
import { startDnsServer, type DnsServer } from './server';

/** Kubernetes' default cluster domain (kubelet --cluster-domain). */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** TTL of the cluster's records, as CoreDNS's kubernetes plugin defaults it. */
export const DEFAULT_DNS_TTL_SECONDS = 5;

/** How the node serves cluster DNS. */
export interface NodeDnsOptions {
  source: ServiceNetworkSource;
  /** The cluster domain (default cluster.local). */
  domain?: string;
  /** Seconds (default 5). */
  ttl?: number;
  /** Resolvers for names outside the cluster; none = REFUSED. */
  upstreams?: Upstream[];
  /**
   * The cluster's own IPv4 ranges (its service CIDR and cluster CIDR): their reverse names are
   * answered here and never forwarded (default DEFAULT_REVERSE_CIDRS).
   */
  reverseCIDRs?: string[];
  /** Default 53. */
  port?: number;
  /** Between attempts to listen (default 100 ms doubling to 1 s). */
  retry?: BackoffPolicy;
  log: Logger;
}

/** The node's DNS service. */
export interface NodeDnsService {
  /** Serves on `podCIDR`'s gateway from now on (idempotent for the same CIDR). */
  setPodCIDR(podCIDR: string): void;
  /** The resolver for ClusterFirst pods, once the pod CIDR is known. */
  podDns(): ClusterDnsConfig | undefined;
  /**
   * The resolver for pods on `podCIDR` (setPodCIDR first, so the server serves there); the last
   * one known when `podCIDR` is undefined.
   */
  podDnsFor(podCIDR: string | undefined): ClusterDnsConfig | undefined;
  /** Answers from `source` from now on (the node's view of the store, once it has one). */
  setSource(source: ServiceNetworkSource): void;
  /** The running server, once it listens. */
  server(): DnsServer | undefined;
  /** Stops listening and retrying. */
  stop(): Promise<void>;
}

/**
 * The cluster's own ranges, whose reverse (PTR) names the cluster DNS answers: the service CIDR
 * and the cluster CIDR as the node is told, else MK_SERVICE_CLUSTER_IP_RANGE and MK_CLUSTER_CIDR
 * (the control plane's settings), else the defaults.
 */
export function clusterReverseCIDRs(
  given: { serviceCIDR?: string; clusterCIDR?: string }, env: NodeJS.ProcessEnv = process.env,
): string[] {
  return [
    given.serviceCIDR ?? env.MK_SERVICE_CLUSTER_IP_RANGE ?? DEFAULT_SERVICE_CIDR,
    given.clusterCIDR ?? env.MK_CLUSTER_CIDR ?? DEFAULT_CLUSTER_CIDR,
  ];
}

/** Starts the service; it listens once setPodCIDR is called and the address exists. */
export function startNodeDns(opts: NodeDnsOptions): NodeDnsService {
  const domain = (opts.domain ?? DEFAULT_CLUSTER_DOMAIN).toLowerCase().replace(/\.$/, '');
  const records = new ClusterRecords(opts.source, {
    domain, ttl: opts.ttl ?? DEFAULT_DNS_TTL_SECONDS, ...(opts.reverseCIDRs ? { reverseCIDRs: opts.reverseCIDRs } : {}),
  });
  // Often: the first pod's sandbox makes the bridge, and its first lookups should find the server.
  const retry = opts.retry ?? { initialMs: 100, maxMs: 1_000, jitter: 0.2 };
  const log = opts.log;
  let gateway: string | undefined;
  let running: DnsServer | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Each setPodCIDR and stop starts a new generation; a listen of an older one closes what it got.
  let generation = 0;
  let stopped = false;
  let current: Promise<void> = Promise.resolve();

  const attempt = (gen: number, host: string, n: number): void => {
    timer = undefined;
    // Never forward to ourselves (a node whose resolv.conf names this very address).
    const upstreams = (opts.upstreams ?? []).filter((u) => !(u.host === host && u.port === (opts.port ?? 53)));
    current = startDnsServer({ host, port: opts.port ?? 53, records, upstreams, log })
      .then(async (s) => {
        if (gen !== generation) { await s.stop(); return; }
        running = s;
      }, (err: NodeJS.ErrnoException) => {
        if (gen !== generation) return;
        // EADDRNOTAVAIL: the bridge has no such address yet (no pod has run here); quietly wait for it.
        if (err.code === 'EADDRNOTAVAIL') log.debug({ host }, 'cluster DNS: the pod bridge has no address yet; waiting');
        else if (n % 10 === 0) log.warn({ host, err: String(err), attempt: n }, 'cluster DNS cannot listen; retrying');
        timer = setTimeout(() => attempt(gen, host, n + 1), backoffDelay(retry, Math.min(n, 20)));
        timer.unref();
      });
  };

  const halt = async (): Promise<void> => {
    generation++;
    clearTimeout(timer);
    timer = undefined;
    await current.catch(() => undefined);
    const s = running;
    running = undefined;
    await s?.stop();
  };

  const service: NodeDnsService = {
    setPodCIDR(podCIDR) {
      if (stopped) return;
      const host = gatewayOf(podCIDR);
      if (host === gateway) return;
      gateway = host;
      void halt().then(() => { if (!stopped && gateway === host) attempt(generation, host, 0); });
    },
    podDns: () => (gateway ? clusterDnsConfig(gateway, domain) : undefined),
    podDnsFor: (podCIDR) => {
      if (podCIDR) service.setPodCIDR(podCIDR);
      return service.podDns();
    },
    setSource: (source) => records.setSource(source),
    server: () => running,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await halt();
      records.close();
    },
  };
  return service;
}
