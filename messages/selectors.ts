/**
 * Equality- and set-based label selectors as kubectl's `-l` takes them
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors):
 * `app=web`, `tier!=db`, `env in (a,b)`, `env notin (c)`, `gpu`, `!gpu`.
 */
import { ValidationError } from './errors';

export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

const KEY = /^([a-z0-9A-Z.\-/_]+)$/;

/** Parses a selector string. Throws ValidationError naming the bad term. */
export function parseSelector(sel: string): Requirement[] {
  const out: Requirement[] = [];
  // Split on commas that are not inside parentheses.
  const terms: string[] = [];
  let depth = 0; let cur = '';
  for (const ch of sel) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { terms.push(cur); cur = ''; } else cur += ch;
  }
  if (cur.trim() !== '' || terms.length > 0) terms.push(cur);
  for (const raw of terms) {
    const t = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(t)) && KEY.test(m[1])) {
      out.push({ key: m[1], op: m[2] === '!=' ? 'neq' : 'eq', value: m[3] });
    } else if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t)) && KEY.test(m[1])) {
      out.push({ key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()).filter(Boolean) });
    } else if ((m = /^!\s*(\S+)$/.exec(t)) && KEY.test(m[1])) {
      out.push({ key: m[1], op: 'notexists' });
    } else if (KEY.test(t)) {
      out.push({ key: t, op: 'exists' });
    } else {
      throw new ValidationError(`invalid label selector term "${t}" in "${sel}"`);
    }
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
