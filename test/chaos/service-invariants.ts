/**
 * The Service invariants of a chaos round, pure functions of what the store and the node show:
 *
 * - `cluster-ip` / `node-port`: every live Service has a cluster IP in the service CIDR that no
 *   other Service has, and node ports in the NodePort range that no other Service has;
 * - `allocation`: every allocation key is held by a live Service of the owner's uid that has that
 *   IP or port, and every IP and port a Service holds has its key (the repair mends both);
 * - `endpoints`: each Service's EndpointSlices list exactly the pods its selector picks that have
 *   a podIP and have not finished, once each, ready as their Ready condition says;
 * - `proxy`: the node's nat table has an MK-SVC chain for each service port with a ready
 *   endpoint, and no MK-SVC chain of a service port that no live Service has;
 * - `dns`: the node's cluster DNS answers each Service's name with its cluster IP (a headless
 *   Service's: its ready endpoints' addresses).
 */
import { heldKeys, type AllocationOwner } from '../../actors/service/allocations';
import {
  HEADLESS, LABEL_SERVICE_NAME, type EndpointSlice, type KubeObject, type Pod, type Service,
} from '../../messages';
import { serviceChains, servicePortName } from '../../node-agent/proxy/chains';
import type { Violation } from './kind';

/** The defaults every cluster uses (docs/architecture.md). */
export const SERVICE_CIDR = '10.96.0.0/12';
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;
export const CLUSTER_DOMAIN = 'cluster.local';

/** What the node showed one probe (test/chaos/service-probe.ts); a part that failed has its error instead. */
export interface ServiceProbe {
  /** Every key of the allocation bucket and who holds it. */
  allocations?: { key: string; owner: AllocationOwner }[];
  allocationsError?: string;
  /** The names of the chains of the node's nat table (iptables-save). */
  natChains?: string[];
  iptablesError?: string;
  /** A-record answers per name asked: the addresses, or the response code when not NOERROR. */
  dns?: Record<string, { rcode: string; addresses: string[] }>;
  dnsError?: string;
}

const v = (invariant: string, subject: string, detail: string, permanent = false): Violation => ({ invariant, subject, detail, permanent });
const nsOf = (o: KubeObject): string => o.metadata.namespace ?? 'default';
const svcSubject = (s: Service): string => `service ${nsOf(s)}/${s.metadata.name}`;
const live = <T extends KubeObject>(xs: readonly T[]): T[] => xs.filter((x) => !x.metadata.deletionTimestamp);

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((a, p) => a * 256 + Number(p), 0);
}

/** True when `ip` is in `cidr` (IPv4). */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const a = ipToInt(ip);
  const b = ipToInt(base);
  if (a === undefined || b === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(b / size);
}

/** Whether a Service has a cluster IP of its own (not headless, not ExternalName). */
export const hasClusterIP = (s: Service): boolean => s.spec.type !== 'ExternalName' && !!s.spec.clusterIP && s.spec.clusterIP !== HEADLESS;

/** `cluster-ip` and `node-port`: see the module comment. Duplicates and strays are permanent (nothing reassigns them). */
export function checkServiceRanges(services: readonly Service[], cidr = SERVICE_CIDR, ports: { min: number; max: number } = NODE_PORT_RANGE): Violation[] {
  const out: Violation[] = [];
  const ips = new Map<string, Service>();
  const nodePorts = new Map<string, Service>();
  for (const s of live(services)) {
    if (hasClusterIP(s)) {
      const ip = s.spec.clusterIP!;
      if (!inCidr(ip, cidr)) out.push(v('cluster-ip', svcSubject(s), `cluster IP ${ip} is outside the service CIDR ${cidr}`, true));
      const other = ips.get(ip);
      if (other) out.push(v('cluster-ip', svcSubject(s), `cluster IP ${ip} is also ${svcSubject(other)}'s`, true));
      else ips.set(ip, s);
    }
    for (const p of s.spec.ports ?? []) {
      if (p.nodePort === undefined) continue;
      if (p.nodePort < ports.min || p.nodePort > ports.max) {
        out.push(v('node-port', svcSubject(s), `node port ${p.nodePort} is outside ${ports.min}-${ports.max}`, true));
      }
      const key = `${p.protocol ?? 'TCP'}/${p.nodePort}`;
      const other = nodePorts.get(key);
      if (other && other !== s) out.push(v('node-port', svcSubject(s), `node port ${key} is also ${svcSubject(other)}'s`, true));
      else if (other === s) out.push(v('node-port', svcSubject(s), `node port ${key} is given to two of its ports`, true));
      else nodePorts.set(key, s);
    }
  }
  return out;
}

