/**
 * The node's live view of Services and EndpointSlices: two informers on the objects bucket, one on
 * `services.>` and one on `endpointslices.>` (the only prefixes of that bucket, with ingresses, a
 * node identity may read: embedded/permissions.ts). Each object is parsed defensively (parse.ts):
 * a malformed one is logged, left out of the view, and never stops the watch.
 */
import { startInformer, type Informer, type InformerEvent, type ObjectStore } from '../../bus';
import { parseKey } from '../../messages';
import { parseEndpointSlice, parseService } from './parse';
import { SERVICE_NAME_LABEL, type EndpointSliceView, type ServiceNetworkChange, type ServiceNetworkSource, type ServiceView } from './types';

/** A running view; stop() ends both watches. */
export interface ServiceNetworkView extends ServiceNetworkSource {
  stop(): Promise<void>;
}

/** What watchServiceNetwork needs: the objects bucket opened by this node, and a logger. */
export interface WatchServiceNetworkOptions {
  store: ObjectStore;
  log: { warn(o: object, m: string): void; debug?(o: object, m: string): void };
  /**
   * Keeps EndpointSlice addresses on IPv4 loopback, which a node otherwise drops: only for tests
   * whose "pods" are servers on 127.0.0.x.
   */
  allowLoopbackEndpoints?: boolean;
}

const svcKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/**
 * Lists and watches Services and EndpointSlices and keeps the view. Resolves once both first
 * listings are in the view; throws what the first listing throws (Forbidden without the read
 * permission, UnavailableError when the bus is down). Listeners hear the changes after the first
 * listings, so a reader starts from the getters and then follows onChange.
 */
export async function watchServiceNetwork(opts: WatchServiceNetworkOptions): Promise<ServiceNetworkView> {
  const services = new Map<string, ServiceView>();
  /** By store key: the slice and the service it belongs to. */
  const slices = new Map<string, { service: string; slice: EndpointSliceView }>();
  /** `ns/service` -> store keys of its slices. */
  const byService = new Map<string, Set<string>>();
  const listeners = new Set<(c: ServiceNetworkChange) => void>();

  const emit = (change: ServiceNetworkChange): void => {
    for (const l of [...listeners]) {
      try {
        l(change);
      } catch (err) {
        opts.log.warn({ err: String(err), ...change }, 'a service network listener failed');
      }
    }
  };

  const onService = (ev: InformerEvent<unknown>): void => {
    const { namespace, name } = parseKey(ev.key);
    if (!namespace) return;
    const k = svcKey(namespace, name);
    const parsed = ev.object === null ? undefined : parseService(ev.object, namespace);
    if (parsed && !parsed.ok) opts.log.warn({ key: ev.key, revision: ev.revision, problem: parsed.error }, 'malformed Service left out of the service network');
    const had = services.has(k);
    if (parsed?.ok) {
      parsed.value.metadata.resourceVersion = String(ev.revision);
      services.set(k, parsed.value);
    } else {
      services.delete(k);
      if (!had) return;
    }
    emit({ namespace, service: name });
  };

  const dropSlice = (key: string): ServiceNetworkChange | undefined => {
    const old = slices.get(key);
    if (!old) return undefined;
    slices.delete(key);
    const set = byService.get(old.service);
    set?.delete(key);
    if (set?.size === 0) byService.delete(old.service);
    const [namespace, service] = old.service.split('/');
    return { namespace, service };
  };

  const onSlice = (ev: InformerEvent<unknown>): void => {
    const { namespace } = parseKey(ev.key);
    if (!namespace) return;
    const before = dropSlice(ev.key);
    let after: ServiceNetworkChange | undefined;
    if (ev.object !== null) {
      const parsed = parseEndpointSlice(ev.object, namespace, { allowLoopback: opts.allowLoopbackEndpoints ?? false });
      const service = parsed.ok ? parsed.value.metadata.labels?.[SERVICE_NAME_LABEL] : undefined;
      if (!parsed.ok) opts.log.warn({ key: ev.key, revision: ev.revision, problem: parsed.error }, 'malformed EndpointSlice left out of the service network');
      else if (!service) opts.log.warn({ key: ev.key }, `EndpointSlice without the ${SERVICE_NAME_LABEL} label left out of the service network`);
      if (parsed.ok && service) {
        parsed.value.metadata.resourceVersion = String(ev.revision);
        const k = svcKey(namespace, service);
        slices.set(ev.key, { service: k, slice: parsed.value });
        byService.set(k, (byService.get(k) ?? new Set()).add(ev.key));
        after = { namespace, service };
      }
    }
    if (before) emit(before);
    if (after && (!before || before.service !== after.service || before.namespace !== after.namespace)) emit(after);
  };

  const informers: Informer[] = [];
  try {
    informers.push(await startInformer<unknown>(opts.store, 'services.>', onService));
    informers.push(await startInformer<unknown>(opts.store, 'endpointslices.>', onSlice));
  } catch (err) {
    await Promise.all(informers.map((i) => i.stop()));
    throw err;
  }

  return {
    services: () => [...services.values()],
    service: (namespace, name) => services.get(svcKey(namespace, name)),
    slicesOf: (namespace, service) => [...byService.get(svcKey(namespace, service)) ?? []].map((k) => slices.get(k)!.slice),
    onChange(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    async stop() {
      listeners.clear();
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
