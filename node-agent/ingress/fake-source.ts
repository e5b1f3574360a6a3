/**
 * An in-memory ServiceNetworkSource for tests of the ingress proxy: services and slices are set
 * and removed by hand, and every change is told to the listeners as the real source tells them.
 */
import {
  SERVICE_NAME_LABEL, type EndpointSliceView, type ServiceNetworkChange, type ServiceNetworkSource, type ServicePortView, type ServiceView,
} from '../service-network/types';

/** A fake source: what a test sets is what the proxy reads. */
export class FakeServiceNetworkSource implements ServiceNetworkSource {
  private readonly svcs = new Map<string, ServiceView>();
  private readonly slices = new Map<string, EndpointSliceView[]>();
  private readonly listeners = new Set<(c: ServiceNetworkChange) => void>();

  /** Sets a ClusterIP service with `ports`, and its one slice with `endpoints` on each port's targetPort. */
  setService(namespace: string, name: string, ports: ServicePortView[], endpoints: { ip: string; ready?: boolean }[]): void {
    this.svcs.set(`${namespace}/${name}`, { metadata: { name, namespace }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports } });
    this.slices.set(`${namespace}/${name}`, [{
      metadata: { name: `${name}-abcde`, namespace, labels: { [SERVICE_NAME_LABEL]: name } },
      addressType: 'IPv4',
      ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: Number(p.targetPort ?? p.port), protocol: 'TCP' as const })),
      endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true } })),
    }]);
    this.tell(namespace, name);
  }

  /** Removes a service and its slices. */
  deleteService(namespace: string, name: string): void {
    this.svcs.delete(`${namespace}/${name}`);
    this.slices.delete(`${namespace}/${name}`);
    this.tell(namespace, name);
  }

  services(): ServiceView[] { return [...this.svcs.values()]; }
  service(namespace: string, name: string): ServiceView | undefined { return this.svcs.get(`${namespace}/${name}`); }
  slicesOf(namespace: string, service: string): EndpointSliceView[] { return this.slices.get(`${namespace}/${service}`) ?? []; }
  onChange(listener: (change: ServiceNetworkChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private tell(namespace: string, service: string): void {
    for (const l of this.listeners) l({ namespace, service });
  }
}
