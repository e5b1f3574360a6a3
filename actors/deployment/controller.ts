/**
 * The Deployment actor logic: on every reconcile of a deployment it finds the ReplicaSet of its
 * current template (making it when there is none), syncs that set's revision, takes one rollout
 * step (rolling.go or recreate.go in Kubernetes' pkg/controller/deployment), deletes old sets
 * beyond revisionHistoryLimit and writes its status. Level-triggered from the store: every step is
 * computed from the sets' spec and status as they are, so a control plane killed mid-rollout goes
 * on from there. Set changes reconcile their deployment (rs-index.ts).
 */
import { EventRecorder, type ObjectStore, type RecordEvent, type Stored } from '../../bus';
import {
  isAlreadyExists, isConflict, isNotFound, objectKey, selectorMatches, type Deployment, type KubeObject, type OwnerReference, type Pod, type ReplicaSet,
} from '../../messages';
import { admitCreate } from '../api/admission';
import { stableJson } from '../api/stable-json';
import { deleteObject } from '../deletion';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import {
  CHANGE_CAUSE_ANNOTATION, isScalingEvent, scaledSizes, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, maxRevision, newReplicasForRollingUpdate,
  oldReplicasForRollingUpdate, POD_TEMPLATE_HASH_LABEL, podTemplateHash, resolveFenceposts, REVISION_ANNOTATION, revisionOf, sameTemplate,
  setsToCleanUp,
} from './rollout';
import { countStatus, withConditions, type NewSetEvent } from './status';
import { ReplicaSetIndex } from './rs-index';

/** The component named in the events the controller records. */
export const DEPLOYMENT_CONTROLLER_COMPONENT = 'deployment-controller';

/** How often a Recreate rollout looks again for old pods still terminating. */
const RECREATE_POLL_MS = 1_000;

/** What the controller works with; recordEvent and now are for tests. */
export interface DeploymentControllerDeps {
  store: ObjectStore;
  /** The ReplicaSet kind's module: its defaults and deletion policy apply to the sets the controller makes and deletes. */
  replicaSets: KindModule;
  recordEvent?: RecordEvent;
  now?: () => number;
}

/** The reference a deployment writes into the sets it controls. */
export function deploymentRef(d: Deployment): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** A new set for `d`'s template: `<name>-<hash>`, the hash also in its selector and pod labels. */
export function newReplicaSet(d: Deployment, hash: string, replicas: number, revision: number): ReplicaSet {
  const labels = { ...(d.spec.template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const want = d.spec.replicas ?? 1;
  const annotations: Record<string, string> = {
    [REVISION_ANNOTATION]: String(revision),
    [DESIRED_REPLICAS_ANNOTATION]: String(want),
    [MAX_REPLICAS_ANNOTATION]: String(want + resolveFenceposts(d).maxSurge),
  };
  const cause = d.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
  if (cause) annotations[CHANGE_CAUSE_ANNOTATION] = cause;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, labels, annotations, ownerReferences: [deploymentRef(d)] },
    spec: {
      replicas,
      minReadySeconds: d.spec.minReadySeconds,
      selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } },
      template: { ...d.spec.template, metadata: { ...(d.spec.template.metadata ?? {}), labels } },
    },
  };
}

/**
 * The Deployment kind's controller. Its reconcile throws only store faults (the supervisor
 * restarts it with backoff); a Conflict is retried soon with the newer objects.
 */
