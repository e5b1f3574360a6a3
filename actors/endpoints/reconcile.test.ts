import {
  ENDPOINTSLICE_CONTROLLER_NAME, formatEndpoints, formatSliceEndpoints, formatSlicePorts, LABEL_MANAGED_BY, LABEL_SERVICE_NAME,
  type Endpoints, type EndpointSlice, type Pod,
} from '../../messages';
import {
  endpointsSubsets, OVER_CAPACITY_ANNOTATION, reconcileEndpoints, reconcileSlices, resolvePort, sliceEndpoint, sliceName, truncateSubsets,
  type SlicePlan,
} from './reconcile';
import { managedSelector, type Service } from './service';

const svc = (spec: Service['spec'] = {}, name = 'web'): Service => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name, namespace: 'default', uid: 'svc-uid', labels: { team: 'a' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
});

interface PodOpts { ip?: string | null; ready?: boolean; deleting?: boolean; phase?: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; node?: string; ports?: { name: string; containerPort: number; protocol?: 'TCP' | 'UDP' }[]; hostname?: string; subdomain?: string }

let ipSeq = 1;
const pod = (name: string, o: PodOpts = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: {
    containers: [{ name: 'c', image: 'busybox', ...(o.ports ? { ports: o.ports } : {}) }],
    ...(o.node !== undefined ? { nodeName: o.node } : { nodeName: 'n1' }),
    ...(o.hostname ? { hostname: o.hostname } : {}), ...(o.subdomain ? { subdomain: o.subdomain } : {}),
  },
  status: {
    phase: o.phase ?? 'Running',
    ...(o.ip === null ? {} : { podIP: o.ip ?? `10.244.0.${ipSeq++}` }),
    conditions: o.ready === false ? [{ type: 'Ready', status: 'False' }] : [{ type: 'Ready', status: 'True' }],
  },
} as Pod);

let n = 0;
const names = () => `web-${String(n++).padStart(5, 'x')}`;

/** The stored slices after applying `plan` to `existing`. */
function apply(existing: EndpointSlice[], plan: SlicePlan): EndpointSlice[] {
  const gone = new Set(plan.delete.map((s) => s.metadata.name));
  const updated = new Map(plan.update.map((s) => [s.metadata.name, s]));
  return [...existing.filter((s) => !gone.has(s.metadata.name)).map((s) => updated.get(s.metadata.name) ?? s), ...plan.create];
}

const writes = (p: SlicePlan) => p.create.length + p.update.length + p.delete.length;
const allEndpoints = (slices: EndpointSlice[]) => slices.flatMap((s) => s.endpoints);

beforeEach(() => { ipSeq = 1; n = 0; });

describe('which services the controller keeps', () => {
  it('those with a non-empty selector, never ExternalName ones', () => {
    expect(managedSelector(svc())).toEqual({ app: 'web' });
    expect(managedSelector(svc({ selector: undefined }))).toBeUndefined();
    expect(managedSelector(svc({ selector: {} }))).toBeUndefined();
    expect(managedSelector(svc({ type: 'ExternalName' }))).toBeUndefined();
  });
});

