/**
 * The DaemonSet actor logic: on every reconcile of a set it claims the pods of its namespace
 * (adopts orphans it selects, releases its pods it no longer selects), makes a pod on each node
 * that should run one and has none, deletes pods on nodes that no longer fit or are gone, failed
 * pods and extras, takes one rolling-update step, and writes its status. Its templates are kept as
 * ControllerRevisions (`<set>-<hash>`, actors/controller-revision/), for rollout history and undo;
 * old ones beyond revisionHistoryLimit that no pod is at are pruned. Level-triggered from the
 * store: the node and pod informers' listings are the truth after a restart, so a control plane
 * killed mid-rollout goes on from where the pods are. Node changes that matter (joined, left,
 * labels, taints, cordon, readiness) reconcile every set; pod changes reconcile their set.
 */
import { FailureBackoff } from '../failure-backoff';
import { EventRecorder, startInformer, type Informer, type ObjectStore, type RecordEvent, type Stored } from '../../bus';
import {
  isAlreadyExists, isConflict, isNotFound, NamespaceKind, objectKey, type DaemonSet, type KubeObject, type Node, type Pod, type ReplicaSet,
} from '../../messages';
import { admitCreate } from '../api/admission';
import { stableJson } from '../api/stable-json';
import { deleteObject } from '../deletion';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { PodIndex } from '../replicaset/pod-index';
import { claimPods, controllerOf, podName, released } from '../replicaset/reconcile';
import { controllerRevisionName, type RevisionOwner } from '../controller-revision/history';
import { pruneRevisions, syncUpdateRevision } from '../controller-revision/sync';
import { podTemplateHash } from '../deployment/rollout';
import { adoptedBy, CONTROLLER_REVISION_HASH_LABEL, daemonPod, daemonSetStatus, failedPodBackoffMs, planNodes, templateHash } from './reconcile';
import { rollingUpdateStep } from './rolling';

/** The component named in the events the controller records. */
export const DAEMONSET_CONTROLLER_COMPONENT = 'daemonset-controller';

/** After a failure to make or delete pods: 1 s doubling to 1 min, per set. */

/** What the controller works with; recordEvent and now are for tests. */
export interface DaemonSetControllerDeps {
  store: ObjectStore;
  /** The Pod kind's module: its defaults and deletion policy apply to the pods the controller makes and deletes. */
  pods: KindModule;
  recordEvent?: RecordEvent;
  now?: () => number;
}

/** What of a node decides whether a daemon runs there; a heartbeat changes none of it. */
function nodeShape(n: Node | undefined): string {
  if (!n) return '';
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return stableJson([n.metadata.labels ?? {}, n.spec?.taints ?? [], !!n.spec?.unschedulable, ready ?? '']);
}

/**
 * The DaemonSet kind's controller. Its reconcile throws only store faults (the supervisor
 * restarts it with backoff); a Conflict is retried soon; pods that cannot be made or deleted are
 * tried again after 1 s doubling to 1 min.
 */
