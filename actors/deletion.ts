/**
 * Marking an object for graceful deletion, the one way every part of the control plane does it:
 * set deletionTimestamp once, and let a later request shorten the grace period, never lengthen it
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination).
 */
import type { ObjectStore, Stored } from '../bus';
import { timestamp, type KubeObject } from '../messages';

/** Marks `key` for deletion with `graceSeconds`; returns the stored object (unchanged when already marked as short). */
export async function markForDeletion(store: ObjectStore, key: string, graceSeconds: (o: KubeObject) => number): Promise<Stored<KubeObject> | null> {
  return store.mutate<KubeObject>(key, (o) => {
    const grace = graceSeconds(o);
    if (o.metadata.deletionTimestamp && (o.metadata.deletionGracePeriodSeconds ?? 0) <= grace) return null;
    o.metadata.deletionTimestamp ??= timestamp();
    o.metadata.deletionGracePeriodSeconds = grace;
    return o;
  });
}
