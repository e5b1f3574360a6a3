/**
 * A ServiceNetworkSource kept by two informers on the objects bucket (`services.>` and
 * `endpointslices.>`, which node identities may read): what the ingress proxy reads when the node
 * is given no source of its own. Slices are found by their kubernetes.io/service-name label.
 */
import { startInformer, type Informer, type ObjectStore } from '../../bus';
import { parseKey } from '../../messages/names';
import {
  SERVICE_NAME_LABEL, type EndpointSliceView, type ServiceNetworkChange, type ServiceNetworkSource, type ServiceView,
} from '../service-network/types';

/** A running source; stop() ends its informers. */
export interface InformerSource extends ServiceNetworkSource { stop(): Promise<void> }

/** Starts the source; resolves once both first listings are in. Throws what the informers throw. */
export async function startInformerSource(store: ObjectStore): Promise<InformerSource> {
  const services = new Map<string, ServiceView>();
  /** `<ns>/<service>` -> slice key -> slice. */
  const slices = new Map<string, Map<string, EndpointSliceView>>();
  const sliceOwner = new Map<string, string>();
  const listeners = new Set<(c: ServiceNetworkChange) => void>();
  const tell = (c: ServiceNetworkChange) => { for (const l of listeners) l(c); };

  const informers: Informer[] = [];
  informers.push(await startInformer<ServiceView>(store, 'services.>', (ev) => {
    const { namespace, name } = parseKey(ev.key);
    const id = `${namespace ?? 'default'}/${name}`;
    if (ev.type === 'DELETE' || !ev.object) services.delete(id);
    else services.set(id, ev.object);
    tell({ namespace: namespace ?? 'default', service: name });
  }));
  informers.push(await startInformer<EndpointSliceView>(store, 'endpointslices.>', (ev) => {
    const { namespace } = parseKey(ev.key);
    const ns = namespace ?? 'default';
    const before = sliceOwner.get(ev.key);
    if (before) slices.get(before)?.delete(ev.key);
    sliceOwner.delete(ev.key);
    const svc = ev.type === 'DELETE' ? undefined : ev.object?.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc && ev.object) {
      const id = `${ns}/${svc}`;
      if (!slices.has(id)) slices.set(id, new Map());
      slices.get(id)!.set(ev.key, ev.object);
      sliceOwner.set(ev.key, id);
      tell({ namespace: ns, service: svc });
    }
    if (before && before !== `${ns}/${svc}`) tell({ namespace: ns, service: before.slice(before.indexOf('/') + 1) });
  }));

  return {
    services: () => [...services.values()],
    service: (ns, name) => services.get(`${ns}/${name}`),
    slicesOf: (ns, name) => [...(slices.get(`${ns}/${name}`)?.values() ?? [])],
    onChange(l) {
      listeners.add(l);
      return () => { listeners.delete(l); };
    },
    async stop() { await Promise.all(informers.map((i) => i.stop())); },
  };
}
