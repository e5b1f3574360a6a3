/**
 * Reading Services and EndpointSlices out of the store defensively: whatever a key holds (an
 * older schema, a hand-written value, a half-migrated object), the node's service network either
 * gets a well-formed view of it or a message saying what is wrong with it, never an exception.
 * Only the fields of node-agent/service-network/types.ts are kept; unknown ones are ignored.
 */
import { dns1123LabelError, dns1123SubdomainError } from '../../messages/names';
import { endpointAddressError } from '../../messages/endpoints';
import type { EndpointPortView, EndpointSliceView, EndpointView, ServicePortView, ServiceView } from './types';

/** A parsed object, or why it could not be parsed. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

type Obj = Record<string, unknown>;

class Malformed extends Error {}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (msg: string): never => { throw new Malformed(msg); };

function obj(v: unknown, where: string): Obj {
  return isObj(v) ? v : fail(`${where} is not an object`);
}
function optObj(v: unknown, where: string): Obj | undefined {
  return v === undefined || v === null ? undefined : obj(v, where);
}
function str(v: unknown, where: string): string {
  return typeof v === 'string' && v !== '' ? v : fail(`${where} is not a non-empty string`);
}
function optStr(v: unknown, where: string): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : str(v, where);
}
function optBool(v: unknown, where: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'boolean' ? v : fail(`${where} is not a boolean`);
}
function port(v: unknown, where: string, min = 1): number {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= 65535 ? v as number : fail(`${where} is not a port number`);
}
function optArr(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : fail(`${where} is not a list`);
}
function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string): T | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return allowed.includes(v as T) ? v as T : fail(`${where} is ${JSON.stringify(v)}, not one of ${allowed.join(', ')}`);
}
function strings(v: unknown, where: string): string[] {
  return optArr(v, where).map((s, i) => str(s, `${where}[${i}]`));
}
function labels(v: unknown, where: string): Record<string, string> | undefined {
  const o = optObj(v, where);
  if (!o) return undefined;
  for (const [k, val] of Object.entries(o)) if (typeof val !== 'string') fail(`${where}.${k} is not a string`);
  return o as Record<string, string>;
}

/**
 * A name that must be a DNS-1123 label (`subdomain` allows dots): names reach iptables comments,
 * DNS answers and log lines, so a stored newline or quote must never get that far.
 */
