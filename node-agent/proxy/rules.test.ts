import type { EndpointSliceView, EndpointView, ServiceView } from '../service-network/types';
import { base32, endpointChain, isProxyChain, serviceChains } from './chains';
import { chainsInSave, planRemoval, planRestore, snapshot } from './restore';
import { buildRules, q, RuleCache, type ProxyNode } from './rules';

const node: ProxyNode = { name: 'n1', clusterCIDR: '10.244.0.0/16', podCIDR: '10.244.1.0/24' };

const svc = (name: string, spec: Partial<ServiceView['spec']> = {}, status?: ServiceView['status']): ServiceView => ({
  metadata: { name, namespace: 'default' },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
  ...(status ? { status } : {}),
});

const ep = (ip: string, o: Partial<EndpointView> & { ready?: boolean; serving?: boolean; terminating?: boolean } = {}): EndpointView => ({
  addresses: [ip], nodeName: o.nodeName ?? 'n1',
  conditions: { ready: o.ready ?? true, serving: o.serving ?? o.ready ?? true, terminating: o.terminating ?? false },
});

const slice = (service: string, endpoints: EndpointView[], port = 8080, protocol: 'TCP' | 'UDP' = 'TCP', portName = 'http'): EndpointSliceView => ({
  metadata: { name: `${service}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', endpoints, ports: [{ name: portName, port, protocol }],
});

const build = (services: ServiceView[], slices: EndpointSliceView[], n = node) =>
  buildRules(services, (ns, name) => slices.filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === name), n);

const chainsOf = (rules: string[] | undefined) => rules ?? [];
const web = serviceChains('default/web:http/TCP');

describe('chain names', () => {
  it('are a prefix and 16 base32 characters of a hash: stable, at most 28 characters', () => {
    expect(base32(Buffer.from('foobar'))).toBe('MZXW6YTBOI'); // RFC 4648's test vector
    expect(web.svc).toMatch(/^MK-SVC-[A-Z2-7]{16}$/);
    expect(serviceChains('default/web:http/TCP')).toEqual(web);
    expect(serviceChains('default/web:http/UDP').svc).not.toBe(web.svc);
    const sep = endpointChain('default/web:http/TCP', '10.244.1.2:8080');
    expect(sep.length).toBeLessThanOrEqual(28);
    expect(isProxyChain('nat', sep)).toBe(true);
    expect(isProxyChain('nat', 'MK-POD-NETWORK')).toBe(false);
    expect(isProxyChain('nat', 'KUBE-SERVICES')).toBe(false);
  });
});

describe('buildRules', () => {
  it('spreads a cluster IP over three endpoints with probabilities 1/3, 1/2 and 1', () => {
    const r = build([svc('web')], [slice('web', [ep('10.244.1.2'), ep('10.244.1.3'), ep('10.244.1.4')])]);
    const services = chainsOf(r.nat.get('MK-SERVICES'));
    expect(services[0]).toBe(`-A MK-SERVICES -m comment --comment "default/web:http/TCP cluster IP" -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j ${web.svc}`);
    // NodePorts last.
    expect(services[services.length - 1]).toMatch(/-m addrtype --dst-type LOCAL -j MK-NODEPORTS$/);
    const chain = chainsOf(r.nat.get(web.svc));
    expect(chain[0]).toBe(`-A ${web.svc} -m comment --comment "default/web:http/TCP cluster IP" ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j MK-MARK-MASQ`);
    const seps = ['10.244.1.2', '10.244.1.3', '10.244.1.4'].map((ip) => endpointChain('default/web:http/TCP', `${ip}:8080`));
    expect(chain.slice(1)).toEqual([
      `-A ${web.svc} -m comment --comment "default/web:http/TCP -> endpoint" -m statistic --mode random --probability 0.3333333333 -j ${seps[0]}`,
      `-A ${web.svc} -m comment --comment "default/web:http/TCP -> endpoint" -m statistic --mode random --probability 0.5000000000 -j ${seps[1]}`,
      `-A ${web.svc} -m comment --comment "default/web:http/TCP -> endpoint" -j ${seps[2]}`,
    ]);
    // Each endpoint chain: hairpin masquerade, then DNAT.
    expect(r.nat.get(seps[0])).toEqual([
      `-A ${seps[0]} -m comment --comment "default/web:http/TCP" -s 10.244.1.2/32 -j MK-MARK-MASQ`,
      `-A ${seps[0]} -m comment --comment "default/web:http/TCP" -p tcp -m tcp -j DNAT --to-destination 10.244.1.2:8080`,
    ]);
    expect(r.filter.get('MK-SERVICES')).toEqual([]);
    expect(r.nat.get('MK-POSTROUTING')).toContain('-A MK-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN');
    expect(r.nat.get('MK-MARK-MASQ')).toEqual(['-A MK-MARK-MASQ -j MARK --or-mark 0x4000']);
    expect(r.filter.get('MK-FORWARD')?.[0]).toMatch(/-m mark --mark 0x4000\/0x4000 -j ACCEPT$/);
  });

  it('sends everything to a single endpoint without a statistic match', () => {
    const r = build([svc('web')], [slice('web', [ep('10.244.1.2')])]);
    expect(chainsOf(r.nat.get(web.svc)).filter((l) => l.includes('statistic'))).toEqual([]);
    expect(chainsOf(r.nat.get(web.svc))).toHaveLength(2);
  });

  it('REJECTs a service port without ready endpoints, and leaves it out of nat', () => {
    const r = build([svc('web')], [slice('web', [ep('10.244.1.2', { ready: false, serving: false })])]);
    expect(r.filter.get('MK-SERVICES')).toEqual([
      '-A MK-SERVICES -m comment --comment "default/web:http/TCP has no endpoints" -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
    ]);
    expect(r.nat.has(web.svc)).toBe(false);
    expect(chainsOf(r.nat.get('MK-SERVICES')).some((l) => l.includes('10.96.0.10'))).toBe(false);
  });

  it('uses terminating but serving endpoints only when none is ready', () => {
    const draining = ep('10.244.1.9', { ready: false, serving: true, terminating: true });
    const only = build([svc('web')], [slice('web', [draining])]);
    expect(chainsOf(only.nat.get(web.svc)).join('\n')).toContain(endpointChain('default/web:http/TCP', '10.244.1.9:8080'));
    const mixed = build([svc('web')], [slice('web', [draining, ep('10.244.1.2')])]);
    expect(chainsOf(mixed.nat.get(web.svc)).join('\n')).not.toContain(endpointChain('default/web:http/TCP', '10.244.1.9:8080'));
  });

  it('gives headless and ExternalName services no rules', () => {
    const r = build([svc('h', { clusterIP: 'None' }), svc('x', { type: 'ExternalName', externalName: 'example.com', clusterIP: undefined })],
      [slice('h', [ep('10.244.1.2')])]);
    expect([...r.nat.keys()].filter((c) => /^MK-(SVC|SEP)-/.test(c))).toEqual([]);
    expect(r.filter.get('MK-SERVICES')).toEqual([]);
  });

  it('marks NodePort traffic for masquerade and sends it to the cluster chain', () => {
    const r = build([svc('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] })], [slice('web', [ep('10.244.1.2')])]);
    expect(r.nat.get('MK-NODEPORTS')).toEqual([`-A MK-NODEPORTS -m comment --comment "default/web:http/TCP node port" -p tcp -m tcp --dport 30080 -j ${web.ext}`]);
    expect(r.nat.get(web.ext)).toEqual([
      `-A ${web.ext} -m comment --comment "masquerade traffic to default/web:http/TCP from outside" -j MK-MARK-MASQ`,
      `-A ${web.ext} -j ${web.svc}`,
    ]);
    const none = build([svc('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] })], []);
    expect(none.filter.get('MK-EXTERNAL-SERVICES')).toEqual([
      '-A MK-EXTERNAL-SERVICES -m comment --comment "default/web:http/TCP has no endpoints" -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable',
    ]);
  });

  it('with externalTrafficPolicy Local keeps the client address and uses local endpoints only', () => {
    const spec = { type: 'NodePort' as const, externalTrafficPolicy: 'Local' as const, ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' as const }] };
    const r = build([svc('web', spec)], [slice('web', [ep('10.244.1.2'), ep('10.244.2.2', { nodeName: 'n2' })])]);
    const ext = chainsOf(r.nat.get(web.ext));
    expect(ext.some((l) => l.endsWith('-j MK-MARK-MASQ') && !l.includes('--src-type LOCAL'))).toBe(false);
    expect(ext[0]).toContain(`-s 10.244.1.0/24 -j ${web.svc}`);
    expect(ext[ext.length - 1]).toBe(`-A ${web.ext} -j ${web.svl}`);
    expect(chainsOf(r.nat.get(web.svl))).toEqual([
      `-A ${web.svl} -m comment --comment "default/web:http/TCP -> endpoint" -j ${endpointChain('default/web:http/TCP', '10.244.1.2:8080')}`,
    ]);
    // The cluster chain still spreads over both.
    expect(chainsOf(r.nat.get(web.svc)).filter((l) => l.includes('endpoint'))).toHaveLength(2);
    // Only remote endpoints: external traffic is dropped on this node, cluster traffic flows.
    const remote = build([svc('web', spec)], [slice('web', [ep('10.244.2.2', { nodeName: 'n2' })])]);
    expect(remote.filter.get('MK-EXTERNAL-SERVICES')).toEqual([
      '-A MK-EXTERNAL-SERVICES -m comment --comment "default/web:http/TCP has no local endpoints" -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j DROP',
    ]);
    expect(remote.filter.get('MK-SERVICES')).toEqual([]);
    // The health check node port counts the local endpoints.
    const withHealth = { ...spec, healthCheckNodePort: 32000 };
    expect(build([svc('web', withHealth)], [slice('web', [ep('10.244.1.2'), ep('10.244.2.2', { nodeName: 'n2' })])]).health)
      .toEqual([{ namespace: 'default', name: 'web', port: 32000, localEndpoints: 1 }]);
    expect(build([svc('web', withHealth)], [slice('web', [ep('10.244.2.2', { nodeName: 'n2' })])]).health)
      .toEqual([{ namespace: 'default', name: 'web', port: 32000, localEndpoints: 0 }]);
    expect(build([svc('web', { ...withHealth, externalTrafficPolicy: 'Cluster' })], []).health).toEqual([]);
  });

  it('opens a LoadBalancer port on its ingress IPs, external IPs and the node\'s own addresses', () => {
    const r = build([svc('web', {
      type: 'LoadBalancer', externalIPs: ['192.0.2.7'], ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
    }, { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } })], [slice('web', [ep('10.244.1.2')])]);
    const services = chainsOf(r.nat.get('MK-SERVICES')).join('\n');
    expect(services).toContain(`-d 192.0.2.7/32 -p tcp -m tcp --dport 80 -j ${web.ext}`);
    expect(services).toContain(`-d 192.0.2.9/32 -p tcp -m tcp --dport 80 -j ${web.ext}`);
    expect(chainsOf(r.nat.get('MK-NODEPORTS')).map((l) => l.replace(/.*--dport /, ''))).toEqual([`30080 -j ${web.ext}`, `80 -j ${web.ext}`]);
    // The load balancer port on the node's addresses leaves loopback alone (the bus listens there).
    expect(chainsOf(r.nat.get('MK-NODEPORTS'))[1]).toContain('! -d 127.0.0.0/8 -p tcp -m tcp --dport 80');
    const none = build([svc('web', { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] })], []);
    expect(none.filter.get('MK-EXTERNAL-SERVICES')?.[1]).toContain('! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 80');
  });

  it('keeps ClientIP affinity with -m recent, checked before the spread', () => {
    const r = build([svc('web', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } })],
      [slice('web', [ep('10.244.1.2'), ep('10.244.1.3')])]);
    const sep = endpointChain('default/web:http/TCP', '10.244.1.2:8080');
    const chain = chainsOf(r.nat.get(web.svc));
    expect(chain[1]).toBe(`-A ${web.svc} -m comment --comment "default/web:http/TCP affinity" -m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j ${sep}`);
    expect(chain[3]).toContain('--probability 0.5000000000');
    expect(r.nat.get(sep)?.[1]).toBe(`-A ${sep} -m comment --comment "default/web:http/TCP" -p tcp -m tcp -m recent --name ${sep} --mask 255.255.255.255 --rsource --set -j DNAT --to-destination 10.244.1.2:8080`);
  });

  it('matches a service port to the slice port of the same name and protocol', () => {
    const two = svc('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] });
    const s: EndpointSliceView = { ...slice('dns', [ep('10.244.1.5')]), ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5354, protocol: 'TCP' }] };
    const r = build([two], [s]);
    expect(r.nat.get(endpointChain('default/dns:dns/UDP', '10.244.1.5:5353'))?.[1]).toContain('-p udp -m udp -j DNAT --to-destination 10.244.1.5:5353');
    expect(r.nat.get(endpointChain('default/dns:dns-tcp/TCP', '10.244.1.5:5354'))?.[1]).toContain('--to-destination 10.244.1.5:5354');
    expect(r.udp).toEqual([{ vip: '10.96.0.10', port: 53, endpoint: '10.244.1.5' }]);
  });
});

describe('planRestore', () => {
  const three = [ep('10.244.1.2'), ep('10.244.1.3'), ep('10.244.1.4')];

  it('writes every chain on a full sync and deletes the proxy chains left behind, never others', () => {
    const r = build([svc('web')], [slice('web', three)]);
    const stale = endpointChain('default/old:http/TCP', '10.244.1.99:80');
    const plan = planRestore(undefined, r, { nat: ['PREROUTING', 'MK-POD-NETWORK', 'MK-SERVICES', stale], filter: ['INPUT'] });
    expect(plan.removed.nat).toEqual([stale]);
    expect(plan.written.nat).toEqual([...r.nat.keys()]);
    expect(plan.input).toContain(`:${stale} - [0:0]\n`);
    expect(plan.input).toContain(`-X ${stale}\n`);
    expect(plan.input).not.toContain('MK-POD-NETWORK');
    expect(plan.input.startsWith('*filter\n')).toBe(true);
    expect(plan.input.match(/^COMMIT$/gm)).toHaveLength(2);
  });

  it('writes only the chains that changed and removes a removed endpoint\'s chain', () => {
    const before = build([svc('web'), svc('api', { clusterIP: '10.96.0.11' })], [slice('web', three), slice('api', [ep('10.244.1.7')])]);
    const after = build([svc('web'), svc('api', { clusterIP: '10.96.0.11' })], [slice('web', three.slice(0, 2)), slice('api', [ep('10.244.1.7')])]);
    const plan = planRestore(snapshot(before), after);
    const gone = endpointChain('default/web:http/TCP', '10.244.1.4:8080');
    expect(plan.written).toEqual({ filter: [], nat: [web.svc] });
    expect(plan.removed).toEqual({ filter: [], nat: [gone] });
    expect(plan.input).toBe([
      '*nat', `:${web.svc} - [0:0]`, `:${gone} - [0:0]`, ...after.nat.get(web.svc)!, `-X ${gone}`, 'COMMIT', '',
    ].join('\n'));
    expect(planRestore(snapshot(after), after).input).toBe('');
  });

  it('moves a service whose endpoints all left from nat to a filter REJECT in one transaction', () => {
    const before = build([svc('web')], [slice('web', three)]);
    const after = build([svc('web')], []);
    const plan = planRestore(snapshot(before), after);
    expect(plan.written.filter).toEqual(['MK-SERVICES']);
    expect(plan.written.nat).toEqual(['MK-SERVICES']);
    expect(plan.removed.nat).toHaveLength(4);
    expect(plan.input.indexOf('*filter')).toBeLessThan(plan.input.indexOf('*nat'));
  });

  it('removes exactly the proxy chains on teardown', () => {
    const save = '*nat\n:PREROUTING ACCEPT [0:0]\n:MK-POD-NETWORK - [0:0]\n:MK-SERVICES - [0:0]\n:MK-POSTROUTING - [0:0]\nCOMMIT\n';
    expect(chainsInSave(save)).toEqual(['PREROUTING', 'MK-POD-NETWORK', 'MK-SERVICES', 'MK-POSTROUTING']);
    expect(planRemoval({ nat: chainsInSave(save), filter: [] })).toBe(
      '*nat\n:MK-SERVICES - [0:0]\n:MK-POSTROUTING - [0:0]\n-X MK-SERVICES\n-X MK-POSTROUTING\nCOMMIT\n',
    );
    expect(planRemoval({ nat: ['MK-POD-NETWORK'], filter: [] })).toBe('');
  });
});

describe('buildRules, review fixes', () => {
  const np = { name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' as const };
  const localNP = { type: 'NodePort' as const, externalTrafficPolicy: 'Local' as const, ports: [np] };
  const draining = (ip: string, nodeName = 'n1') => ep(ip, { nodeName, ready: false, serving: true, terminating: true });
  /** Every `-j MK-*` target must be a chain declared in the same table, or iptables-restore refuses. */
  const undeclared = (r: ReturnType<typeof build>): string[] => {
    const out: string[] = [];
    for (const table of [r.nat, r.filter]) {
      for (const lines of table.values()) {
        for (const l of lines) {
          const target = / -j (MK-[A-Z0-9-]+)/.exec(l)?.[1];
          if (target && !table.has(target)) out.push(l);
        }
      }
    }
    return out;
  };
  const fixtures: Array<[string, ServiceView[], EndpointSliceView[]]> = [
    ['cluster IP', [svc('web')], [slice('web', [ep('10.244.1.2'), ep('10.244.2.2', { nodeName: 'n2' })])]],
    ['no endpoints', [svc('web', localNP)], []],
    ['Local NodePort, local terminating, ready elsewhere', [svc('web', localNP)], [slice('web', [draining('10.244.1.9'), ep('10.244.2.2', { nodeName: 'n2' })])]],
    ['Local NodePort with affinity, local terminating', [svc('web', { ...localNP, sessionAffinity: 'ClientIP' })], [slice('web', [draining('10.244.1.9'), ep('10.244.2.2', { nodeName: 'n2' })])]],
    ['internal Local, local terminating', [svc('web', { internalTrafficPolicy: 'Local' })], [slice('web', [draining('10.244.1.9'), ep('10.244.2.2', { nodeName: 'n2' })])]],
    ['internal Local, only remote', [svc('web', { internalTrafficPolicy: 'Local' })], [slice('web', [ep('10.244.2.2', { nodeName: 'n2' })])]],
    ['Local LoadBalancer, all terminating', [svc('web', { ...localNP, type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } })], [slice('web', [draining('10.244.1.9'), draining('10.244.2.9', 'n2')])]],
    ['external IPs, Local, remote only', [svc('web', { externalIPs: ['192.0.2.7'], externalTrafficPolicy: 'Local' })], [slice('web', [ep('10.244.2.2', { nodeName: 'n2' })])]],
  ];
  it.each(fixtures)('jumps only to declared chains: %s', (_name, services, slices) => {
    expect(undeclared(build(services, slices))).toEqual([]);
  });

  it('makes an endpoint chain for a local terminating endpoint the Local chain uses', () => {
    const r = build([svc('web', localNP)], [slice('web', [draining('10.244.1.9'), ep('10.244.2.2', { nodeName: 'n2' })])]);
    const sep = endpointChain('default/web:http/TCP', '10.244.1.9:8080');
    expect(chainsOf(r.nat.get(web.svl)).join('\n')).toContain(`-j ${sep}`);
    expect(r.nat.get(sep)?.[1]).toContain('--to-destination 10.244.1.9:8080');
    // The cluster chain still uses only the ready endpoint.
    expect(chainsOf(r.nat.get(web.svc)).join('\n')).not.toContain(sep);
  });

  it('DROPs an internalTrafficPolicy Local port with endpoints only on other nodes', () => {
    const r = build([svc('web', { internalTrafficPolicy: 'Local' })], [slice('web', [ep('10.244.2.2', { nodeName: 'n2' })])]);
    expect(r.filter.get('MK-SERVICES')).toEqual([
      '-A MK-SERVICES -m comment --comment "default/web:http/TCP has no local endpoints" -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j DROP',
    ]);
  });

  it('counts only ready local endpoints for the health check', () => {
    const r = build([svc('web', { ...localNP, healthCheckNodePort: 32000 } as ServiceView['spec'])], [slice('web', [draining('10.244.1.9'), ep('10.244.2.2', { nodeName: 'n2' })])]);
    expect(r.health).toEqual([{ namespace: 'default', name: 'web', port: 32000, localEndpoints: 0 }]);
  });

  it('keeps control characters out of quoted comments', () => {
    expect(q('a"b\\c\nd\re\u0000f')).toBe('"abcdef"');
  });
});

describe('RuleCache', () => {
  it('builds what an uncached build does, recomputing only the services whose object or slices changed', () => {
    const cache = new RuleCache();
    const slicesOf = (list: EndpointSliceView[]) => (ns: string, name: string) =>
      list.filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === name);
    const a = svc('a', { clusterIP: '10.96.0.1', type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] });
    const b = svc('b', { clusterIP: '10.96.0.2', sessionAffinity: 'ClientIP' });
    const c = svc('c', { clusterIP: '10.96.0.3' });
    const slices = [slice('a', [ep('10.244.1.2'), ep('10.244.2.2', { nodeName: 'n2' })]), slice('b', [ep('10.244.1.3')]), slice('c', [])];
    const first = buildRules([c, a, b], slicesOf(slices), node, cache);
    expect(first).toEqual(buildRules([c, a, b], slicesOf(slices), node));
    const aChain = serviceChains('default/a:http/TCP').svc;
    const bChain = serviceChains('default/b:http/TCP').svc;

    // b's slice is replaced (an endpoint moved): b is recomputed, a's arrays are the same ones.
    const moved = [slices[0], slice('b', [ep('10.244.1.4')]), slices[2]];
    const second = buildRules([c, a, b], slicesOf(moved), node, cache);
    expect(second).toEqual(buildRules([c, a, b], slicesOf(moved), node));
    expect(second.nat.get(aChain)).toBe(first.nat.get(aChain));
    expect(second.nat.get(bChain)).not.toEqual(first.nat.get(bChain));
    const plan = planRestore(snapshot(first), second);
    expect(plan.written.nat).toEqual(expect.arrayContaining([bChain]));
    expect(plan.written.nat).not.toContain(aChain);

    // A changed service object (a new port) is recomputed too; a deleted one is forgotten.
    const a2 = { ...a, spec: { ...a.spec, ports: [...a.spec.ports!, { name: 'metrics', port: 9090, protocol: 'TCP' as const }] } };
    const third = buildRules([a2, c], slicesOf(moved), node, cache);
    expect(third).toEqual(buildRules([a2, c], slicesOf(moved), node));
    expect(third.nat.has(bChain)).toBe(false);
    expect(cache.size).toBe(2);
    // Another node: nothing is reused from the first.
    const other = { ...node, name: 'n2' };
    expect(buildRules([a2, c], slicesOf(moved), other, cache)).toEqual(buildRules([a2, c], slicesOf(moved), other));
  });
});
