/**
 * Deleting an object, the one way every part of the control plane does it (the api's delete, the
 * namespace cascade): the kind's deletion policy decides between removing the key at once and a
 * graceful deletion, which sets deletionTimestamp once and lets a later request shorten the grace
 * period, never lengthen it
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination).
 */
import type { ObjectStore } from '../bus';
import { isConflict, isNotFound, timestamp, ValidationError, type KubeObject } from '../messages';
import type { KindModule } from './kind-module';

/** What a deletion did: removed the key, or marked the object for a graceful deletion. */
export interface Deleted { object: KubeObject; result: 'deleted' | 'terminating' }

/**
 * Deletes the object at `key` by its kind's policy, with `requestedGrace` from the request (if
 * any). Returns null when the object is not there. Throws ValidationError when the policy refuses
 * (a built-in namespace); store faults pass through. A concurrent change is re-read and decided
 * again (bounded).
 */
export async function deleteObject(store: ObjectStore, module: KindModule, key: string, requestedGrace?: number): Promise<Deleted | null> {
  const policy = module.deletion;
  for (let attempt = 0; ; attempt++) {
    const cur = await store.get<KubeObject>(key);
    if (!cur) return null;
    const refusal = policy?.refuse?.(cur.object);
    if (refusal) throw new ValidationError(refusal);
    const grace = policy?.graceSeconds?.(cur.object, requestedGrace);
    if (grace === undefined) {
      try {
        await store.delete(key, cur.revision);
        return { object: cur.object, result: 'deleted' };
      } catch (err) {
        if (isNotFound(err)) return null;
        if (!isConflict(err) || attempt >= 5) throw err;
        continue;
      }
    }
    try {
      const marked = await store.mutate<KubeObject>(key, (o) => {
        if (o.metadata.deletionTimestamp && (o.metadata.deletionGracePeriodSeconds ?? 0) <= grace) return null;
        const first = !o.metadata.deletionTimestamp;
        o.metadata.deletionTimestamp ??= timestamp();
        o.metadata.deletionGracePeriodSeconds = grace;
        return first && policy?.onMarked ? policy.onMarked(o) : o;
      });
      return { object: marked?.object ?? cur.object, result: 'terminating' };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}
