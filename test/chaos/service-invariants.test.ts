/**
 * The Service invariants judge made-up worlds: a settled set of Services, slices, keys, chains and
 * DNS answers passes, and each way it can be wrong is reported under its invariant.
 */
import { ipKey, portKey } from '../../actors/service/allocations';
import type { EndpointSlice, Pod, Service } from '../../messages';
import { serviceChains, servicePortName } from '../../node-agent/proxy/chains';
import { createRng } from '../helpers/chaos-random';
import {
  checkAllocationKeys, checkDns, checkEndpointSlices, checkProxyChains, checkServiceRanges, inCidr, serviceChainsOf,
} from './service-invariants';
import { planServices, serviceCount, serviceManifest } from './services';

function svc(name: string, o: { ip?: string; type?: Service['spec']['type']; nodePorts?: number[]; uid?: string; app?: string; udp?: boolean } = {}): Service {
  const ports = [{ name: 'http', port: 80, protocol: 'TCP' as const, targetPort: 8080 }, ...(o.udp ? [{ name: 'dns', port: 53, protocol: 'UDP' as const, targetPort: 5353 }] : [])];
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'default', uid: o.uid ?? `u-${name}` },
    spec: {
      type: o.type ?? 'ClusterIP', clusterIP: o.ip ?? '10.96.0.10', selector: { app: o.app ?? 'a' },
      ports: ports.map((p, i) => (o.nodePorts?.[i] !== undefined ? { ...p, nodePort: o.nodePorts[i] } : p)),
    },
  } as Service;
}

function pod(name: string, ip: string | undefined, o: { ready?: boolean; app?: string; phase?: string; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `u-${name}`, labels: { app: o.app ?? 'a' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'main', image: 'busybox' }] },
    status: {
      phase: o.phase ?? 'Running', ...(ip ? { podIP: ip } : {}),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  } as Pod;
}

