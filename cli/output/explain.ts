/**
 * `mk explain`: a kind's fields and their documentation, from the same zod schema the api
 * validates with (turned into JSON Schema), in the layout of `kubectl explain`.
 */
import { toJSONSchema } from 'zod';
import type { KindInfo } from '../../messages';
import { CliError } from '../errors';

/** The part of JSON Schema the schemas produce. */
interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
}

/** Each kind's schema is converted once: the conversion is the slow part of a walk, and nothing here changes it. */
const converted = new WeakMap<KindInfo['schema'], JsonSchema>();

/** The JSON Schema of a kind's manifests (what a user writes, so input types). */
export function kindJsonSchema(kind: KindInfo): JsonSchema {
  let schema = converted.get(kind.schema);
  if (!schema) {
    schema = toJSONSchema(kind.schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    converted.set(kind.schema, schema);
  }
  return schema;
}

/** `[]`, `map[string]` and the element, down to the first non-collection. */
function typeName(s: JsonSchema): string {
  if (s.title) return s.title;
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(typeName))].join(' | ');
  const t = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  if (t === 'array') return `[]${s.items ? typeName(s.items) : 'Object'}`;
  if (t === 'object') {
    if (s.properties) return 'Object';
    if (s.additionalProperties && typeof s.additionalProperties === 'object') return `map[string]${typeName(s.additionalProperties)}`;
    return 'Object';
  }
  return t ?? 'Object';
}

/** The schema whose fields a path step looks into: arrays and maps are looked through. */
function fieldsOf(s: JsonSchema): JsonSchema {
  let cur = s;
  for (;;) {
    if (cur.items) cur = cur.items;
    else if (!cur.properties && cur.additionalProperties && typeof cur.additionalProperties === 'object') cur = cur.additionalProperties;
    else return cur;
  }
}

const indent = (text: string, n: number): string => text.split('\n').map((l) => (l ? ' '.repeat(n) + l : l)).join('\n');

/** Descriptions are wrapped to fit this many columns with their indent, as kubectl explain does. */
const WIDTH = 80;

/**
 * Breaks each line of `text` at spaces into lines of at most `width` characters. A longer word stays
 * whole, and so does `quoted code` (a command split over two lines would not read as one).
 */
function wrap(text: string, width: number): string {
  return text.split('\n').map((line) => {
    const lines: string[] = [];
    let cur = '';
    for (const word of line.match(/(?:`[^`]*`|\S)+/g) ?? []) {
      if (cur && cur.length + 1 + word.length > width) {
        lines.push(cur);
        cur = word;
      } else {
        cur = cur ? `${cur} ${word}` : word;
      }
    }
    lines.push(cur);
    return lines.join('\n');
  }).join('\n');
}

/** A description indented by `n` and wrapped to WIDTH. */
const describeAt = (text: string | undefined, n: number): string => indent(wrap(text ?? '<no description>', Math.max(40, WIDTH - n)), n);

function fieldLine(name: string, s: JsonSchema, required: boolean, level: number): string {
  return `${'  '.repeat(level)}${name}\t<${typeName(s)}>${required ? ' -required-' : ''}\n`;
}

function enumLine(s: JsonSchema, level: number): string {
  const values = s.enum ?? (s.items?.enum);
  return values?.length ? `${'  '.repeat(level)}enum: ${values.map(String).join(', ')}\n` : '';
}

function listFields(s: JsonSchema, recursive: boolean, level: number): string {
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  let out = '';
  for (const name of Object.keys(props).sort()) {
    const f = props[name];
    out += fieldLine(name, f, required.has(name), level);
    if (recursive) {
      const inner = fieldsOf(f);
      if (inner.properties) out += listFields(inner, true, level + 1);
      continue;
    }
    out += enumLine(f, level);
    out += `${describeAt(f.description, 2 * level + 2)}\n\n`;
  }
  return out;
}

/**
 * Explains `kind` or one of its fields: `path` is the field path after the kind (`spec.containers`).
 * Throws CliError naming a field that does not exist.
 */
export function explain(kind: KindInfo, path: string[], opts: { recursive?: boolean } = {}): string {
  let node = kindJsonSchema(kind);
  let walked = '';
  for (const step of path) {
    const here = fieldsOf(node);
    const next = here.properties?.[step];
    if (!next) {
      throw new CliError(`field "${step}" does not exist${walked ? ` in ${kind.singular}.${walked}` : ` in ${kind.kind}`}`
        + (here.properties ? ` (fields: ${Object.keys(here.properties).sort().join(', ')})` : ''));
    }
    walked = walked ? `${walked}.${step}` : step;
    node = next;
  }
  let out = `KIND:       ${kind.kind}\nVERSION:    ${kind.apiVersion}\n\n`;
  if (path.length > 0) out += `FIELD: ${path[path.length - 1]} <${typeName(node)}>\n${enumLine(node, 0)}\n`;
  const description = path.length === 0 ? kind.description : node.description;
  out += `DESCRIPTION:\n${describeAt(description, 4)}\n`;
  const fields = fieldsOf(node);
  if (fields.properties && Object.keys(fields.properties).length > 0) out += `\nFIELDS:\n${listFields(fields, !!opts.recursive, 1).replace(/\n+$/, '\n')}`;
  return out;
}
