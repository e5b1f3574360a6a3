/**
 * The StatefulSet actor logic: on every reconcile of a set it claims the pods of its namespace
 * (adopts orphans that it selects and whose names make them members, releases its pods it no
 * longer selects), carries out planStatefulSet (make missing ordinals, delete failed, condemned
 * and outdated ones, in the order the pod management policy asks) and writes its status. A set
 * with volumeClaimTemplates makes each new replica's missing claims before its pod, mounts them in
 * it, and keeps the claims' owner references as its retention policy asks (claims.ts), before it
 * deletes any pod: the garbage collector then deletes the claims with their owner.
 * Before any pod it makes sure a ControllerRevision holds the set's template (the update
 * revision; actors/controller-revision/), and makes a pod below the partition from the current
 * revision's stored template; after the status it prunes revisions beyond revisionHistoryLimit.
 * Level-triggered from the store: the pod informer's listing and the revisions are the truth
 * after a restart, so a control plane killed mid-rollout, or between a revision write and the pod
 * writes, goes on from where the store is. Pod changes reconcile their set.
 */
import { FailureBackoff } from '../failure-backoff';
import { EventRecorder, type ObjectStore, type RecordEvent, type Stored } from '../../bus';
import {
  isAlreadyExists, isConflict, isNotFound, NamespaceKind, objectKey, type KubeObject, type PersistentVolumeClaim, type Pod, type ReplicaSet,
  revisionTemplate, type PodTemplateSpec, type StatefulSet,
} from '../../messages';
import { admitCreate } from '../api/admission';
import { stableJson } from '../api/stable-json';
import { deleteObject } from '../deletion';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { PodIndex } from '../replicaset/pod-index';
import { claimPods, controllerOf, released } from '../replicaset/reconcile';
import type { RevisionOwner } from '../controller-revision/history';
import { pruneRevisions, syncUpdateRevision } from '../controller-revision/sync';
import { statefulClaimControl } from './claim-control';
import { withClaimVolumes } from './claims';
import {
  asRevisionName, madeFromCurrent, ordinalOf, planStatefulSet, podRevision, statefulPod, statefulSetRef, statefulSetStatus, statefulSetTemplateHash,
} from './reconcile';

/** The component named in the events the controller records. */
export const STATEFULSET_CONTROLLER_COMPONENT = 'statefulset-controller';

/** After a failure to make or delete pods: 1 s doubling to 1 min, per set. */
/** How soon to look again when a pod's name is still taken by its predecessor on its way out. */
const NAME_TAKEN_RETRY_MS = 500;

/** What the controller works with; recordEvent and now are for tests. */
export interface StatefulSetControllerDeps {
  store: ObjectStore;
  /** The Pod kind's module: its defaults and deletion policy apply to the pods the controller makes and deletes. */
  pods: KindModule;
  /** The PersistentVolumeClaim kind's module: its defaults and default class apply to the claims the controller makes. */
  claims: KindModule;
  recordEvent?: RecordEvent;
  now?: () => number;
}

/** The two revisions a reconcile makes pods from. */
interface PodRevisions {
  /** The update revision's name: the set's current template. */
  update: string;
  /** The current revision's name and stored template: what ordinals below the partition keep. */
  current: string;
  currentTemplate: PodTemplateSpec;
}

/** claimPods reads only the selector and the uid, which a StatefulSet has as a ReplicaSet has them. */
const asReplicaSet = (sts: StatefulSet) => sts as unknown as ReplicaSet;

/**
 * The StatefulSet kind's controller. Its reconcile throws only store faults (the supervisor
 * restarts it with backoff); a Conflict is retried soon; pods that cannot be made or deleted are
 * tried again after 1 s doubling to 1 min.
 */