/**
 * `allocation`: a key whose owner is no live Service of that uid holding it leaked (a deleted
 * Service's, or one a killed control plane took and never wrote); an IP or port a Service holds
 * without its key could be handed out twice. Both are the repair's to mend, so not permanent.
 */
export function checkAllocationKeys(keys: readonly { key: string; owner: AllocationOwner }[], services: readonly Service[]): Violation[] {
  const out: Violation[] = [];
  const byName = new Map(services.map((s) => [`${nsOf(s)}/${s.metadata.name}`, s]));
  const have = new Set<string>();
  for (const k of keys) {
    have.add(k.key);
    const o = k.owner;
    const s = byName.get(`${o.namespace}/${o.name}`);
    if (!s) out.push(v('allocation', `key ${k.key}`, `held by service ${o.namespace}/${o.name}, which is gone`));
    else if (s.metadata.uid !== o.uid) out.push(v('allocation', `key ${k.key}`, `held by an earlier service ${o.namespace}/${o.name} (uid ${o.uid}, now ${s.metadata.uid})`));
    else if (!heldKeys(s).includes(k.key)) out.push(v('allocation', `key ${k.key}`, `held by ${svcSubject(s)}, which does not have it`));
  }
  for (const s of live(services)) {
    for (const key of heldKeys(s)) if (!have.has(key)) out.push(v('allocation', svcSubject(s), `holds ${key} without its allocation key`));
  }
  return out;
}

/** The pods a Service's selector picks in its namespace (none without a selector). */
export function selectedPods(s: Service, pods: readonly Pod[]): Pod[] {
  const sel = s.spec.selector;
  if (!sel || Object.keys(sel).length === 0) return [];
  return pods.filter((p) => nsOf(p) === nsOf(s) && Object.entries(sel).every(([k, val]) => p.metadata.labels?.[k] === val));
}

const podIP = (p: Pod): string | undefined => p.status?.podIP || p.status?.podIPs?.[0]?.ip || undefined;
const podReady = (p: Pod): boolean => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** The EndpointSlices of a Service (by the service-name label), those being deleted left out. */
export function slicesOf(s: Service, slices: readonly EndpointSlice[]): EndpointSlice[] {
  return live(slices).filter((x) => nsOf(x) === nsOf(s) && x.metadata.labels?.[LABEL_SERVICE_NAME] === s.metadata.name);
}

/**
 * `endpoints`: the slices of a Service with a selector list every selected pod with a podIP that
 * has not finished, once, and nothing else, ready when the pod is Ready and not terminating (or
 * the Service publishes addresses not ready).
 */
export function checkEndpointSlices(s: Service, slices: readonly EndpointSlice[], pods: readonly Pod[]): Violation[] {
  if (!s.spec.selector || Object.keys(s.spec.selector).length === 0) return [];
  const out: Violation[] = [];
  const want = new Map<string, { pod: Pod; ready: boolean }>();
  for (const p of selectedPods(s, pods)) {
    const ip = podIP(p);
    const phase = p.status?.phase;
    if (!ip || phase === 'Succeeded' || phase === 'Failed') continue;
    want.set(ip, { pod: p, ready: s.spec.publishNotReadyAddresses === true || (podReady(p) && !p.metadata.deletionTimestamp) });
  }
  const seen = new Map<string, boolean>();
  for (const slice of slicesOf(s, slices)) {
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses[0];
      const ready = e.conditions?.ready ?? true;
      if (seen.has(ip)) { out.push(v('endpoints', svcSubject(s), `endpoint ${ip} is listed twice`)); continue; }
      seen.set(ip, ready);
      const w = want.get(ip);
      if (!w) { out.push(v('endpoints', svcSubject(s), `endpoint ${ip} (${e.targetRef?.name ?? 'no pod'}) is no selected pod's`)); continue; }
      if (w.ready !== ready) out.push(v('endpoints', svcSubject(s), `endpoint ${ip} (pod ${w.pod.metadata.name}) is ${ready ? 'ready' : 'not ready'}; the pod says ${w.ready ? 'ready' : 'not ready'}`));
    }
  }
  for (const [ip, w] of want) if (!seen.has(ip)) out.push(v('endpoints', svcSubject(s), `pod ${w.pod.metadata.name} (${ip}) is selected but not in its EndpointSlices`));
  return out;
}

