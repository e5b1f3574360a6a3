/**
 * The Ingress actor logic: on every reconcile of an Ingress it writes the addresses it is served
 * at (status.loadBalancer.ingress: the InternalIP of every Ready node, for every node runs the
 * proxy) and records a Warning event naming each service the Ingress sends to that does not exist
 * (accepted as Kubernetes does; the proxy answers 503 for it). Node changes that move the
 * addresses reconcile every Ingress; a service that comes or goes reconciles its namespace's.
 */
import { EventRecorder, startInformer, type Informer, type ObjectStore, type RecordEvent, type Stored } from '../../bus';
import { parseKey, type Ingress, type KubeObject, type Node } from '../../messages';
import { stableJson } from '../api/stable-json';
import type { KindController } from '../kind-supervisor';
import { ingressStatus, missingServices, readyNodeAddresses } from './reconcile';

/** The component named in the events the controller records. */
export const INGRESS_CONTROLLER_COMPONENT = 'ingress-controller';

/** What the controller works with; recordEvent is for tests. */
export interface IngressControllerDeps {
  store: ObjectStore;
  recordEvent?: RecordEvent;
}

/** The Ingress kind's controller; its reconcile throws only store faults (a Conflict is retried soon). */
export function ingressController(deps: IngressControllerDeps): KindController {
  const { store } = deps;
  const recordEvent = deps.recordEvent ?? new EventRecorder(store.bus, { component: INGRESS_CONTROLLER_COMPONENT }).recordEvent;
  const nodes = new Map<string, Node>();
  /** `<namespace>/<name>` of every Service in the store. */
  const services = new Set<string>();
  /** Ingress key -> the ingresses' namespace, for a service change. */
  const ingresses = new Map<string, string>();
  /** Ingress key -> the missing services last warned about (a Warning each time the set changes). */
  const warned = new Map<string, string>();
  let addresses = '';
  let informers: Informer[] = [];
  let enqueue: (key: string) => boolean = () => false;

  const onNode = (key: string, node: Node | null): void => {
    if (node) nodes.set(key, node);
    else nodes.delete(key);
    const now = stableJson(readyNodeAddresses(nodes.values()));
    if (now === addresses) return;
    addresses = now;
    for (const k of ingresses.keys()) enqueue(k);
  };

  const onService = (key: string, present: boolean): void => {
    const { namespace, name } = parseKey(key);
    const id = `${namespace ?? 'default'}/${name}`;
    if (present === services.has(id)) return;
    if (present) services.add(id);
    else services.delete(id);
    for (const [k, ns] of ingresses) if (ns === namespace) enqueue(k);
  };

  return {
    plural: 'ingresses',
    resyncMs: 30_000,
    bindEnqueue: (fn) => { enqueue = fn; },
    prepare: async () => {
      await Promise.all(informers.map((i) => i.stop()));
      nodes.clear();
      services.clear();
      ingresses.clear();
      addresses = '';
      informers = [
        await startInformer<Node>(store, 'nodes.>', (ev) => onNode(ev.key, ev.type === 'DELETE' ? null : ev.object ?? null)),
        await startInformer<unknown>(store, 'services.>', (ev) => onService(ev.key, ev.type !== 'DELETE')),
      ];
    },
    stop: async () => {
      const all = informers;
      informers = [];
      await Promise.all(all.map((i) => i.stop()));
    },
    async reconcile(key, observed) {
      const cur = observed as Stored<Ingress> | null;
      if (!cur) {
        ingresses.delete(key);
        warned.delete(key);
        return;
      }
      const ing = cur.object;
      const ns = ing.metadata.namespace ?? 'default';
      ingresses.set(key, ns);
      const missing = missingServices(ing, (s) => services.has(`${ns}/${s}`));
      const missingText = missing.join(',');
      if (missingText !== (warned.get(key) ?? '')) {
        for (const s of missing) {
          recordEvent(ing as KubeObject, 'Warning', 'ServiceNotFound', `service "${ns}/${s}" not found: requests routed to it get 503 until it exists`);
        }
        warned.set(key, missingText);
      }
      const status = ingressStatus(readyNodeAddresses(nodes.values()));
      if (stableJson(status) !== stableJson(ing.status ?? null)) {
        // A Conflict (the Ingress changed meanwhile) is retried by the supervisor with the newer one.
        await store.update(key, { ...ing, status }, cur.revision);
      }
    },
  };
}
