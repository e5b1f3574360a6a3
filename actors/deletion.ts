/**
 * Deleting an object, the one way every part of the control plane does it (the api's delete, the
 * namespace cascade, the garbage collector). An object goes at once unless something must happen
 * first; then it is only marked (deletionTimestamp) and stays, Terminating, until that is done:
 *
 * - a graceful deletion by its kind's policy (a pod on a node stops its containers first); the
 *   grace period is set once and a later request may shorten it, never lengthen it
 *   (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination);
 * - finalizers: the object stays until an update empties them
 *   (https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/);
 * - a foreground or orphan cascade adds the finalizer `foregroundDeletion` or `orphan`, which the
 *   garbage collector (actors/gc.ts) removes once the dependents are gone or orphaned.
 *
 * `deletionGracePeriodSeconds: 0` on a marked object means nothing waits for it but its
 * finalizers: once they are empty, the garbage collector removes it (as Kubernetes' api server does
 * on the update that removes the last one). Kinds whose controller finishes their deletions
 * (namespaces, once empty) say so in their policy.
 */
import type { ObjectStore } from '../bus';
import {
  FOREGROUND_FINALIZER, isConflict, isNotFound, ORPHAN_FINALIZER, timestamp, ValidationError,
  type KubeObject, type PropagationPolicy,
} from '../messages';
import type { KindModule } from './kind-module';

/** What a deletion did: removed the key, or marked the object for a graceful deletion. */
export interface Deleted { object: KubeObject; result: 'deleted' | 'terminating' }

/** How to delete: the request's grace period and cascade. */
export interface DeleteOptions { gracePeriodSeconds?: number; propagationPolicy?: PropagationPolicy }

/** The cascade policies a request may name. */
export const PROPAGATION_POLICIES: readonly PropagationPolicy[] = ['Background', 'Foreground', 'Orphan'];

/** The finalizer a cascade policy adds to the owner, if any. */
function cascadeFinalizer(p: PropagationPolicy | undefined): string | undefined {
  return p === 'Foreground' ? FOREGROUND_FINALIZER : p === 'Orphan' ? ORPHAN_FINALIZER : undefined;
}

/**
 * What deleting `o` by `opts` does, decided as deleteObject decides it: 'deleted' when it goes at
 * once, 'terminating' when it is only marked (a graceful period, finalizers or a foreground or
 * orphan cascade hold it). Throws ValidationError when the policy refuses or the cascade policy is
 * unknown. Pure, so a server dry run answers exactly what the deletion would do.
 */
export function deletionOutcome(module: KindModule, o: KubeObject, opts: DeleteOptions = {}): Deleted['result'] {
  if (opts.propagationPolicy !== undefined && !PROPAGATION_POLICIES.includes(opts.propagationPolicy)) {
    throw new ValidationError(`propagationPolicy must be one of ${PROPAGATION_POLICIES.join(', ')} (got ${JSON.stringify(opts.propagationPolicy)})`);
  }
  const refusal = module.deletion?.refuse?.(o);
  if (refusal) throw new ValidationError(refusal);
  const grace = module.deletion?.graceSeconds?.(o, opts.gracePeriodSeconds);
  const held = (o.metadata.finalizers ?? []).length > 0 || cascadeFinalizer(opts.propagationPolicy) !== undefined;
  return grace === undefined && !held ? 'deleted' : 'terminating';
}

/**
 * Deletes the object at `key` by its kind's policy, its finalizers and the cascade asked for.
 * Returns null when the object is not there. Throws ValidationError when the policy refuses (a
 * built-in namespace) or the cascade policy is unknown; store faults pass through. A concurrent
 * change is re-read and decided again (bounded).
 */
export async function deleteObject(store: ObjectStore, module: KindModule, key: string, opts: DeleteOptions = {}): Promise<Deleted | null> {
  const cascade = cascadeFinalizer(opts.propagationPolicy);
  for (let attempt = 0; ; attempt++) {
    const cur = await store.get<KubeObject>(key);
    if (!cur) return null;
    if (deletionOutcome(module, cur.object, opts) === 'deleted') {
      try {
        await store.delete(key, cur.revision);
        return { object: cur.object, result: 'deleted' };
      } catch (err) {
        if (isNotFound(err)) return null;
        if (!isConflict(err) || attempt >= 5) throw err;
        continue;
      }
    }
    const grace = module.deletion?.graceSeconds?.(cur.object, opts.gracePeriodSeconds);
    try {
      const marked = await store.mutate<KubeObject>(key, (o) => mark(o, grace, cascade, module.deletion?.onMarked));
      return { object: marked?.object ?? cur.object, result: 'terminating' };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}

/**
 * The object marked for deletion, or null when the mark it has already says as much: the grace
 * period only shortens, a cascade finalizer is added once, `onMarked` runs on the first mark.
 */
function mark(o: KubeObject, grace: number | undefined, cascade: string | undefined, onMarked?: (o: KubeObject) => KubeObject): KubeObject | null {
  const m = o.metadata;
  const first = !m.deletionTimestamp;
  let changed = first;
  m.deletionTimestamp ??= timestamp();
  const want = grace ?? 0;
  if (m.deletionGracePeriodSeconds === undefined || want < m.deletionGracePeriodSeconds) {
    m.deletionGracePeriodSeconds = want;
    changed = true;
  }
  if (cascade && first && !(m.finalizers ?? []).includes(cascade)) {
    m.finalizers = [...(m.finalizers ?? []), cascade];
    changed = true;
  }
  if (!changed) return null;
  return first && onMarked ? onMarked(o) : o;
}

/**
 * Finishes the deletion of a marked object whose graceful part is done (its node stopped the pod,
 * or it never had one): removes it, unless finalizers remain; then it only records that nothing
 * else waits (grace period 0), and the garbage collector removes it once they are emptied. With
 * `uid`, only that incarnation. Returns what happened; store faults pass through.
 */
export async function finishDeletion(store: ObjectStore, key: string, uid?: string): Promise<'deleted' | 'held' | 'absent'> {
  for (let attempt = 0; ; attempt++) {
    const cur = await store.get<KubeObject>(key);
    if (!cur || (uid !== undefined && cur.object.metadata.uid !== uid)) return 'absent';
    if ((cur.object.metadata.finalizers ?? []).length > 0) {
      if (cur.object.metadata.deletionGracePeriodSeconds === 0) return 'held';
      try {
        await store.update(key, { ...cur.object, metadata: { ...cur.object.metadata, deletionGracePeriodSeconds: 0 } }, cur.revision);
        return 'held';
      } catch (err) {
        if (isNotFound(err)) return 'absent';
        if (!isConflict(err) || attempt >= 10) throw err;
        continue;
      }
    }
    try {
      await store.delete(key, cur.revision);
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'absent';
      if (!isConflict(err) || attempt >= 10) throw err;
    }
  }
}

/**
 * True when a marked object may be removed now: no finalizers left, nothing graceful pending
 * (grace period 0), and its kind does not finish deletions in its own controller.
 */
export function readyToRemove(module: KindModule | undefined, o: KubeObject): boolean {
  const m = o.metadata;
  return !!m.deletionTimestamp && (m.finalizers ?? []).length === 0 && (m.deletionGracePeriodSeconds ?? 0) === 0
    && !module?.deletion?.finishedByController;
}