/** The MK-SVC chain of each port of a Service the proxy serves (a cluster IP, TCP or UDP), with whether the port has a ready endpoint. */
export function serviceChainsOf(s: Service, slices: readonly EndpointSlice[]): { portName: string; chain: string; ready: boolean }[] {
  if (!hasClusterIP(s)) return [];
  const mine = slicesOf(s, slices);
  return (s.spec.ports ?? []).filter((p) => (p.protocol ?? 'TCP') !== 'SCTP').map((p) => {
    const protocol = p.protocol ?? 'TCP';
    const portName = servicePortName(nsOf(s), s.metadata.name, p, protocol);
    const ready = mine.some((x) => x.addressType === 'IPv4'
      && (x.ports ?? []).some((sp) => (sp.name ?? '') === (p.name ?? '') && (sp.protocol ?? 'TCP') === protocol && sp.port)
      && (x.endpoints ?? []).some((e) => e.conditions?.ready ?? true));
    return { portName, chain: serviceChains(portName).svc, ready };
  });
}

/**
 * `proxy`: every port of a live Service with a ready endpoint has its MK-SVC chain in the node's
 * nat table, and every MK-SVC chain there is a live Service port's (`deleted` names the chains
 * of Services the round deleted, so a stale one says whose it was).
 */
export function checkProxyChains(node: string, natChains: readonly string[], services: readonly Service[], slices: readonly EndpointSlice[], deleted: ReadonlyMap<string, string> = new Map()): Violation[] {
  const out: Violation[] = [];
  const present = new Set(natChains);
  const expected = new Set<string>();
  for (const s of live(services)) {
    for (const c of serviceChainsOf(s, slices)) {
      expected.add(c.chain);
      if (c.ready && !present.has(c.chain)) out.push(v('proxy', `node ${node}`, `no ${c.chain} chain for ${c.portName}, which has ready endpoints`));
    }
  }
  for (const c of natChains) {
    if (!c.startsWith('MK-SVC-') || expected.has(c)) continue;
    const whose = deleted.get(c);
    out.push(v('proxy', `node ${node}`, `stale chain ${c} (${whose ? `of ${whose}, deleted` : 'of no live service port'})`));
  }
  return out;
}

/** The name the cluster DNS serves a Service under. */
export const serviceDnsName = (s: Service, domain = CLUSTER_DOMAIN): string => `${s.metadata.name}.${nsOf(s)}.svc.${domain}`;

/** The ready endpoints' addresses of a Service, sorted (what a headless Service's name answers). */
export function readyAddresses(s: Service, slices: readonly EndpointSlice[]): string[] {
  const ips = new Set<string>();
  for (const x of slicesOf(s, slices)) for (const e of x.endpoints ?? []) if (e.conditions?.ready ?? true) ips.add(e.addresses[0]);
  return [...ips].sort();
}

/**
 * `dns`: the node's DNS answers each Service's name with its cluster IP; a headless Service's
 * with its ready endpoints' addresses (a headless Service without any is not asked about).
 */
export function checkDns(node: string, answers: Readonly<Record<string, { rcode: string; addresses: string[] }>>, services: readonly Service[], slices: readonly EndpointSlice[]): Violation[] {
  const out: Violation[] = [];
  for (const s of live(services)) {
    if (s.spec.type === 'ExternalName') continue;
    const want = hasClusterIP(s) ? [s.spec.clusterIP!] : readyAddresses(s, slices);
    if (want.length === 0) continue;
    const name = serviceDnsName(s);
    const got = answers[name];
    if (!got) { out.push(v('dns', `node ${node}`, `${name} was not asked`)); continue; }
    const addrs = [...got.addresses].sort();
    if (got.rcode !== 'NOERROR' || addrs.join(',') !== want.join(',')) {
      out.push(v('dns', `node ${node}`, `${name} answers ${got.rcode} [${addrs.join(', ')}]; want [${want.join(', ')}]`));
    }
  }
  return out;
}
