import type { Node, Service } from '../../messages';
import { heldKeys } from './allocations';
import { desiredStatus, lbConflicts, leakedKeys, readyNodeAddresses, reservedLbPorts, RESERVED_LB_PORTS } from './controller';
import { keepAllocated } from './kind';

const node = (name: string, ip: string, ready: 'True' | 'False' | 'Unknown') => ({
  metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready }] },
}) as unknown as Node;
const svc = (spec: Record<string, unknown>, uid = 'u1', name = 'web') => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid }, spec,
}) as unknown as Service;

describe('service controller logic', () => {
  it('serves LoadBalancer services on the Ready nodes\' InternalIPs', () => {
    const ips = readyNodeAddresses([node('a', '10.0.0.10', 'True'), node('b', '10.0.0.9', 'True'), node('c', '10.0.0.11', 'Unknown')]);
    expect(ips).toEqual(['10.0.0.9', '10.0.0.10']);
    expect(desiredStatus(svc({ type: 'LoadBalancer' }), ips)).toEqual({ loadBalancer: { ingress: [{ ip: '10.0.0.9' }, { ip: '10.0.0.10' }] } });
    expect(desiredStatus(svc({ type: 'NodePort' }), ips)).toEqual({ loadBalancer: {} });
  });

  it('finds leaked allocation keys, sparing young keys that may be writes in flight', () => {
    const s = svc({ type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] });
    expect(heldKeys(s)).toEqual(['clusterip.10-96-0-10', 'nodeport.tcp.30080']);
    const at = (ms: number) => new Date(ms).toISOString();
    const entry = (key: string, uid: string, when: number) => ({ key, revision: 1, object: { namespace: 'default', name: 'web', uid, at: at(when) } });
    const services = new Map([['default/web', s]]);
    const keys = [
      entry('clusterip.10-96-0-10', 'u1', 0), // held
      entry('nodeport.tcp.30081', 'u1', 0), // old, not held
      entry('nodeport.tcp.30082', 'u1', 99_000), // young, not held
      entry('nodeport.tcp.30083', 'u0', 99_000), // another incarnation
    ];
    expect(leakedKeys(keys, services, 100_000, 30_000).map((k) => k.key)).toEqual(['nodeport.tcp.30081', 'nodeport.tcp.30083']);
    expect(leakedKeys([entry('clusterip.10-96-0-11', 'u9', 0)], new Map(), 100_000, 30_000)).toHaveLength(1);
  });

  it('keeps what a service was given across updates, and refuses a changed cluster IP', () => {
    const was = svc({ type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] });
    const next = keepAllocated(was as never, svc({ type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }) as never) as unknown as Service;
    expect(next.spec.clusterIP).toBe('10.96.0.10');
    expect(next.spec.ports?.[0].nodePort).toBe(30080);
    expect(() => keepAllocated(was as never, svc({ type: 'NodePort', clusterIP: '10.96.0.11', ports: [{ port: 80 }] }) as never))
      .toThrow('spec.clusterIPs[0]: Invalid value: "10.96.0.11": may not change once set');
    const toName = keepAllocated(was as never, svc({ type: 'ExternalName', externalName: 'a.b' }) as never) as unknown as Service;
    expect(toName.spec.clusterIP).toBeUndefined();
    const toClusterIP = keepAllocated(was as never, svc({ type: 'ClusterIP', ports: [{ port: 80 }] }) as never) as unknown as Service;
    expect(toClusterIP.spec.ports?.[0].nodePort).toBeUndefined();
    const headless = svc({ clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] });
    expect(() => keepAllocated(headless as never, svc({ type: 'NodePort', ports: [{ port: 80 }] }) as never)).toThrow("may not be set to 'None' for NodePort");
  });

  it('gives a load balancer port to the oldest LoadBalancer service and refuses reserved ports', () => {
    const lb = (name: string, created: string, ports: Array<{ port: number; protocol?: string }>) => {
      const s = svc({ type: 'LoadBalancer', ports }, name, name);
      s.metadata.creationTimestamp = created;
      return s;
    };
    const older = lb('older', '2026-01-01T00:00:00Z', [{ port: 8080 }]);
    const newer = lb('newer', '2026-01-02T00:00:00Z', [{ port: 8080 }, { port: 9000 }]);
    const a = lb('a', '2026-01-02T00:00:00Z', [{ port: 8080, protocol: 'UDP' }]);
    const dns = lb('dns', '2025-01-01T00:00:00Z', [{ port: 53, protocol: 'UDP' }]);
    const bus = lb('bus', '2025-01-01T00:00:00Z', [{ port: 4222 }]);
    const c = lbConflicts([newer, a, dns, older, bus, svc({ type: 'NodePort', ports: [{ port: 8080 }] }, 'np', 'np')]);
    expect(c.get('default/older')).toBeUndefined();
    expect(c.get('default/a')).toBeUndefined(); // UDP 8080 is another port
    expect(c.get('default/newer')).toEqual({ port: '8080/TCP', holder: 'default/older' });
    expect(c.get('default/dns')).toEqual({ port: '53/UDP', reserved: 'the cluster DNS' });
    expect(c.get('default/bus')).toEqual({ port: '4222/TCP', reserved: 'the bus' });
    // The same creation time: the name decides.
    const twin = lb('aaa', '2026-01-01T00:00:00Z', [{ port: 8080 }]);
    expect(lbConflicts([older, twin]).get('default/older')).toEqual({ port: '8080/TCP', holder: 'default/aaa' });
    expect(desiredStatus(newer, ['10.0.0.9'], c.get('default/newer'))).toEqual({ loadBalancer: {} });
    expect(desiredStatus(older, ['10.0.0.9'], c.get('default/older'))).toEqual({ loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } });
  });

  it("keeps LoadBalancer services off the port the nodes' ingress proxies listen on", () => {
    const withIngress = (name: string, port: string) => {
      const n = node(name, '10.0.0.9', 'True');
      n.metadata.annotations = { 'mk.io/ingress-port': port };
      return n;
    };
    const reserved = reservedLbPorts([withIngress('n2', '80'), withIngress('n1', '80'), withIngress('n3', '8080'), withIngress('n4', '08'), node('n5', '10.0.0.5', 'True')]);
    expect(reserved.get('80/TCP')).toBe('the ingress proxy on nodes n1, n2');
    expect(reserved.get('8080/TCP')).toBe('the ingress proxy on node n3');
    expect(reserved.size).toBe(RESERVED_LB_PORTS.size + 2); // a malformed port is no port
    const lb = (name: string, port: number, protocol = 'TCP') => {
      const s = svc({ type: 'LoadBalancer', ports: [{ port, protocol }] }, name, name);
      s.metadata.creationTimestamp = '2026-01-01T00:00:00Z';
      return s;
    };
    const c = lbConflicts([lb('web', 80), lb('dns', 80, 'UDP'), lb('alt', 8081)], reserved);
    expect(c.get('default/web')).toEqual({ port: '80/TCP', reserved: 'the ingress proxy on nodes n1, n2' });
    expect(c.get('default/dns')).toBeUndefined();
    expect(c.get('default/alt')).toBeUndefined();
    // Without nodes reporting one, port 80 is free.
    expect(lbConflicts([lb('web', 80)], reservedLbPorts([])).get('default/web')).toBeUndefined();
  });
});
