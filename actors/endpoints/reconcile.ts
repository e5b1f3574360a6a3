/**
 * The endpoints controller's decisions, as pure functions of a Service, the pods of its namespace
 * and what the store holds: the v1 Endpoints object the service should have, and the
 * EndpointSlices to create, update and delete so that they hold exactly its pods, at most
 * MAX_ENDPOINTS_PER_SLICE per slice (`opts.max`), with as few writes as possible (after Kubernetes'
 * pkg/controller/endpoint/endpoints_controller.go and pkg/controller/endpointslice/reconciler.go,
 * https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/). controller.ts
 * performs them.
 */
import {
  ENDPOINTSLICE_CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MAX_ENDPOINTS_PER_SLICE,
  type EndpointAddress, type Endpoints, type EndpointSlice, type EndpointsPort, type EndpointSubset, type KubeObject,
  type OwnerReference, type Pod, type SliceEndpoint, type SlicePort,
} from '../../messages';
import { stableJson } from '../api/stable-json';
import type { Service, ServicePort } from './service';

/** The label Kubernetes puts on the endpoints of a headless service (clusterIP None). */
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';

/** The reference the Endpoints and slices of `svc` carry: deleting the service deletes them. */
export function serviceRef(svc: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** True when `o` is controlled by the Service `name` (of `uid`, when given): written by this controller. */
export function controlledByService(o: KubeObject, name: string, uid?: string): boolean {
  return !!o.metadata.ownerReferences?.some((r) => r.controller && r.kind === 'Service' && r.name === name && (uid === undefined || r.uid === uid));
}

/** The pod's IP, if it has one. */
function podIP(pod: Pod): string | undefined {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || undefined;
}

/**
 * A pod that may be an endpoint: it has an IP and has not finished (Succeeded or Failed).
 * Terminating pods count: their slices say so, and the Endpoints object leaves them out.
 */
export function isCandidate(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !!podIP(pod) && phase !== 'Succeeded' && phase !== 'Failed';
}

/** The pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return !!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * The port `sp` targets on `pod`: its targetPort when a number (the port itself when omitted),
 * or the container port of that name and protocol; undefined when the pod has no such port.
 */
export function resolvePort(sp: ServicePort, pod: Pod): number | undefined {
  const t = sp.targetPort;
  if (t === undefined || t === '') return sp.port;
  if (typeof t === 'number') return t;
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) if (p.name === t && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** The hostname the pod's endpoints carry: its spec.hostname, when its spec.subdomain names the service. */
function hostnameFor(svc: Service, pod: Pod): string | undefined {
  const h = pod.spec.hostname;
  return h && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace ? h : undefined;
}

function targetRef(pod: Pod) {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid ?? '' };
}

/** The ports of `pod` for the service's ports, in their order, without those it cannot resolve. */
export function slicePorts(svc: Service, pod: Pod): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolvePort(sp, pod);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

/** The label of a node that names its zone (https://kubernetes.io/docs/reference/labels-annotations-taints/#topologykubernetesiozone). */
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

/** The zone of a node by name, if known. */
export type ZoneOf = (nodeName: string) => string | undefined;

/**
 * The slice endpoint of `pod`: serving is its Ready condition, terminating its deletionTimestamp,
 * ready serving and not terminating (always true for a service that publishes addresses not
 * ready); zone is its node's, when `zoneOf` knows it.
 */
export function sliceEndpoint(svc: Service, pod: Pod, zoneOf: ZoneOf = () => undefined): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: SliceEndpoint = { addresses: [podIP(pod)!], conditions: { ready, serving, terminating }, targetRef: targetRef(pod) };
  if (pod.spec.nodeName) {
    ep.nodeName = pod.spec.nodeName;
    const zone = zoneOf(pod.spec.nodeName);
    if (zone) ep.zone = zone;
  }
  const hostname = hostnameFor(svc, pod);
  if (hostname) ep.hostname = hostname;
  return ep;
}

