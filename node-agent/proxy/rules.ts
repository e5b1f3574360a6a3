/**
 * What the service proxy's iptables must say, as a pure function of the Services, their
 * EndpointSlices and the node: per chain, the rule lines iptables-restore takes. The layout is
 * kube-proxy's iptables mode (kubernetes pkg/proxy/iptables/proxier.go and
 * https://kubernetes.io/docs/reference/networking/virtual-ips/), with mk's chain names:
 *
 *   nat PREROUTING/OUTPUT -> MK-SERVICES -> MK-SVC-* (cluster IP) | MK-EXT-* (external IPs,
 *   load balancer IPs) -> MK-SEP-* (one per endpoint: hairpin mark, DNAT); last in MK-SERVICES,
 *   for destinations local to the node, MK-NODEPORTS -> MK-EXT-*. MK-EXT-* marks for masquerade
 *   and goes to MK-SVC-* (externalTrafficPolicy Cluster) or, with Local, keeps the client's
 *   address and goes to MK-SVL-* (local endpoints only). nat POSTROUTING -> MK-POSTROUTING
 *   masquerades what MK-MARK-MASQ marked. filter MK-SERVICES / MK-EXTERNAL-SERVICES REJECT
 *   connections to service ports that have no endpoints; MK-FORWARD accepts marked traffic.
 */
import type { EndpointSliceView, ServicePortView, ServiceView } from '../service-network/types';
import type { HealthCheck } from './health';
import {
  EXTERNAL_SERVICES_CHAIN, FIXED_CHAINS, FORWARD_CHAIN, MARK_MASQ_CHAIN, MASQ_MARK, NODEPORTS_CHAIN, POSTROUTING_CHAIN,
  SERVICES_CHAIN, endpointChain, serviceChains, servicePortName,
} from './chains';

/** What the rules need to know of the node. */
export interface ProxyNode {
  /** The node's name: endpoints with this nodeName are local. */
  name: string;
  /** Traffic to a cluster IP from outside it is masqueraded (kube-proxy's --cluster-cidr). */
  clusterCIDR?: string;
  /** The node's pod CIDR: its pods reach an external address of a Local service like a cluster IP. */
  podCIDR?: string;
}

/** Rule lines (`-A CHAIN ...`) per chain, per table. Every chain in a map exists after a sync. */
export interface ProxyRules {
  nat: Map<string, string[]>;
  filter: Map<string, string[]>;
  /** UDP flows through the proxy: conntrack entries to delete when an endpoint goes away. */
  udp: UdpFlow[];
  /** Health check node ports of Local services, with their local endpoint counts (health.ts). */
  health: HealthCheck[];
}

/**
 * `spec.healthCheckNodePort` of a Service (Kubernetes' field, allocated for LoadBalancer services
 * with externalTrafficPolicy Local); read here until the node's ServiceView carries it.
 */
export type WithHealthCheckNodePort = { spec: { healthCheckNodePort?: number } };

/** One UDP service address (cluster IP, external IP or NodePort) and one endpoint behind it. */
export interface UdpFlow { vip?: string; port: number; endpoint: string }

/** The endpoint of a service port: the pod's address and the resolved target port. */
interface Endpoint { ip: string; port: number; local: boolean; ready: boolean; serving: boolean; terminating: boolean }

/** Default ClientIP affinity timeout: 3 hours, as Kubernetes'. */
export const DEFAULT_AFFINITY_SECONDS = 10_800;

/**
 * A quoted iptables-restore word: quotes, backslashes and control characters (a newline would
 * start a new restore line) are dropped.
 */
// eslint-disable-next-line no-control-regex
export const q = (s: string): string => `"${s.replace(/["\\\u0000-\u001f\u007f]/g, '')}"`;

/**
 * The endpoints of one service port from the service's slices: the slice port with the same name
 * and protocol gives the port; IPv4 slices only; each ip:port once.
 */
