/**
 * The ReplicaSet actor logic: on every reconcile of a set it claims the pods of its namespace
 * (adopts orphans it selects, releases its pods it no longer selects), makes or deletes pods until
 * exactly spec.replicas active ones are left, and writes its status. Level-triggered from the store:
 * after a restart the pod informer's listing is the truth, so a control plane killed mid-scale never
 * makes a pod twice. Pod changes reconcile the sets they concern (pod-index.ts).
 */
import { EventRecorder, type ObjectStore, type Stored, type RecordEvent } from '../../bus';
import {
  isAlreadyExists, isConflict, isNotFound, NamespaceKind, objectKey, type KubeObject, type Pod, type ReplicaSet,
} from '../../messages';
import { admitCreate } from '../api/admission';
import { stableJson } from '../api/stable-json';
import { deleteObject } from '../deletion';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { PodIndex } from './pod-index';
import {
  adopted, BURST_REPLICAS, claimPods, controllerOf, isActive, podFromTemplate, podName, podsToDelete, released, replicaDiff, replicaSetStatus,
  slowStartBatches, type ManageFailure,
} from './reconcile';

/** The component named in the events the controller records. */
export const REPLICASET_CONTROLLER_COMPONENT = 'replicaset-controller';

/** After a failure to make or delete pods: 1 s doubling to 1 min, per set. */
const FAILURE_BACKOFF = { initialMs: 1_000, maxMs: 60_000 };

/** What the controller works with; recordEvent and now are for tests. */
export interface ReplicaSetControllerDeps {
  store: ObjectStore;
  /** The Pod kind's module: its defaults and deletion policy apply to the pods the controller makes and deletes. */
  pods: KindModule;
  recordEvent?: RecordEvent;
  now?: () => number;
}

/**
 * The ReplicaSet kind's controller. Its reconcile throws only store faults (the supervisor
 * restarts it with backoff); a Conflict is retried soon; pods that cannot be made or deleted set
 * ReplicaFailure and are tried again after 1 s doubling to 1 min.
 */