/** The labels of the service's Endpoints and slices: the service's own, and headless when it is. */
function derivedLabels(svc: Service): Record<string, string> {
  const labels = { ...(svc.metadata.labels ?? {}) };
  delete labels[LABEL_SERVICE_NAME];
  delete labels[LABEL_MANAGED_BY];
  if (svc.spec?.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  return labels;
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

const byAddress = (a: EndpointAddress, b: EndpointAddress): number =>
  ipNumber(a.ip) - ipNumber(b.ip) || (a.targetRef?.name ?? '').localeCompare(b.targetRef?.name ?? '');

const byPort = (a: EndpointsPort, b: EndpointsPort): number =>
  (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || (a.protocol ?? '').localeCompare(b.protocol ?? '');

/**
 * The subsets of the service's Endpoints object: one address per candidate pod not being deleted
 * (all of them, ready, for a service that publishes addresses not ready), ready ones in addresses
 * and the others in notReadyAddresses, grouped so that each subset's addresses serve exactly its
 * ports (a pod without a named target port serves the other ports only). A service without ports
 * lists its pods' addresses only when headless. Sorted, so the same pods give the same object.
 */
export function endpointsSubsets(svc: Service, pods: readonly Pod[]): EndpointSubset[] {
  const publishAll = svc.spec?.publishNotReadyAddresses === true;
  const ports = svc.spec?.ports ?? [];
  const groups = new Map<string, { ports: EndpointsPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (!isCandidate(pod) || (pod.metadata.deletionTimestamp && !publishAll)) continue;
    const addr: EndpointAddress = { ip: podIP(pod)!, targetRef: targetRef(pod) };
    const hostname = hostnameFor(svc, pod);
    if (hostname) addr.hostname = hostname;
    if (pod.spec.nodeName) addr.nodeName = pod.spec.nodeName;
    let served: EndpointsPort[] = [];
    if (ports.length === 0) {
      if (svc.spec?.clusterIP !== 'None') continue;
    } else {
      served = slicePorts(svc, pod).map((p) => ({ ...p, port: p.port! })).sort(byPort);
      if (served.length === 0) continue;
    }
    const key = stableJson(served);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports: served, ready: [], notReady: [] }));
    (publishAll || isPodReady(pod) ? g.ready : g.notReady).push(addr);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => {
    const s: EndpointSubset = {};
    if (g.ready.length > 0) s.addresses = g.ready.sort(byAddress);
    if (g.notReady.length > 0) s.notReadyAddresses = g.notReady.sort(byAddress);
    if (g.ports.length > 0) s.ports = g.ports;
    return s;
  });
}

/** The most addresses an Endpoints object holds (Kubernetes' maxCapacity); slices have no such limit. */
export const MAX_ENDPOINTS_ADDRESSES = 1000;
/** The annotation of an Endpoints object cut to MAX_ENDPOINTS_ADDRESSES. */
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

/** Keeps `budget` of `counts`, each part in proportion to its size (the remainder to the first parts). */
function share(counts: number[], budget: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= budget) return counts;
  const out = counts.map((c) => Math.floor((c * budget) / total));
  let left = budget - out.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0 && i < out.length; i++) if (out[i] < counts[i]) { out[i]++; left--; }
  return out;
}

/**
 * Subsets cut to `max` addresses in all, as Kubernetes' endpoints controller cuts them: ready
 * addresses first, each subset keeping its share; the pods left out are in the slices still.
 */
export function truncateSubsets(subsets: EndpointSubset[], max = MAX_ENDPOINTS_ADDRESSES): { subsets: EndpointSubset[]; truncated: boolean } {
  const ready = subsets.map((s) => s.addresses?.length ?? 0);
  const notReady = subsets.map((s) => s.notReadyAddresses?.length ?? 0);
  const totalReady = ready.reduce((a, b) => a + b, 0);
  if (totalReady + notReady.reduce((a, b) => a + b, 0) <= max) return { subsets, truncated: false };
  const keepReady = share(ready, max);
  const keepNotReady = share(notReady, Math.max(0, max - Math.min(totalReady, max)));
  const out = subsets.map((s, i) => {
    const t: EndpointSubset = {};
    if (keepReady[i] > 0) t.addresses = s.addresses!.slice(0, keepReady[i]);
    if (keepNotReady[i] > 0) t.notReadyAddresses = s.notReadyAddresses!.slice(0, keepNotReady[i]);
    if (s.ports) t.ports = s.ports;
    return t;
  }).filter((t) => t.addresses || t.notReadyAddresses);
  return { subsets: out, truncated: true };
}

