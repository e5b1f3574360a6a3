/**
 * The DaemonSet kind's control-plane side: Kubernetes' defaults and the controller that keeps one
 * pod on every eligible node (controller.ts). Deleting a set deletes its pods through the garbage
 * collector, by their owner references.
 */
import { DaemonSetKind, defaultDaemonSet, type DaemonSet, type KubeObject } from '../../messages';
import { immutableSelector } from '../immutable-selector';
import type { KindModule } from '../kind-module';
import { daemonSetController } from './controller';

/** The DaemonSet kind module (actors/kinds.ts lists it). */
export const daemonSetModule: KindModule = {
  info: DaemonSetKind,
  defaults: (o) => defaultDaemonSet(o as DaemonSet) as KubeObject,
  initialStatus: () => ({ desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 }),
  admitUpdate: immutableSelector('DaemonSet.apps', 'daemon set'),
  controller: (ctx) => daemonSetController({ store: ctx.store, pods: ctx.modules.find((m) => m.info.plural === 'pods')! }),
};
