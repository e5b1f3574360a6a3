/**
 * JSON Merge Patch (RFC 7386, https://www.rfc-editor.org/rfc/rfc7386): an object says which
 * fields to set, `null` removes a field, and anything that is not an object (a list included)
 * replaces the value wholesale.
 */
import { clone, isObject } from './json-value';

/** Applies a merge patch to a copy of `target` and returns the copy (`target` is not changed). */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return merge(clone(target), patch);
}

function merge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}
