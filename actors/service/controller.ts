/**
 * The Service controller. Per service, level-triggered: a LoadBalancer service's
 * status.loadBalancer.ingress is the InternalIP of every Ready node, kept in sync as nodes come,
 * go and change readiness (k3s's ServiceLB serves LoadBalancer services from the nodes' own
 * addresses the same way); any other type has an empty loadBalancer status. A deleted service
 * gives back its cluster IP and node ports. A repair pass (on start and every repairMs) removes
 * allocation keys whose service no longer holds them (a control plane killed between taking a
 * key and writing the service, or between writing and giving back) and records keys missing for
 * what services hold, like kube-apiserver's ClusterIP and NodePort repair loops.
 */
import { EventRecorder, startInformer, type Informer, type ObjectStore, type RecordEvent, type Stored } from '../../bus';
import { ingressPortOf, isAlreadyExists, isConflict, isNotFound, jsonEqual, keyFilter, type KubeObject, type Node, type Service } from '../../messages';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { heldKeys, IN_FLIGHT_GRACE_MS, type AllocationOwner, type ServiceAllocations } from './allocations';

/** What the controller works with; the periods are for tests (and MK_SERVICE_REPAIR_PERIOD_MS / _GRACE_MS). */
export interface ServiceControllerDeps {
  store: ObjectStore;
  allocations: () => Promise<ServiceAllocations>;
  repairMs?: number;
  graceMs?: number;
  now?: () => number;
  recordEvent?: RecordEvent;
}

/** The component named in the events the controller records. */
export const SERVICE_CONTROLLER_COMPONENT = 'service-controller';

