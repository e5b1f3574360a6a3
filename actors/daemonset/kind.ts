/**
 * The DaemonSet kind's control-plane side: Kubernetes' defaults and the controller that keeps one
 * pod on every eligible node (controller.ts). Deleting a set deletes its pods through the garbage
 * collector, by their owner references.
 */
import { DaemonSetKind, defaultDaemonSet, ValidationError, type DaemonSet, type KubeObject } from '../../messages';
import { stableJson } from '../api/stable-json';
import type { KindModule } from '../kind-module';
import { daemonSetController } from './controller';

/** apps/v1 makes a daemon set's selector immutable, as a ReplicaSet's. */
function admitDaemonSetUpdate(existing: KubeObject, next: KubeObject): KubeObject {
  const was = (existing as DaemonSet).spec.selector;
  const now = (next as DaemonSet).spec.selector;
  if (stableJson(was) !== stableJson(now)) {
    throw new ValidationError(
      `DaemonSet.apps "${existing.metadata.name}" is invalid: spec.selector: Invalid value: ${stableJson(now)}: field is immutable; `
      + 'delete the daemon set and create it again to change its selector',
      ['spec.selector: field is immutable'],
    );
  }
  return next;
}

/** The DaemonSet kind module (actors/kinds.ts lists it). */
export const daemonSetModule: KindModule = {
  info: DaemonSetKind,
  defaults: (o) => defaultDaemonSet(o as DaemonSet) as KubeObject,
  initialStatus: () => ({ desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 }),
  admitUpdate: admitDaemonSetUpdate,
  controller: (ctx) => daemonSetController({ store: ctx.store, pods: ctx.modules.find((m) => m.info.plural === 'pods')! }),
};
