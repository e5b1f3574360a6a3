/**
 * The cluster DNS's Prometheus metrics: every query answered, by record type and response code
 * (CoreDNS's coredns_dns_responses_total plays this part in Kubernetes).
 */
import { counter } from '../../common/metrics';

/** Queries answered (or forwarded and relayed), by question type and response code. */
export const dnsQueries = counter({
  name: 'mk_dns_queries_total',
  help: 'DNS queries the node\'s cluster DNS answered, by question type (A, AAAA, SRV, PTR, ...) and response code (NOERROR, NXDOMAIN, REFUSED, ...), forwarded ones included.',
  labelNames: ['type', 'rcode'] as const,
});