export function daemonSetController(deps: DaemonSetControllerDeps): KindController {
  const { store, pods: podModule } = deps;
  const now = deps.now ?? Date.now;
  const recordEvent = deps.recordEvent ?? new EventRecorder(store.bus, { component: DAEMONSET_CONTROLLER_COMPONENT }).recordEvent;
  /** The sets as last reconciled, for finding the sets an orphan pod concerns and for node changes. */
  const sets = new Map<string, DaemonSet>();
  const queued = new Set<string>();
  const failures = new FailureBackoff();
  const ownWrites = new Map<string, Stored<DaemonSet>>();
  const nodes = new Map<string, Node>();
  /** Per set and node (`<set key>/<node>`): failed pods in a row and when a new pod may be made. */
  const failedPods = new Map<string, { count: number; until: number }>();
  let nodeInformer: Informer | undefined;
  let enqueue: (key: string) => boolean = () => false;
  const enqueueAll = (keys: Iterable<string>) => {
    for (const k of keys) if (!queued.has(k) && enqueue(k)) queued.add(k);
  };
  const index = new PodIndex(store, () => sets.values(), enqueueAll, { kind: 'DaemonSet', plural: 'daemonsets' });

  const onNode = (key: string, node: Node | null): void => {
    const before = nodes.get(key);
    if (node) nodes.set(key, node);
    else nodes.delete(key);
    if (nodeShape(before) !== nodeShape(node ?? undefined)) enqueueAll(sets.keys());
  };

  /** Makes the pod of `ds` on `node`; a name taken by chance is tried again with another. */
  const createPod = async (ds: DaemonSet, node: string, hash: string): Promise<void> => {
    const ns = ds.metadata.namespace ?? 'default';
    for (let attempt = 0; ; attempt++) {
      const pod = admitCreate(podModule, daemonPod(ds, node, podName(ds.metadata.name), hash) as KubeObject, ns, new Date(now())) as Pod;
      try {
        index.wrote(pod, await store.create(objectKey('pods', ns, pod.metadata.name), pod));
        recordEvent(ds as KubeObject, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        return;
      } catch (err) {
        if (!isAlreadyExists(err) || attempt >= 3) throw err;
      }
    }
  };

  /** Makes a pod on each of `targets`; returns the first failure's message. */
  const createPods = async (ds: DaemonSet, targets: string[], hash: string): Promise<string | undefined> => {
    if (targets.length === 0) return undefined;
    const ns = ds.metadata.namespace ?? 'default';
    // The api refuses new objects in a namespace being deleted; so does the controller, which writes past it.
    const namespace = await store.get<KubeObject>(objectKey(NamespaceKind.plural, undefined, ns));
    if (!namespace || namespace.object.metadata.deletionTimestamp) return `namespace "${ns}" is being deleted; nothing new can be created in it`;
    const results = await Promise.allSettled(targets.map((n) => createPod(ds, n, hash)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return undefined;
    const message = `pods "${ds.metadata.name}-" could not be created: ${String((failed.reason as Error)?.message ?? failed.reason)}`;
    recordEvent(ds as KubeObject, 'Warning', 'FailedCreate', message);
    return message;
  };

  /** Deletes `victims` by the Pod kind's policy (gracefully when bound); returns the first failure's message. */
  const deletePods = async (ds: DaemonSet, victims: Pod[]): Promise<string | undefined> => {
    let failure: string | undefined;
    await Promise.all(victims.map(async (pod) => {
      try {
        await deleteObject(store, podModule, objectKey('pods', pod.metadata.namespace ?? 'default', pod.metadata.name));
        index.deleted(pod);
        recordEvent(ds as KubeObject, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        const message = `pod "${pod.metadata.name}" could not be deleted: ${(err as Error).message}`;
        recordEvent(ds as KubeObject, 'Warning', 'FailedDelete', message);
        failure ??= message;
      }
    }));
    return failure;
  };

  /** Adopts the orphans it selects and releases its pods it no longer selects; returns the pods it owns. */
  const claim = async (key: string, ds: DaemonSet): Promise<Pod[]> => {
    const ns = ds.metadata.namespace ?? 'default';
    // claimPods reads only the selector and the uid, which a DaemonSet has as a ReplicaSet has them.
    const asSet = ds as unknown as ReplicaSet;
    const claims = claimPods(asSet, index.pods(ns));
    let owned = claims.owned;
    if (claims.adopt.length > 0) {
      const fresh = await store.get<DaemonSet>(key);
      if (fresh && fresh.object.metadata.uid === ds.metadata.uid && !fresh.object.metadata.deletionTimestamp) {
        for (const pod of claims.adopt) {
          const podKey = objectKey('pods', ns, pod.metadata.name);
          const got = await store.get<Pod>(podKey);
          if (!got || got.object.metadata.uid !== pod.metadata.uid || controllerOf(got.object)) continue;
          const next = adoptedBy(got.object, ds);
          if (await tryWrite(next, () => store.update(podKey, next, got.revision))) owned = [...owned, next];
        }
      }
    }
    for (const pod of claims.release) {
      const podKey = objectKey('pods', ns, pod.metadata.name);
      const got = await store.get<Pod>(podKey);
      if (!got || got.object.metadata.uid !== pod.metadata.uid) continue;
      const next = released(got.object, asSet);
      await tryWrite(next, () => store.update(podKey, next, got.revision));
    }
    return owned;
  };

  /** Writes one pod; false when it changed or went meanwhile (the next reconcile decides again). */
  const tryWrite = async (pod: Pod, write: () => Promise<number>): Promise<boolean> => {
    try {
      index.wrote(pod, await write());
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  };

  return {
    plural: 'daemonsets',
    resyncMs: 30_000,
    bindEnqueue: (fn) => { enqueue = fn; },
    prepare: async () => {
      sets.clear();
      queued.clear();
      await nodeInformer?.stop();
      nodes.clear();
      // Nodes first: a set reconciled before the nodes are known would delete every pod it has.
      nodeInformer = await startInformer<Node>(store, 'nodes.>', (ev) => onNode(ev.key, ev.type === 'DELETE' ? null : ev.object ?? null));
      await index.start();
    },
    stop: async () => {
      const n = nodeInformer;
      nodeInformer = undefined;
      await n?.stop();
      await index.stop();
    },
    async reconcile(key, observed) {
      queued.delete(key);
      let cur = observed as Stored<DaemonSet> | null;
      if (!cur) {
        // Its pods go with it through the garbage collector (or stay, orphaned, as asked).
        sets.delete(key);
        failures.forget(key);
        for (const k of failedPods.keys()) if (k.startsWith(`${key}/`)) failedPods.delete(k);
        ownWrites.delete(key);
        return;
      }
      const mine = ownWrites.get(key);
      if (mine && mine.revision > cur.revision && mine.object.metadata.uid === cur.object.metadata.uid) cur = mine;
      else ownWrites.delete(key);
      const ds = cur.object;
      sets.set(key, ds);
      const ns = ds.metadata.namespace ?? 'default';
      const hash = templateHash(ds);
      // The history (`mk rollout history ds/...`): a revision per template, made before any pod of it.
      const history = await syncUpdateRevision(store, ds as unknown as RevisionOwner, (c) => podTemplateHash(ds.spec.template, c), 0);
      const allNodes = [...nodes.values()];
      let owned = await claim(key, ds);
      const t = now();
      const plan = planNodes(ds, allNodes, owned, hash, t);
      for (const p of plan.delete) {
        if (p.status?.phase !== 'Failed' || !p.spec.nodeName) continue;
        const k = `${key}/${p.spec.nodeName}`;
        // A failed pod seen again while its node is in backoff (this set's own delete not yet in
        // the index) is the same failure: counted once, as Kubernetes' IsInBackOffSinceUpdate does.
        const prev = failedPods.get(k);
        if (prev && prev.until > t) continue;
        const count = (prev?.count ?? 0) + 1;
        failedPods.set(k, { count, until: t + failedPodBackoffMs(count) });
        recordEvent(ds as KubeObject, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${p.metadata.name} on node ${p.spec.nodeName}, will try to kill it`);
      }
      let backoffMs: number | undefined;
      const create = plan.create.filter((n) => {
        const wait = (failedPods.get(`${key}/${n}`)?.until ?? 0) - t;
        if (wait > 0) backoffMs = Math.min(backoffMs ?? wait, wait);
        return wait <= 0;
      });
      // A node whose pod has been running (not failed) for a while starts its backoff afresh.
      for (const p of owned) {
        const k = `${key}/${p.spec.nodeName}`;
        if (p.status?.phase === 'Running' && failedPods.has(k) && failedPods.get(k)!.until + 60_000 < t) failedPods.delete(k);
      }
      let failure = await createPods(ds, create, hash);
      failure = (await deletePods(ds, plan.delete)) ?? failure;
      // The rolling update looks at the pods as they are after this reconcile's own writes.
      const mineNow = () => claimPods(ds as unknown as ReplicaSet, index.pods(ns)).owned;
      owned = mineNow();
      if (!failure) {
        const step = rollingUpdateStep(ds, allNodes, owned, hash, now());
        if (step.delete.length > 0 || step.create.length > 0) {
          log.info({ key, delete: step.delete.map((p) => p.metadata.name), surge: step.create }, 'daemon set replaces old pods');
          failure = await createPods(ds, step.create, hash);
          failure = (await deletePods(ds, step.delete)) ?? failure;
          owned = mineNow();
        }
      }
      const { status, requeueAfterMs } = daemonSetStatus(ds, allNodes, owned, hash, now());
      if (stableJson(status) !== stableJson(ds.status ?? null)) {
        // A Conflict (the set changed meanwhile) is retried by the supervisor with the newer set.
        const next = { ...ds, status };
        ownWrites.set(key, { key, object: next, revision: await store.update(key, next, cur.revision) });
      }
      // Kept: the update revision and every revision a pod of the set is at (Kubernetes' cleanupHistory).
      const live = new Set([history.update.metadata.name]);
      for (const p of owned) {
        const h = p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
        if (h) live.add(controllerRevisionName(ds.metadata.name, h));
      }
      await pruneRevisions(store, ds as unknown as RevisionOwner, history.revisions, live);
      if (failure) {
        log.warn({ key, message: failure }, 'daemon set could not make or delete its pods');
        return { requeueAfterMs: failures.failed(key) };
      }
      failures.forget(key);
      const next = Math.min(requeueAfterMs ?? Infinity, backoffMs ?? Infinity);
      return Number.isFinite(next) ? { requeueAfterMs: next } : undefined;
    },
  };
}
