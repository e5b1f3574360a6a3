/**
 * The control plane's node actor logic: pod CIDR assignment, heartbeat staleness, the taints a
 * node's conditions call for (reconcile.ts), and the taint manager: pods on a node with NoExecute
 * taints they do not tolerate are deleted once their tolerationSeconds have passed (eviction.ts),
 * so that their owners replace them elsewhere.
 */
import type { Bus, ObjectStore } from '../../bus';
import { EventRecorder, type RecordEvent } from '../../bus';
import { keyFilter, objectKey, type Node, type Pod } from '../../messages';
import { deleteObject } from '../deletion';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { evictionTime } from './eviction';
import { reconcileNode } from './reconcile';
import type { NodeRoutes } from './routes';

/** The component on the node lifecycle's events (Kubernetes' is node-controller). */
export const NODE_CONTROLLER_COMPONENT = 'node-controller';

/**
 * Node actors run concurrently, but a pod CIDR is chosen from what every node holds: the choices
 * are serialized so two nodes registering at once never get the same range. (One control plane
 * leads at a time, so a process-wide lock is enough.)
 */
let cidrLock: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = cidrLock.then(fn, fn);
  cidrLock = run.catch(() => undefined);
  return run;
}

/** What the node controller needs. */
export interface NodeControllerDeps {
  store: ObjectStore;
  bus: Bus;
  /** The pod kind's module: evictions delete pods by its deletion policy (graceful). */
  pods: KindModule;
  /** How long a node may be silent before it is Unknown; read on every reconcile. */
  gracePeriodMs(): number;
  now?(): number;
  recordEvent?: RecordEvent;
  /** The pod network's routes: each node's entry is kept in line with the node (routes.ts). */
  routes?: NodeRoutes;
}

/**
 * The nodes' controller: per node, the lifecycle decision (reconcile.ts) written under the CIDR
 * lock, then the taint manager's evictions. Requeues at the earlier of when the heartbeat goes
 * stale and when the next eviction is due. Store faults throw (the supervisor retries); a
 * Conflict with a heartbeat is retried with a fresh read. A node gets a full grace period from
 * the moment this controller was made (the control plane's start). With `routes`, it also keeps
 * each node's entry of the pod network's routes.
 */
export function nodeController(deps: NodeControllerDeps): KindController {
  const recordEvent = deps.recordEvent ?? new EventRecorder(deps.bus, { component: NODE_CONTROLLER_COMPONENT }).recordEvent;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  return {
    plural: 'nodes',
    resyncMs: 10_000,
    reconcile: async (key) => {
      const node = await serialized(() => reconcileOne(deps, recordEvent, key, now(), startedAt));
      if (!node) return;
      const evictAfter = await evictPods(deps, recordEvent, node.object, now());
      const after = [node.requeueAfterMs, evictAfter].filter((x): x is number => x !== undefined);
      return after.length ? { requeueAfterMs: Math.min(...after) } : undefined;
    },
    ...(deps.routes ? { ensure: () => deps.routes!.ensure(), prepare: () => deps.routes!.start() } : {}),
  };
}

async function reconcileOne(
  deps: NodeControllerDeps, recordEvent: RecordEvent, key: string, now: number, startedAt: number,
): Promise<{ object: Node; requeueAfterMs?: number } | undefined> {
  const { store } = deps;
  const cur = await store.get<Node>(key);
  await deps.routes?.sync(key, cur?.object ?? null);
  if (!cur) return undefined;
  const others = (await store.list<Node>(keyFilter('nodes'))).items
    .filter((n) => n.key !== key)
    .map((n) => n.object.spec?.podCIDR)
    .filter((c): c is string => !!c);
  const { actions, requeueAfterMs } = reconcileNode(cur.object, others, now, { gracePeriodMs: deps.gracePeriodMs(), startedAt });
  if (actions.length === 0) return { object: cur.object, requeueAfterMs };
  const next = structuredClone(cur.object);
  const events: (() => void)[] = [];
  for (const a of actions) {
    if (a.type === 'assign-cidr') {
      next.spec = { ...next.spec, podCIDR: a.cidr, podCIDRs: [a.cidr] };
      log.info({ key, cidr: a.cidr }, 'assigned pod CIDR');
    } else if (a.type === 'mark-unknown') {
      next.status = { ...next.status, conditions: a.conditions };
      log.warn({ key }, 'node stopped posting status; marked Unknown');
    } else if (a.type === 'set-taints') {
      next.spec = { ...next.spec, taints: a.taints };
      if (a.taints.length === 0) delete next.spec.taints;
      log.info({ key, taints: a.taints.map((t) => `${t.key}:${t.effect}`) }, 'node taints set');
    } else {
      events.push(() => recordEvent(next, a.eventType, a.reason, a.message));
    }
  }
  // A conflict (the agent's heartbeat won) is retried by the supervisor with a fresh read.
  await store.update(key, next, cur.revision);
  for (const e of events) e();
  return { object: next, requeueAfterMs };
}

/**
 * The taint manager for one node: deletes the pods whose time is up (once: a pod being deleted
 * is left to its node) and says when the next one is due.
 */
async function evictPods(deps: NodeControllerDeps, recordEvent: RecordEvent, node: Node, now: number): Promise<number | undefined> {
  const noExecute = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return undefined;
  const pods = (await deps.store.list<Pod>(keyFilter('pods'))).items
    .map((i) => i.object)
    .filter((p) => p.spec.nodeName === node.metadata.name && !p.metadata.deletionTimestamp);
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
