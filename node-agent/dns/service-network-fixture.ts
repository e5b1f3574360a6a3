/**
 * FakeServiceNetwork: an in-memory ServiceNetworkSource for unit tests of the DNS records, with
 * setters that notify listeners like the node's real view does after each change.
 */
import type {
  EndpointSliceView, ServiceNetworkChange, ServiceNetworkSource, ServiceView,
} from '../service-network/types';
import { SERVICE_NAME_LABEL } from '../service-network/types';

/** A fake view of Services and EndpointSlices held in maps. */
export class FakeServiceNetwork implements ServiceNetworkSource {
  private readonly svcs = new Map<string, ServiceView>();
  private readonly slices = new Map<string, EndpointSliceView>();
  private readonly listeners = new Set<(c: ServiceNetworkChange) => void>();

  /** Adds or replaces a service and tells the listeners. */
  setService(svc: ServiceView): this {
    const ns = svc.metadata.namespace ?? 'default';
    this.svcs.set(`${ns}/${svc.metadata.name}`, svc);
    this.emit({ namespace: ns, service: svc.metadata.name });
    return this;
  }

  /** Adds or replaces a slice (its service is its service-name label) and tells the listeners. */
  setSlice(slice: EndpointSliceView): this {
    const ns = slice.metadata.namespace ?? 'default';
    this.slices.set(`${ns}/${slice.metadata.name}`, slice);
    this.emit({ namespace: ns, service: slice.metadata.labels?.[SERVICE_NAME_LABEL] ?? '' });
    return this;
  }

  /** Removes a service and tells the listeners. */
  deleteService(namespace: string, name: string): this {
    this.svcs.delete(`${namespace}/${name}`);
    this.emit({ namespace, service: name });
    return this;
  }

  services(): ServiceView[] {
    return [...this.svcs.values()];
  }

  service(namespace: string, name: string): ServiceView | undefined {
    return this.svcs.get(`${namespace}/${name}`);
  }

  slicesOf(namespace: string, service: string): EndpointSliceView[] {
    return [...this.slices.values()].filter((s) => (s.metadata.namespace ?? 'default') === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === service);
  }

  onChange(listener: (change: ServiceNetworkChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private emit(change: ServiceNetworkChange): void {
    for (const l of this.listeners) l(change);
  }
}
