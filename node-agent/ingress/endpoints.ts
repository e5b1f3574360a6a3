/**
 * From a route's target (a service port by number or name) to the ready endpoints that serve it,
 * read from the node's ServiceNetworkSource: the service port picks the EndpointSlice port of
 * the same name, whose number is where the pods listen. Round-robin over them per target.
 */
import type { EndpointSliceView, ServiceNetworkSource, ServicePortView } from '../service-network/types';
import type { RouteTarget } from './routes';

/** One upstream address. */
export interface Upstream { host: string; port: number }

/** Why a target has no endpoints, for the 503's body and the logs. */
export type NoEndpoints = { reason: string };

/** The service port `target` names, or undefined. */
function servicePort(ports: ServicePortView[] | undefined, target: RouteTarget): ServicePortView | undefined {
  return (ports ?? []).find((p) => (target.port.name !== undefined ? p.name === target.port.name : p.port === target.port.number));
}

/** The ready endpoints of `target` (conditions.ready absent counts as ready, as Kubernetes says). */
export function readyUpstreams(source: ServiceNetworkSource, target: RouteTarget): Upstream[] | NoEndpoints {
  const svc = source.service(target.namespace, target.service);
  if (!svc) return { reason: `service "${target.namespace}/${target.service}" not found` };
  const sp = servicePort(svc.spec.ports, target);
  if (!sp) return { reason: `service "${target.namespace}/${target.service}" has no port ${target.port.name ?? target.port.number}` };
  const out: Upstream[] = [];
  for (const slice of source.slicesOf(target.namespace, target.service)) collect(slice, sp, out);
  if (out.length === 0) return { reason: `service "${target.namespace}/${target.service}" has no ready endpoints` };
  return out;
}

function collect(slice: EndpointSliceView, sp: ServicePortView, out: Upstream[]): void {
  // The proxy dials IPv4 only: FQDN slices would be resolved, IPv6 ones are not mk's.
  if (slice.addressType !== 'IPv4') return;
  const port = (slice.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''))?.port
    ?? (typeof sp.targetPort === 'number' ? sp.targetPort : undefined);
  if (port === undefined) return;
  for (const e of slice.endpoints ?? []) {
    if (e.conditions?.ready === false) continue;
    for (const a of e.addresses) out.push({ host: a, port });
  }
}

/** Round-robin position per target, so successive requests spread over the endpoints. */
export class RoundRobin {
  private readonly next = new Map<string, number>();

  /** `list` rotated to start at the target's next position (the rest are the retry order). */
  order(key: string, list: Upstream[]): Upstream[] {
    const i = (this.next.get(key) ?? 0) % list.length;
    this.next.set(key, i + 1);
    return [...list.slice(i), ...list.slice(0, i)];
  }
}
