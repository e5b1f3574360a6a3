/**
 * The ControllerRevision kind's control-plane side. Revisions are made, renumbered and pruned by
 * the StatefulSet and DaemonSet controllers (history.ts), which write them to the store directly;
 * through the api their data and revision number are fixed once made, as Kubernetes' validation
 * says (pkg/apis/apps/validation ValidateControllerRevisionUpdate). Deleting the set deletes its
 * revisions through the garbage collector, by their owner references.
 */
import { ControllerRevisionKind, ValidationError, type ControllerRevision, type KubeObject } from '../../messages';
import { stableJson } from '../api/stable-json';
import type { KindModule } from '../kind-module';

/** Refuses a changed `data` or `revision`, naming the field as Kubernetes does. */
function admitRevisionUpdate(existing: KubeObject, next: KubeObject): KubeObject {
  const was = existing as unknown as ControllerRevision;
  const now = next as unknown as ControllerRevision;
  for (const field of ['data', 'revision'] as const) {
    if (stableJson(was[field] ?? null) === stableJson(now[field] ?? null)) continue;
    throw new ValidationError(
      `ControllerRevision.apps "${existing.metadata.name}" is invalid: ${field}: Invalid value: ${stableJson(now[field] ?? null)}: field is immutable`,
      [`${field}: field is immutable`],
    );
  }
  return next;
}

/** The ControllerRevision kind module (actors/kinds.ts lists it). */
export const controllerRevisionModule: KindModule = {
  info: ControllerRevisionKind,
  admitUpdate: admitRevisionUpdate,
};