function endpointsOf(port: ServicePortView, protocol: string, slices: EndpointSliceView[], node: string): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === protocol);
    if (!sp?.port) continue;
    for (const e of slice.endpoints ?? []) {
      // Kubernetes: an absent ready means ready; an absent serving means the same as ready.
      const ready = e.conditions?.ready ?? true;
      const ep: Endpoint = {
        ip: e.addresses[0], port: sp.port, local: e.nodeName === node, ready,
        serving: e.conditions?.serving ?? ready, terminating: e.conditions?.terminating ?? false,
      };
      const key = `${ep.ip}:${ep.port}`;
      if (!seen.has(key)) seen.set(key, ep);
    }
  }
  return [...seen.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : ipv4Number(a.ip) - ipv4Number(b.ip) || (a.ip < b.ip ? -1 : 1)));
}

/** An IPv4 address as a number, for ordering (slices are validated: four decimal octets). */
function ipv4Number(ip: string): number {
  let n = 0;
  for (const part of ip.split('.')) n = n * 256 + Number(part);
  return n;
}

/**
 * The endpoints that take traffic, as kube-proxy picks them: the ready ones; when none is ready,
 * those still serving while terminating (so connections drain during a rollout).
 */
export function usableEndpoints<E extends { ready: boolean; serving: boolean; terminating: boolean }>(all: E[]): E[] {
  const ready = all.filter((e) => e.ready);
  return ready.length > 0 ? ready : all.filter((e) => e.serving && e.terminating);
}

/** Rules that spread over `targets` with `-m statistic` (1/n, 1/(n-1), ..., the last unconditional). */
function spread(chain: string, targets: string[], comment: string): string[] {
  return targets.map((t, i) => {
    const n = targets.length - i;
    const stat = n > 1 ? ` -m statistic --mode random --probability ${(1 / n).toFixed(10)}` : '';
    return `-A ${chain} -m comment --comment ${q(comment)}${stat} -j ${t}`;
  });
}

/**
 * What one service adds: chains of its own (its ports' MK-SVC/SVL/EXT and endpoint chains, in the
 * order they were made) and lines for the shared chains, in order. Never changed once made: the
 * arrays are shared between syncs (RuleCache) and with what the proxy remembers as applied.
 */
interface ServiceRules {
  own: Map<string, string[]>;
  natServices: string[];
  filterServices: string[];
  filterExternal: string[];
  nodePorts: string[];
  udp: UdpFlow[];
  health?: HealthCheck;
}

