import { DESCRIBE_TABWRITER, tabwrite } from '../../../cli/output/tabwriter';
import { describeIngress } from '../../../messages/printing/describe-ingress';
import type { Ingress, KubeObject } from '../../../messages';

const ing: Ingress = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
  metadata: { name: 'web', namespace: 'default', annotations: { team: 'edge' } },
  spec: {
    ingressClassName: 'mk',
    defaultBackend: { service: { name: 'missing', port: { number: 80 } } },
    tls: [{ hosts: ['foo.bar.com'], secretName: 'tls-secret' }],
    rules: [{
      host: 'foo.bar.com',
      http: { paths: [
        { path: '/foo', pathType: 'Prefix', backend: { service: { name: 'svc1', port: { name: 'http' } } } },
        { path: '/bar', pathType: 'Exact', backend: { service: { name: 'svc2', port: { number: 8080 } } } },
      ] },
    }],
  },
  status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] } },
};
const service = (name: string, ports: { name?: string; port: number }[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports } }) as unknown as KubeObject;
const slice = (svc: string, port: { name?: string; port: number }, ips: [string, boolean][]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svc}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4', ports: [port], endpoints: ips.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
}) as unknown as KubeObject;

describe('mk describe ingress', () => {
  it('prints what kubectl prints: address, class, default backend, TLS and the rules with endpoints', () => {
    const services = [service('svc1', [{ name: 'http', port: 80 }]), service('svc2', [{ port: 8080 }])];
    const slices = [
      slice('svc1', { name: 'http', port: 8080 }, [['10.244.1.5', true], ['10.244.2.3', true], ['10.244.2.9', false]]),
      slice('svc2', { port: 9090 }, []),
    ];
    const out = tabwrite(describeIngress(ing, services, slices, [], Date.now()), DESCRIBE_TABWRITER);
    expect(out).toMatch(/^Name: +web$/m);
    expect(out).toMatch(/^Namespace: +default$/m);
    expect(out).toMatch(/^Address: +10\.0\.0\.1,10\.0\.0\.2$/m);
    expect(out).toMatch(/^Ingress Class: +mk$/m);
    expect(out).toMatch(/^Default backend: +missing:80 \(<error: services "missing" not found>\)$/m);
    expect(out).toMatch(/^TLS:\n {2}tls-secret terminates foo\.bar\.com$/m);
    expect(out).toMatch(/^Rules:\n {2}Host +Path +Backends\n {2}---- +---- +--------\n {2}foo\.bar\.com *\n +\/foo +svc1:http \(10\.244\.1\.5:8080,10\.244\.2\.3:8080\)\n +\/bar +svc2:8080 \(\)$/m);
    expect(out).toMatch(/^Annotations: +team: edge$/m);
    expect(out).toMatch(/^Events: +<none>$/m);
  });

  it('prints a rule-less Ingress as * * and its default backend', () => {
    const out = tabwrite(describeIngress({ ...ing, spec: { defaultBackend: ing.spec.defaultBackend } }, [], [], undefined), DESCRIBE_TABWRITER);
    expect(out).toMatch(/^ {2}\* +\* +missing:80 \(<error: services "missing" not found>\)$/m);
  });
});