/** What to do about the service's Endpoints object. */
export type EndpointsAction =
  | { type: 'none' }
  | { type: 'create'; object: Endpoints }
  | { type: 'update'; object: Endpoints };

/**
 * The write, if any, that makes the service's Endpoints hold `endpointsSubsets`, its labels and
 * the service as controller, cut to MAX_ENDPOINTS_ADDRESSES addresses (annotated
 * OVER_CAPACITY_ANNOTATION: truncated). An Endpoints of the same name that someone else wrote is
 * taken over, as Kubernetes' controller does; nothing is written when nothing would change.
 */
export function reconcileEndpoints(svc: Service, pods: readonly Pod[], existing: Endpoints | undefined): EndpointsAction {
  const { subsets, truncated } = truncateSubsets(endpointsSubsets(svc, pods));
  const labels = derivedLabels(svc);
  const ownerReferences = [serviceRef(svc)];
  const annotations = { ...(existing?.metadata.annotations ?? {}) };
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated'; else delete annotations[OVER_CAPACITY_ANNOTATION];
  if (!existing) {
    const metadata: Endpoints['metadata'] = { name: svc.metadata.name, namespace: svc.metadata.namespace, ownerReferences };
    if (Object.keys(labels).length > 0) metadata.labels = labels;
    if (truncated) metadata.annotations = annotations;
    const object: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata };
    if (subsets.length > 0) object.subsets = subsets;
    return { type: 'create', object };
  }
  const same = stableJson(existing.subsets ?? []) === stableJson(subsets)
    && stableJson(existing.metadata.labels ?? {}) === stableJson(labels)
    && stableJson(existing.metadata.annotations ?? {}) === stableJson(annotations)
    && stableJson(existing.metadata.ownerReferences ?? []) === stableJson(ownerReferences);
  if (same) return { type: 'none' };
  const metadata: Endpoints['metadata'] = { ...existing.metadata, ownerReferences };
  if (Object.keys(labels).length > 0) metadata.labels = labels; else delete metadata.labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations; else delete metadata.annotations;
  const object: Endpoints = { ...existing, metadata };
  if (subsets.length > 0) object.subsets = subsets; else delete object.subsets;
  return { type: 'update', object };
}

/** The slices to write: new ones, changed ones (each with its stored metadata) and those to delete. */
export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** True when the slice is one this controller keeps for the service `name`. */
export function isManagedSliceOf(s: EndpointSlice, name: string): boolean {
  return s.metadata.labels?.[LABEL_MANAGED_BY] === ENDPOINTSLICE_CONTROLLER_NAME && s.metadata.labels?.[LABEL_SERVICE_NAME] === name;
}

/** The identity of an endpoint in a service's slices: its pod, else its address. */
function endpointKey(e: SliceEndpoint): string {
  return e.targetRef?.uid || e.targetRef?.name || e.addresses[0];
}

/** Which slices a port list belongs to: the same ports, whatever their order. */
function portsKey(ports: readonly SlicePort[] | undefined): string {
  return stableJson([...(ports ?? [])].map((p) => stableJson(p)).sort());
}

/**
 * The slice writes that make the service's managed slices (`existing`) hold exactly one endpoint
 * per candidate pod, in slices grouped by the pod's resolved ports, at most `max` endpoints each:
 * - a slice keeps the endpoints it has that are still wanted (updated in place), loses the
 *   others, and is deleted when none is left or its ports are no longer any pod's;
 * - new endpoints fill the slices already being rewritten first, then slices with room, and only
 *   then new slices (named by `newName`), so a change of one pod rewrites one slice;
 * - an endpoint carries its node's zone when `opts.zoneOf` knows it;
 * - a service that selects no pod keeps one empty slice (no ports, no endpoints), as Kubernetes'
 *   placeholder, so readers can tell "no endpoints" from "not yet processed".
 * A slice is written only when its endpoints, ports, labels or owner change.
 */
