/**
 * The control plane's pod actor logic: get every pod onto a node (through the scheduler), keep
 * the node's view of it (node-views.ts), and finish deletions the node cannot: a pod never bound,
 * or bound to a node that no longer exists. Running the pod is the node agent's business.
 */
import { query, type Ref } from 'nact';
import type { ObjectStore, Stored } from '../../bus';
import { isNotFound, NodeKind, objectKey, type Pod } from '../../messages';
import { finishDeletion } from '../deletion';
import type { KindController } from '../kind-supervisor';
import type { ScheduleReply, SchedulerMsg } from '../scheduler/scheduler-actor';
import type { NodePodViews } from './node-views';

export function podController(store: ObjectStore, scheduler: Ref<SchedulerMsg>, views: NodePodViews): KindController {
  return {
    plural: 'pods',
    resyncMs: 30_000,
    ensure: () => views.ensure(),
    prepare: () => views.start(),
    listed: (holds) => views.sweep(holds),
    async reconcile(key, observed) {
      // The informer's copy, not a read of the store: a copy behind the store is corrected by the
      // change that follows it, and the scheduler's binding is a write checked by revision.
      const cur = observed as Stored<Pod> | null;
      await views.sync(key, cur?.object ?? null, cur?.revision);
      if (!cur) return;
      const pod = cur.object;
      const node = pod.spec.nodeName;
      if (pod.metadata.deletionTimestamp) {
        if (!node || !(await store.get(objectKey(NodeKind.plural, undefined, node)))) await finishDeletion(store, key, pod.metadata.uid);
        return;
      }
      if (node) return;
      const reply = await query(scheduler, (sender: Ref<ScheduleReply>) => ({ type: 'scheduler/schedule' as const, key, sender }), 15_000);
      if (reply && 'error' in reply) {
        if (isNotFound(reply.error)) return;
        throw reply.error; // a Conflict is retried at once by the supervisor, anything else with backoff
      }
      // A pod that fits nowhere waits in the scheduler's queue, which tries it again when a change
      // could help; asking again meanwhile gets the same answer without a new attempt.
      if (reply && 'unschedulable' in reply) return;
      // The node's view at once, rather than on the reconcile the binding will cause.
      if (reply && 'bound' in reply && reply.bound) await views.sync(key, reply.bound, reply.revision);
    },
  };
}
