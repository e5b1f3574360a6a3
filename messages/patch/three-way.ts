/**
 * kubectl's client-side apply as a pure function: a three-way merge of the configuration last
 * applied (kept in the annotation LAST_APPLIED_ANNOTATION), the configuration applied now, and the
 * live object (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/).
 *
 * - a field in the new configuration takes its value (scalars and plain lists wholesale);
 * - a field in the last applied configuration but no longer in the new one is removed;
 * - a field only in the live object (status, defaults, what others set) is kept;
 * - lists of named maps merge item by item on their key, as kubectl's strategic merge does for
 *   them (containers and volumes by name, container ports by containerPort, mounts by mountPath):
 *   items of the new configuration in its order, merged with the live item of the same key, then
 *   live items nobody applied (added by others); items applied before and dropped now go.
 */
import { clone, isObject, jsonEqual, type JsonObject } from './json-value';

/** Where `mk apply` (like kubectl) keeps the configuration it last applied, as JSON. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The merge key of lists of named maps, by the list's field name (after Kubernetes' patchMergeKey
 * tags in k8s.io/api/core/v1/types.go). Other lists are replaced wholesale.
 */
export const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  imagePullSecrets: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  hostAliases: 'ip',
};

/**
 * The object `mk apply` should store: `modified` (the configuration now) merged into `current`
 * (the live object) given `original` (the configuration applied last time, or undefined when
 * none was recorded). Pure: none of the arguments is changed.
 */
export function threeWayMerge(original: unknown, modified: unknown, current: unknown): unknown {
  return mergeValue(original, modified, current, undefined);
}

function mergeValue(original: unknown, modified: unknown, current: unknown, field: string | undefined): unknown {
  if (isObject(modified) && isObject(current)) return mergeObject(isObject(original) ? original : undefined, modified, current);
  const key = field !== undefined ? MERGE_KEYS[field] : undefined;
  if (key && Array.isArray(modified) && Array.isArray(current) && keyed(modified, key) && keyed(current, key)) {
    return mergeList(Array.isArray(original) && keyed(original, key) ? original : [], modified, current, key);
  }
  return clone(modified);
}

function mergeObject(original: JsonObject | undefined, modified: JsonObject, current: JsonObject): JsonObject {
  const out: JsonObject = clone(current);
  for (const [k, v] of Object.entries(modified)) {
    if (v === null || v === undefined) delete out[k];
    else out[k] = mergeValue(original?.[k], v, current[k], k);
  }
  for (const k of Object.keys(original ?? {})) {
    if (!Object.hasOwn(modified, k)) delete out[k];
  }
  return out;
}

/** True when every item is a map with a scalar `key`. */
function keyed(list: unknown[], key: string): list is JsonObject[] {
  return list.every((x) => isObject(x) && x[key] !== undefined && !isObject(x[key]) && !Array.isArray(x[key]));
}

function mergeList(original: JsonObject[], modified: JsonObject[], current: JsonObject[], key: string): JsonObject[] {
  const find = (list: JsonObject[], item: JsonObject) => list.find((x) => jsonEqual(x[key], item[key]));
  const out = modified.map((m) => {
    const live = find(current, m);
    return live ? mergeObject(find(original, m), m, live) : clone(m);
  });
  for (const live of current) {
    if (!find(modified, live) && !find(original, live)) out.push(clone(live));
  }
  return out;
}
