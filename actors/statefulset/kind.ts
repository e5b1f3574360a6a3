/**
 * The StatefulSet kind's control-plane side: Kubernetes' defaults, admission, and the controller
 * that keeps its ordered replicas and their claims (controller.ts). Deleting a set deletes its
 * pods through the garbage collector, by their owner references, and its claims too when its
 * retention policy says whenDeleted: Delete.
 */
import { PersistentVolumeClaimKind, StatefulSetKind, defaultStatefulSet, ValidationError, type KubeObject, type StatefulSet } from '../../messages';
import { stableJson } from '../api/stable-json';
import { immutableSelector } from '../immutable-selector';
import type { KindModule } from '../kind-module';
import { statefulSetController } from './controller';

const selectorIsImmutable = immutableSelector('StatefulSet.apps', 'stateful set');

/** The spec fields an update may change (Kubernetes' ValidateStatefulSetUpdate); the rest are fixed at creation. */
const MUTABLE_SPEC_FIELDS = new Set(['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit']);

/**
 * Refuses a changed selector (immutableSelector's message), then any other change outside
 * MUTABLE_SPEC_FIELDS (serviceName, podManagementPolicy, volumeClaimTemplates), naming the fields.
 */
function admitStatefulSetUpdate(existing: KubeObject, next: KubeObject): KubeObject {
  selectorIsImmutable(existing, next);
  const was = (existing as unknown as StatefulSet).spec;
  const now = (next as unknown as StatefulSet).spec;
  const fields = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((f) => !MUTABLE_SPEC_FIELDS.has(f) && f !== 'selector');
  const changed = fields.filter((f) => stableJson((was as Record<string, unknown>)[f]) !== stableJson((now as Record<string, unknown>)[f])).sort();
  if (changed.length > 0) {
    throw new ValidationError(
      `StatefulSet.apps "${existing.metadata.name}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than `
      + `'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'revisionHistoryLimit' and 'minReadySeconds' `
      + `are forbidden (changed: ${changed.join(', ')})`,
      changed.map((f) => `spec.${f}: Forbidden`),
    );
  }
  return next;
}

/** The StatefulSet kind module (actors/kinds.ts lists it). */
export const statefulSetModule: KindModule = {
  info: StatefulSetKind,
  defaults: (o) => defaultStatefulSet(o as StatefulSet) as KubeObject,
  initialStatus: () => ({ replicas: 0 }),
  admitUpdate: admitStatefulSetUpdate,
  controller: (ctx) => statefulSetController({
    store: ctx.store,
    pods: ctx.modules.find((m) => m.info.plural === 'pods')!,
    claims: ctx.modules.find((m) => m.info.plural === PersistentVolumeClaimKind.plural)!,
  }),
};
