/** The control plane's node actor logic: pod CIDR assignment and heartbeat staleness. */
import type { ObjectStore } from '../../bus';
import { keyFilter, type Node } from '../../messages';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { reconcileNode } from './reconcile';
import type { NodeRoutes } from './routes';

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

/** The node controller; with `routes`, it also keeps each node's entry of the pod network's routes. */
export function nodeController(store: ObjectStore, routes?: NodeRoutes): KindController {
  return {
    plural: 'nodes',
    resyncMs: 10_000,
    reconcile: (key) => serialized(() => reconcileOne(store, key, routes)),
    ...(routes ? { ensure: () => routes.ensure(), prepare: () => routes.start() } : {}),
  };
}

async function reconcileOne(store: ObjectStore, key: string, routes?: NodeRoutes): Promise<{ requeueAfterMs?: number } | void> {
  const cur = await store.get<Node>(key);
  await routes?.sync(key, cur?.object ?? null);
  if (!cur) return;
  const others = (await store.list<Node>(keyFilter('nodes'))).items
    .filter((n) => n.key !== key)
    .map((n) => n.object.spec?.podCIDR)
    .filter((c): c is string => !!c);
  const { actions, requeueAfterMs } = reconcileNode(cur.object, others, Date.now());
  if (actions.length === 0) return { requeueAfterMs };
  const next = structuredClone(cur.object);
  for (const a of actions) {
    if (a.type === 'assign-cidr') {
      next.spec = { ...next.spec, podCIDR: a.cidr, podCIDRs: [a.cidr] };
      log.info({ key, cidr: a.cidr }, 'assigned pod CIDR');
    } else {
      next.status = { ...next.status, conditions: (next.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? a.condition : c)) };
      log.warn({ key }, 'node stopped posting status; marked Ready=Unknown');
    }
  }
  // A conflict (the agent's heartbeat won) is retried by the supervisor with a fresh read.
  await store.update(key, next, cur.revision);
  return { requeueAfterMs };
}