export function deploymentController(deps: DeploymentControllerDeps): KindController {
  const { store, replicaSets: rsModule } = deps;
  const now = deps.now ?? Date.now;
  const recordEvent = deps.recordEvent ?? new EventRecorder(store.bus, { component: DEPLOYMENT_CONTROLLER_COMPONENT }).recordEvent;
  let enqueue: (key: string) => boolean = () => false;
  /** The deployments as last reconciled, for finding those an orphan set concerns. */
  const known = new Map<string, Deployment>();
  const index = new ReplicaSetIndex(store, (k) => enqueue(k), (rs) => {
    for (const [k, d] of known) {
      if ((d.metadata.namespace ?? 'default') === (rs.metadata.namespace ?? 'default') && selectorMatches(d.spec.selector, rs.metadata.labels)) enqueue(k);
    }
  });
  /** The deployment as this controller wrote it last, until the informer catches up. */
  const ownWrites = new Map<string, Stored<Deployment>>();

  /** Writes a set's replicas (and the annotations that go with them); returns the set as written. */
  const scale = async (d: Deployment, s: Stored<ReplicaSet>, replicas: number, annotations: Record<string, string> = {}): Promise<ReplicaSet> => {
    const rs = s.object;
    const { maxSurge } = resolveFenceposts(d);
    const want = d.spec.replicas ?? 1;
    const ann = {
      ...(rs.metadata.annotations ?? {}), ...annotations,
      [DESIRED_REPLICAS_ANNOTATION]: String(want), [MAX_REPLICAS_ANNOTATION]: String(want + maxSurge),
    };
    const sameAnn = stableJson(ann) === stableJson(rs.metadata.annotations ?? {});
    if ((rs.spec.replicas ?? 0) === replicas && sameAnn && rs.spec.minReadySeconds === d.spec.minReadySeconds) return rs;
    const next: ReplicaSet = {
      ...rs,
      metadata: { ...rs.metadata, annotations: ann, generation: (rs.metadata.generation ?? 1) + ((rs.spec.replicas ?? 0) === replicas ? 0 : 1) },
      spec: { ...rs.spec, replicas, minReadySeconds: d.spec.minReadySeconds },
    };
    index.wrote(next, await store.update(s.key, next, s.revision));
    if ((rs.spec.replicas ?? 0) !== replicas) {
      const verb = replicas > (rs.spec.replicas ?? 0) ? 'up' : 'down';
      recordEvent(d as KubeObject, 'Normal', 'ScalingReplicaSet', `Scaled ${verb} replica set ${rs.metadata.name} from ${rs.spec.replicas ?? 0} to ${replicas}`);
    }
    return next;
  };

  /** Makes the set of `d`'s template; a name held by another template bumps collisionCount (returned as 'collision'). */
  const create = async (d: Deployment, replicas: number, revision: number): Promise<Stored<ReplicaSet> | 'collision'> => {
    const ns = d.metadata.namespace ?? 'default';
    const hash = podTemplateHash(d.spec.template, d.status?.collisionCount ?? 0);
    const made = admitCreate(rsModule, newReplicaSet(d, hash, replicas, revision) as KubeObject, ns, new Date(now())) as ReplicaSet;
    const key = objectKey('replicasets', ns, made.metadata.name);
    try {
      const rev = await store.create(key, made);
      index.wrote(made, rev);
      recordEvent(d as KubeObject, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${made.metadata.name} from 0 to ${replicas}`);
      return { key, object: made, revision: rev };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const got = await store.get<ReplicaSet>(key);
      if (got && got.object.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid) && sameTemplate(got.object.spec.template, d.spec.template)) {
        index.wrote(got.object, got.revision);
        return got;
      }
      return 'collision';
    }
  };

  /**
   * Sets without a controller that the selector takes become the deployment's (Kubernetes'
   * ClaimReplicaSets), checked against a fresh read so a deployment being deleted adopts nothing.
   */
  const adoptOrphans = async (key: string, d: Deployment): Promise<void> => {
    const ns = d.metadata.namespace ?? 'default';
    const orphans = index.orphans(ns).filter((s) => selectorMatches(d.spec.selector, s.object.metadata.labels));
    if (orphans.length === 0) return;
    const fresh = await store.get<Deployment>(key);
    if (!fresh || fresh.object.metadata.uid !== d.metadata.uid || fresh.object.metadata.deletionTimestamp) return;
    for (const s of orphans) {
      const next: ReplicaSet = { ...s.object, metadata: { ...s.object.metadata, ownerReferences: [...(s.object.metadata.ownerReferences ?? []), deploymentRef(d)] } };
      try {
        index.wrote(next, await store.update(s.key, next, s.revision));
      } catch (err) {
        // Changed or gone meanwhile: the next reconcile looks again.
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
  };

  /** Owned sets whose labels the selector no longer takes lose the deployment's reference (Kubernetes' release). */
  const releaseStrays = async (d: Deployment): Promise<void> => {
    const ns = d.metadata.namespace ?? 'default';
    for (const s of index.owned(ns, d.metadata.uid)) {
      if (s.object.metadata.deletionTimestamp || selectorMatches(d.spec.selector, s.object.metadata.labels)) continue;
      const refs = (s.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== d.metadata.uid);
      const next: ReplicaSet = { ...s.object, metadata: { ...s.object.metadata, ownerReferences: refs.length > 0 ? refs : undefined } };
      try {
        index.wrote(next, await store.update(s.key, next, s.revision));
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
  };

  return {
    plural: 'deployments',
    resyncMs: 30_000,
    bindEnqueue: (fn) => { enqueue = fn; },
    prepare: () => {
      known.clear();
      return index.start();
    },
    stop: () => index.stop(),
    async reconcile(key, observed) {
      let cur = observed as Stored<Deployment> | null;
      if (!cur) { ownWrites.delete(key); known.delete(key); return; }
      const mine = ownWrites.get(key);
      if (mine && mine.revision > cur.revision && mine.object.metadata.uid === cur.object.metadata.uid) cur = mine;
      else ownWrites.delete(key);
      const d = cur.object;
      // Its sets go with it through the garbage collector.
      if (d.metadata.deletionTimestamp) return;
      known.set(key, d);
      const ns = d.metadata.namespace ?? 'default';
      const want = d.spec.replicas ?? 1;
      await adoptOrphans(key, d);
      await releaseStrays(d);
      let sets = index.owned(ns, d.metadata.uid).filter((s) => !s.object.metadata.deletionTimestamp);
      let newSet = sets.find((s) => sameTemplate(s.object.spec.template, d.spec.template));
      const olds = () => sets.filter((s) => s !== newSet);
      const replace = (s: Stored<ReplicaSet>, rs: ReplicaSet) => {
        const next = { ...s, object: rs };
        sets = sets.map((x) => (x === s ? next : x));
        if (newSet === s) newSet = next;
        return next;
      };
      let event: NewSetEvent = 'none';
      const newRevision = maxRevision(olds().map((s) => s.object)) + 1;
      let collisionCount = d.status?.collisionCount;
      const recreate = d.spec.strategy?.type === 'Recreate';
      /** Recreate waits on terminating pods, whose going no set's status shows: looked at again soon. */
      let recreateWait = false;

      if (d.spec.paused || isScalingEvent(d, sets.map((s) => s.object))) {
        // Paused, or replicas changed: the sets are sized, no rollout step is taken (sync.go).
        const sizes = scaledSizes(d, sets.map((s) => s.object), newSet?.object);
        for (const s of [...sets]) {
          const n = sizes.get(s.object.metadata.name);
          if (n !== undefined) replace(s, await scale(d, s, n));
        }
      } else if (recreate) {
        for (const s of olds()) if ((s.object.spec.replicas ?? 0) > 0) replace(s, await scale(d, s, 0));
        let oldPods = olds().some((s) => (s.object.status?.replicas ?? 0) > 0);
        if (!oldPods && olds().length > 0 && (newSet?.object.spec.replicas ?? 0) < want) {
          // A set's count leaves out pods being deleted, which may still run: Recreate waits
          // until none of the old sets' pods runs at all (Kubernetes' oldPodsRunning).
          const oldUids = new Set(olds().map((s) => s.object.metadata.uid));
          const pods = (await store.list<Pod>(`pods.${ns}.>`)).items.map((i) => i.object);
          oldPods = pods.some((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'
            && p.metadata.ownerReferences?.some((r) => r.controller && oldUids.has(r.uid)));
          if (oldPods) recreateWait = true;
        }
        if (!oldPods) {
          if (!newSet) {
            const made = await create(d, want, newRevision);
            if (made === 'collision') collisionCount = (collisionCount ?? 0) + 1;
            else { sets = [...sets, made]; newSet = made; event = 'created'; }
          } else {
            replace(newSet, await scale(d, newSet, want, revisionOf(newSet.object) < newRevision ? { [REVISION_ANNOTATION]: String(newRevision) } : {}));
          }
        }
      } else {
        if (!newSet) {
          const phantom = { metadata: { name: '' }, spec: { replicas: 0 } } as unknown as ReplicaSet;
          const n = newReplicasForRollingUpdate(d, [...sets.map((s) => s.object), phantom], phantom);
          const made = await create(d, n, newRevision);
          if (made === 'collision') collisionCount = (collisionCount ?? 0) + 1;
          else { sets = [...sets, made]; newSet = made; event = 'created'; }
        } else {
          const n = newReplicasForRollingUpdate(d, sets.map((s) => s.object), newSet.object);
          replace(newSet, await scale(d, newSet, n, revisionOf(newSet.object) < newRevision ? { [REVISION_ANNOTATION]: String(newRevision) } : {}));
        }
        if (newSet && collisionCount === d.status?.collisionCount) {
          const downs = oldReplicasForRollingUpdate(d, sets.map((s) => s.object), newSet.object);
          for (const s of olds()) {
            const n = downs.get(s.object.metadata.name);
            if (n !== undefined) replace(s, await scale(d, s, n));
          }
        }
      }

      // Old sets beyond the history limit go once scaled down and empty.
      if (!d.spec.paused) {
        for (const rs of setsToCleanUp(d, olds().map((s) => s.object))) {
          try {
            await deleteObject(store, rsModule, objectKey('replicasets', ns, rs.metadata.name));
            index.deleted(rs);
            sets = sets.filter((s) => s.object !== rs);
          } catch (err) {
            log.warn({ key, set: rs.metadata.name, err: String(err) }, 'old replica set could not be deleted; tried again on the next reconcile');
          }
        }
      }

      if (event === 'none' && newSet && !d.spec.paused) {
        // A rollout onto a set that exists (a rollback) starts the progress clock; a pod lost after
        // the rollout completed does not (it is no new revision).
        const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
        if (!progressing || String(revisionOf(newSet.object)) !== d.metadata.annotations?.[REVISION_ANNOTATION]) event = 'found';
      }
      const all = sets.map((s) => s.object);
      const counts = countStatus(d, all, newSet?.object);
      const { status, requeueAfterMs } = withConditions(d, d.status, counts, newSet?.object, event, now());
      if (collisionCount !== undefined) status.collisionCount = collisionCount;
      else delete status.collisionCount;
      const annotations = { ...(d.metadata.annotations ?? {}) };
      if (newSet) annotations[REVISION_ANNOTATION] = String(revisionOf(newSet.object));
      const metaChanged = stableJson(annotations) !== stableJson(d.metadata.annotations ?? {});
      if (metaChanged || stableJson(status) !== stableJson(d.status ?? null)) {
        const next: Deployment = { ...d, metadata: { ...d.metadata, annotations }, status };
        // A Conflict (the deployment changed meanwhile) is retried by the supervisor with the newer one.
        ownWrites.set(key, { key, object: next, revision: await store.update(key, next, cur.revision) });
      }
      if (collisionCount !== d.status?.collisionCount) return { requeueAfterMs: 0 };
      if (recreateWait) return { requeueAfterMs: Math.min(requeueAfterMs ?? RECREATE_POLL_MS, RECREATE_POLL_MS) };
      return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
    },
  };
}