function slice(service: string, eps: { ip: string; ready?: boolean; pod?: string }[], o: { udp?: boolean; name?: string } = {}): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: o.name ?? `${service}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true }, targetRef: { kind: 'Pod', name: e.pod ?? 'p', namespace: 'default' } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, ...(o.udp ? [{ name: 'dns', port: 5353, protocol: 'UDP' as const }] : [])],
  } as EndpointSlice;
}

const owner = (s: Service) => ({ namespace: 'default', name: s.metadata.name, uid: s.metadata.uid!, at: '2026-01-01T00:00:00Z' });
const names = (vs: { invariant: string; detail: string }[]) => vs.map((v) => `${v.invariant}: ${v.detail}`);

describe('service ranges', () => {
  it('knows the service CIDR', () => {
    expect(inCidr('10.96.0.1', '10.96.0.0/12')).toBe(true);
    expect(inCidr('10.111.255.254', '10.96.0.0/12')).toBe(true);
    expect(inCidr('10.112.0.1', '10.96.0.0/12')).toBe(false);
    expect(inCidr('not-an-ip', '10.96.0.0/12')).toBe(false);
  });

  it('passes unique IPs and node ports in range, headless services aside', () => {
    const ok = [svc('a', { ip: '10.96.0.10' }), svc('b', { ip: '10.96.0.11', type: 'NodePort', nodePorts: [30001, 30002], udp: true }), svc('h', { ip: 'None' }), svc('h2', { ip: 'None' })];
    expect(checkServiceRanges(ok)).toEqual([]);
  });

  it('reports a shared cluster IP, one outside the CIDR, a shared node port and one out of range, as permanent', () => {
    const vs = checkServiceRanges([
      svc('a', { ip: '10.96.0.10' }), svc('b', { ip: '10.96.0.10' }), svc('c', { ip: '10.200.0.1' }),
      svc('d', { ip: '10.96.0.12', type: 'NodePort', nodePorts: [30001] }), svc('e', { ip: '10.96.0.13', type: 'NodePort', nodePorts: [30001] }),
      svc('f', { ip: '10.96.0.14', type: 'NodePort', nodePorts: [80] }),
    ]);
    expect(names(vs)).toEqual([
      "cluster-ip: cluster IP 10.96.0.10 is also service default/a's",
      'cluster-ip: cluster IP 10.200.0.1 is outside the service CIDR 10.96.0.0/12',
      "node-port: node port TCP/30001 is also service default/d's",
      'node-port: node port 80 is outside 30000-32767',
    ]);
    expect(vs.every((v) => v.permanent)).toBe(true);
  });

  it('counts a TCP and a UDP node port of one number as two', () => {
    const s = svc('a', { type: 'NodePort', nodePorts: [30001, 30001], udp: true });
    expect(checkServiceRanges([s])).toEqual([]);
  });
});

describe('allocation keys', () => {
  const a = svc('a', { ip: '10.96.0.10', type: 'NodePort', nodePorts: [30001] });
  const keys = [{ key: ipKey('10.96.0.10'), owner: owner(a) }, { key: portKey('TCP', 30001), owner: owner(a) }];

  it('passes keys held by the live services that have them', () => {
    expect(checkAllocationKeys(keys, [a])).toEqual([]);
  });

  it('reports a deleted service\'s key, an earlier incarnation\'s, one the service does not have, and a held IP without its key', () => {
    const again = { ...a, metadata: { ...a.metadata, uid: 'u-new' } };
    expect(names(checkAllocationKeys([...keys, { key: ipKey('10.96.0.99'), owner: { ...owner(a), name: 'gone' } }], [a]))).toEqual([
      'allocation: held by service default/gone, which is gone',
    ]);
    expect(names(checkAllocationKeys(keys, [again]))).toEqual([
      'allocation: held by an earlier service default/a (uid u-a, now u-new)',
      'allocation: held by an earlier service default/a (uid u-a, now u-new)',
    ]);
    expect(names(checkAllocationKeys([...keys, { key: ipKey('10.96.0.77'), owner: owner(a) }], [a]))).toEqual([
      'allocation: held by service default/a, which does not have it',
    ]);
    expect(names(checkAllocationKeys(keys.slice(1), [a]))).toEqual([`allocation: holds ${ipKey('10.96.0.10')} without its allocation key`]);
    expect(checkAllocationKeys(keys.slice(1), [a]).every((v) => !v.permanent)).toBe(true);
  });
});

describe('endpoint slices', () => {
  const a = svc('a');
  const pods = [pod('p1', '10.244.0.5'), pod('p2', '10.244.0.6', { ready: false }), pod('p3', undefined), pod('p4', '10.244.0.8', { phase: 'Succeeded' }), pod('q', '10.244.0.9', { app: 'b' })];

  it('passes slices that list the selected pods with an IP, ready as they say, across slices', () => {
    expect(checkEndpointSlices(a, [slice('a', [{ ip: '10.244.0.5' }], { name: 'a-1' }), slice('a', [{ ip: '10.244.0.6', ready: false }], { name: 'a-2' })], pods)).toEqual([]);
  });

  it('takes a terminating pod for not ready', () => {
    expect(checkEndpointSlices(a, [slice('a', [{ ip: '10.244.0.5', ready: false }])], [pod('p1', '10.244.0.5', { deleting: true })])).toEqual([]);
  });

  it('reports a missing pod, a stranger, a wrong readiness and a twice-listed address', () => {
    const vs = checkEndpointSlices(a, [
      slice('a', [{ ip: '10.244.0.6' }, { ip: '10.244.0.9', pod: 'q' }], { name: 'a-1' }),
      slice('a', [{ ip: '10.244.0.6', ready: false }], { name: 'a-2' }),
      slice('other', [{ ip: '10.244.0.5' }]),
    ], pods);
    expect(names(vs)).toEqual([
      'endpoints: endpoint 10.244.0.6 (pod p2) is ready; the pod says not ready',
      "endpoints: endpoint 10.244.0.9 (q) is no selected pod's",
      'endpoints: endpoint 10.244.0.6 is listed twice',
      'endpoints: pod p1 (10.244.0.5) is selected but not in its EndpointSlices',
    ]);
  });
});

describe('proxy chains', () => {
  const a = svc('a', { udp: true });
  const tcp = serviceChains(servicePortName('default', 'a', { name: 'http', port: 80 }, 'TCP')).svc;
  const udp = serviceChains(servicePortName('default', 'a', { name: 'dns', port: 53 }, 'UDP')).svc;

  it('names one chain per port, ready when a slice port of its name has a ready endpoint', () => {
    expect(serviceChainsOf(a, [slice('a', [{ ip: '10.244.0.5' }])]).map((c) => [c.chain, c.ready])).toEqual([[tcp, true], [udp, false]]);
    expect(serviceChainsOf(svc('h', { ip: 'None' }), [])).toEqual([]);
  });

  it('passes a chain per port with ready endpoints; one without endpoints may be there or not', () => {
    const slices = [slice('a', [{ ip: '10.244.0.5' }])];
    expect(checkProxyChains('n1', ['MK-SERVICES', tcp], [a], slices)).toEqual([]);
    expect(checkProxyChains('n1', ['MK-SERVICES', tcp, udp], [a], slices)).toEqual([]);
  });

  it('reports a missing chain and a stale one, naming the deleted service it was for', () => {
    const gone = serviceChains(servicePortName('default', 'old', { name: 'http', port: 80 }, 'TCP')).svc;
    const vs = checkProxyChains('n1', [gone, 'MK-SVC-AAAAAAAAAAAAAAAA'], [a], [slice('a', [{ ip: '10.244.0.5' }], { udp: true })], new Map([[gone, 'default/old:http/TCP']]));
    expect(names(vs)).toEqual([
      `proxy: no ${tcp} chain for default/a:http/TCP, which has ready endpoints`,
      `proxy: no ${udp} chain for default/a:dns/UDP, which has ready endpoints`,
      `proxy: stale chain ${gone} (of default/old:http/TCP, deleted)`,
      'proxy: stale chain MK-SVC-AAAAAAAAAAAAAAAA (of no live service port)',
    ]);
  });
});

describe('cluster DNS', () => {
  const a = svc('a', { ip: '10.96.0.10' });
  const h = svc('h', { ip: 'None' });
  const slices = [slice('h', [{ ip: '10.244.0.6' }, { ip: '10.244.0.5' }, { ip: '10.244.0.7', ready: false }])];

  it('passes a cluster IP for a service, the ready addresses for a headless one', () => {
    const answers = {
      'a.default.svc.cluster.local': { rcode: 'NOERROR', addresses: ['10.96.0.10'] },
      'h.default.svc.cluster.local': { rcode: 'NOERROR', addresses: ['10.244.0.6', '10.244.0.5'] },
    };
    expect(checkDns('n1', answers, [a, h], slices)).toEqual([]);
    // A headless service without a ready endpoint is not asked about.
    expect(checkDns('n1', {}, [h], [])).toEqual([]);
  });

  it('reports a wrong address, NXDOMAIN, and a name not asked', () => {
    expect(names(checkDns('n1', { 'a.default.svc.cluster.local': { rcode: 'NOERROR', addresses: ['10.96.0.99'] } }, [a], slices)))
      .toEqual(['dns: a.default.svc.cluster.local answers NOERROR [10.96.0.99]; want [10.96.0.10]']);
    expect(names(checkDns('n1', { 'a.default.svc.cluster.local': { rcode: 'NXDOMAIN', addresses: [] } }, [a], slices)))
      .toEqual(['dns: a.default.svc.cluster.local answers NXDOMAIN []; want [10.96.0.10]']);
    expect(names(checkDns('n1', {}, [h], slices))).toEqual(['dns: h.default.svc.cluster.local was not asked']);
  });
});

describe('the services plan', () => {
  it('draws the same plan from the same seed, with each type, deletes within the window', () => {
    const p = planServices(createRng(7).fork('services'), { tag: 't', windowMs: 20_000, count: 30 });
    expect(planServices(createRng(7).fork('services'), { tag: 't', windowMs: 20_000, count: 30 })).toEqual(p);
    expect(p.services).toHaveLength(serviceCount(30));
    expect(new Set(p.services.map((s) => s.type))).toEqual(new Set(['ClusterIP', 'NodePort', 'headless']));
    for (const s of p.services) {
      if (s.deleteAtMs !== undefined) expect(s.deleteAtMs).toBeLessThanOrEqual(20_000);
      if (s.reapplyAtMs !== undefined) expect(s.reapplyAtMs).toBeGreaterThan(s.deleteAtMs!);
    }
    expect(serviceCount(1)).toBe(3);
  });

  it('writes a headless manifest with clusterIP None and a UDP port when asked', () => {
    const m = serviceManifest({ name: 's', type: 'headless', target: 'd', udp: true }, 't');
    expect(m).toContain('clusterIP: None');
    expect(m).toContain('protocol: UDP');
    expect(serviceManifest({ name: 's', type: 'NodePort', target: 'd', udp: false }, 't')).not.toMatch(/clusterIP|UDP/);
  });
});