/** The rules of one service (headless, ExternalName and services without a cluster IP have none). */
function serviceRules(svc: ServiceView, slices: EndpointSliceView[], node: ProxyNode): ServiceRules {
  const out: ServiceRules = { own: new Map(), natServices: [], filterServices: [], filterExternal: [], nodePorts: [], udp: [] };
  const nat = out.own;
  const add = (m: Map<string, string[]>, chain: string, line: string): void => {
    const rules = m.get(chain);
    if (rules) rules.push(line); else m.set(chain, [line]);
  };
  const chain = (m: Map<string, string[]>, name: string): void => { if (!m.has(name)) m.set(name, []); };
  const udp = out.udp;
  const nodePortRules = out.nodePorts;
  const ns = svc.metadata.namespace ?? 'default';
  const spec = svc.spec;
  const clusterIP = spec.clusterIP;
  if (spec.type === 'ExternalName' || !clusterIP || clusterIP === 'None') return out;
  const affinity = spec.sessionAffinity === 'ClientIP' ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS : undefined;
  const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  const localExternal = spec.externalTrafficPolicy === 'Local' && (nodePorts || (spec.externalIPs ?? []).length > 0);
  const lbIPs = spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])) : [];
  const externals = [...new Set([...(spec.externalIPs ?? []), ...lbIPs])];
  const healthPort = (svc as ServiceView & WithHealthCheckNodePort).spec.healthCheckNodePort;
  const localIPs = new Set<string>();

  for (const port of spec.ports ?? []) {
    const protocol = port.protocol ?? 'TCP';
    if (protocol === 'SCTP') continue;
    const proto = protocol.toLowerCase();
    const name = servicePortName(ns, svc.metadata.name, port, protocol);
    const { svc: svcChain, svl, ext } = serviceChains(name);
    const all = endpointsOf(port, protocol, slices, node.name);
    const usable = usableEndpoints(all);
    const local = usableEndpoints(all.filter((e) => e.local));
    // The health check counts ready local endpoints: a terminating one is about to go away.
    for (const e of all) if (e.local && e.ready) localIPs.add(e.ip);
    const internalLocal = spec.internalTrafficPolicy === 'Local';
    const internalTargets = internalLocal ? local : usable;
    const hasNodePort = nodePorts && port.nodePort !== undefined;
    const hasExternal = hasNodePort || externals.length > 0 || spec.type === 'LoadBalancer';
    const dport = `-p ${proto} -m ${proto} --dport`;

    for (const e of usable) {
      for (const vip of [clusterIP, ...externals]) udp.push(...(proto === 'udp' ? [{ vip, port: port.port, endpoint: e.ip }] : []));
      if (proto === 'udp' && hasNodePort) udp.push({ port: port.nodePort!, endpoint: e.ip });
    }

    // Endpoint chains: hairpin (a pod reaching itself through the service) is masqueraded.
    const sep = (e: Endpoint): string => endpointChain(name, `${e.ip}:${e.port}`);
    // Every endpoint a chain below jumps to: the usable ones and the local ones, which differ
    // when this node's only endpoint is terminating while another node has a ready one.
    const targets = new Map<string, Endpoint>();
    for (const e of [...usable, ...((internalLocal || localExternal) ? local : [])]) targets.set(`${e.ip}:${e.port}`, e);
    for (const e of targets.values()) {
      const c = sep(e);
      add(nat, c, `-A ${c} -m comment --comment ${q(name)} -s ${e.ip}/32 -j ${MARK_MASQ_CHAIN}`);
      const recent = affinity !== undefined ? ` -m recent --name ${c} --mask 255.255.255.255 --rsource --set` : '';
      add(nat, c, `-A ${c} -m comment --comment ${q(name)} ${dport.replace(` --dport`, '')}${recent} -j DNAT --to-destination ${e.ip}:${e.port}`);
    }
    // A service port's chain: affinity first, then the random spread.
    const fill = (c: string, eps: Endpoint[]): void => {
      chain(nat, c);
      if (affinity !== undefined) {
        for (const e of eps) {
          add(nat, c, `-A ${c} -m comment --comment ${q(`${name} affinity`)} -m recent --name ${sep(e)} --mask 255.255.255.255 --rsource --rcheck --seconds ${affinity} --reap -j ${sep(e)}`);
        }
      }
      for (const l of spread(c, eps.map(sep), `${name} -> endpoint`)) add(nat, c, l);
    };

    if (internalTargets.length > 0) {
      const target = internalLocal ? svl : svcChain;
      out.natServices.push(`-A ${SERVICES_CHAIN} -m comment --comment ${q(`${name} cluster IP`)} -d ${clusterIP}/32 ${dport} ${port.port} -j ${target}`);
      chain(nat, target);
      if (node.clusterCIDR) {
        add(nat, target, `-A ${target} -m comment --comment ${q(`${name} cluster IP`)} ! -s ${node.clusterCIDR} -d ${clusterIP}/32 ${dport} ${port.port} -j ${MARK_MASQ_CHAIN}`);
      }
    } else {
      // internalTrafficPolicy Local with endpoints only on other nodes: DROP, as kube-proxy's
      // "has no local endpoints"; no endpoints at all: REJECT.
      const [why, action] = internalLocal && usable.length > 0 ? ['has no local endpoints', 'DROP'] : ['has no endpoints', 'REJECT --reject-with icmp-port-unreachable'];
      out.filterServices.push(`-A ${SERVICES_CHAIN} -m comment --comment ${q(`${name} ${why}`)} -d ${clusterIP}/32 ${dport} ${port.port} -j ${action}`);
    }
    if (usable.length > 0) fill(svcChain, usable);
    if ((internalLocal || localExternal) && local.length > 0) fill(svl, local);

    if (!hasExternal) continue;
    // External destinations: external IPs and load balancer IPs (any node), NodePorts and, for
    // LoadBalancer, the service port on every address of the node.
    const externalOk = usable.length > 0 || local.length > 0;
    if (usable.length > 0) {
      chain(nat, ext);
      if (localExternal) {
        // Pods and the node itself go through the cluster chain; others keep their address.
        if (node.podCIDR) add(nat, ext, `-A ${ext} -m comment --comment ${q(`pods reach ${name} through the cluster chain`)} -s ${node.podCIDR} -j ${svcChain}`);
        add(nat, ext, `-A ${ext} -m comment --comment ${q(`masquerade local traffic to ${name}`)} -m addrtype --src-type LOCAL -j ${MARK_MASQ_CHAIN}`);
        add(nat, ext, `-A ${ext} -m comment --comment ${q(`local traffic to ${name} through the cluster chain`)} -m addrtype --src-type LOCAL -j ${svcChain}`);
        add(nat, ext, `-A ${ext} -j ${svl}`);
        chain(nat, svl);
      } else {
        add(nat, ext, `-A ${ext} -m comment --comment ${q(`masquerade traffic to ${name} from outside`)} -j ${MARK_MASQ_CHAIN}`);
        add(nat, ext, `-A ${ext} -j ${svcChain}`);
      }
      for (const ip of externals) {
        out.natServices.push(`-A ${SERVICES_CHAIN} -m comment --comment ${q(`${name} external IP`)} -d ${ip}/32 ${dport} ${port.port} -j ${ext}`);
      }
      if (hasNodePort) nodePortRules.push(`-A ${NODEPORTS_CHAIN} -m comment --comment ${q(`${name} node port`)} ${dport} ${port.nodePort} -j ${ext}`);
      // Not on loopback: the node's own programs (the bus, the agent) listen there.
      if (spec.type === 'LoadBalancer') nodePortRules.push(`-A ${NODEPORTS_CHAIN} -m comment --comment ${q(`${name} load balancer on the node`)} ! -d 127.0.0.0/8 ${dport} ${port.port} -j ${ext}`);
    }
    // No endpoints at all: REJECT; Local with endpoints only elsewhere: DROP, as kube-proxy does.
    const verdict = !externalOk ? ['has no endpoints', 'REJECT --reject-with icmp-port-unreachable'] : localExternal && local.length === 0 ? ['has no local endpoints', 'DROP'] : undefined;
    if (verdict) {
      const [why, action] = verdict;
      for (const ip of externals) out.filterExternal.push(`-A ${EXTERNAL_SERVICES_CHAIN} -m comment --comment ${q(`${name} ${why}`)} -d ${ip}/32 ${dport} ${port.port} -j ${action}`);
      const local = `-m addrtype --dst-type LOCAL ${dport}`;
      if (hasNodePort) out.filterExternal.push(`-A ${EXTERNAL_SERVICES_CHAIN} -m comment --comment ${q(`${name} ${why}`)} ${local} ${port.nodePort} -j ${action}`);
      if (spec.type === 'LoadBalancer') out.filterExternal.push(`-A ${EXTERNAL_SERVICES_CHAIN} -m comment --comment ${q(`${name} ${why}`)} ! -d 127.0.0.0/8 ${local} ${port.port} -j ${action}`);
    }
  }
  if (localExternal && nodePorts && healthPort) {
    out.health = { namespace: ns, name: svc.metadata.name, port: healthPort, localEndpoints: localIPs.size };
  }
  return out;
}

