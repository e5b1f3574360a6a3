/**
 * The ReplicaSet kind's control-plane side: Kubernetes' defaults (one replica, the template's pod
 * defaults) and the controller that keeps each set's pods (controller.ts). Deleting a set deletes
 * its pods through the garbage collector, by their owner references.
 */
import { defaultReplicaSet, ReplicaSetKind, ValidationError, type KubeObject, type ReplicaSet } from '../../messages';
import { stableJson } from '../api/stable-json';
import type { KindModule } from '../kind-module';
import { replicaSetController } from './controller';

/**
 * apps/v1 makes a set's selector immutable: a new selector would orphan the pods it has and adopt
 * others (https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#pod-selector).
 */
function admitReplicaSetUpdate(existing: KubeObject, next: KubeObject): KubeObject {
  const was = (existing as ReplicaSet).spec.selector;
  const now = (next as ReplicaSet).spec.selector;
  if (stableJson(was) !== stableJson(now)) {
    throw new ValidationError(
      `ReplicaSet "${existing.metadata.name}" is invalid: spec.selector: Invalid value: ${stableJson(now)}: field is immutable; `
      + 'delete the set and create it again to change its selector',
      ['spec.selector: field is immutable'],
    );
  }
  return next;
}

/** The ReplicaSet kind module (actors/kinds.ts lists it). */
export const replicaSetModule: KindModule = {
  info: ReplicaSetKind,
  defaults: (o) => defaultReplicaSet(o as ReplicaSet) as KubeObject,
  initialStatus: () => ({ replicas: 0 }),
  admitUpdate: admitReplicaSetUpdate,
  controller: (ctx) => replicaSetController({ store: ctx.store, pods: ctx.modules.find((m) => m.info.plural === 'pods')! }),
};