export function replicaSetController(deps: ReplicaSetControllerDeps): KindController {
  const { store, pods: podModule } = deps;
  const now = deps.now ?? Date.now;
  const recordEvent = deps.recordEvent ?? new EventRecorder(store.bus, { component: REPLICASET_CONTROLLER_COMPONENT }).recordEvent;
  /** The sets as last reconciled, for finding the sets an orphan pod concerns. */
  const sets = new Map<string, ReplicaSet>();
  /** Sets with a pod-triggered reconcile already asked for. */
  const queued = new Set<string>();
  const failures = new Map<string, number>();
  /**
   * The sets whose status this controller wrote last, until the informer catches up: a reconcile
   * the pods bring on meanwhile starts from that write rather than from a copy it would conflict with.
   */
  const ownWrites = new Map<string, Stored<ReplicaSet>>();
  let enqueue: (key: string) => boolean = () => false;
  const index = new PodIndex(store, () => sets.values(), (keys) => {
    for (const k of keys) if (!queued.has(k) && enqueue(k)) queued.add(k);
  });

  /** Writes one pod through `write`; false when it changed or went meanwhile (the next reconcile decides again). */
  const tryWrite = async (what: string, pod: Pod, write: () => Promise<number>): Promise<boolean> => {
    try {
      index.wrote(pod, await write());
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) {
        log.debug({ pod: pod.metadata.name, what }, 'pod changed meanwhile; the next reconcile decides again');
        return false;
      }
      throw err;
    }
  };

  /** Makes one pod of `rs`; a name taken by chance is tried again with another. */
  const createPod = async (rs: ReplicaSet): Promise<void> => {
    const ns = rs.metadata.namespace ?? 'default';
    for (let attempt = 0; ; attempt++) {
      const pod = admitCreate(podModule, podFromTemplate(rs, podName(rs.metadata.name)) as KubeObject, ns, new Date(now())) as Pod;
      try {
        const rev = await store.create(objectKey('pods', ns, pod.metadata.name), pod);
        index.wrote(pod, rev);
        recordEvent(rs as KubeObject, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        return;
      } catch (err) {
        if (!isAlreadyExists(err) || attempt >= 3) throw err;
      }
    }
  };

  /** Makes `count` pods in slow-start batches; the first failing batch stops it. */
  const createPods = async (rs: ReplicaSet, count: number): Promise<ManageFailure | undefined> => {
    // The api refuses new objects in a namespace being deleted; so does the controller, which writes past it.
    const ns = rs.metadata.namespace ?? 'default';
    const namespace = await store.get<KubeObject>(objectKey(NamespaceKind.plural, undefined, ns));
    if (!namespace || namespace.object.metadata.deletionTimestamp) {
      return { reason: 'FailedCreate', message: `namespace "${ns}" is being deleted; nothing new can be created in it` };
    }
    for (const size of slowStartBatches(count)) {
      const results = await Promise.allSettled(Array.from({ length: size }, () => createPod(rs)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        const message = `pods "${rs.metadata.name}-" could not be created: ${String((failed.reason as Error)?.message ?? failed.reason)}`;
        recordEvent(rs as KubeObject, 'Warning', 'FailedCreate', message);
        return { reason: 'FailedCreate', message };
      }
    }
    return undefined;
  };

  const deletePods = async (rs: ReplicaSet, victims: Pod[]): Promise<ManageFailure | undefined> => {
    let failure: ManageFailure | undefined;
    await Promise.all(victims.map(async (pod) => {
      try {
        await deleteObject(store, podModule, objectKey('pods', pod.metadata.namespace ?? 'default', pod.metadata.name));
        index.deleted(pod);
        recordEvent(rs as KubeObject, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        const message = `pod "${pod.metadata.name}" could not be deleted: ${(err as Error).message}`;
        recordEvent(rs as KubeObject, 'Warning', 'FailedDelete', message);
        failure ??= { reason: 'FailedDelete', message };
      }
    }));
    return failure;
  };

  return {
    plural: 'replicasets',
    resyncMs: 30_000,
    bindEnqueue: (fn) => { enqueue = fn; },
    prepare: async () => {
      sets.clear();
      queued.clear();
      await index.start();
    },
    stop: () => index.stop(),
    async reconcile(key, observed) {
      queued.delete(key);
      let cur = observed as Stored<ReplicaSet> | null;
      if (!cur) {
        // Its pods go with it through the garbage collector (or stay, orphaned, as asked).
        sets.delete(key);
        failures.delete(key);
        ownWrites.delete(key);
        return;
      }
      const mine = ownWrites.get(key);
      if (mine && mine.revision > cur.revision && mine.object.metadata.uid === cur.object.metadata.uid) cur = mine;
      else ownWrites.delete(key);
      const rs = cur.object;
      sets.set(key, rs);
      const ns = rs.metadata.namespace ?? 'default';
      const claims = claimPods(rs, index.pods(ns));
      let owned = claims.owned;
      if (claims.adopt.length > 0) {
        // Adopt only for a set that still exists as this incarnation and is not being deleted.
        const fresh = await store.get<ReplicaSet>(key);
        if (fresh && fresh.object.metadata.uid === rs.metadata.uid && !fresh.object.metadata.deletionTimestamp) {
          for (const pod of claims.adopt) {
            const podKey = objectKey('pods', ns, pod.metadata.name);
            const got = await store.get<Pod>(podKey);
            // Gone, made again, or taken by another controller meanwhile: not this set's to adopt.
            if (!got || got.object.metadata.uid !== pod.metadata.uid || controllerOf(got.object)) continue;
            const next = adopted(got.object, rs);
            if (await tryWrite('adopt', next, () => store.update(podKey, next, got.revision))) owned = [...owned, next];
          }
        }
      }
      for (const pod of claims.release) {
        const podKey = objectKey('pods', ns, pod.metadata.name);
        const got = await store.get<Pod>(podKey);
        if (!got || got.object.metadata.uid !== pod.metadata.uid) continue;
        const next = released(got.object, rs);
        await tryWrite('release', next, () => store.update(podKey, next, got.revision));
      }
      const active = owned.filter(isActive);
      const diff = replicaDiff(rs, active.length);
      let failure: ManageFailure | undefined;
      if (diff > 0) failure = await createPods(rs, diff);
      else if (diff < 0) failure = await deletePods(rs, podsToDelete(active, -diff));
      // The status counts what the pods are now, the controller's own writes included.
      const after = claimPods(rs, index.pods(ns)).owned.filter(isActive);
      const { status, requeueAfterMs } = replicaSetStatus(rs, after, failure, now());
      if (stableJson(status) !== stableJson(rs.status ?? null)) {
        // A Conflict (the set changed meanwhile) is retried by the supervisor with the newer set.
        const next = { ...rs, status };
        ownWrites.set(key, { key, object: next, revision: await store.update(key, next, cur.revision) });
      }
      if (failure) {
        const n = (failures.get(key) ?? 0) + 1;
        failures.set(key, n);
        log.warn({ key, reason: failure.reason, message: failure.message }, 'replica set could not reach its replicas');
        return { requeueAfterMs: Math.min(FAILURE_BACKOFF.maxMs, FAILURE_BACKOFF.initialMs * 2 ** (n - 1)) };
      }
      failures.delete(key);
      // A burst cut short by BURST_REPLICAS goes on at once.
      if (Math.abs(diff) >= BURST_REPLICAS) return { requeueAfterMs: 0 };
      return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
    },
  };
}
