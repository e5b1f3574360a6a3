/**
 * apps/v1 makes a workload's selector immutable: a new selector would orphan the pods it has and
 * adopt others (https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#pod-selector).
 */
import { ValidationError, type KubeObject } from '../messages';
import { stableJson } from './api/stable-json';

/**
 * An admitUpdate that refuses a changed spec.selector, naming the object as `kindLabel`
 * (`DaemonSet.apps`) and what to delete as `noun` (`daemon set`).
 */
export function immutableSelector(kindLabel: string, noun: string): (existing: KubeObject, next: KubeObject) => KubeObject {
  return (existing, next) => {
    const was = (existing as { spec?: { selector?: unknown } }).spec?.selector;
    const now = (next as { spec?: { selector?: unknown } }).spec?.selector;
    if (stableJson(was) !== stableJson(now)) {
      throw new ValidationError(
        `${kindLabel} "${existing.metadata.name}" is invalid: spec.selector: Invalid value: ${stableJson(now)}: field is immutable; `
        + `delete the ${noun} and create it again to change its selector`,
        ['spec.selector: field is immutable'],
      );
    }
    return next;
  };
}
