/** A patch applied by its type, for the api and for the CLI's client-side dry run. */
import type { PatchType } from '../api';
import { applyJsonPatch } from './json-patch';
import { applyMergePatch } from './merge-patch';
import { applyStrategicPatch } from './strategic-patch';

/** `patch` applied to a copy of `obj` by its type; throws ValidationError when it does not apply. */
export function applyPatch(type: PatchType, obj: unknown, patch: unknown): unknown {
  if (type === 'json') return applyJsonPatch(obj, patch);
  return type === 'strategic' ? applyStrategicPatch(obj, patch) : applyMergePatch(obj, patch);
}