function dnsName(v: string, where: string, subdomain = false): string {
  const why = subdomain ? dns1123SubdomainError(v) : dns1123LabelError(v);
  return why ? fail(`${where} ${JSON.stringify(v)} ${why}`) : v;
}
function optDnsName(v: unknown, where: string, subdomain = false): string | undefined {
  const s = optStr(v, where);
  return s === undefined ? undefined : dnsName(s, where, subdomain);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True when `s` is a dotted-quad IPv4 address. */
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

function ipv4(v: unknown, where: string): string {
  const s = str(v, where);
  return isIPv4(s) ? s : fail(`${where} ${JSON.stringify(s)} is not an IPv4 address`);
}

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

function metadata(v: unknown, namespace: string | undefined, subdomain: boolean): ServiceView['metadata'] & { labels?: Record<string, string> } {
  const m = obj(v, 'metadata');
  const ns = optStr(m.namespace, 'metadata.namespace') ?? namespace;
  if (ns !== undefined) dnsName(ns, 'metadata.namespace');
  const rv = m.resourceVersion;
  return {
    name: dnsName(str(m.name, 'metadata.name'), 'metadata.name', subdomain),
    ...(ns ? { namespace: ns } : {}),
    ...(optStr(m.uid, 'metadata.uid') ? { uid: m.uid as string } : {}),
    ...(typeof rv === 'string' || typeof rv === 'number' ? { resourceVersion: String(rv) } : {}),
    ...(labels(m.labels, 'metadata.labels') ? { labels: m.labels as Record<string, string> } : {}),
  };
}

function servicePort(v: unknown, where: string): ServicePortView {
  const p = obj(v, where);
  const tp = p.targetPort;
  let targetPort: number | string | undefined;
  if (typeof tp === 'number') targetPort = port(tp, `${where}.targetPort`);
  else if (tp !== undefined && tp !== null) targetPort = str(tp, `${where}.targetPort`);
  const protocol = oneOf(p.protocol, PROTOCOLS, `${where}.protocol`);
  const name = optDnsName(p.name, `${where}.name`);
  const nodePort = p.nodePort === undefined || p.nodePort === null || p.nodePort === 0 ? undefined : port(p.nodePort, `${where}.nodePort`);
  return {
    ...(name ? { name } : {}),
    ...(protocol ? { protocol } : {}),
    port: port(p.port, `${where}.port`),
    ...(targetPort !== undefined ? { targetPort } : {}),
    ...(nodePort !== undefined ? { nodePort } : {}),
  };
}

/** A Service as the node sees it, from whatever the store holds (`namespace` from the key). */
export function parseService(raw: unknown, namespace?: string): Parsed<ServiceView> {
  try {
    const o = obj(raw, 'the object');
    const meta = metadata(o.metadata, namespace, false);
    delete meta.labels;
    const s = obj(o.spec ?? {}, 'spec');
    const type = oneOf(s.type, ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const, 'spec.type');
    const clusterIP = optStr(s.clusterIP, 'spec.clusterIP');
    if (clusterIP && clusterIP !== 'None' && !isIPv4(clusterIP)) fail(`spec.clusterIP ${JSON.stringify(clusterIP)} is neither an IPv4 address nor None`);
    const affinity = oneOf(s.sessionAffinity, ['None', 'ClientIP'] as const, 'spec.sessionAffinity');
    const sac = optObj(s.sessionAffinityConfig, 'spec.sessionAffinityConfig');
    const cip = optObj(sac?.clientIP, 'spec.sessionAffinityConfig.clientIP');
    const timeout = cip?.timeoutSeconds;
    if (timeout !== undefined && !(Number.isInteger(timeout) && (timeout as number) > 0 && (timeout as number) <= 86400)) {
      fail('spec.sessionAffinityConfig.clientIP.timeoutSeconds is not a whole number of seconds in 1..86400');
    }
    const etp = oneOf(s.externalTrafficPolicy, ['Cluster', 'Local'] as const, 'spec.externalTrafficPolicy');
    const itp = oneOf(s.internalTrafficPolicy, ['Cluster', 'Local'] as const, 'spec.internalTrafficPolicy');
    const st = optObj(o.status, 'status');
    const lb = optObj(st?.loadBalancer, 'status.loadBalancer');
    const ingress = optArr(lb?.ingress, 'status.loadBalancer.ingress').map((i, n) => {
      const e = obj(i, `status.loadBalancer.ingress[${n}]`);
      const ip = e.ip === undefined || e.ip === null || e.ip === '' ? undefined : ipv4(e.ip, `status.loadBalancer.ingress[${n}].ip`);
      const hostname = optStr(e.hostname, `status.loadBalancer.ingress[${n}].hostname`);
      return { ...(ip ? { ip } : {}), ...(hostname ? { hostname } : {}) };
    });
    const view: ServiceView = {
      metadata: meta,
      spec: {
        ...(type ? { type } : {}),
        ...(clusterIP ? { clusterIP } : {}),
        ...(s.clusterIPs !== undefined ? { clusterIPs: strings(s.clusterIPs, 'spec.clusterIPs') } : {}),
        ports: optArr(s.ports, 'spec.ports').map((p, i) => servicePort(p, `spec.ports[${i}]`)),
        ...(labels(s.selector, 'spec.selector') ? { selector: s.selector as Record<string, string> } : {}),
        ...(affinity ? { sessionAffinity: affinity } : {}),
        ...(timeout !== undefined ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: timeout as number } } } : {}),
        ...(optStr(s.externalName, 'spec.externalName') ? { externalName: s.externalName as string } : {}),
        ...(s.externalIPs !== undefined ? { externalIPs: optArr(s.externalIPs, 'spec.externalIPs').map((x, i) => ipv4(x, `spec.externalIPs[${i}]`)) } : {}),
        ...(etp ? { externalTrafficPolicy: etp } : {}),
        ...(itp ? { internalTrafficPolicy: itp } : {}),
        ...(optBool(s.publishNotReadyAddresses, 'spec.publishNotReadyAddresses') !== undefined
          ? { publishNotReadyAddresses: s.publishNotReadyAddresses as boolean } : {}),
      },
      ...(ingress.length > 0 ? { status: { loadBalancer: { ingress } } } : {}),
    };
    // Kubernetes' field beyond the node's ServiceView: the proxy's health check node port.
    const hc = s.healthCheckNodePort;
    if (hc !== undefined && hc !== null && hc !== 0) Object.assign(view.spec, { healthCheckNodePort: port(hc, 'spec.healthCheckNodePort') });
    return { ok: true, value: view };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, error: e.message };
    throw e;
  }
}

