/** The node's cluster DNS (records.ts has the schema; server.ts the sockets; node-dns.ts the wiring). */
export { ClusterRecords, DNS_SCHEMA_VERSION, type RecordOptions, type Resolution } from './records';
export { handleMessage, type Decision } from './message';
export { startDnsServer, type DnsServer, type DnsServerOptions } from './server';
export { parseUpstream, type Upstream } from './forward';
export { clusterReverseCIDRs, DEFAULT_CLUSTER_DOMAIN, DEFAULT_DNS_TTL_SECONDS, startNodeDns, type NodeDnsOptions, type NodeDnsService } from './node-dns';
export { dnsQueries } from './metrics';
export { EMPTY_SERVICE_NETWORK } from './empty-source';