const envMs = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/** The load balancer addresses the nodes give: every Ready node's InternalIP, sorted. */
export function readyNodeAddresses(nodes: Iterable<Node>): string[] {
  const out = new Set<string>();
  for (const n of nodes) {
    if (n.metadata.deletionTimestamp) continue;
    if (n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') continue;
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (ip) out.add(ip);
  }
  return [...out].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/**
 * Ports a LoadBalancer service may not take on the nodes' addresses: the cluster DNS (53, on each
 * node's pod gateway), the bus's client port (embedded/credentials.ts DEFAULT_PORT) and its
 * cluster route port (embedded/nats-cluster.ts: client port + 2000).
 */
export const RESERVED_LB_PORTS: ReadonlyMap<string, string> = new Map([
  ['53/UDP', 'the cluster DNS'], ['53/TCP', 'the cluster DNS'], ['4222/TCP', 'the bus'], ['6222/TCP', "the bus's cluster routes"],
]);

/** Why a LoadBalancer service is left pending: a reserved port, or a port an older service holds. */
export interface LbConflict { port: string; holder?: string; reserved?: string }

const lbPorts = (svc: Service): string[] => (svc.spec.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`);
const svcName = (svc: Service): string => `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;

/**
 * The ports reserved on the nodes: RESERVED_LB_PORTS and each node's ingress proxy port (the
 * INGRESS_PORT_ANNOTATION its agent reports). Pure.
 */
export function reservedLbPorts(nodes: Iterable<Node>): Map<string, string> {
  const out = new Map(RESERVED_LB_PORTS);
  const byPort = new Map<number, string[]>();
  for (const n of nodes) {
    const port = ingressPortOf(n);
    if (port !== undefined) byPort.set(port, [...(byPort.get(port) ?? []), n.metadata.name]);
  }
  for (const [port, names] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const key = `${port}/TCP`;
    if (out.has(key)) continue;
    const sorted = names.sort();
    out.set(key, `the ingress proxy on node${sorted.length > 1 ? 's' : ''} ${sorted.slice(0, 3).join(', ')}${sorted.length > 3 ? ` and ${sorted.length - 3} more` : ''}`);
  }
  return out;
}

/**
 * Which LoadBalancer services may not open their ports on the nodes, as k3s's ServiceLB decides:
 * a port and protocol goes to the oldest LoadBalancer service (creationTimestamp, then name); the
 * others, and any with a reserved port (`reserved`: port/protocol -> what holds it), stay
 * pending. Pure; keyed by `ns/name`.
 */
export function lbConflicts(services: Iterable<Service>, reserved: ReadonlyMap<string, string> = RESERVED_LB_PORTS): Map<string, LbConflict> {
  const lbs = [...services].filter((s) => s.spec.type === 'LoadBalancer' && !s.metadata.deletionTimestamp).sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    return ta !== tb ? (ta < tb ? -1 : 1) : svcName(a).localeCompare(svcName(b));
  });
  const holders = new Map<string, string>();
  const out = new Map<string, LbConflict>();
  for (const svc of lbs) {
    const ports = lbPorts(svc);
    const taken = ports.find((p) => reserved.has(p));
    if (taken) {
      out.set(svcName(svc), { port: taken, reserved: reserved.get(taken) });
      continue;
    }
    const held = ports.find((p) => holders.has(p));
    if (held) {
      out.set(svcName(svc), { port: held, holder: holders.get(held) });
      continue;
    }
    for (const p of ports) holders.set(p, svcName(svc));
  }
  return out;
}

/** The status a service should have, given the Ready nodes' addresses (none while in conflict). */
export function desiredStatus(svc: Service, addresses: readonly string[], conflict?: LbConflict): Service['status'] {
  if (svc.spec.type !== 'LoadBalancer' || addresses.length === 0 || conflict) return { loadBalancer: {} };
  return { loadBalancer: { ingress: addresses.map((ip) => ({ ip })) } };
}

/**
 * Which listed allocation keys leaked: the owner service (from `services`, listed after the keys)
 * is gone, is another incarnation, or does not hold the key, and the key is older than `graceMs`
 * (a younger one may be a write in flight). Pure.
 */
export function leakedKeys(keys: readonly Stored<AllocationOwner>[], services: ReadonlyMap<string, Service>, now: number, graceMs: number): Stored<AllocationOwner>[] {
  return keys.filter((k) => {
    const o = k.object;
    const svc = services.get(`${o.namespace}/${o.name}`);
    if (svc && svc.metadata.uid === o.uid && heldKeys(svc).includes(k.key)) return false;
    if (svc && svc.metadata.uid !== o.uid) return true;
    return now - Date.parse(o.at) >= graceMs;
  });
}

/** The Service kind's controller. Its reconcile throws only store faults (its supervisor restarts it). */
export function serviceController(deps: ServiceControllerDeps): KindController {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const repairMs = deps.repairMs ?? envMs('MK_SERVICE_REPAIR_PERIOD_MS', 60_000);
  const graceMs = deps.graceMs ?? envMs('MK_SERVICE_REPAIR_GRACE_MS', IN_FLIGHT_GRACE_MS);
  const recordEvent = deps.recordEvent ?? new EventRecorder(store.bus, { component: SERVICE_CONTROLLER_COMPONENT }).recordEvent;
  const services = new Map<string, Service>();
  const conflictsReported = new Map<string, string>();
  const nodes = new Map<string, Node>();
  let addresses: string[] = [];
  let reserved: Map<string, string> = new Map(RESERVED_LB_PORTS);
  let nodeInformer: Informer | undefined;
  let repairTimer: NodeJS.Timeout | undefined;
  // Set by stop(): a repair pass running then must not schedule the next one.
  let stopped = false;
  let enqueue: (key: string) => boolean = () => false;

  const onNode = (key: string, node: Node | null): void => {
    if (node) nodes.set(key, node); else nodes.delete(key);
    const next = readyNodeAddresses(nodes.values());
    const nextReserved = reservedLbPorts(nodes.values());
    if (jsonEqual(next, addresses) && jsonEqual([...nextReserved], [...reserved])) return;
    addresses = next;
    reserved = nextReserved;
    for (const [k, s] of services) if (s.spec.type === 'LoadBalancer' || s.status?.loadBalancer?.ingress?.length) enqueue(k);
  };

  // The allocations' own connection, once known: it may close before the objects' one does.
  let allocationsClosed = (): boolean => false;
  const repair = async (): Promise<void> => {
    const alloc = await deps.allocations();
    allocationsClosed = () => alloc.keys.bus.nc.isClosed();
    const keys = (await alloc.keys.list<AllocationOwner>('>')).items;
    const listed = (await store.list<Service>(keyFilter('services'))).items;
    const byName = new Map(listed.map((s) => [`${s.object.metadata.namespace ?? 'default'}/${s.object.metadata.name}`, s.object]));
    for (const k of leakedKeys(keys, byName, now(), graceMs)) {
      try {
        await alloc.keys.delete(k.key, k.revision);
        log.info({ key: k.key, owner: `${k.object.namespace}/${k.object.name}` }, 'service allocation repair: gave back a key its service does not hold');
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    const have = new Set(keys.map((k) => k.key));
    for (const svc of byName.values()) {
      for (const key of heldKeys(svc)) {
        if (have.has(key)) continue;
        const owner: AllocationOwner = { namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name, uid: svc.metadata.uid ?? '', at: new Date(now()).toISOString() };
        const what = key.startsWith('clusterip.') ? 'ClusterIP' : 'Port';
        const value = key.startsWith('clusterip.') ? svc.spec.clusterIP : key.split('.').slice(1).reverse().join('/');
        try {
          await alloc.keys.create(key, owner);
          log.warn({ key, service: `${owner.namespace}/${owner.name}` }, 'service allocation repair: recorded a key the service held without one');
          recordEvent(svc as unknown as KubeObject, 'Warning', `${what}NotAllocated`, `${what} ${value} is not allocated; repairing`);
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          // Present: taken since the keys were listed, by this service's own write most likely.
          const holder = (await alloc.keys.get<AllocationOwner>(key))?.object;
          if (holder && holder.uid !== owner.uid) {
            recordEvent(svc as unknown as KubeObject, 'Warning', `${what}AlreadyAllocated`,
              `${what} ${value} was assigned to multiple services; please recreate service (it is held by ${holder.namespace}/${holder.name})`);
          }
        }
      }
    }
  };

  const scheduleRepair = (): void => {
    clearTimeout(repairTimer);
    // A closed connection does not come back (a new leader term opens its own): no more passes.
    if (stopped || store.bus.nc.isClosed() || allocationsClosed()) return;
    repairTimer = setTimeout(() => {
      repair().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'service allocation repair failed; tried again later')).finally(scheduleRepair);
    }, repairMs);
    repairTimer.unref?.();
  };

  return {
    plural: 'services',
    resyncMs: 30_000,
    bindEnqueue: (fn) => { enqueue = fn; },
    ensure: async () => { await (await deps.allocations()).keys.ensure(); },
    prepare: async () => {
      stopped = false;
      services.clear();
      await nodeInformer?.stop();
      nodes.clear();
      addresses = [];
      reserved = new Map(RESERVED_LB_PORTS);
      nodeInformer = await startInformer<Node>(store, 'nodes.>', (ev) => onNode(ev.key, ev.type === 'DELETE' ? null : ev.object ?? null));
    },
    listed: async () => {
      if (stopped || store.bus.nc.isClosed() || allocationsClosed()) return;
      await repair().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'service allocation repair failed; tried again later'));
      scheduleRepair();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(repairTimer);
      repairTimer = undefined;
      const n = nodeInformer;
      nodeInformer = undefined;
      await n?.stop();
    },
    async reconcile(key, observed) {
      const cur = observed as Stored<Service> | null;
      // A LoadBalancer service's ports changing (or it coming or going) may free or take a port
      // another one waits for: those are looked at again.
      const lbShape = (s: Service | undefined) => (s?.spec.type === 'LoadBalancer' ? JSON.stringify([lbPorts(s), s.metadata.creationTimestamp, s.metadata.deletionTimestamp]) : '');
      const before = services.get(key);
      const requeueOthers = (after: Service | undefined): void => {
        if (lbShape(before) === lbShape(after)) return;
        for (const [k, s] of services) if (k !== key && s.spec.type === 'LoadBalancer') enqueue(k);
      };
      if (!cur) {
        services.delete(key);
        conflictsReported.delete(key);
        requeueOthers(undefined);
        if (before) await (await deps.allocations()).giveBack(heldKeys(before), before.metadata.uid ?? '');
        return;
      }
      const svc = cur.object;
      services.set(key, svc);
      requeueOthers(svc);
      const conflict = svc.spec.type === 'LoadBalancer' ? lbConflicts(services.values(), reserved).get(svcName(svc)) : undefined;
      // One event per conflict (not one per resync): a pending service's status may not change.
      const why = conflict && (conflict.reserved
        ? `port ${conflict.port} is reserved for ${conflict.reserved}; the load balancer stays pending`
        : `port ${conflict.port} is held by LoadBalancer service ${conflict.holder}; the load balancer stays pending until it is free`);
      if (why && conflictsReported.get(key) !== why) recordEvent(svc as unknown as KubeObject, 'Warning', 'PortConflict', why);
      if (why) conflictsReported.set(key, why); else conflictsReported.delete(key);
      const want = desiredStatus(svc, addresses, conflict);
      if (jsonEqual(svc.status ?? {}, want)) return;
      try {
        await store.update(key, { ...svc, status: want }, cur.revision);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    },
  };
}
