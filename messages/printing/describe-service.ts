/**
 * `mk describe svc` in the shape of kubectl's ServiceDescriber (kubernetes/kubectl
 * pkg/describe/describe.go: describeService): selector, type, IP families and addresses, then per
 * port its target, node port and endpoints (read from the service's EndpointSlices), session
 * affinity, traffic policies and events. Pure.
 */
import type { Service, ServicePort } from '../service';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { loadBalancerAddresses, serviceSelector } from './service-columns';
import { age } from './time';

/**
 * The fields of a discovery.k8s.io/v1 EndpointSlice the description reads (the kind's full
 * schema lives with it); a slice belongs to its service by the `kubernetes.io/service-name` label.
 */
export interface SliceLike {
  metadata: { labels?: Record<string, string> };
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

/** kubectl prints at most this many endpoints of a port, then `+ N more...`. */
const MAX_ENDPOINTS = 3;

/** The ready endpoints of `port` as `ip:port`, from the slices whose port has the same name. */
export function endpointsOf(port: ServicePort, slices: readonly SliceLike[]): string {
  const found: string[] = [];
  for (const s of slices) {
    const sp = (s.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
    if (!sp || sp.port === undefined) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const a of e.addresses ?? []) found.push(`${a}:${sp.port}`);
    }
  }
  if (found.length === 0) return '<none>';
  const shown = found.slice(0, MAX_ENDPOINTS).join(',');
  return found.length > MAX_ENDPOINTS ? `${shown} + ${found.length - MAX_ENDPOINTS} more...` : shown;
}

/** Describes `svc`; `slices` are its EndpointSlices (possibly none), `events` its events. */
export function describeService(svc: Service, slices: readonly SliceLike[], events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = svc.metadata;
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Selector:\t${serviceSelector(svc)}\n`);
  w.write(0, `Type:\t${type}\n`);
  if (spec.ipFamilyPolicy) w.write(0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
  if (spec.ipFamilies?.length) w.write(0, `IP Families:\t${spec.ipFamilies.join(',')}\n`);
  if (spec.clusterIP) w.write(0, `IP:\t${spec.clusterIP}\n`);
  if (spec.clusterIPs?.length) w.write(0, `IPs:\t${spec.clusterIPs.join(',')}\n`);
  if (spec.externalIPs?.length) w.write(0, `External IPs:\t${spec.externalIPs.join(',')}\n`);
  if (spec.loadBalancerIP) w.write(0, `Desired LoadBalancer IP:\t${spec.loadBalancerIP}\n`);
  if (spec.externalName) w.write(0, `External Name:\t${spec.externalName}\n`);
  const lb = loadBalancerAddresses(svc);
  if (lb.length > 0) w.write(0, `LoadBalancer Ingress:\t${lb.join(', ')}\n`);
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    const protocol = p.protocol ?? 'TCP';
    w.write(0, `Port:\t${name}\t${p.port}/${protocol}\n`);
    const target = p.targetPort ?? p.port;
    w.write(0, `TargetPort:\t${typeof target === 'number' ? `${target}/${protocol}` : target}\n`);
    if (p.nodePort) w.write(0, `NodePort:\t${name}\t${p.nodePort}/${protocol}\n`);
    w.write(0, `Endpoints:\t${endpointsOf(p, slices)}\n`);
  }
  w.write(0, `Session Affinity:\t${spec.sessionAffinity ?? 'None'}\n`);
  if (spec.externalTrafficPolicy) w.write(0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  if (spec.internalTrafficPolicy) w.write(0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}\n`);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
