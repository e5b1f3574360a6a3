/**
 * The endpoints controller: for every Service with a selector it keeps the v1 Endpoints object of
 * the same name and the discovery.k8s.io/v1 EndpointSlices of the pods the selector takes in the
 * service's namespace (reconcile.ts decides, this performs). It runs under a supervisor of
 * services (one actor per service, level-triggered), keeps informers on pods, Endpoints,
 * EndpointSlices and nodes (for their zones), and reconciles the services a change concerns: a
 * pod's (by selector, before and after the change) or one of a service's own objects (a slice
 * deleted by hand comes back). It writes only what changed, and after a restart the informers'
 * listings are the truth, so a control plane killed mid-burst converges from the store.
 */
import type { ObjectStore } from '../../bus';
import {
  isAlreadyExists, isNotFound, LABEL_SERVICE_NAME, NamespaceKind, objectKey, parseKey,
  type Endpoints, type EndpointSlice, type KubeObject, type Node, type Pod,
} from '../../messages';
import { admitCreate } from '../api/admission';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { ObjectCache } from './object-cache';
import { controlledByService, isManagedSliceOf, LABEL_ZONE, reconcileEndpoints, reconcileSlices, sliceName } from './reconcile';
import { managedSelector, selects, SERVICES, type Service } from './service';

/** What the controller works with; `now` is for tests. */
export interface EndpointsControllerDeps {
  store: ObjectStore;
  /** The Endpoints and EndpointSlice kinds' modules: the objects it makes are admitted as the api would. */
  endpoints: KindModule;
  endpointSlices: KindModule;
  now?: () => number;
}

/** The services of a namespace's key token. */
const serviceKey = (nsToken: string, name: string): string => `${SERVICES}.${nsToken}.${name}`;

/**
 * The endpoints controller (see above). Its reconcile throws only store faults (the supervisor
 * restarts it with backoff); a Conflict is retried soon with fresh copies.
 */
