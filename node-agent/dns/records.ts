/**
 * The cluster DNS's records, read from the node's view of Services and EndpointSlices, in the
 * schema of Kubernetes' DNS specification, version 1.1.0
 * (https://github.com/kubernetes/dns/blob/master/docs/specification.md and
 * https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/):
 *
 * - `<svc>.<ns>.svc.<zone>` A/AAAA: the cluster IP; for a headless service the ready endpoints'
 *   addresses (all of them with publishNotReadyAddresses); CNAME for an ExternalName service.
 * - `<host>.<svc>.<ns>.svc.<zone>` A/AAAA: one endpoint of a service (headless, or with a cluster
 *   IP, as CoreDNS answers), by its hostname or, lacking one, its address with dashes
 *   (`10-244-1-5`).
 * - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV: a named port; targets the service, or each
 *   endpoint's host name for a headless service, with their addresses as additional records.
 * - `<a-b-c-d>.<ns>.pod.<zone>` A: the address written in the name (not checked against pods, as
 *   CoreDNS's `pods insecure`).
 * - `<reversed ip>.in-addr.arpa` PTR: cluster IPs, then endpoints (pod IPs) under a service that
 *   has them, headless services' first. Other addresses of the cluster's own ranges (service
 *   CIDR, cluster CIDR) are NXDOMAIN, never asked upstream: their names are private to the cluster.
 * - `dns-version.<zone>` TXT: the schema version.
 *
 * A name in the zone that does not exist is NXDOMAIN, a name that exists without the type asked
 * is NODATA; both carry the zone's SOA, so resolvers cache the negative answer. Until the node's
 * view has listed the store (the source is EMPTY_SERVICE_NETWORK), service names and reverse
 * names of the cluster's ranges are SERVFAIL, which resolvers do not cache as an absence (as
 * CoreDNS waits for its first sync). Pure but for the source it reads.
 */
import type { Answer, Question, RecordType, SoaAnswer } from 'dns-packet';
import type { EndpointSliceView, ServiceNetworkSource, ServiceView } from '../service-network/types';
import { EMPTY_SERVICE_NETWORK } from './empty-source';

/** The version of the Kubernetes DNS schema served (`dns-version.<zone>` TXT). */
export const DNS_SCHEMA_VERSION = '1.1.0';

/** How the records are made. */
export interface RecordOptions {
  /** The cluster domain, such as `cluster.local` (no trailing dot). */
  domain: string;
  /** TTL of every record and of negative answers, in seconds. */
  ttl: number;
  /**
   * The IPv4 ranges whose reverse names are the cluster's alone (default: the service CIDR
   * 10.96.0.0/12 and the cluster CIDR 10.244.0.0/16).
   */
  reverseCIDRs?: string[];
}

/** The ranges whose reverse names the cluster owns, unless configured otherwise. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
export const DEFAULT_REVERSE_CIDRS = [DEFAULT_SERVICE_CIDR, DEFAULT_CLUSTER_CIDR];

const ipNumber = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** A CIDR as base and mask; throws on one that is not IPv4. */
function parseCidr(cidr: string): { base: number; mask: number } {
  const [ip, bits] = cidr.split('/');
  const b = Number(bits);
  if (!isIPv4(ip ?? '') || !/^\d+$/.test(bits ?? '') || b > 32) throw new Error(`"${cidr}" is not an IPv4 CIDR`);
  const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  return { base: (ipNumber(ip) & mask) >>> 0, mask };
}

/** What the zone says about one question. */
export interface Resolution {
  rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL';
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /**
   * The answers end in a CNAME to this name outside the cluster (an ExternalName service): a
   * server with an upstream resolves it there and adds what it finds, as a recursive server would.
   */
  chase?: string;
}

/** Lower case, without the trailing dot. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for a dotted IPv4 address. */
export function isIPv4(ip: string): boolean {
  return IPV4.test(ip);
}

