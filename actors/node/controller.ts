/**
 * The control plane's node actor logic: pod CIDR assignment (cidr.ts), heartbeat staleness, the
 * taints a node's conditions call for (reconcile.ts), pods marked not ready on a node that went
 * Unknown (pod-readiness.ts), and the taint manager: pods on a node with NoExecute taints they do
 * not tolerate are deleted once their tolerationSeconds have passed (eviction.ts), so that their
 * owners replace them elsewhere.
 *
 * A node is judged by the later of its Lease's renewTime (kube-node-lease, learned from the
 * leader's shared informer) and its Ready condition's lastHeartbeatTime.
 *
 * Everything it keeps in memory (the CIDR allocation, the lease renew times, when it started
 * judging heartbeats) is made again in prepare(), which its kind supervisor calls on every start:
 * a control plane that starts the node supervisor only while it leads gets a fresh controller
 * state each time it does; stop() ends the lease informer.
 */
import type { Bus, ObjectStore, Stored } from '../../bus';
import { EventRecorder, startInformer, type Informer, type RecordEvent } from '../../bus';
import {
  isNotFound, keyFilter, LeaseKind, NODE_LEASE_NAMESPACE, objectKey, timestamp,
  type Lease, type Node, type Pod, type Taint,
} from '../../messages';
import { deleteObject } from '../deletion';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { CidrAllocator } from './cidr';
import { evictionTime } from './eviction';
import { NODE_NOT_READY_MESSAGE, NODE_NOT_READY_REASON, notReadyStatus } from './pod-readiness';
import { reconcileNode } from './reconcile';
import type { NodeRoutes } from './routes';

/** The component on the node lifecycle's events (Kubernetes' is node-controller). */
export const NODE_CONTROLLER_COMPONENT = 'node-controller';

/** What the node controller needs. */
export interface NodeControllerDeps {
  store: ObjectStore;
  bus: Bus;
  /** The pod kind's module: evictions delete pods by its deletion policy (graceful). */
  pods: KindModule;
  /** How long a node may be silent before it is Unknown; read on every reconcile. */
  gracePeriodMs(): number;
  /** The range pod CIDRs are cut from and their prefix length; read on every start. */
  cidr(): { clusterCidr: string; nodeCidrMaskSize: number };
  now?(): number;
  recordEvent?: RecordEvent;
  /** The pod network's routes: each node's entry is kept in line with the node (routes.ts). */
  routes?: NodeRoutes;
}

/** Runs functions one at a time, in call order. */
function serializer(): <T>(fn: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = last.then(fn, fn);
    last = run.catch(() => undefined);
    return run;
  };
}

/** The pod CIDRs this controller knows taken, by node key and by range. */
class CidrBook {
  readonly byNode = new Map<string, string>();
  readonly byCidr = new Map<string, string>();
  /** Nodes that got no CIDR because every range is taken (their CIDRNotAvailable is recorded). */
  readonly waiting = new Set<string>();
  constructor(readonly allocator: CidrAllocator) {}

  /** Records that the node at `key` holds `cidr` (read from the store). */
  learn(key: string, cidr: string | undefined): void {
    const had = this.byNode.get(key);
    if (had === cidr || !cidr) return;
    if (had) this.forget(key);
    const holder = this.byCidr.get(cidr);
    if (holder && holder !== key) {
      log.error({ key, cidr, holder }, 'two nodes hold the same pod CIDR');
      return;
    }
    if (!this.allocator.occupy(cidr)) log.warn({ key, cidr, clusterCidr: this.allocator.clusterCidr }, 'node holds a pod CIDR outside the cluster CIDR');
    this.byNode.set(key, cidr);
    this.byCidr.set(cidr, key);
    this.waiting.delete(key);
  }

  /** The node at `key` is gone: its CIDR is free again. Returns whether one was freed. */
  forget(key: string): boolean {
    this.waiting.delete(key);
    const cidr = this.byNode.get(key);
    if (!cidr) return false;
    this.byNode.delete(key);
    this.byCidr.delete(cidr);
    this.allocator.release(cidr);
    return true;
  }
}

/**
 * The nodes' controller: per node, the lifecycle decision (reconcile.ts) with a pod CIDR from
 * the allocator when the node has none, the pods of an Unknown node marked not ready, then the
 * taint manager's evictions. Requeues at the earlier of when the heartbeat goes stale and when
 * the next eviction is due. When every range is taken the node gets none and a CIDRNotAvailable
 * event (once); it gets one when a node is deleted, or on the supervisor's resync. Store faults
 * throw (the supervisor retries); a Conflict with a heartbeat is retried with a fresh read. A
 * node gets a full grace period from the moment this controller started (prepare()). With
 * `routes`, it also keeps each node's entry of the pod network's routes.
 */