export function endpointsController(deps: EndpointsControllerDeps): KindController {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  /** The services as last reconciled, by key, for finding the services a pod concerns. */
  const services = new Map<string, Service>();
  /** The keys of `services` by namespace token. */
  const servicesIn = new Map<string, Set<string>>();
  const remember = (key: string, svc: Service): void => {
    services.set(key, svc);
    const ns = key.split('.')[1];
    let set = servicesIn.get(ns);
    if (!set) servicesIn.set(ns, (set = new Set()));
    set.add(key);
  };
  const forget = (key: string): void => {
    services.delete(key);
    const ns = key.split('.')[1];
    const set = servicesIn.get(ns);
    set?.delete(key);
    if (set?.size === 0) servicesIn.delete(ns);
  };
  const queued = new Set<string>();
  let enqueue: (key: string) => boolean = () => false;
  const ask = (key: string): void => {
    if (!queued.has(key) && enqueue(key)) queued.add(key);
  };

  /** The services of the pod's namespace whose selector takes it. */
  const concerned = (podKey: string, pod: Pod | undefined): void => {
    if (!pod) return;
    for (const key of servicesIn.get(podKey.split('.')[1]) ?? []) {
      const sel = managedSelector(services.get(key)!);
      if (sel && selects(sel, pod.metadata.labels)) ask(key);
    }
  };
  const pods = new ObjectCache<Pod>(store, 'pods.>', (key, before, after) => {
    concerned(key, before);
    concerned(key, after);
  });
  const slices = new ObjectCache<EndpointSlice>(store, 'endpointslices.>', (_key, before, after) => {
    const s = after ?? before;
    const svc = s?.metadata.labels?.[LABEL_SERVICE_NAME];
    if (svc) ask(objectKey(SERVICES, s.metadata.namespace ?? 'default', svc));
  });
  // An Endpoints object has its service's name, so their keys differ only in the plural.
  const endpoints = new ObjectCache<Endpoints>(store, 'endpoints.>', (key) => {
    const [, nsToken, nameToken] = key.split('.');
    ask(serviceKey(nsToken, nameToken));
  });

  // A node's zone goes into its pods' endpoints; a zone changes rarely, and then every service looks again.
  const nodes = new ObjectCache<Node>(store, 'nodes.>', (_key, before, after) => {
    if (before?.metadata.labels?.[LABEL_ZONE] === after?.metadata.labels?.[LABEL_ZONE]) return;
    for (const key of services.keys()) ask(key);
  });
  const zoneOf = (node: string): string | undefined => nodes.get(objectKey('nodes', undefined, node))?.object.metadata.labels?.[LABEL_ZONE];

  /** The service's slices this controller keeps, as the cache has them. */
  const managedSlices = (nsToken: string, name: string) =>
    slices.inNamespace(nsToken).filter((s) => isManagedSliceOf(s.object, name));

  /** Deletes `key` at `revision`; gone already counts as done. A Conflict goes to the supervisor. */
  const remove = async <T>(cache: ObjectCache<T>, key: string, revision: number): Promise<void> => {
    try {
      await store.delete(key, revision);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    cache.deleted(key, revision);
  };

  /** True when new objects may be made in `ns` (it exists and is not being deleted), as the api requires. */
  const namespaceOpen = async (ns: string): Promise<boolean> => {
    const got = await store.get<KubeObject>(objectKey(NamespaceKind.plural, undefined, ns));
    return !!got && !got.object.metadata.deletionTimestamp;
  };

  /** Removes what the controller made for the service `name` (of `uid`, when known): it is gone or no longer selects. */
  const cleanUp = async (nsToken: string, ns: string, name: string, uid: string | undefined): Promise<void> => {
    const epKey = objectKey('endpoints', ns, name);
    const ep = endpoints.get(epKey);
    if (ep && controlledByService(ep.object as unknown as KubeObject, name, uid)) await remove(endpoints, epKey, ep.revision);
    for (const s of managedSlices(nsToken, name)) {
      if (uid === undefined || controlledByService(s.object as unknown as KubeObject, name, uid)) await remove(slices, s.key, s.revision);
    }
  };

  return {
    plural: SERVICES,
    name: 'endpoints',
    resyncMs: 30_000,
    bindEnqueue: (fn) => { enqueue = fn; },
    prepare: async () => {
      services.clear();
      servicesIn.clear();
      queued.clear();
      await Promise.all([pods.start(), slices.start(), endpoints.start(), nodes.start()]);
    },
    stop: async () => {
      await Promise.all([pods.stop(), slices.stop(), endpoints.stop(), nodes.stop()]);
    },
    async listed(holds) {
      // What was made for services deleted while no controller ran.
      for (const ep of [...endpoints.all()]) {
        const [, nsToken, nameToken] = ep.key.split('.');
        if (!holds(serviceKey(nsToken, nameToken)) && controlledByService(ep.object as unknown as KubeObject, parseKey(ep.key).name)) {
          log.info({ key: ep.key }, 'endpoints of a service that is gone: deleted');
          await remove(endpoints, ep.key, ep.revision);
        }
      }
      for (const s of [...slices.all()]) {
        const svc = s.object.metadata.labels?.[LABEL_SERVICE_NAME];
        if (!svc || !isManagedSliceOf(s.object, svc)) continue;
        if (!holds(objectKey(SERVICES, s.object.metadata.namespace ?? 'default', svc))) {
          log.info({ key: s.key, service: svc }, 'endpoint slice of a service that is gone: deleted');
          await remove(slices, s.key, s.revision);
        }
      }
    },
    async reconcile(key, observed) {
      queued.delete(key);
      const { namespace, name } = parseKey(key);
      const ns = namespace ?? 'default';
      const nsToken = key.split('.')[1];
      if (!observed) {
        const uid = services.get(key)?.metadata.uid;
        forget(key);
        await cleanUp(nsToken, ns, name, uid);
        return;
      }
      const svc = observed.object as Service;
      remember(key, svc);
      const selector = managedSelector(svc);
      if (!selector) {
        // Its users write its Endpoints; what this controller made while it had a selector goes.
        await cleanUp(nsToken, ns, name, svc.metadata.uid);
        return;
      }
      const selected = pods.inNamespace(nsToken).map((p) => p.object).filter((p) => selects(selector, p.metadata.labels));
      let open: boolean | undefined;
      const mayCreate = async (): Promise<boolean> => (open ??= await namespaceOpen(ns));

      // Slices first: the nodes route from them. New and changed ones before deletions, so a
      // reader never sees fewer endpoints than there are.
      const existing = managedSlices(nsToken, name);
      const plan = reconcileSlices(svc, selected, existing.map((s) => s.object), () => sliceName(name), { zoneOf });
      let retry = false;
      for (const slice of plan.create) {
        if (!(await mayCreate())) break;
        for (let attempt = 0; ; attempt++) {
          const obj = admitCreate(deps.endpointSlices, slice as unknown as KubeObject, ns, new Date(now())) as unknown as EndpointSlice;
          const sliceKey = objectKey('endpointslices', ns, obj.metadata.name);
          try {
            slices.wrote(sliceKey, obj, await store.create(sliceKey, obj));
            break;
          } catch (err) {
            // A name taken by chance: another one.
            if (!isAlreadyExists(err) || attempt >= 3) throw err;
            slice.metadata.name = sliceName(name);
          }
        }
      }
      const revisionOf = new Map(existing.map((s) => [s.object.metadata.name, s]));
      for (const slice of plan.update) {
        const at = revisionOf.get(slice.metadata.name)!;
        try {
          slices.wrote(at.key, slice, await store.update(at.key, slice, at.revision));
        } catch (err) {
          if (!isNotFound(err)) throw err;
          retry = true;
        }
      }
      for (const slice of plan.delete) {
        const at = revisionOf.get(slice.metadata.name)!;
        await remove(slices, at.key, at.revision);
      }

      const epKey = objectKey('endpoints', ns, name);
      const cur = endpoints.get(epKey);
      const action = reconcileEndpoints(svc, selected, cur?.object);
      if (action.type === 'create' && (await mayCreate())) {
        const obj = admitCreate(deps.endpoints, action.object as unknown as KubeObject, ns, new Date(now())) as unknown as Endpoints;
        try {
          endpoints.wrote(epKey, obj, await store.create(epKey, obj));
        } catch (err) {
          // Made meanwhile (the cache is behind): decided again once it shows.
          if (!isAlreadyExists(err)) throw err;
          retry = true;
        }
      } else if (action.type === 'update') {
        try {
          endpoints.wrote(epKey, action.object, await store.update(epKey, action.object, cur!.revision));
        } catch (err) {
          if (!isNotFound(err)) throw err;
          retry = true;
        }
      }
      if (plan.create.length + plan.update.length + plan.delete.length > 0 || action.type !== 'none') {
        log.debug({ key, pods: selected.length, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length, endpoints: action.type }, 'endpoints reconciled');
      }
      return retry ? { requeueAfterMs: 100 } : undefined;
    },
  };
}
