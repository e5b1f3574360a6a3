/**
 * JSON Patch (RFC 6902, https://www.rfc-editor.org/rfc/rfc6902): a list of add, remove, replace,
 * move, copy and test operations on JSON Pointer paths (RFC 6901). All or nothing: the document
 * given is never changed, and any operation that does not apply (a missing path, a failed test)
 * throws ValidationError naming the operation, so nothing half-patched is ever stored.
 */
import { ValidationError } from '../errors';
import { clone, isObject, jsonEqual } from './json-value';

/** One operation of a JSON patch. */
export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Splits a JSON Pointer into unescaped tokens; throws for one that does not start with `/`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`path "${pointer}" is not a JSON pointer (it must start with "/")`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Checks that `patch` is a list of well-formed operations; throws ValidationError otherwise. */
export function checkJsonPatch(patch: unknown): JsonPatchOp[] {
  if (!Array.isArray(patch)) throw new ValidationError('a JSON patch must be a list of operations such as [{"op": "replace", "path": "/spec/x", "value": 1}]');
  patch.forEach((raw, i) => {
    const at = `JSON patch operation ${i}`;
    if (!isObject(raw)) throw new ValidationError(`${at} is not an object`);
    if (typeof raw.op !== 'string' || !OPS.has(raw.op)) throw new ValidationError(`${at}: unknown op ${JSON.stringify(raw.op)} (use add, remove, replace, move, copy or test)`);
    if (typeof raw.path !== 'string') throw new ValidationError(`${at} (${raw.op}): "path" must be a string`);
    if ((raw.op === 'move' || raw.op === 'copy') && typeof raw.from !== 'string') throw new ValidationError(`${at} (${raw.op}): "from" must be a string`);
    if ((raw.op === 'add' || raw.op === 'replace' || raw.op === 'test') && !Object.hasOwn(raw, 'value')) {
      throw new ValidationError(`${at} (${raw.op} ${raw.path}): "value" is missing`);
    }
  });
  return patch as JsonPatchOp[];
}

/**
 * Applies a JSON patch to a copy of `doc` and returns the copy. Throws ValidationError for a
 * malformed patch or an operation that does not apply.
 */
export function applyJsonPatch<T>(doc: T, patch: unknown): T {
  const ops = checkJsonPatch(patch);
  let root: unknown = clone(doc);
  ops.forEach((op, i) => {
    try {
      root = applyOp(root, op);
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      const what = op.op === 'move' || op.op === 'copy' ? `${op.op} from ${op.from} to ${op.path}` : `${op.op} ${op.path}`;
      throw new ValidationError(`JSON patch operation ${i} (${what}) does not apply: ${(err as Error).message}`);
    }
  });
  return root as T;
}

function applyOp(root: unknown, op: JsonPatchOp): unknown {
  switch (op.op) {
    case 'add': return add(root, parsePointer(op.path), clone(op.value));
    case 'remove': return remove(root, parsePointer(op.path)).root;
    case 'replace': {
      const path = parsePointer(op.path);
      get(root, path);
      return path.length === 0 ? clone(op.value) : add(remove(root, path).root, path, clone(op.value));
    }
    case 'move': {
      const from = parsePointer(op.from);
      const to = parsePointer(op.path);
      if (to.length > from.length && from.every((t, i) => to[i] === t)) throw new Error('a value cannot be moved into one of its own children');
      const removed = remove(root, from);
      return add(removed.root, to, removed.value);
    }
    case 'copy': return add(root, parsePointer(op.path), clone(get(root, parsePointer(op.from))));
    case 'test': {
      const have = get(root, parsePointer(op.path));
      if (!jsonEqual(have, op.value)) throw new Error(`the value is ${JSON.stringify(have)}, not ${JSON.stringify(op.value)}`);
      return root;
    }
  }
}

function arrayIndex(arr: unknown[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`"${token}" is not an array index`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new Error(`index ${i} is out of range (the list has ${arr.length} items)`);
  return i;
}

function child(v: unknown, token: string): unknown {
  if (Array.isArray(v)) return v[arrayIndex(v, token, false)];
  if (isObject(v)) {
    if (!Object.hasOwn(v, token)) throw new Error(`there is no field "${token}"`);
    return v[token];
  }
  throw new Error(`"${token}" is below a value that is neither an object nor a list`);
}

function get(root: unknown, path: string[]): unknown {
  return path.reduce((v, t) => child(v, t), root);
}

function add(root: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = get(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else if (isObject(parent)) parent[last] = value;
  else throw new Error(`the parent of "${last}" is neither an object nor a list`);
  return root;
}

function remove(root: unknown, path: string[]): { root: unknown; value: unknown } {
  if (path.length === 0) return { root: undefined, value: root };
  const parent = get(root, path.slice(0, -1));
  const last = path[path.length - 1];
  const value = child(parent, last);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else delete (parent as Record<string, unknown>)[last];
  return { root, value };
}