export function reconcileSlices(
  svc: Service, pods: readonly Pod[], existing: readonly EndpointSlice[], newName: () => string,
  opts: { max?: number; zoneOf?: ZoneOf } = {},
): SlicePlan {
  const max = opts.max ?? MAX_ENDPOINTS_PER_SLICE;
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const labels = { ...derivedLabels(svc), [LABEL_SERVICE_NAME]: svc.metadata.name, [LABEL_MANAGED_BY]: ENDPOINTSLICE_CONTROLLER_NAME };
  const ownerReferences = [serviceRef(svc)];
  const metaChanged = (s: EndpointSlice): boolean => stableJson(s.metadata.labels ?? {}) !== stableJson(labels)
    || stableJson(s.metadata.ownerReferences ?? []) !== stableJson(ownerReferences);
  const withContent = (s: EndpointSlice, endpoints: SliceEndpoint[]): EndpointSlice =>
    ({ ...s, metadata: { ...s.metadata, labels, ownerReferences }, endpoints });
  const fresh = (ports: SlicePort[], endpoints: SliceEndpoint[]): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: newName(), namespace: svc.metadata.namespace, labels, ownerReferences },
    addressType: 'IPv4', endpoints, ports,
  });

  // What is wanted, by port list.
  const wanted = new Map<string, { ports: SlicePort[]; endpoints: Map<string, SliceEndpoint> }>();
  for (const pod of pods) {
    if (!isCandidate(pod)) continue;
    const ports = slicePorts(svc, pod);
    const key = portsKey(ports);
    let g = wanted.get(key);
    if (!g) wanted.set(key, (g = { ports, endpoints: new Map() }));
    const ep = sliceEndpoint(svc, pod, opts.zoneOf);
    g.endpoints.set(endpointKey(ep), ep);
  }

  const sorted = [...existing].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  if (wanted.size === 0) {
    const keep = sorted.find((s) => s.addressType === 'IPv4' && s.endpoints.length === 0 && (s.ports ?? []).length === 0);
    for (const s of sorted) if (s !== keep) plan.delete.push(s);
    if (!keep) plan.create.push(fresh([], []));
    else if (metaChanged(keep) || !keep.ports) plan.update.push({ ...withContent(keep, []), ports: [] });
    return plan;
  }

  const placed = new Set<string>();
  for (const [key, g] of [...wanted.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const rewrite: EndpointSlice[] = [];
    const untouched: EndpointSlice[] = [];
    for (const s of sorted) {
      if (s.addressType !== 'IPv4' || portsKey(s.ports) !== key) continue;
      const kept: SliceEndpoint[] = [];
      for (const e of s.endpoints) {
        const k = endpointKey(e);
        const want = g.endpoints.get(k);
        if (!want || placed.has(k) || kept.length >= max) continue;
        placed.add(k);
        kept.push(want);
      }
      if (kept.length === 0) plan.delete.push(s);
      else if (metaChanged(s) || stableJson(kept) !== stableJson(s.endpoints)) rewrite.push(withContent(s, kept));
      else untouched.push(s);
    }
    const rest = [...g.endpoints.entries()].filter(([k]) => !placed.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [k] of rest) placed.add(k);
    let next = 0;
    const fill = (s: EndpointSlice): EndpointSlice => {
      const room = max - s.endpoints.length;
      if (room <= 0 || next >= rest.length) return s;
      const add = rest.slice(next, next + room).map(([, e]) => e);
      next += add.length;
      return withContent(s, [...s.endpoints, ...add]);
    };
    for (const s of rewrite) plan.update.push(fill(s));
    for (const s of untouched) {
      const filled = fill(s);
      if (filled !== s) plan.update.push(filled);
    }
    while (next < rest.length) {
      plan.create.push(fresh(g.ports, rest.slice(next, next + max).map(([, e]) => e)));
      next += max;
    }
  }
  // Slices of ports no pod has now, or of another address type.
  const used = new Set([...plan.update, ...plan.delete].map((s) => s.metadata.name));
  for (const s of sorted) {
    const live = s.addressType === 'IPv4' && wanted.has(portsKey(s.ports));
    if (!live && !used.has(s.metadata.name)) plan.delete.push(s);
  }
  return plan;
}

/** The random part of a slice's name: Kubernetes' alphabet without vowels and look-alikes. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A name for a new slice of the service `svcName`: `<service>-<5 random characters>`, the base cut to 58. */
export function sliceName(svcName: string, random: () => number = Math.random): string {
  let base = `${svcName}-`;
  if (base.length > 58) base = base.slice(0, 58);
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[Math.floor(random() * SUFFIX_ALPHABET.length)];
  return base + suffix;
}
