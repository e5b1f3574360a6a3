/**
 * Equality- and set-based label selectors as kubectl's `-l` takes them
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors):
 * `app=web`, `app==web`, `tier!=db`, `env in (a,b)`, `env notin (c)`, `gpu`, `!gpu`, joined by
 * commas (all must hold). Keys and values are checked as Kubernetes checks label keys and values,
 * so a malformed selector is an error that names what is wrong, never a selector that matches
 * nothing. No zod here: the CLI's fast path parses selectors (test/unit/cli/startup.test.ts).
 */
import { ValidationError } from './errors';

export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

/** A label name or value: at most 63 characters, alphanumeric at both ends, `-_.` inside. */
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A key prefix: a DNS-1123 subdomain. */
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key (`[prefix/]name`), or undefined when it is. */
export function labelKeyError(key: string): string | undefined {
  if (key === '') return 'a label key may not be empty';
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix === '' || prefix.length > 253 || !PREFIX.test(prefix))) {
    return `the prefix of label key "${key}" must be a DNS subdomain (lower-case letters, digits, '-' and '.'), at most 253 characters`;
  }
  if (name === '' || name.length > 63 || !NAME.test(name)) {
    return `invalid label key "${key}": the name part must be 1 to 63 characters, letters, digits, '-', '_' or '.', `
      + 'starting and ending with a letter or digit';
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is (empty is valid). */
export function labelValueError(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && NAME.test(value))) return undefined;
  return `invalid label value "${value}": at most 63 characters, letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
}

type Token = { kind: 'word'; text: string } | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '(' | ')' | ',' };

function tokenize(sel: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sel.length) {
    const c = sel[i];
    if (/\s/.test(c)) { i++; continue; }
    const two = sel.slice(i, i + 2);
    if (two === '==' || two === '!=') { out.push({ kind: 'op', text: two }); i += 2; continue; }
    if (c === '=' || c === '!' || c === '(' || c === ')' || c === ',') { out.push({ kind: 'op', text: c }); i++; continue; }
    let j = i;
    while (j < sel.length && !/[\s=!(),]/.test(sel[j])) j++;
    out.push({ kind: 'word', text: sel.slice(i, j) });
    i = j;
  }
  return out;
}

/**
 * Parses a selector string ("" selects everything). Throws ValidationError naming the problem:
 * unbalanced parentheses, an empty or malformed key or value, `in`/`notin` without a
 * parenthesized list, an operator without a key, anything left over.
 */
export function parseSelector(sel: string): Requirement[] {
  const fail = (why: string): never => { throw new ValidationError(`invalid label selector "${sel}": ${why}`); };
  let depth = 0;
  for (const c of sel) {
    if (c === '(') depth++;
    if (c === ')' && --depth < 0) fail('unbalanced parentheses: a ")" without its "("');
  }
  if (depth !== 0) fail('unbalanced parentheses: a "(" is never closed');
  const toks = tokenize(sel);
  const out: Requirement[] = [];
  let i = 0;
  const peek = (): Token | undefined => toks[i];
  const isOp = (t: Token | undefined, text: string): boolean => t?.kind === 'op' && t.text === text;
  const key = (): string => {
    const t = toks[i];
    if (!t || t.kind !== 'word') fail(t ? `a label key is empty before "${t.text}"` : 'a label key is missing at the end');
    i++;
    const k = (t as { text: string }).text;
    const bad = labelKeyError(k);
    if (bad) fail(bad);
    return k;
  };
  const value = (): string => {
    const t = peek();
    if (!t || t.kind !== 'word') return '';
    i++;
    const bad = labelValueError(t.text);
    if (bad) fail(bad);
    return t.text;
  };
  while (i < toks.length) {
    if (out.length > 0) {
      if (!isOp(peek(), ',')) fail(`expected "," between requirements, found "${(peek() as Token).text}"`);
      i++;
      if (i >= toks.length) fail('a requirement is missing after the last ","');
    }
    if (isOp(peek(), '!')) {
      i++;
      out.push({ key: key(), op: 'notexists' });
      continue;
    }
    const k = key();
    const t = peek();
    if (!t || isOp(t, ',')) { out.push({ key: k, op: 'exists' }); continue; }
    if (isOp(t, '=') || isOp(t, '==') || isOp(t, '!=')) {
      i++;
      out.push({ key: k, op: t.text === '!=' ? 'neq' : 'eq', value: value() });
      continue;
    }
    if (t.kind === 'word' && (t.text === 'in' || t.text === 'notin')) {
      i++;
      if (!isOp(peek(), '(')) fail(`"${t.text}" needs a parenthesized list of values, as in "${k} ${t.text} (a,b)"`);
      i++;
      const values: string[] = [];
      for (;;) {
        const v = value();
        if (v === '' && !isOp(peek(), ',') && !isOp(peek(), ')')) fail(`unexpected "${(peek() as Token).text}" in the values of "${k}"`);
        values.push(v);
        if (isOp(peek(), ',')) { i++; continue; }
        if (isOp(peek(), ')')) { i++; break; }
        fail(`the values of "${k} ${t.text}" are not closed by ")"`);
      }
      if (values.length === 1 && values[0] === '') fail(`"${k} ${t.text} ()" needs at least one value`);
      out.push({ key: k, op: t.text, values });
      continue;
    }
    fail(`unexpected "${t.text}" after label key "${k}" (expected =, ==, !=, in, notin or ",")`);
  }
  return out;
}

/** True when `labels` satisfy every requirement. */
export function matches(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'eq': return has && l[r.key] === r.value;
      case 'neq': return !has || l[r.key] !== r.value;
      case 'in': return has && r.values.includes(l[r.key]);
      case 'notin': return !has || !r.values.includes(l[r.key]);
      case 'exists': return has;
      case 'notexists': return !has;
    }
  });
}
