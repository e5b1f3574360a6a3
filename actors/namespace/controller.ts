/**
 * The namespace actor logic: a namespace marked for deletion deletes every namespaced object in
 * it, of every kind in the object store, each through actors/deletion.ts (pods stop gracefully,
 * objects with finalizers stay until those are emptied), then itself once nothing is left and its
 * own finalizers are empty. Kinds kept outside the store (events, in their stream) are emptied
 * through their source once the store holds nothing of the namespace, just before it goes.
 */
import type { ObjectStore } from '../../bus';
import { keyFilter, type KubeObject } from '../../messages';
import { deleteObject } from '../deletion';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';

/** How often a terminating namespace looks again while objects are still going. */
const CASCADE_REQUEUE_MS = 1_000;

export function namespaceController(store: ObjectStore, modules: readonly KindModule[]): KindController {
  const stored = modules.filter((m) => m.info.namespaced && !m.source);
  const sourced = modules.filter((m) => m.info.namespaced && m.source);
  return {
    plural: 'namespaces',
    async reconcile(key) {
      const cur = await store.get<KubeObject>(key);
      if (!cur || !cur.object.metadata.deletionTimestamp) return;
      const ns = cur.object.metadata.name;
      let remaining = 0;
      for (const m of stored) {
        const { items } = await store.list<KubeObject>(keyFilter(m.info.plural, ns));
        remaining += items.length;
        // A conflict (the scheduler bound a pod meanwhile) is retried by the supervisor with a fresh read.
        for (const i of items) if (!i.object.metadata.deletionTimestamp) await deleteObject(store, m, i.key);
      }
      if (remaining === 0) {
        // Its own finalizers hold it until an update empties them (that update reconciles it again).
        if ((cur.object.metadata.finalizers ?? []).length === 0) {
          for (const m of sourced) await m.source!(store.bus).deleteNamespace?.(ns);
          await store.delete(key, cur.revision);
        }
        return;
      }
      return { requeueAfterMs: CASCADE_REQUEUE_MS };
    },
  };
}