describe('endpoint conditions', () => {
  it('ready = Ready and not terminating; serving = Ready; terminating = being deleted', () => {
    expect(sliceEndpoint(svc(), pod('a')).conditions).toEqual({ ready: true, serving: true, terminating: false });
    expect(sliceEndpoint(svc(), pod('a', { ready: false })).conditions).toEqual({ ready: false, serving: false, terminating: false });
    expect(sliceEndpoint(svc(), pod('a', { deleting: true })).conditions).toEqual({ ready: false, serving: true, terminating: true });
  });

  it('publishNotReadyAddresses makes every endpoint ready', () => {
    const s = svc({ publishNotReadyAddresses: true });
    expect(sliceEndpoint(s, pod('a', { ready: false })).conditions?.ready).toBe(true);
    expect(sliceEndpoint(s, pod('a', { deleting: true })).conditions?.ready).toBe(true);
  });

  it("carries its node's zone when known", () => {
    const zoneOf = (n: string) => (n === 'n1' ? 'z1' : undefined);
    expect(sliceEndpoint(svc(), pod('a'), zoneOf).zone).toBe('z1');
    expect(sliceEndpoint(svc(), pod('b', { node: 'n2' }), zoneOf).zone).toBeUndefined();
    expect(reconcileSlices(svc(), [pod('c')], [], names, { zoneOf }).create[0].endpoints[0].zone).toBe('z1');
  });

  it('carries the node, the pod reference, and the hostname only when the subdomain names the service', () => {
    const e = sliceEndpoint(svc(), pod('a', { ip: '10.244.1.5', node: 'n2', hostname: 'h', subdomain: 'web' }));
    expect(e).toEqual({
      addresses: ['10.244.1.5'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n2', hostname: 'h',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
    });
    expect(sliceEndpoint(svc(), pod('b', { hostname: 'h', subdomain: 'other' })).hostname).toBeUndefined();
    expect(sliceEndpoint(svc(), pod('c', { hostname: 'h' })).hostname).toBeUndefined();
  });
});

describe('target ports', () => {
  const p = pod('a', { ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] });
  it('a number as is, the port itself when omitted, a name by the container port of that name and protocol', () => {
    expect(resolvePort({ port: 80, targetPort: 9090 }, p)).toBe(9090);
    expect(resolvePort({ port: 80 }, p)).toBe(80);
    expect(resolvePort({ port: 80, targetPort: 'http' }, p)).toBe(8080);
    expect(resolvePort({ port: 53, targetPort: 'dns', protocol: 'UDP' }, p)).toBe(5353);
    expect(resolvePort({ port: 53, targetPort: 'dns' }, p)).toBeUndefined();
    expect(resolvePort({ port: 80, targetPort: 'nope' }, p)).toBeUndefined();
  });
});

describe('Endpoints', () => {
  it('ready pods in addresses, unready in notReadyAddresses, terminating and finished pods and pods without an IP left out', () => {
    const pods = [
      pod('b', { ip: '10.244.2.3' }), pod('a', { ip: '10.244.1.5' }), pod('u', { ip: '10.244.1.9', ready: false }),
      pod('t', { ip: '10.244.1.10', deleting: true }), pod('f', { phase: 'Failed' }), pod('s', { phase: 'Succeeded' }), pod('p', { ip: null }),
    ];
    const subsets = endpointsSubsets(svc(), pods);
    expect(subsets).toEqual([{
      addresses: [
        { ip: '10.244.1.5', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
        { ip: '10.244.2.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
      ],
      notReadyAddresses: [{ ip: '10.244.1.9', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'u', uid: 'uid-u' } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }]);
  });

  it('publishNotReadyAddresses puts every pod, terminating ones too, in addresses', () => {
    const subsets = endpointsSubsets(svc({ publishNotReadyAddresses: true }), [pod('a'), pod('u', { ready: false }), pod('t', { deleting: true })]);
    expect(subsets).toHaveLength(1);
    expect(subsets[0].addresses?.map((a) => a.targetRef?.name)).toEqual(['a', 'u', 't']);
    expect(subsets[0].notReadyAddresses).toBeUndefined();
  });

  it('groups pods by the ports they resolve: a pod without the named port serves the others only', () => {
    const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9100 }] });
    const withHttp = pod('a', { ip: '10.244.0.1', ports: [{ name: 'http', containerPort: 8080 }] });
    const without = pod('b', { ip: '10.244.0.2' });
    const subsets = endpointsSubsets(s, [withHttp, without]);
    expect(subsets.map((x) => [x.addresses?.map((a) => a.ip), x.ports?.map((p) => `${p.name}:${p.port}`)])).toEqual([
      [['10.244.0.1'], ['http:8080', 'metrics:9100']],
      [['10.244.0.2'], ['metrics:9100']],
    ]);
  });

  it('a service without ports lists addresses only when headless', () => {
    expect(endpointsSubsets(svc({ ports: [] }), [pod('a')])).toEqual([]);
    const headless = endpointsSubsets(svc({ ports: [], clusterIP: 'None' }), [pod('a', { ip: '10.244.0.7' })]);
    expect(headless).toEqual([{ addresses: [expect.objectContaining({ ip: '10.244.0.7' })] }]);
  });

  it('is created with the service as controller, updated only when something changed', () => {
    const created = reconcileEndpoints(svc(), [pod('a')], undefined);
    expect(created.type).toBe('create');
    const obj = (created as { object: Endpoints }).object;
    expect(obj.metadata).toMatchObject({ name: 'web', namespace: 'default', labels: { team: 'a' } });
    expect(obj.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
    ipSeq = 1;
    const stored = { ...obj, metadata: { ...obj.metadata, uid: 'ep-uid', resourceVersion: '7' } };
    expect(reconcileEndpoints(svc(), [pod('a')], stored)).toEqual({ type: 'none' });
    ipSeq = 1;
    const changed = reconcileEndpoints(svc(), [pod('a', { ready: false })], stored);
    expect(changed.type).toBe('update');
    expect((changed as { object: Endpoints }).object.metadata.uid).toBe('ep-uid');
    expect((changed as { object: Endpoints }).object.subsets?.[0].notReadyAddresses).toHaveLength(1);
  });

  it('a selector that matches nothing gives an Endpoints without subsets', () => {
    const r = reconcileEndpoints(svc(), [], undefined) as { object: Endpoints };
    expect(r.object.subsets).toBeUndefined();
    expect(formatEndpoints(r.object)).toBe('<none>');
  });

  it('is cut to 1000 addresses, ready ones first, and says so', () => {
    const pods = Array.from({ length: 1100 }, (_, i) => pod(`p${i}`, { ip: `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`, ready: i < 900 }));
    const ep = (reconcileEndpoints(svc(), pods, undefined) as { object: Endpoints }).object;
    expect(ep.subsets?.[0].addresses).toHaveLength(900);
    expect(ep.subsets?.[0].notReadyAddresses).toHaveLength(100);
    expect(ep.metadata.annotations).toEqual({ [OVER_CAPACITY_ANNOTATION]: 'truncated' });
    const stored = { ...ep, metadata: { ...ep.metadata, uid: 'u' } };
    expect(reconcileEndpoints(svc(), pods, stored)).toEqual({ type: 'none' });
    const smaller = reconcileEndpoints(svc(), pods.slice(0, 10), stored) as { object: Endpoints };
    expect(smaller.object.metadata.annotations).toBeUndefined();
    const split = truncateSubsets([
      { addresses: Array.from({ length: 30 }, (_, i) => ({ ip: `10.0.0.${i}` })) },
      { addresses: Array.from({ length: 10 }, (_, i) => ({ ip: `10.0.1.${i}` })) },
    ], 20);
    expect(split.subsets.map((x) => x.addresses?.length)).toEqual([15, 5]);
  });

  it('prints at most three ready ip:port pairs', () => {
    const ep = (reconcileEndpoints(svc(), ['a', 'b', 'c', 'd', 'e'].map((x, i) => pod(x, { ip: `10.244.1.${i + 1}` })), undefined) as { object: Endpoints }).object;
    expect(formatEndpoints(ep)).toBe('10.244.1.1:8080,10.244.1.2:8080,10.244.1.3:8080 + 2 more...');
  });
});

