/**
 * The StatefulSet controller's claim steps (Kubernetes' StatefulPodControl, the claim half of
 * pkg/controller/statefulset/stateful_pod_control.go): reading the namespace's claims, making a
 * new replica's missing claims before its pod, making again those missing under Pending pods, and
 * writing the owner references the retention policy asks. The decisions are claims.ts's.
 */
import type { ObjectStore, RecordEvent } from '../../bus';
import {
  isAlreadyExists, isNotFound, keyFilter, NamespaceKind, objectKey, PersistentVolumeClaimKind, type KubeObject, type PersistentVolumeClaim, type Pod, type StatefulSet,
} from '../../messages';
import { admitCreate, allocated } from '../api/admission';
import type { KindModule } from '../kind-module';
import { log } from '../log';
import { claimsForNewReplica, claimsToRetain, missingClaimsOfPending, type StatefulClaim } from './claims';
import { statefulPodName } from './reconcile';

/** What the claim steps work with. */
export interface StatefulClaimControlDeps {
  store: ObjectStore;
  /** The PersistentVolumeClaim kind's module: its defaults and default class apply to the claims made. */
  claims: KindModule;
  recordEvent: RecordEvent;
  now: () => number;
}

/** The claim steps of one controller; they throw only store faults (and Conflict, see retainClaims). */
export function statefulClaimControl(deps: StatefulClaimControlDeps) {
  const { store, claims: claimModule, recordEvent, now } = deps;

  /** The claims of the set's namespace by name; none read for a set without claim templates. */
  const claimsOf = async (sts: StatefulSet): Promise<Map<string, PersistentVolumeClaim>> => {
    if ((sts.spec.volumeClaimTemplates ?? []).length === 0) return new Map();
    const { items } = await store.list<PersistentVolumeClaim>(keyFilter(PersistentVolumeClaimKind.plural, sts.metadata.namespace ?? 'default'));
    return new Map(items.map((i) => [i.object.metadata.name, i.object]));
  };

  /**
   * Writes the owner references the retention policy asks of the claims of `pods` (claimsToRetain).
   * A claim that changed meanwhile throws Conflict (the reconcile is retried, and no pod is deleted
   * before its claims are in line); one that went is skipped.
   */
  const retainClaims = async (sts: StatefulSet, pods: readonly Pod[], existing: Map<string, PersistentVolumeClaim>): Promise<void> => {
    const ns = sts.metadata.namespace ?? 'default';
    for (const claim of claimsToRetain(sts, pods, existing)) {
      const key = objectKey(PersistentVolumeClaimKind.plural, ns, claim.metadata.name);
      const got = await store.get<PersistentVolumeClaim>(key);
      if (!got || got.object.metadata.uid !== claim.metadata.uid) continue;
      const next = { ...got.object, metadata: { ...got.object.metadata, ownerReferences: claim.metadata.ownerReferences } };
      if (!next.metadata.ownerReferences) delete next.metadata.ownerReferences;
      try {
        await store.update(key, next, got.revision);
      } catch (err) {
        if (isNotFound(err)) continue;
        throw err;
      }
      existing.set(claim.metadata.name, next);
      log.info({ key, owners: (next.metadata.ownerReferences ?? []).map((r) => `${r.kind}/${r.name}`) }, 'stateful set claim owners follow the retention policy');
    }
  };

  /** Makes one claim of the pod `podName` through the claim kind's admission and default class; throws what the store throws. */
  const createClaim = async (sts: StatefulSet, claim: StatefulClaim, podName: string): Promise<void> => {
    const ns = sts.metadata.namespace ?? 'default';
    const admitted = admitCreate(claimModule, claim as unknown as KubeObject, ns, new Date(now()));
    await allocated(store, claimModule, undefined, admitted, false, async (o) => {
      await store.create(objectKey(PersistentVolumeClaimKind.plural, ns, claim.metadata.name), o);
      return o;
    });
    recordEvent(sts as KubeObject, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${podName} in StatefulSet ${sts.metadata.name} success`);
  };

  /**
   * Makes again the claims missing under Pending pods (missingClaimsOfPending), unless the
   * namespace is being deleted; returns the first failure's message.
   */
  const remakeClaims = async (sts: StatefulSet, pods: readonly Pod[], existing: ReadonlyMap<string, PersistentVolumeClaim>): Promise<string | undefined> => {
    const missing = missingClaimsOfPending(sts, pods, existing);
    if (missing.length === 0) return undefined;
    // Nothing new goes into a namespace being deleted (its pods go too).
    const ns = await store.get<KubeObject>(objectKey(NamespaceKind.plural, undefined, sts.metadata.namespace ?? 'default'));
    if (!ns || ns.object.metadata.deletionTimestamp) return undefined;
    let failure: string | undefined;
    for (const { podName, claim } of missing) {
      try {
        await createClaim(sts, claim, podName);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        const message = `create Claim ${claim.metadata.name} for Pod ${podName} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`;
        recordEvent(sts as KubeObject, 'Warning', 'FailedCreate', message);
        failure ??= message;
      }
    }
    return failure;
  };

  /**
   * Gets the replica `ordinal` its claims before its pod (Kubernetes' createPersistentVolumeClaims):
   * makes the missing ones and reuses the others. Returns why the pod must not be made yet: a
   * failure (a claim being deleted, or one that could not be made, both recorded as events), or a
   * wait (a claim of a former pod still on its way out, or one made meanwhile by someone else,
   * looked at again shortly).
   */
  const ensureClaims = async (sts: StatefulSet, ordinal: number, existing: ReadonlyMap<string, PersistentVolumeClaim>): Promise<{ failure?: string; wait?: string }> => {
    const podName = statefulPodName(sts, ordinal);
    const need = claimsForNewReplica(sts, ordinal, existing);
    if (need.blocked?.failed) {
      const message = `create Pod ${podName} in StatefulSet ${sts.metadata.name} failed error: ${need.blocked.message}`;
      recordEvent(sts as KubeObject, 'Warning', 'FailedCreate', message);
      return { failure: message };
    }
    if (need.blocked) return { wait: need.blocked.message };
    for (const claim of need.create) {
      try {
        await createClaim(sts, claim, podName);
      } catch (err) {
        if (isAlreadyExists(err)) return { wait: `pvc ${claim.metadata.name} was made meanwhile` };
        const message = `create Claim ${claim.metadata.name} for Pod ${podName} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`;
        recordEvent(sts as KubeObject, 'Warning', 'FailedCreate', message);
        return { failure: message };
      }
    }
    return {};
  };

  return { claimsOf, retainClaims, remakeClaims, ensureClaims };
}
