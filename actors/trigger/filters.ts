/**
 * Whether a message passes a subject trigger's filters: every filter must hold. A filter reads a
 * header (names compared without case, as HTTP's) or a JSON field of the body through a JSONPath
 * (jsonpath-plus with script evaluation off), and tests it with one operator:
 * - `equals`: a header's value as text; a field's value as JSON (deep equality, numbers as numbers);
 * - `matches`: a regular expression found in the value (a field's number or boolean is tested as
 *   its JSON text; objects, arrays and null never match);
 * - `present`: true when the header or field is there, false when it is not.
 * A header with several values, or a path that selects several values, holds when any does
 * (`present: false` when none is there). A field filter on a body that is not JSON is false,
 * whatever its operator. Pure: no I/O.
 */
import { JSONPath } from 'jsonpath-plus';
import type { TriggerFilter } from '../../messages/trigger';

/** A message as filters see it: its headers and its body (text or bytes, JSON or not). */
export interface FilterInput {
  headers?: Record<string, string | readonly string[] | undefined>;
  body?: string | Uint8Array;
}

/** The body parsed as JSON, or `notJson` when it is not JSON. */
const NOT_JSON = Symbol('notJson');

function parseBody(body: string | Uint8Array | undefined): unknown {
  if (body === undefined) return NOT_JSON;
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function headerValues(headers: FilterInput['headers'], name: string): string[] {
  const want = name.toLowerCase();
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() !== want || v === undefined) continue;
    if (typeof v === 'string') out.push(v);
    else out.push(...v);
  }
  return out;
}

/** The values `path` selects in `json` (none when it selects nothing). */
function fieldValues(json: unknown, path: string): unknown[] {
  // jsonpath-plus answers undefined on a null document: `$` is the document, and nothing is below a scalar.
  if (path === '$') return [json];
  if (json === null || typeof json !== 'object') return [];
  const r: unknown = JSONPath({ path, json: json as object, eval: false, wrap: true });
  return Array.isArray(r) ? r : [];
}

/** Deep equality of JSON values. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const bo = b as Record<string, unknown>;
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(bo, k) && jsonEqual((a as Record<string, unknown>)[k], bo[k]));
}

const patterns = new Map<string, RegExp>();
function pattern(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    re = new RegExp(source, 'u');
    if (patterns.size > 1000) patterns.clear();
    patterns.set(source, re);
  }
  return re;
}

/** A field's value as `matches` tests it: strings as they are, numbers and booleans as JSON; else none. */
const matchText = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? JSON.stringify(v) : undefined);

/** Whether one filter holds; `body` is the parsed body or NOT_JSON. */
function holds(f: TriggerFilter, headers: FilterInput['headers'], body: unknown): boolean {
  let values: unknown[];
  let text: (v: unknown) => string | undefined;
  if (f.header !== undefined) {
    values = headerValues(headers, f.header);
    text = (v) => v as string;
  } else {
    if (body === NOT_JSON) return false;
    values = fieldValues(body, f.field ?? '$');
    text = matchText;
  }
  if (f.present !== undefined) return f.present === values.length > 0;
  if (f.matches !== undefined) {
    const re = pattern(f.matches);
    return values.some((v) => {
      const t = text(v);
      return t !== undefined && re.test(t);
    });
  }
  if (f.equals !== undefined) return values.some((v) => (f.header !== undefined ? v === String(f.equals) : jsonEqual(v, f.equals)));
  return false;
}

/**
 * Whether a message passes `filters` (all must hold; no filters pass every message). The body is
 * parsed once. Never throws for a valid filter (the schema checked the paths and patterns).
 */
export function matchesFilters(filters: readonly TriggerFilter[] | undefined, message: FilterInput): boolean {
  if (!filters || filters.length === 0) return true;
  const needsBody = filters.some((f) => f.field !== undefined);
  const body = needsBody ? parseBody(message.body) : NOT_JSON;
  return filters.every((f) => holds(f, message.headers, body));
}