/**
 * The rules of each service, kept while neither the service object, its slices nor the node
 * change: the service network view replaces an object when it changes, so a sync after one
 * endpoint moved recomputes one service, not a thousand.
 */
export class RuleCache {
  private entries = new Map<string, { svc: ServiceView; slices: EndpointSliceView[]; node: string; rules: ServiceRules; seen: number }>();
  private round = 0;
  private nodeKey = '';

  /** @internal */
  rulesOf(key: string, svc: ServiceView, slices: EndpointSliceView[], node: ProxyNode): ServiceRules {
    const e = this.entries.get(key);
    if (e && e.svc === svc && e.node === this.nodeKey && e.slices.length === slices.length && e.slices.every((s, i) => s === slices[i])) {
      e.seen = this.round;
      return e.rules;
    }
    const rules = serviceRules(svc, slices, node);
    this.entries.set(key, { svc, slices, node: this.nodeKey, rules, seen: this.round });
    return rules;
  }

  /** @internal Starts a build on `node`; `sweep` then forgets the services that build did not ask for. */
  begin(node: ProxyNode): void {
    this.round++;
    this.nodeKey = `${node.name}|${node.clusterCIDR ?? ''}|${node.podCIDR ?? ''}`;
  }

  /** @internal */
  sweep(): void {
    for (const [k, e] of this.entries) if (e.seen !== this.round) this.entries.delete(k);
  }