function endpoint(v: unknown, where: string, addressType: string, allowLoopback: boolean): EndpointView {
  const e = obj(v, where);
  const addresses = strings(e.addresses, `${where}.addresses`);
  if (addresses.length === 0) fail(`${where}.addresses is empty`);
  if (addressType === 'IPv4' || addressType === 'IPv6') {
    addresses.forEach((a, i) => {
      const bad = endpointAddressError(addressType, a, { allowLoopback });
      if (bad) fail(`${where}.addresses[${i}]: ${bad}`);
    });
  }
  const c = optObj(e.conditions, `${where}.conditions`);
  const conditions: NonNullable<EndpointView['conditions']> = {};
  for (const k of ['ready', 'serving', 'terminating'] as const) {
    const b = optBool(c?.[k], `${where}.conditions.${k}`);
    if (b !== undefined) conditions[k] = b;
  }
  const t = optObj(e.targetRef, `${where}.targetRef`);
  const hostname = optDnsName(e.hostname, `${where}.hostname`);
  const nodeName = optDnsName(e.nodeName, `${where}.nodeName`, true);
  return {
    addresses,
    ...(c ? { conditions } : {}),
    ...(hostname ? { hostname } : {}),
    ...(nodeName ? { nodeName } : {}),
    ...(t ? { targetRef: Object.fromEntries(['kind', 'name', 'namespace', 'uid'].flatMap((k) => {
      const s = optStr(t[k], `${where}.targetRef.${k}`);
      return s ? [[k, s]] : [];
    })) } : {}),
  };
}

function endpointPort(v: unknown, where: string): EndpointPortView {
  const p = obj(v, where);
  const name = optDnsName(p.name, `${where}.name`);
  const protocol = oneOf(p.protocol, PROTOCOLS, `${where}.protocol`);
  const n = p.port === undefined || p.port === null ? undefined : port(p.port, `${where}.port`);
  return { ...(name ? { name } : {}), ...(n !== undefined ? { port: n } : {}), ...(protocol ? { protocol } : {}) };
}

/** An EndpointSlice as the node sees it, from whatever the store holds (`namespace` from the key). */
export function parseEndpointSlice(raw: unknown, namespace?: string, opts: { allowLoopback?: boolean } = {}): Parsed<EndpointSliceView> {
  try {
    const o = obj(raw, 'the object');
    const addressType = oneOf(o.addressType, ['IPv4', 'IPv6', 'FQDN'] as const, 'addressType') ?? fail('addressType is missing');
    const view: EndpointSliceView = {
      metadata: metadata(o.metadata, namespace, true),
      addressType,
      endpoints: optArr(o.endpoints, 'endpoints').map((e, i) => endpoint(e, `endpoints[${i}]`, addressType, opts.allowLoopback ?? false)),
      ports: optArr(o.ports, 'ports').map((p, i) => endpointPort(p, `ports[${i}]`)),
    };
    return { ok: true, value: view };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, error: e.message };
    throw e;
  }
}
