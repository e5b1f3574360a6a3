/** The namespace actor logic: a namespace marked for deletion deletes its pods, then itself. */
import type { ObjectStore } from '../../bus';
import { keyFilter, type KubeObject, type Pod } from '../../messages';
import { markForDeletion } from '../deletion';
import type { KindController } from '../kind-supervisor';

export function namespaceController(store: ObjectStore): KindController {
  return {
    plural: 'namespaces',
    async reconcile(key) {
      const cur = await store.get<KubeObject>(key);
      if (!cur || !cur.object.metadata.deletionTimestamp) return;
      const ns = cur.object.metadata.name;
      const pods = await store.list<Pod>(keyFilter('pods', ns));
      if (pods.items.length === 0) {
        await store.delete(key, cur.revision);
        return;
      }
      for (const p of pods.items) {
        if (p.object.metadata.deletionTimestamp) continue;
        // A conflict (the scheduler bound it meanwhile) is retried by the supervisor with a fresh read.
        if (!p.object.spec.nodeName) { await store.delete(p.key, p.revision); continue; }
        await markForDeletion(store, p.key, (o) => (o as Pod).spec.terminationGracePeriodSeconds ?? 30);
      }
      return { requeueAfterMs: 1_000 };
    },
  };
}
