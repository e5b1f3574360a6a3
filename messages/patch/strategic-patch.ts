/**
 * The part of Kubernetes' strategic merge patch that mk's kinds need
 * (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/):
 * a merge patch (RFC 7386) except that lists of named maps (MERGE_KEYS: containers by name,
 * ports by containerPort, ...) merge item by item on their key, an item
 * `{"name": "x", "$patch": "delete"}` removes the item with that key and an item
 * `{"$patch": "replace"}` makes the other items replace the list. A map `{"$patch": "delete"}`
 * removes the field, `{"$patch": "replace", ...}` replaces it. Other lists are replaced.
 * Other directives (`$retainKeys`, `$setElementOrder`, `$deleteFromPrimitiveList`) are refused.
 */
import { ValidationError } from '../errors';
import { clone, isObject, jsonEqual, type JsonObject } from './json-value';
import { MERGE_KEYS } from './three-way';

/** Applies a strategic merge patch to a copy of `target`; throws ValidationError for a directive mk does not support. */
export function applyStrategicPatch(target: unknown, patch: unknown): unknown {
  return merge(clone(target), patch, undefined, '');
}

function merge(target: unknown, patch: unknown, field: string | undefined, at: string): unknown {
  const key = field !== undefined ? MERGE_KEYS[field] : undefined;
  if (key && Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, key, at);
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return clone(rest);
  }
  const out: JsonObject = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) throw new ValidationError(`${at || '(root)'}: the strategic merge directive "${k}" is not supported by mk (use a JSON patch)`);
    if (v === null || (isObject(v) && v.$patch === 'delete' && Object.keys(v).length === 1)) delete out[k];
    else out[k] = merge(out[k], v, k, at ? `${at}.${k}` : k);
  }
  return out;
}

function mergeList(target: unknown[], patch: unknown[], key: string, at: string): unknown[] {
  const replace = patch.findIndex((x) => isObject(x) && x.$patch === 'replace' && x[key] === undefined);
  if (replace >= 0) return mergeList([], patch.filter((_, i) => i !== replace), key, at);
  const out = [...target];
  patch.forEach((item, i) => {
    if (!isObject(item) || item[key] === undefined) throw new ValidationError(`${at}[${i}]: each item must be a map with "${key}", the key this list merges on`);
    const index = out.findIndex((x) => isObject(x) && jsonEqual(x[key], item[key]));
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      return;
    }
    if (item.$patch !== undefined && item.$patch !== 'replace') throw new ValidationError(`${at}[${i}]: unknown $patch ${JSON.stringify(item.$patch)}`);
    if (index >= 0) out[index] = merge(out[index], item, undefined, `${at}[${i}]`);
    else out.push(merge(undefined, item, undefined, `${at}[${i}]`));
  });
  return out;
}
