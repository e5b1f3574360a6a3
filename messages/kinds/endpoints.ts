/**
 * The Endpoints and EndpointSlice kinds as messages/ declares them: schemas (loaded on first use)
 * and the columns of `kubectl get endpoints` and `kubectl get endpointslices`
 * (pkg/printers/internalversion/printers.go formatEndpoints, formatDiscoveryPorts and
 * formatDiscoveryEndpoints).
 */
import type { Endpoints, EndpointSlice } from '../endpoints';
import type { KindInfo } from '../kind';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let endpointsModuleLoaded: typeof import('../endpoints') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const endpointsModule = () => (endpointsModuleLoaded ??= require('../endpoints') as typeof import('../endpoints'));

/** The most entries a cell lists before `+ N more...`. */
const MAX_LISTED = 3;

function listed(items: string[], total: number): string {
  return total > items.length ? `${items.join(',')} + ${total - items.length} more...` : items.join(',');
}

/**
 * The ready `ip:port` pairs of an Endpoints object, three at most (`10.244.1.5:80,10.244.2.3:80 +
 * 2 more...`); a subset without ports lists bare addresses; `<none>` without subsets.
 */
export function formatEndpoints(ep: Endpoints): string {
  if (!ep.subsets || ep.subsets.length === 0) return '<none>';
  const out: string[] = [];
  let total = 0;
  const add = (s: string): void => {
    if (out.length < MAX_LISTED) out.push(s);
    total++;
  };
  for (const ss of ep.subsets) {
    const addrs = ss.addresses ?? [];
    if (!ss.ports || ss.ports.length === 0) for (const a of addrs) add(a.ip);
    else for (const p of ss.ports) for (const a of addrs) add(`${a.ip}:${p.port}`);
  }
  return listed(out, total);
}

/** The ports of a slice, three at most; `<unset>` for none (or a port without a number). */
export function formatSlicePorts(s: EndpointSlice): string {
  const ports = s.ports ?? [];
  if (ports.length === 0) return '<unset>';
  return listed(ports.slice(0, MAX_LISTED).map((p) => (p.port === undefined ? '<unset>' : String(p.port))), ports.length);
}

/** The addresses of a slice's endpoints, ready or not, three at most; `<unset>` for none. */
export function formatSliceEndpoints(s: EndpointSlice): string {
  const all = (s.endpoints ?? []).flatMap((e) => e.addresses);
  if (all.length === 0) return '<unset>';
  return listed(all.slice(0, MAX_LISTED), all.length);
}

/** `kubectl get endpoints`: NAME ENDPOINTS AGE. */
export const EndpointsKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  get schema() { return endpointsModule().EndpointsSchema; },
  storage: 'store',
  description: "The addresses and ports of a service's pods, ready and not ready, kept by the endpoints controller "
    + 'for every service with a selector (and written by users for a service without one).',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'ENDPOINTS', value: (o) => formatEndpoints(o as unknown as Endpoints) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
};

/** `kubectl get endpointslices`: NAME ADDRESSTYPE PORTS ENDPOINTS AGE. */
export const EndpointSliceKind: KindInfo = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  shortNames: [],
  namespaced: true,
  get schema() { return endpointsModule().EndpointSliceSchema; },
  storage: 'store',
  description: "A part (up to 100 pods) of a service's endpoints, each with its address and its ready, serving and "
    + 'terminating conditions; what the nodes program service routing and DNS from.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'ADDRESSTYPE', value: (o) => (o as unknown as EndpointSlice).addressType ?? '' },
    { name: 'PORTS', value: (o) => formatSlicePorts(o as unknown as EndpointSlice) },
    { name: 'ENDPOINTS', value: (o) => formatSliceEndpoints(o as unknown as EndpointSlice) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
};