export function nodeController(deps: NodeControllerDeps): KindController {
  const recordEvent = deps.recordEvent ?? new EventRecorder(deps.bus, { component: NODE_CONTROLLER_COMPONENT }).recordEvent;
  const now = deps.now ?? Date.now;
  let startedAt = now();
  let book: CidrBook | undefined;
  // The nodes' lease renew times by node name, from the leader's shared informer (no read per node).
  const leases = new Map<string, string>();
  let leaseInformer: Informer | undefined;
  // CIDR choices are serialized: two nodes registering at once never get the same range.
  const serialized = serializer();

  const prepare = async (): Promise<void> => {
    startedAt = now();
    await leaseInformer?.stop();
    leases.clear();
    leaseInformer = await startInformer<Lease>(deps.store, keyFilter(LeaseKind.plural, NODE_LEASE_NAMESPACE), (ev) => {
      const name = ev.key.split('.').pop()!;
      const renew = ev.type === 'PUT' ? ev.object?.spec?.renewTime : undefined;
      if (renew) leases.set(name, renew); else leases.delete(name);
    });
    const { clusterCidr, nodeCidrMaskSize } = deps.cidr();
    const fresh = new CidrBook(new CidrAllocator(clusterCidr, nodeCidrMaskSize));
    for (const n of (await deps.store.list<Node>(keyFilter('nodes'))).items) fresh.learn(n.key, n.object.spec?.podCIDR);
    book = fresh;
    log.info({ clusterCidr, nodeCidrMaskSize, taken: fresh.byNode.size, free: fresh.allocator.free }, 'pod CIDR allocation rebuilt from the nodes');
  };

  /**
   * Gives a range freed by a deleted node to a node waiting for one (its own actor may race: a
   * Conflict leaves it to that actor's next reconcile).
   */
  const handOver = async (b: CidrBook): Promise<void> => {
    for (const key of [...b.waiting]) {
      if (b.allocator.free === 0) return;
      try {
        if (!(await serialized(() => reconcileOne(deps, recordEvent, b, key, now(), startedAt, undefined, leases)))) b.forget(key);
      } catch (err) {
        log.debug({ key, err: String(err) }, 'handing a freed pod CIDR over failed; the node\'s next resync retries');
      }
    }
  };

  return {
    plural: 'nodes',
    resyncMs: 10_000,
    prepare: async () => {
      await prepare();
      await deps.routes?.start();
    },
    reconcile: async (key, observed) => {
      if (!book) await prepare();
      const b = book!;
      const node = await serialized(() => reconcileOne(deps, recordEvent, b, key, now(), startedAt, observed as Stored<Node> | null, leases));
      if (!node) {
        if (b.forget(key)) await handOver(b);
        return;
      }
      const unknown = node.object.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown';
      const noExecute = (node.object.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
      // One listing for both: only a node that is Unknown or tainted NoExecute needs its pods.
      const pods = unknown || noExecute.length ? await podsOn(deps.store, node.object) : [];
      if (unknown) await markPodsNotReady(deps, recordEvent, node.object, pods);
      const evictAfter = await evictPods(deps, recordEvent, node.object, noExecute, pods, now());
      const after = [node.requeueAfterMs, evictAfter].filter((x): x is number => x !== undefined);
      return after.length ? { requeueAfterMs: Math.min(...after) } : undefined;
    },
    stop: async () => {
      await leaseInformer?.stop();
      leaseInformer = undefined;
    },
    ...(deps.routes ? { ensure: () => deps.routes!.ensure() } : {}),
  };
}

/**
 * One node's lifecycle step, from `observed` (the supervisor's copy: heartbeats and resyncs need
 * no read of the store; a copy behind the store makes a write Conflict, retried) or, without it,
 * from a read of the store.
 */
async function reconcileOne(
  deps: NodeControllerDeps, recordEvent: RecordEvent, book: CidrBook, key: string, now: number, startedAt: number,
  observed?: Stored<Node> | null, leases?: ReadonlyMap<string, string>,
): Promise<{ object: Node; requeueAfterMs?: number } | undefined> {
  const { store } = deps;
  const cur = observed === undefined ? await store.get<Node>(key) : observed;
  await deps.routes?.sync(key, cur?.object ?? null);
  if (!cur) return undefined;
  book.learn(key, cur.object.spec?.podCIDR);
  const { actions, requeueAfterMs } = reconcileNode(cur.object, now, {
    gracePeriodMs: deps.gracePeriodMs(), startedAt, leaseRenewTime: leases?.get(cur.object.metadata.name),
  });
  const next = structuredClone(cur.object);
  const events: (() => void)[] = [];
  let allocated: string | undefined;
  let write = false;
  for (const a of actions) {
    if (a.type === 'need-cidr') {
      allocated = book.allocator.allocate();
      if (allocated) {
        next.spec = { ...next.spec, podCIDR: allocated, podCIDRs: [allocated] };
        write = true;
      } else if (!book.waiting.has(key)) {
        book.waiting.add(key);
        log.warn({ key, clusterCidr: book.allocator.clusterCidr, nodes: book.allocator.count }, 'no pod CIDR left for the node: every range of the cluster CIDR is taken');
        // Kubernetes' range allocator's wording (RecordNodeStatusChange).
        events.push(() => recordEvent(next, 'Normal', 'CIDRNotAvailable', `Node ${next.metadata.name} status is now: CIDRNotAvailable`));
      }
    } else if (a.type === 'mark-unknown') {
      next.status = { ...next.status, conditions: a.conditions };
      write = true;
      log.warn({ key }, 'node stopped posting status; marked Unknown');
    } else if (a.type === 'set-taints') {
      next.spec = { ...next.spec, taints: a.taints };
      if (a.taints.length === 0) delete next.spec.taints;
      write = true;
      log.info({ key, taints: a.taints.map((t) => `${t.key}:${t.effect}`) }, 'node taints set');
    } else {
      events.push(() => recordEvent(next, a.eventType, a.reason, a.message));
    }
  }
  if (write) {
    try {
      // A conflict (the agent's heartbeat won) is retried by the supervisor with a fresh read.
      await store.update(key, next, cur.revision);
    } catch (err) {
      if (allocated) book.allocator.release(allocated);
      throw err;
    }
    if (allocated) {
      book.learn(key, allocated);
      log.info({ key, cidr: allocated }, 'assigned pod CIDR');
    }
  }
  for (const e of events) e();
  return { object: write ? next : cur.object, requeueAfterMs };
}

/** The pods bound to `node` and not being deleted. */
async function podsOn(store: ObjectStore, node: Node): Promise<Pod[]> {
  return (await store.list<Pod>(keyFilter('pods'))).items
    .map((i) => i.object)
    .filter((p) => p.spec.nodeName === node.metadata.name && !p.metadata.deletionTimestamp);
}

/**
 * For a node that is Unknown (its agent silent): sets its pods' Ready condition False, once per
 * pod (MarkPodsNotReady); the agent writes the true status when it is back.
 */
async function markPodsNotReady(deps: NodeControllerDeps, recordEvent: RecordEvent, node: Node, pods: Pod[]): Promise<void> {
  for (const pod of pods) {
    if (!notReadyStatus(pod, '')) continue;
    const ns = pod.metadata.namespace ?? 'default';
    let done: Pod | undefined;
    try {
      const out = await deps.store.mutate<Pod>(objectKey('pods', ns, pod.metadata.name), (cur) => {
        if (cur.metadata.uid !== pod.metadata.uid || cur.spec.nodeName !== node.metadata.name) return null;
        const status = notReadyStatus(cur, timestamp());
        if (!status) return null;
        cur.status = status;
        return cur;
      });
      done = out?.object;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!done) continue;
    log.info({ pod: `${ns}/${pod.metadata.name}`, node: node.metadata.name }, 'pod marked not ready: its node is Unknown');
    recordEvent(done, 'Warning', NODE_NOT_READY_REASON, NODE_NOT_READY_MESSAGE);
  }
}

/**
 * The taint manager for one node and its `pods`: deletes the pods whose time is up (once: a pod being deleted
 * is left to its node) and says when the next one is due.
 */
async function evictPods(
  deps: NodeControllerDeps, recordEvent: RecordEvent, node: Node, noExecute: Taint[], pods: Pod[], now: number,
): Promise<number | undefined> {
  if (noExecute.length === 0) return undefined;
  let next: number | undefined;
  for (const pod of pods) {
    const at = evictionTime(pod, noExecute, now);
    if (at === null) continue;
    if (at > now) {
      next = Math.min(next ?? Infinity, at - now + 100);
      continue;
    }
    const ns = pod.metadata.namespace ?? 'default';
    const done = await deleteObject(deps.store, deps.pods, objectKey('pods', ns, pod.metadata.name));
    if (!done) continue;
    log.warn({ pod: `${ns}/${pod.metadata.name}`, node: node.metadata.name }, 'evicting pod: its node has a NoExecute taint it does not tolerate, or no longer');
    recordEvent(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${ns}/${pod.metadata.name}`);
  }
  return next;
}