/** `10.244.1.5` -> `10-244-1-5`; IPv6 colons become dashes too. */
export function dashed(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

/** `10.244.1.5` -> `5.1.244.10.in-addr.arpa`. */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

const isHeadless = (svc: ServiceView): boolean => svc.spec.clusterIP === 'None';

/** The cluster IPs of a service that has them (allocated, not headless). */
function clusterIPs(svc: ServiceView): string[] {
  const ip = svc.spec.clusterIP;
  if (!ip || ip === 'None') return [];
  const all = svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : [ip];
  return all.filter((a) => a !== 'None');
}

/** One endpoint's address as DNS publishes it. */
interface PublishedEndpoint {
  ip: string;
  /** The label under the service's name: the endpoint's hostname or its dashed address. */
  host: string;
  slice: EndpointSliceView;
}

/**
 * The endpoints a headless service publishes: ready ones (`ready` unset counts as ready, as the
 * EndpointSlice API says), or all with publishNotReadyAddresses; each address once.
 */
function publishedEndpoints(source: ServiceNetworkSource, svc: ServiceView): PublishedEndpoint[] {
  const ns = svc.metadata.namespace ?? 'default';
  const out: PublishedEndpoint[] = [];
  const seen = new Set<string>();
  for (const slice of source.slicesOf(ns, svc.metadata.name)) {
    if (slice.addressType === 'FQDN') continue;
    for (const ep of slice.endpoints ?? []) {
      if (!svc.spec.publishNotReadyAddresses && ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses) {
        if (seen.has(ip)) continue;
        seen.add(ip);
        out.push({ ip, host: (ep.hostname ?? dashed(ip)).toLowerCase(), slice });
      }
    }
  }
  return out;
}

/** A or AAAA records for `ips` of the family asked. */
function addressRecords(name: string, ips: string[], type: 'A' | 'AAAA', ttl: number): Answer[] {
  return ips.filter((ip) => isIPv4(ip) === (type === 'A')).map((ip) => ({ name, type, class: 'IN', ttl, data: ip }));
}

/**
 * Answers questions about one cluster domain from a ServiceNetworkSource. Keeps a reverse index
 * (address -> name) for PTR, rebuilt on the first PTR question after the source changed.
 */
export class ClusterRecords {
  private reverse: Map<string, string> | undefined;
  private serial = Math.floor(Date.now() / 1000);
  private unlisten: () => void;
  private readonly reverseRanges: { base: number; mask: number }[];
  readonly domain: string;

  constructor(private source: ServiceNetworkSource, private readonly opts: RecordOptions) {
    this.domain = normalizeName(opts.domain);
    this.reverseRanges = (opts.reverseCIDRs ?? DEFAULT_REVERSE_CIDRS).map(parseCidr);
    this.unlisten = this.follow(source);
  }

  /** False while the source is the placeholder of a view that has not listed the store yet. */
  private get synced(): boolean {
    return this.source !== EMPTY_SERVICE_NETWORK;
  }

  private servfail(): Resolution {
    return { rcode: 'SERVFAIL', answers: [], authorities: [], additionals: [] };
  }

  /** Whether `ip` is in one of the cluster's own ranges. */
  private ownsAddress(ip: string): boolean {
    const n = ipNumber(ip);
    return this.reverseRanges.some((r) => ((n & r.mask) >>> 0) === r.base);
  }

  private follow(source: ServiceNetworkSource): () => void {
    return source.onChange(() => this.changed());
  }

  private changed(): void {
    this.reverse = undefined;
    // The zone's serial moves with every change, so secondary caches see a new version.
    this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
  }

  /** Answers from `source` from now on (the node's view, once it has listed the store). */
  setSource(source: ServiceNetworkSource): void {
    if (source === this.source) return;
    this.unlisten();
    this.source = source;
    this.unlisten = this.follow(source);
    this.changed();
  }

  /** Stops following the source. */
  close(): void {
    this.unlisten();
  }

  /** True when `name` is the cluster domain or under it (case-insensitive). */
  inZone(name: string): boolean {
    const n = normalizeName(name);
    return n === this.domain || n.endsWith(`.${this.domain}`);
  }

  /** The zone's SOA record, as negative answers carry it. */
  soa(): SoaAnswer {
    const d = this.domain;
    return {
      name: d, type: 'SOA', class: 'IN', ttl: this.opts.ttl,
      data: { mname: `ns.dns.${d}`, rname: `hostmaster.${d}`, serial: this.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: this.opts.ttl },
    };
  }

  /**
   * What the cluster says about `q`, or undefined when the name is not the cluster's (outside the
   * zone, or a reverse name of an address the cluster does not know): the caller forwards or
   * refuses it.
   */
  resolve(q: Question): Resolution | undefined {
    const name = normalizeName(q.name);
    if (name.endsWith('.in-addr.arpa')) return this.resolveReverse(q, name);
    if (!this.inZone(name)) return undefined;
    return this.resolveInZone(q, name, 0);
  }

  private ok(answers: Answer[], additionals: Answer[] = []): Resolution {
    // An existing name without records of the type asked: NODATA, with the SOA for caching it.
    return { rcode: 'NOERROR', answers, authorities: answers.length === 0 ? [this.soa()] : [], additionals };
  }

  private nxdomain(): Resolution {
    return { rcode: 'NXDOMAIN', answers: [], authorities: [this.soa()], additionals: [] };
  }

  private resolveReverse(q: Question, name: string): Resolution | undefined {
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (octets.length !== 4) return undefined;
    const ip = octets.reverse().join('.');
    if (!isIPv4(ip)) return undefined;
    const owned = this.ownsAddress(ip);
    if (owned && !this.synced) return this.servfail();
    const target = this.reverseIndex().get(ip);
    // An address of the cluster's ranges that names nothing: no upstream may hear of it.
    if (!target) return owned ? this.nxdomain() : undefined;
    if (q.type !== 'PTR') return { rcode: 'NOERROR', answers: [], authorities: [], additionals: [] };
    return { rcode: 'NOERROR', answers: [{ name: q.name, type: 'PTR', class: 'IN', ttl: this.opts.ttl, data: target }], authorities: [], additionals: [] };
  }

  /**
   * Address -> name: cluster IPs first, then headless services' endpoints, then the endpoints of
   * other services (a pod's IP names it under a service that selects it, as CoreDNS answers);
   * the first name found for an address is its one PTR.
   */
  private reverseIndex(): Map<string, string> {
    if (this.reverse) return this.reverse;
    const index = new Map<string, string>();
    const fqdn = (svc: ServiceView): string => `${svc.metadata.name}.${svc.metadata.namespace ?? 'default'}.svc.${this.domain}`;
    const services = this.source.services().filter((s) => s.spec.type !== 'ExternalName');
    for (const svc of services) for (const ip of clusterIPs(svc)) index.set(ip, fqdn(svc));
    for (const svc of [...services.filter(isHeadless), ...services.filter((s) => !isHeadless(s))]) {
      for (const ep of publishedEndpoints(this.source, svc)) if (!index.has(ep.ip)) index.set(ep.ip, `${ep.host}.${fqdn(svc)}`);
    }
    this.reverse = index;
    return index;
  }

  private resolveInZone(q: Question, name: string, depth: number): Resolution {
    const ttl = this.opts.ttl;
    const rel = name === this.domain ? [] : name.slice(0, -(this.domain.length + 1)).split('.').reverse();
    const type = q.type as RecordType;
    if (rel.length === 0) {
      if (type === 'SOA') return this.ok([{ ...this.soa(), name: q.name }]);
      if (type === 'NS') return this.ok([{ name: q.name, type: 'NS', class: 'IN', ttl, data: `ns.dns.${this.domain}` }]);
      return this.ok([]);
    }
    if (rel.length === 1 && rel[0] === 'dns-version') {
      return this.ok(type === 'TXT' ? [{ name: q.name, type: 'TXT', class: 'IN', ttl, data: DNS_SCHEMA_VERSION }] : []);
    }
    if (rel[0] === 'pod') return this.resolvePod(q, rel);
    if (rel[0] !== 'svc') return this.nxdomain();
    if (rel.length === 1) return this.ok([]);
    if (!this.synced) return this.servfail();
    const ns = rel[1];
    if (rel.length === 2) return this.source.services().some((s) => (s.metadata.namespace ?? 'default') === ns) ? this.ok([]) : this.nxdomain();
    const svc = this.findService(ns, rel[2]);
    if (!svc) return this.nxdomain();
    if (rel.length === 3) return this.serviceRecords(q, svc, depth);
    if (rel.length === 4) return this.endpointRecords(q, svc, rel[3]);
    if (rel.length === 5 && rel[3].startsWith('_') && rel[4].startsWith('_')) return this.srvRecords(q, svc, rel[4].slice(1), rel[3].slice(1));
    return this.nxdomain();
  }

  /** The service by name, matched without regard to case (DNS names are case-insensitive). */
  private findService(ns: string, name: string): ServiceView | undefined {
    return this.source.service(ns, name)
      ?? this.source.services().find((s) => (s.metadata.namespace ?? 'default').toLowerCase() === ns && s.metadata.name.toLowerCase() === name);
  }

  private serviceRecords(q: Question, svc: ServiceView, depth: number): Resolution {
    const ttl = this.opts.ttl;
    if (svc.spec.type === 'ExternalName') {
      const target = normalizeName(svc.spec.externalName ?? '');
      if (!target) return this.ok([]);
      const cname: Answer = { name: q.name, type: 'CNAME', class: 'IN', ttl, data: target };
      if (q.type === 'CNAME') return this.ok([cname]);
      // A target in the cluster domain is answered here too, as a recursive server would; one
      // outside is left to the client's resolver (or chased by the server through its upstream).
      if (this.inZone(target) && depth < 8) {
        const rest = this.resolveInZone({ ...q, name: target }, target, depth + 1);
        return { ...rest, answers: [cname, ...rest.answers] };
      }
      return { rcode: 'NOERROR', answers: [cname], authorities: [], additionals: [], ...(this.inZone(target) ? {} : { chase: target }) };
    }
    if (q.type !== 'A' && q.type !== 'AAAA') return this.ok([]);
    const ips = isHeadless(svc) ? publishedEndpoints(this.source, svc).map((e) => e.ip) : clusterIPs(svc);
    return this.ok(addressRecords(q.name, ips, q.type, ttl));
  }

  /** One endpoint by its name under the service (any service with endpoints: the PTR targets resolve). */
  private endpointRecords(q: Question, svc: ServiceView, host: string): Resolution {
    if (svc.spec.type === 'ExternalName') return this.nxdomain();
    const ips = publishedEndpoints(this.source, svc).filter((e) => e.host === host).map((e) => e.ip);
    if (ips.length === 0) return this.nxdomain();
    if (q.type !== 'A' && q.type !== 'AAAA') return this.ok([]);
    return this.ok(addressRecords(q.name, ips, q.type, this.opts.ttl));
  }

  private srvRecords(q: Question, svc: ServiceView, portName: string, proto: string): Resolution {
    const ttl = this.opts.ttl;
    const port = (svc.spec.ports ?? []).find((p) => p.name?.toLowerCase() === portName && (p.protocol ?? 'TCP').toLowerCase() === proto);
    if (!port) return this.nxdomain();
    if (q.type !== 'SRV') return this.ok([]);
    const ns = svc.metadata.namespace ?? 'default';
    const fqdn = `${svc.metadata.name}.${ns}.svc.${this.domain}`;
    if (!isHeadless(svc)) {
      const srv: Answer = { name: q.name, type: 'SRV', class: 'IN', ttl, data: { priority: 0, weight: 100, port: port.port, target: fqdn } };
      const ips = clusterIPs(svc);
      return this.ok([srv], [...addressRecords(fqdn, ips, 'A', ttl), ...addressRecords(fqdn, ips, 'AAAA', ttl)]);
    }
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    for (const ep of publishedEndpoints(this.source, svc)) {
      // A headless service's port is the endpoint's: the slice's port of the same name.
      const slicePort = ep.slice.ports?.find((p) => p.name?.toLowerCase() === portName && (p.protocol ?? 'TCP').toLowerCase() === proto);
      const number = slicePort?.port ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port);
      const target = `${ep.host}.${fqdn}`;
      answers.push({ name: q.name, type: 'SRV', class: 'IN', ttl, data: { priority: 0, weight: 100, port: number, target } });
      additionals.push(...addressRecords(target, [ep.ip], isIPv4(ep.ip) ? 'A' : 'AAAA', ttl));
    }
    return this.ok(answers, additionals);
  }

  private resolvePod(q: Question, rel: string[]): Resolution {
    if (rel.length <= 2) return this.ok([]);
    if (rel.length !== 3) return this.nxdomain();
    const ip = rel[2].replace(/-/g, '.');
    if (!isIPv4(ip)) return this.nxdomain();
    return this.ok(q.type === 'A' ? [{ name: q.name, type: 'A', class: 'IN', ttl: this.opts.ttl, data: ip }] : []);
  }
}