export function statefulSetController(deps: StatefulSetControllerDeps): KindController {
  const { store, pods: podModule, claims: claimModule } = deps;
  const now = deps.now ?? Date.now;
  const recordEvent = deps.recordEvent ?? new EventRecorder(store.bus, { component: STATEFULSET_CONTROLLER_COMPONENT }).recordEvent;
  const sets = new Map<string, StatefulSet>();
  const queued = new Set<string>();
  const failures = new FailureBackoff();
  const ownWrites = new Map<string, Stored<StatefulSet>>();
  let enqueue: (key: string) => boolean = () => false;
  const enqueueAll = (keys: Iterable<string>) => {
    for (const k of keys) if (!queued.has(k) && enqueue(k)) queued.add(k);
  };
  const index = new PodIndex(store, () => sets.values(), enqueueAll, { kind: 'StatefulSet', plural: 'statefulsets' });
  /**
   * Pods this controller deleted (key -> uid) that the index still shows without a
   * deletionTimestamp: they count as terminating, so a next ordinal is never touched while its
   * predecessor is on its way out. (The index itself stops showing a pod the moment the
   * controller deletes it, which suits a ReplicaSet but would hide a terminating replica here.)
   */
  const deleting = new Map<string, string>();
  const claimSteps = statefulClaimControl({ store, claims: claimModule, recordEvent, now });

  /** The pods of `ns` as the index has them, with the ones deleted here marked as terminating. */
  const podsOf = (ns: string): Pod[] => {
    const out: Pod[] = [];
    const present = new Set<string>();
    for (const p of index.pods(ns)) {
      const key = objectKey('pods', ns, p.metadata.name);
      present.add(key);
      const uid = deleting.get(key);
      if (uid === undefined) out.push(p);
      else if (uid !== p.metadata.uid || p.metadata.deletionTimestamp) {
        deleting.delete(key);
        out.push(p);
      } else {
        out.push({ ...p, metadata: { ...p.metadata, deletionTimestamp: p.metadata.deletionTimestamp ?? new Date(now()).toISOString() } });
      }
    }
    for (const key of deleting.keys()) if (key.startsWith(objectKey('pods', ns, '')) && !present.has(key)) deleting.delete(key);
    return out;
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

  /** Adopts member orphans it selects and releases its pods it no longer selects; returns the pods it owns. */
  const claim = async (key: string, sts: StatefulSet): Promise<Pod[]> => {
    const ns = sts.metadata.namespace ?? 'default';
    const claims = claimPods(asReplicaSet(sts), podsOf(ns));
    let owned = claims.owned;
    // Only a pod named as one of its replicas is a member (Kubernetes' isMemberOf).
    const adopt = claims.adopt.filter((p) => ordinalOf(sts, p) !== undefined);
    if (adopt.length > 0) {
      const fresh = await store.get<StatefulSet>(key);
      if (fresh && fresh.object.metadata.uid === sts.metadata.uid && !fresh.object.metadata.deletionTimestamp) {
        for (const pod of adopt) {
          const podKey = objectKey('pods', ns, pod.metadata.name);
          const got = await store.get<Pod>(podKey);
          if (!got || got.object.metadata.uid !== pod.metadata.uid || controllerOf(got.object)) continue;
          const next: Pod = { ...got.object, metadata: { ...got.object.metadata, ownerReferences: [...(got.object.metadata.ownerReferences ?? []), statefulSetRef(sts)] } };
          if (await tryWrite(next, () => store.update(podKey, next, got.revision))) owned = [...owned, next];
        }
      }
    }
    for (const pod of claims.release) {
      const podKey = objectKey('pods', ns, pod.metadata.name);
      const got = await store.get<Pod>(podKey);
      if (!got || got.object.metadata.uid !== pod.metadata.uid) continue;
      const next = released(got.object, asReplicaSet(sts));
      await tryWrite(next, () => store.update(podKey, next, got.revision));
    }
    return owned;
  };

  /**
   * Makes the pods of `ordinals`, each after its claims (claim-control.ts ensureClaims). Returns
   * the first failure's message, and whether a pod waits (its name still taken by its predecessor
   * not yet gone from the store, or a claim of a former pod still on its way out: tried again
   * shortly, not a failure).
   */
  const createPods = async (
    sts: StatefulSet, ordinals: number[], revs: PodRevisions, claims: ReadonlyMap<string, PersistentVolumeClaim>,
  ): Promise<{ failure?: string; taken: boolean }> => {
    if (ordinals.length === 0) return { taken: false };
    const ns = sts.metadata.namespace ?? 'default';
    // The api refuses new objects in a namespace being deleted; so does the controller, which writes past it.
    const namespace = await store.get<KubeObject>(objectKey(NamespaceKind.plural, undefined, ns));
    if (!namespace || namespace.object.metadata.deletionTimestamp) return { failure: `namespace "${ns}" is being deleted; nothing new can be created in it`, taken: false };
    let taken = false;
    let failure: string | undefined;
    await Promise.all(ordinals.map(async (ordinal) => {
      const ready = await claimSteps.ensureClaims(sts, ordinal, claims);
      if (ready.failure || ready.wait) {
        if (ready.wait) log.debug({ set: sts.metadata.name, ordinal, waiting: ready.wait }, 'stateful pod waits for its claims');
        taken ||= !!ready.wait;
        failure ??= ready.failure;
        return;
      }
      // Below the partition a replica comes back as the current revision stored it, not as the new template.
      const fromCurrent = revs.current !== revs.update && madeFromCurrent(sts, ordinal);
      const source: StatefulSet = fromCurrent ? { ...sts, spec: { ...sts.spec, template: revs.currentTemplate } } : sts;
      const made = statefulPod(source, ordinal, fromCurrent ? revs.current : revs.update);
      const pod = admitCreate(podModule, withClaimVolumes(sts, made, ordinal) as KubeObject, ns, new Date(now())) as Pod;
      try {
        index.wrote(pod, await store.create(objectKey('pods', ns, pod.metadata.name), pod));
        recordEvent(sts as KubeObject, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`);
      } catch (err) {
        let reason = (err as Error).message;
        if (isAlreadyExists(err)) {
          // Its predecessor on its way out: wait for it. A pod of that name that is not the set's: say so.
          const other = await store.get<Pod>(objectKey('pods', ns, pod.metadata.name));
          const ref = other && controllerOf(other.object);
          if (!other || other.object.metadata.deletionTimestamp || ref?.uid === sts.metadata.uid) {
            taken = true;
            return;
          }
          reason = `a pod named ${pod.metadata.name} exists and is ${ref ? `controlled by ${ref.kind} ${ref.name}` : 'not selected by the set'}; delete or rename it`;
        }
        const message = `create Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} failed error: ${reason}`;
        recordEvent(sts as KubeObject, 'Warning', 'FailedCreate', message);
        failure ??= message;
      }
    }));
    return { failure, taken };
  };

  /** Deletes `victims` by the Pod kind's policy (gracefully when bound); returns the first failure's message. */
  const deletePods = async (sts: StatefulSet, victims: Pod[]): Promise<string | undefined> => {
    let failure: string | undefined;
    await Promise.all(victims.map(async (pod) => {
      try {
        const key = objectKey('pods', pod.metadata.namespace ?? 'default', pod.metadata.name);
        await deleteObject(store, podModule, key);
        deleting.set(key, pod.metadata.uid ?? '');
        recordEvent(sts as KubeObject, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`);
      } catch (err) {
        if (isNotFound(err)) return;
        const message = `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`;
        recordEvent(sts as KubeObject, 'Warning', 'FailedDelete', message);
        failure ??= message;
      }
    }));
    return failure;
  };

  return {
    plural: 'statefulsets',
    resyncMs: 30_000,
    bindEnqueue: (fn) => { enqueue = fn; },
    prepare: async () => {
      sets.clear();
      queued.clear();
      deleting.clear();
      await index.start();
    },
    stop: async () => {
      await index.stop();
    },
    async reconcile(key, observed) {
      queued.delete(key);
      let cur = observed as Stored<StatefulSet> | null;
      if (!cur) {
        // Its pods go with it through the garbage collector (or stay, orphaned, as asked).
        sets.delete(key);
        failures.forget(key);
        ownWrites.delete(key);
        return;
      }
      const mine = ownWrites.get(key);
      if (mine && mine.revision > cur.revision && mine.object.metadata.uid === cur.object.metadata.uid) cur = mine;
      else ownWrites.delete(key);
      const sts = cur.object;
      sets.set(key, sts);
      const ns = sts.metadata.namespace ?? 'default';
      // The revisions first: a controller killed after this write finds the revision and reuses it.
      const history = await syncUpdateRevision(store, sts as unknown as RevisionOwner, (c) => statefulSetTemplateHash(sts, c), sts.status?.collisionCount ?? 0);
      const hash = history.update.metadata.name;
      const wasCurrent = asRevisionName(sts, sts.status?.currentRevision);
      const currentRev = history.revisions.find((r) => r.metadata.name === wasCurrent) ?? history.update;
      const revs: PodRevisions = { update: hash, current: currentRev.metadata.name, currentTemplate: revisionTemplate(currentRev) ?? sts.spec.template };
      const owned = await claim(key, sts);
      const plan = planStatefulSet(sts, owned, hash, now());
      if (plan.create.length > 0 || plan.delete.length > 0) {
        log.info({ key, create: plan.create, delete: plan.delete.map((p) => p.metadata.name) }, 'stateful set makes and deletes pods');
      } else if (plan.waiting) {
        log.debug({ key, waiting: plan.waiting }, 'stateful set waits');
      }
      const claims = await claimSteps.claimsOf(sts);
      await claimSteps.retainClaims(sts, owned, claims);
      const remade = await claimSteps.remakeClaims(sts, owned, claims);
      const created = await createPods(sts, plan.create, revs, claims);
      const failure = (await deletePods(sts, plan.delete)) ?? created.failure ?? remade;
      const mineNow = claimPods(asReplicaSet(sts), podsOf(ns)).owned;
      const seen: StatefulSet = { ...sts, status: { ...(sts.status ?? { replicas: 0 }), currentRevision: revs.current, collisionCount: history.collisionCount } };
      const { status, requeueAfterMs } = statefulSetStatus(seen, mineNow, hash, now());
      if (stableJson(status) !== stableJson(sts.status ?? null)) {
        // A Conflict (the set changed meanwhile) is retried by the supervisor with the newer set.
        const next = { ...sts, status };
        ownWrites.set(key, { key, object: next, revision: await store.update(key, next, cur.revision) });
      }
      // Kept: the current and update revisions and every revision a pod of the set is at.
      const live = new Set([revs.current, status.currentRevision!, hash]);
      for (const p of [...owned, ...mineNow]) {
        const r = podRevision(sts, p);
        if (r) live.add(r);
      }
      await pruneRevisions(store, sts as unknown as RevisionOwner, history.revisions, live);
      if (failure) {
        log.warn({ key, message: failure }, 'stateful set could not make or delete its pods');
        return { requeueAfterMs: failures.failed(key) };
      }
      failures.forget(key);
      const next = Math.min(requeueAfterMs ?? Infinity, created.taken ? NAME_TAKEN_RETRY_MS : Infinity);
      return Number.isFinite(next) ? { requeueAfterMs: next } : undefined;
    },
  };
}