  get size(): number { return this.entries.size; }
}

/**
 * The rules for `services` (skipping headless and ExternalName ones and those without a cluster
 * IP), their slices from `slicesOf`, on `node`. Pure; deterministic for the same input. With a
 * `cache`, the rules of services that did not change since the last build are reused: the chain
 * arrays are then shared, so callers must not change them.
 */
export function buildRules(services: ServiceView[], slicesOf: (namespace: string, name: string) => EndpointSliceView[], node: ProxyNode, cache?: RuleCache): ProxyRules {
  const nat = new Map<string, string[]>(FIXED_CHAINS.nat.map((c) => [c, []]));
  const filter = new Map<string, string[]>(FIXED_CHAINS.filter.map((c) => [c, []]));
  const udp: UdpFlow[] = [];
  const health: HealthCheck[] = [];
  const add = (m: Map<string, string[]>, chain: string, line: string): void => {
    const rules = m.get(chain);
    if (rules) rules.push(line); else m.set(chain, [line]);
  };
  const nodePortRules: string[] = [];
  const natServices = nat.get(SERVICES_CHAIN)!;
  const filterServices = filter.get(SERVICES_CHAIN)!;
  const filterExternal = filter.get(EXTERNAL_SERVICES_CHAIN)!;

  const keyed = services.map((svc) => ({ key: `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`, svc }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  cache?.begin(node);
  for (const { key, svc } of keyed) {
    const slices = slicesOf(svc.metadata.namespace ?? 'default', svc.metadata.name);
    const r = cache ? cache.rulesOf(key, svc, slices, node) : serviceRules(svc, slices, node);
    for (const [c, lines] of r.own) nat.set(c, lines);
    for (const l of r.natServices) natServices.push(l);
    for (const l of r.filterServices) filterServices.push(l);
    for (const l of r.filterExternal) filterExternal.push(l);
    for (const l of r.nodePorts) nodePortRules.push(l);
    for (const f of r.udp) udp.push(f);
    if (r.health) health.push(r.health);
  }
  cache?.sweep();

  // Last in MK-SERVICES: anything addressed to the node itself may be a NodePort.
  for (const l of nodePortRules) add(nat, NODEPORTS_CHAIN, l);
  add(nat, SERVICES_CHAIN, `-A ${SERVICES_CHAIN} -m comment --comment ${q('node ports: the last rule of this chain')} -m addrtype --dst-type LOCAL -j ${NODEPORTS_CHAIN}`);
  add(nat, MARK_MASQ_CHAIN, `-A ${MARK_MASQ_CHAIN} -j MARK --or-mark ${MASQ_MARK}`);
  add(nat, POSTROUTING_CHAIN, `-A ${POSTROUTING_CHAIN} -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`);
  // The mark is cleared so a packet that comes through again (a tunnel) is not masqueraded twice.
  add(nat, POSTROUTING_CHAIN, `-A ${POSTROUTING_CHAIN} -j MARK --xor-mark ${MASQ_MARK}`);
  add(nat, POSTROUTING_CHAIN, `-A ${POSTROUTING_CHAIN} -m comment --comment ${q('mk service traffic requiring SNAT')} -j MASQUERADE`);
  add(filter, FORWARD_CHAIN, `-A ${FORWARD_CHAIN} -m comment --comment ${q('mk forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`);
  add(filter, FORWARD_CHAIN, `-A ${FORWARD_CHAIN} -m comment --comment ${q('mk forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  return { nat, filter, udp, health };
}
