import type { Ingress, Node } from '../../messages';
import { ingressStatus, missingServices, readyNodeAddresses } from './reconcile';

const node = (name: string, ip: string | undefined, ready: 'True' | 'False' | 'Unknown', deleting = false): Node => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: {},
  status: { conditions: [{ type: 'Ready', status: ready }], ...(ip ? { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } : {}) },
} as Node);

describe('the Ingress status', () => {
  it('lists the InternalIP of every Ready node once, in address order', () => {
    const nodes = [
      node('c', '10.0.0.10', 'True'), node('a', '10.0.0.9', 'True'), node('b', '10.0.0.9', 'True'),
      node('d', '10.0.0.1', 'False'), node('e', '10.0.0.2', 'Unknown'), node('f', undefined, 'True'), node('g', '10.0.0.3', 'True', true),
    ];
    expect(readyNodeAddresses(nodes)).toEqual(['10.0.0.9', '10.0.0.10']);
    expect(ingressStatus(readyNodeAddresses(nodes))).toEqual({ loadBalancer: { ingress: [{ ip: '10.0.0.9' }, { ip: '10.0.0.10' }] } });
    expect(ingressStatus([])).toEqual({ loadBalancer: {} });
  });

  it('names the services an Ingress sends to that do not exist, each once', () => {
    const svc = (name: string) => ({ service: { name, port: { number: 80 } } });
    const ing = {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' },
      spec: {
        defaultBackend: svc('fallback'),
        rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: svc('web') }, { path: '/x', pathType: 'Prefix', backend: svc('gone') }] } },
          { host: 'a.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svc('gone') }] } }],
      },
    } as Ingress;
    expect(missingServices(ing, (s) => s === 'web')).toEqual(['fallback', 'gone']);
    expect(missingServices(ing, () => true)).toEqual([]);
  });
});
