/**
 * The ReplicaSet kind's control-plane side: Kubernetes' defaults (one replica, the template's pod
 * defaults) and the controller that keeps each set's pods (controller.ts). Deleting a set deletes
 * its pods through the garbage collector, by their owner references.
 */
import { defaultReplicaSet, ReplicaSetKind, type KubeObject, type ReplicaSet } from '../../messages';
import { immutableSelector } from '../immutable-selector';
import type { KindModule } from '../kind-module';
import { replicaSetController } from './controller';

/** The ReplicaSet kind module (actors/kinds.ts lists it). */
export const replicaSetModule: KindModule = {
  info: ReplicaSetKind,
  defaults: (o) => defaultReplicaSet(o as ReplicaSet) as KubeObject,
  initialStatus: () => ({ replicas: 0 }),
  admitUpdate: immutableSelector('ReplicaSet', 'set'),
  controller: (ctx) => replicaSetController({ store: ctx.store, pods: ctx.modules.find((m) => m.info.plural === 'pods')! }),
};
