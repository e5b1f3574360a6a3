import { isValidation, nodeRouteOf, VTEP_MAC_ANNOTATION, type Node } from '../../messages';
import { desiredVxlanRoutes, planRoutes } from './routes';
import { desiredVxlanEntries, parsePodNetworkMode, planVxlan, vtepAddress, vtepMacFor } from './vxlan';

const mac = (n: number) => `0e:6b:ac:1e:00:${n.toString(16).padStart(2, '0')}`;
const entry = (n: number, vtep = true) => ({
  name: `n${n}`, podCIDR: `10.244.${n}.0/24`, internalIP: `172.31.${n}.2`, ...(vtep ? { vtepMAC: mac(n) } : {}),
});

describe('vxlan addresses', () => {
  it('takes the pod CIDR\'s network address as the VTEP address', () => {
    expect(vtepAddress('10.244.3.0/24')).toBe('10.244.3.0');
    expect(vtepAddress('10.1.16.0/20')).toBe('10.1.16.0');
  });

  it('derives a locally administered unicast MAC from the node address', () => {
    expect(vtepMacFor('172.30.0.11')).toBe('0e:6b:ac:1e:00:0b');
    const first = parseInt(vtepMacFor('10.0.0.1').slice(0, 2), 16);
    expect(first & 1).toBe(0);
    expect(first & 2).toBe(2);
    expect(() => vtepMacFor('300.1.1.1')).toThrow('not an IPv4 address');
  });

  it('parses the pod network mode, naming the choices otherwise', () => {
    expect(parsePodNetworkMode('vxlan')).toBe('vxlan');
    expect(parsePodNetworkMode('host-gw')).toBe('host-gw');
    let err: unknown;
    try { parsePodNetworkMode('udp'); } catch (e) { err = e; }
    expect(isValidation(err)).toBe(true);
    expect(String(err)).toContain('--pod-network: "udp" is not a pod network; use host-gw or vxlan');
  });
});

describe('desiredVxlanRoutes', () => {
  it('routes every other vxlan node\'s pod CIDR onlink via its VTEP, with its neighbor and FDB entry', () => {
    const want = desiredVxlanRoutes([entry(3), entry(1), entry(2)], { name: 'n1', podCIDR: '10.244.1.0/24', addresses: ['172.31.1.2'] });
    expect(want.routes).toEqual([
      { dst: '10.244.2.0/24', via: '10.244.2.0', onlink: true },
      { dst: '10.244.3.0/24', via: '10.244.3.0', onlink: true },
    ]);
    expect(want.entries).toEqual({
      neighbors: [{ ip: '10.244.2.0', mac: mac(2) }, { ip: '10.244.3.0', mac: mac(3) }],
      fdb: [{ mac: mac(2), dst: '172.31.2.2' }, { mac: mac(3), dst: '172.31.3.2' }],
    });
    expect(want.missing).toEqual([]);
  });

  it('leaves out and names the nodes that publish no VTEP (host-gw nodes)', () => {
    const want = desiredVxlanRoutes([entry(1), entry(2, false), entry(3)], { name: 'n1', podCIDR: '10.244.1.0/24', addresses: [] });
    expect(want.routes.map((r) => r.dst)).toEqual(['10.244.3.0/24']);
    expect(want.entries.fdb).toEqual([{ mac: mac(3), dst: '172.31.3.2' }]);
    expect(want.missing).toEqual(['n2']);
  });

  it('skips entries with a MAC that is not unicast', () => {
    expect(desiredVxlanEntries([{ podCIDR: '10.244.5.0/24', internalIP: '172.31.5.2', vtepMAC: '01:00:5e:00:00:01' }])).toEqual({ neighbors: [], fdb: [] });
  });
});

describe('planVxlan', () => {
  const want = desiredVxlanEntries([entry(2), entry(3)].map((e) => ({ ...e, vtepMAC: e.vtepMAC! })));

  it('adds everything on an empty device and nothing when all is there', () => {
    expect(planVxlan({ neighbors: [], fdb: [] }, want)).toEqual({
      neighbors: { replace: want.neighbors, remove: [] },
      fdb: { replace: want.fdb, remove: [] },
    });
    expect(planVxlan(want, want)).toEqual({ neighbors: { replace: [], remove: [] }, fdb: { replace: [], remove: [] } });
  });

  it('removes exactly a gone peer\'s neighbor and FDB entry', () => {
    const current = desiredVxlanEntries([entry(2), entry(3), entry(4)].map((e) => ({ ...e, vtepMAC: e.vtepMAC! })));
    expect(planVxlan(current, want)).toEqual({
      neighbors: { replace: [], remove: [{ ip: '10.244.4.0', mac: mac(4) }] },
      fdb: { replace: [], remove: [{ mac: mac(4), dst: '172.31.4.2' }] },
    });
  });

  it('replaces the entries of a peer that moved to another address or MAC', () => {
    const current = {
      neighbors: [{ ip: '10.244.2.0', mac: mac(2) }, { ip: '10.244.3.0', mac: mac(99) }],
      fdb: [{ mac: mac(2), dst: '172.31.9.9' }, { mac: mac(99), dst: '172.31.3.2' }],
    };
    expect(planVxlan(current, want)).toEqual({
      neighbors: { replace: [{ ip: '10.244.3.0', mac: mac(3) }], remove: [] },
      fdb: { replace: [{ mac: mac(2), dst: '172.31.2.2' }, { mac: mac(3), dst: '172.31.3.2' }], remove: [{ mac: mac(99), dst: '172.31.3.2' }] },
    });
  });
});

describe('planRoutes across backends', () => {
  it('replaces a host-gw route by the vxlan one for the same CIDR, and back', () => {
    const hostGw = [{ dst: '10.244.2.0/24', via: '172.31.2.2' }];
    const vxlan = [{ dst: '10.244.2.0/24', via: '10.244.2.0', onlink: true }];
    expect(planRoutes(hostGw, vxlan)).toEqual({ replace: vxlan, remove: [] });
    expect(planRoutes(vxlan, hostGw)).toEqual({ replace: hostGw, remove: [] });
    expect(planRoutes(vxlan, vxlan)).toEqual({ replace: [], remove: [] });
    // Same gateway address, but one is onlink on the device: still a different route.
    expect(planRoutes([{ dst: '10.244.2.0/24', via: '10.244.2.0' }], vxlan).replace).toEqual(vxlan);
  });
});

describe('nodeRouteOf', () => {
  const node = (annotations?: Record<string, string>): Node => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', ...(annotations ? { annotations } : {}) },
    spec: { podCIDR: '10.244.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '172.31.1.2' }] },
  });

  it('carries the VTEP MAC the node reported, and only a valid one', () => {
    expect(nodeRouteOf(node({ [VTEP_MAC_ANNOTATION]: mac(1) }))).toEqual({ name: 'n1', podCIDR: '10.244.1.0/24', internalIP: '172.31.1.2', vtepMAC: mac(1) });
    expect(nodeRouteOf(node())).toEqual({ name: 'n1', podCIDR: '10.244.1.0/24', internalIP: '172.31.1.2' });
    expect(nodeRouteOf(node({ [VTEP_MAC_ANNOTATION]: 'zz' }))?.vtepMAC).toBeUndefined();
  });
});