describe('EndpointSlices', () => {
  it('one slice of the service with its labels, owner and ports; nothing written when unchanged', () => {
    const pods = [pod('a'), pod('b'), pod('c', { ready: false })];
    const plan = reconcileSlices(svc(), pods, [], names);
    expect(plan.create).toHaveLength(1);
    const s = plan.create[0];
    expect(s.metadata.labels).toEqual({ team: 'a', [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: ENDPOINTSLICE_CONTROLLER_NAME });
    expect(s.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'web', uid: 'svc-uid', controller: true });
    expect(s.addressType).toBe('IPv4');
    expect(s.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(s.endpoints.map((e) => e.conditions?.ready)).toEqual([true, true, false]);
    expect(writes(reconcileSlices(svc(), pods, plan.create, names))).toBe(0);
    expect(formatSlicePorts(s)).toBe('8080');
    expect(formatSliceEndpoints(s)).toBe('10.244.0.1,10.244.0.2,10.244.0.3');
  });

  it('a pod turning unready, terminating or gone rewrites only its slice', () => {
    const pods = Array.from({ length: 150 }, (_, i) => pod(`p${i}`, { ip: `10.244.${Math.floor(i / 200)}.${(i % 200) + 1}` }));
    let stored = apply([], reconcileSlices(svc(), pods, [], names));
    expect(stored.map((s) => s.endpoints.length)).toEqual([100, 50]);
    const where = stored.findIndex((s) => s.endpoints.some((e) => e.targetRef?.name === 'p120'));
    const terminating = { ...pods[120], metadata: { ...pods[120].metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    let plan = reconcileSlices(svc(), pods.map((p, i) => (i === 120 ? terminating : p)), stored, names);
    expect(plan.update.map((s) => s.metadata.name)).toEqual([stored[where].metadata.name]);
    expect(plan.create.length + plan.delete.length).toBe(0);
    stored = apply(stored, plan);
    expect(allEndpoints(stored).find((e) => e.targetRef?.name === 'p120')?.conditions).toEqual({ ready: false, serving: true, terminating: true });
    plan = reconcileSlices(svc(), pods.filter((_, i) => i !== 120), stored, names);
    expect(plan.update).toHaveLength(1);
    stored = apply(stored, plan);
    expect(allEndpoints(stored)).toHaveLength(149);
    expect(allEndpoints(stored).some((e) => e.targetRef?.name === 'p120')).toBe(false);
  });

  it('splits at 100 per slice and fills slices with room before making new ones', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, { ip: `10.244.${Math.floor(i / 200)}.${(i % 200) + 1}` }));
    let stored = apply([], reconcileSlices(svc(), pods.slice(0, 230), [], names));
    expect(stored.map((s) => s.endpoints.length).sort()).toEqual([100, 100, 30]);
    const plan = reconcileSlices(svc(), pods, stored, names);
    expect(plan.create).toHaveLength(0);
    expect(plan.update).toHaveLength(1);
    stored = apply(stored, plan);
    expect(stored.map((s) => s.endpoints.length).sort()).toEqual([100, 100, 50]);
    const more = Array.from({ length: 80 }, (_, i) => pod(`q${i}`, { ip: `10.244.5.${i + 1}` }));
    const grown = apply(stored, reconcileSlices(svc(), [...pods, ...more], stored, names));
    expect(grown.every((s) => s.endpoints.length <= 100)).toBe(true);
    expect(allEndpoints(grown)).toHaveLength(330);
    expect(new Set(allEndpoints(grown).map((e) => e.targetRef?.uid)).size).toBe(330);
  });

  it('groups endpoints by resolved ports: pods without the named port go to a slice without it', () => {
    const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9100 }] });
    const a = pod('a', { ports: [{ name: 'http', containerPort: 8080 }] });
    const b = pod('b', { ports: [{ name: 'http', containerPort: 8081 }] });
    const c = pod('c');
    const plan = reconcileSlices(s, [a, b, c], [], names);
    const byPorts = Object.fromEntries(plan.create.map((x) => [x.ports?.map((p) => `${p.name}:${p.port}`).join(','), x.endpoints.map((e) => e.targetRef?.name)]));
    expect(byPorts).toEqual({ 'http:8080,metrics:9100': ['a'], 'http:8081,metrics:9100': ['b'], 'metrics:9100': ['c'] });
    // Pod c gains the port: its slice goes, it joins another group's new slice... once, and the rest stays.
    const stored = plan.create;
    const c2 = { ...c, spec: { ...c.spec, containers: [{ ...c.spec.containers[0], ports: [{ name: 'http', containerPort: 8080 }] }] } };
    const next = reconcileSlices(s, [a, b, c2], stored, names);
    expect(next.delete.map((x) => x.ports?.length)).toEqual([1]);
    expect(next.update).toHaveLength(1);
    expect(next.update[0].endpoints.map((e) => e.targetRef?.name)).toEqual(['a', 'c']);
    expect(next.create).toHaveLength(0);
  });

  it('a service selecting no pod keeps one empty slice; a duplicate endpoint or a stray slice goes', () => {
    const empty = reconcileSlices(svc(), [], [], names);
    expect(empty.create).toEqual([expect.objectContaining({ endpoints: [], ports: [] })]);
    expect(writes(reconcileSlices(svc(), [], empty.create, names))).toBe(0);
    // Pods arrive: the placeholder goes once the real slice is made.
    const filled = reconcileSlices(svc(), [pod('a')], empty.create, names);
    expect(filled.create).toHaveLength(1);
    expect(filled.delete.map((s) => s.metadata.name)).toEqual([empty.create[0].metadata.name]);
    // Two slices holding the same pod (a write repeated across a crash): one keeps it.
    const one = filled.create[0];
    const twin = { ...one, metadata: { ...one.metadata, name: 'web-twin' } };
    const dedup = reconcileSlices(svc(), [pod('a', { ip: one.endpoints[0].addresses[0] })], [one, twin], names);
    expect(writes(dedup)).toBe(1);
    expect(dedup.delete).toHaveLength(1);
    expect(allEndpoints(apply([one, twin], dedup))).toHaveLength(1);
  });

  it('new slices are named after the service with five random characters', () => {
    expect(sliceName('web')).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(sliceName('a'.repeat(80))).toHaveLength(63);
  });
});
