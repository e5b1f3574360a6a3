/** Patches and apply's merge: pure functions on JSON values. */
export { applyPatch } from './apply-patch';
export { applyJsonPatch, checkJsonPatch, parsePointer, type JsonPatchOp } from './json-patch';
export { applyMergePatch } from './merge-patch';
export { applyStrategicPatch } from './strategic-patch';
export { LAST_APPLIED_ANNOTATION, MERGE_KEYS, threeWayMerge } from './three-way';
export { clone, isObject, jsonEqual, type JsonObject } from './json-value';
