/**
 * A state's data flow, as Step Functions' (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html):
 * input -> inputPath -> parameters -> (the work) -> resultSelector -> resultPath -> outputPath -> output.
 * Each step is a pure function that never mutates its arguments; a path that fails throws a
 * StatesError with Step Functions' error name. Paths are read through jsonpath-plus with eval
 * disabled; a reference path (resultPath) is written by its segments.
 */
import { StatesError, StatesErrors } from './errors';
import { parseReferencePath, readPath } from './jsonpath';
import type { JsonValue, PayloadTemplate } from './schema';

/**
 * What `$$.` paths read, in Step Functions' names so its users' paths work as they are
 * (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html):
 * `$$.Execution.Id` (the run), `$$.State.Name`, `$$.State.EnteredTime`, and in a Map's item
 * processor `$$.Map.Item.Index` and `$$.Map.Item.Value`.
 */
export interface ContextObject {
  Execution: { Id: string; Name?: string; StartTime?: string; Input?: JsonValue };
  State: { Name: string; EnteredTime: string; RetryCount?: number };
  Map?: { Item: { Index: number; Value: JsonValue } };
}


/**
 * The value at `path` in `value`: one value for a reference path (`$.a[0]`), the array of every
 * match for a path that can match several (`$.items[*].id`). Throws StatesError States.Runtime
 * when the path matches nothing.
 */
export function selectPath(value: JsonValue, path: string): JsonValue {
  const r = readJson(value, path);
  if (r === undefined) throw new StatesError(StatesErrors.Runtime, `path ${JSON.stringify(path)} matches nothing in the input`);
  return r.value;
}

/** `$` (or undefined) keeps all of it, null gives `{}`, a path selects (States.Runtime when it matches nothing). */
function filter(value: JsonValue, path: string | null | undefined, field: string): JsonValue {
  if (path === undefined || path === '$') return value;
  if (path === null) return {};
  const r = readJson(value, path);
  if (r === undefined) throw new StatesError(StatesErrors.Runtime, `${field} ${JSON.stringify(path)} matches nothing in the ${field === 'inputPath' ? 'input' : 'output'}`);
  return r.value;
}

/** The state's effective input: `$` (or undefined) the whole input, null `{}`; States.Runtime when the path matches nothing. */
export function applyInputPath(input: JsonValue, path: string | null | undefined): JsonValue {
  return filter(input, path, 'inputPath');
}

/** The state's output: `$` (or undefined) all of it, null `{}`; States.Runtime when the path matches nothing. */
export function applyOutputPath(output: JsonValue, path: string | null | undefined): JsonValue {
  return filter(output, path, 'outputPath');
}

/** Fills a template: keys ending `.$` take a path's value, other values are copied, nested objects and arrays are filled too. */
function fill(template: JsonValue, input: JsonValue, context: ContextObject | undefined, field: string): JsonValue {
  if (Array.isArray(template)) return template.map((t) => fill(t, input, context, field));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(template)) {
    if (v === undefined) continue;
    if (!k.endsWith('.$')) {
      define(out, k, fill(v, input, context, field));
      continue;
    }
    const key = k.slice(0, -2);
    if (typeof v !== 'string') {
      throw new StatesError(StatesErrors.ParameterPathFailure, `${field} field ${JSON.stringify(k)} must hold a path, not ${JSON.stringify(v)}`);
    }
    let r: { value: JsonValue } | undefined;
    if (v.startsWith('$$')) {
      if (context === undefined) throw new StatesError(StatesErrors.ParameterPathFailure, `${field} field ${JSON.stringify(k)}: no context object to read ${JSON.stringify(v)} from`);
      r = readJson(context as unknown as JsonValue, v.slice(1));
    } else {
      r = readJson(input, v);
    }
    if (r === undefined) {
      throw new StatesError(StatesErrors.ParameterPathFailure, `${field} field ${JSON.stringify(k)}: path ${JSON.stringify(v)} matches nothing`);
    }
    define(out, key, structuredClone(r.value));
  }
  return out;
}

/** Sets an own property, even one named `__proto__`, so user data cannot reach a prototype. */
function define(obj: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Builds a payload from a template (parameters): keys ending `.$` take a path's value, read from
 * `input`, or from `context` when the path starts `$$.`; the key loses its `.$`. Throws
 * StatesError States.ParameterPathFailure when a path matches nothing.
 */
export function applyParameters(template: PayloadTemplate, input: JsonValue, context?: ContextObject): JsonValue {
  return fill(template, input, context, 'parameters');
}

/** Builds the state's result from the raw result with a resultSelector template, as applyParameters does with an input. */
export function applyResultSelector(template: PayloadTemplate, result: JsonValue, context?: ContextObject): JsonValue {
  return fill(template, result, context, 'resultSelector');
}

/**
 * Puts `result` at `path` in a copy of `input` (the input is never changed): `$` (or undefined)
 * gives the result itself, null the input unchanged (the result is discarded). Members missing
 * along the path are created as objects. Throws StatesError States.ResultPathMatchFailure when
 * the path runs through a value that is not an object (or, at an index, not an array), or when
 * it is not a reference path.
 */
export function applyResultPath(input: JsonValue, result: JsonValue, path: string | null | undefined): JsonValue {
  if (path === undefined || path === '$') return result;
  if (path === null) return input;
  const segs = parseReferencePath(path);
  if (typeof segs === 'string') throw new StatesError(StatesErrors.ResultPathMatchFailure, `resultPath ${JSON.stringify(path)} is not a reference path: ${segs}`);
  const set = (node: JsonValue | undefined, i: number, where: string): JsonValue => {
    if (i === segs.length) return result;
    const seg = segs[i];
    const here = typeof seg === 'number' ? `${where}[${seg}]` : `${where}.${seg}`;
    if (typeof seg === 'number') {
      if (!Array.isArray(node) || seg > node.length) {
        throw new StatesError(StatesErrors.ResultPathMatchFailure,
          `resultPath ${JSON.stringify(path)} cannot be set: ${where} is ${Array.isArray(node) ? `an array of ${node.length}` : describe(node)}, not an array with index ${seg}`);
      }
      const copy = [...node];
      copy[seg] = set(node[seg], i + 1, here);
      return copy;
    }
    if (node === undefined) node = {};
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new StatesError(StatesErrors.ResultPathMatchFailure, `resultPath ${JSON.stringify(path)} cannot be set: ${where} is ${describe(node)}, not an object`);
    }
    const copy: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(node)) define(copy, k, v);
    define(copy, seg, set(Object.prototype.hasOwnProperty.call(node, seg) ? node[seg] : undefined, i + 1, here));
    return copy;
  };
  return set(input, 0, '$');
}

function describe(v: JsonValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** readPath, typed for JSON values. */
function readJson(root: JsonValue, path: string): { value: JsonValue } | undefined {
  return readPath(root, path) as { value: JsonValue } | undefined;
}
