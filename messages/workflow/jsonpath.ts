/**
 * The two kinds of path a spec holds. A reference path (inputPath, outputPath, resultPath,
 * itemsPath, a Wait's secondsPath) names one place: `$`, `$.a.b`, `$['a b']`, `$.a[0]`, as in
 * Step Functions (https://states-language.net/spec.html#ref-paths). Other paths (`.$` keys of
 * parameters, a Choice rule's variable) may be any JSONPath jsonpath-plus reads with eval
 * disabled: wildcards, `..`, slices and unions, but no filter or script expressions.
 */
import { JSONPath } from 'jsonpath-plus';

/** One step of a reference path: a member name or an array index. */
export type PathSegment = string | number;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

/**
 * The segments of a reference path (`$.a['b c'][0]` -> ['a', 'b c', 0]; `$` -> []), or a string
 * saying why it is not one.
 */
export function parseReferencePath(path: string): PathSegment[] | string {
  if (!path.startsWith('$')) return 'must start with "$"';
  if (path.startsWith('$$')) return 'must start with "$" (the context object "$$" cannot be written or read here)';
  const out: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      const m = IDENT.exec(path.slice(i + 1));
      if (!m) {
        return path[i + 1] === '.' ? 'may not use ".." (descent): a reference path names one place' : `expected a member name after "." at ${i}`;
      }
      out.push(m[0]);
      i += 1 + m[0].length;
    } else if (c === '[') {
      const q = path[i + 1];
      if (q === "'" || q === '"') {
        const end = path.indexOf(q, i + 2);
        if (end < 0 || path[end + 1] !== ']') return `unterminated ${q === "'" ? 'quoted' : 'double-quoted'} member name at ${i}`;
        out.push(path.slice(i + 2, end));
        i = end + 2;
      } else {
        const m = /^(\d+)\]/.exec(path.slice(i + 1));
        if (!m) {
          return /^[*?(:-]|^\d*[:,]/.test(path.slice(i + 1))
            ? 'may not use wildcards, slices, unions or filters: a reference path names one place'
            : `expected an array index or a quoted name after "[" at ${i}`;
        }
        out.push(Number(m[1]));
        i += m[0].length + 1;
      }
    } else {
      return `unexpected ${JSON.stringify(c)} at ${i}`;
    }
  }
  return out;
}

/** Why `path` is not a reference path, or null when it is one. */
export function referencePathError(path: string): string | null {
  const r = parseReferencePath(path);
  return typeof r === 'string' ? r : null;
}

/**
 * Why `path` is not a JSONPath this module reads, or null: it must start with `$` (or `$$` for
 * the context object when `context` is allowed), close its brackets and quotes, and hold no
 * filter or script expression (`?(...)`, `(...)`), which would need eval.
 */
export function jsonPathError(path: string, opts: { context?: boolean } = {}): string | null {
  if (!path.startsWith('$')) return 'must start with "$"';
  if (path.startsWith('$$') && !opts.context) return 'the context object "$$" cannot be read here';
  const body = path.startsWith('$$') ? path.slice(2) : path.slice(1);
  if (body.length > 0 && body[0] !== '.' && body[0] !== '[') return `unexpected ${JSON.stringify(body[0])} after "$"`;
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') {
      if (depth === 0) return `unexpected quote outside brackets: ${JSON.stringify(path)}`;
      quote = c;
    } else if (c === '[') {
      if (depth > 0) return 'nested brackets are not supported';
      depth++;
      if (body[i + 1] === ']') return 'empty brackets "[]"';
      if (body[i + 1] === '?' || body[i + 1] === '(') return 'filter and script expressions ("?(...)", "(...)") are not supported';
    } else if (c === ']') {
      if (depth === 0) return 'unbalanced "]"';
      depth--;
    } else if (c === '.' && depth === 0) {
      if (i === body.length - 1) return 'ends with "."';
      if (body[i + 1] === '.' && (i + 2 === body.length || body[i + 2] === '.')) return 'ends with ".." or has "..."';
    } else if (c === '(' || c === ')') {
      return 'filter and script expressions ("?(...)", "(...)") are not supported';
    }
  }
  if (quote) return 'unterminated quoted name';
  if (depth > 0) return 'unclosed "["';
  try {
    JSONPath.toPathArray(path);
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/** True when `path` names one place (a reference path), so reading it gives one value rather than a list of matches. */
export function isDefinitePath(path: string): boolean {
  return typeof parseReferencePath(path) !== 'string';
}

/**
 * Every value `path` matches in `root` (any JSONPath this module reads, starting `$`). Never
 * evaluates code: filters and scripts are refused by jsonpath-plus with eval disabled.
 */
export function queryPath(root: unknown, path: string): unknown[] {
  const found = JSONPath({ path, json: root as object, eval: false, wrap: true });
  return Array.isArray(found) ? (found as unknown[]) : [];
}

/**
 * What `path` reads in `root`: `{ value }` with one value for a reference path (`$.a[0]`) or the
 * array of every match for a path that can match several (`$.items[*].id`); undefined when it
 * matches nothing (a path below a number, string, boolean or null matches nothing).
 */
export function readPath(root: unknown, path: string): { value: unknown } | undefined {
  if (path === '$') return { value: root };
  if (root === null || typeof root !== 'object') return undefined;
  const found = queryPath(root, path);
  if (found.length === 0) return undefined;
  return { value: isDefinitePath(path) ? found[0] : found };
}
