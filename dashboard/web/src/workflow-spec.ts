/**
 * A Workflow's spec as a graph (messages/workflow/schema.ts, read again here because the page
 * takes no code from there, and what it is sent is not validated again): its states, the states
 * nested in a Parallel's branches and a Map's item processor, and its edges: next, each Choice
 * rule's next and default, and catchers (as messages/workflow/graph.ts walks them). Pure: no DOM.
 */

/** A Choice rule, as far as the graph reads it (messages/workflow/schema.ts ChoiceRule). */
export interface WfChoiceRule {
  variable?: string;
  next?: string;
  and?: WfChoiceRule[];
  or?: WfChoiceRule[];
  not?: WfChoiceRule;
  /** The comparison: one operator (`numericGreaterThan: 5`, `isPresent: true`, ...). */
  [operator: string]: unknown;
}

/**
 * The fields of a state the graph reads (messages/workflow/schema.ts State; the page takes no
 * code from there, and what it is sent is not validated again).
 */
export interface WfState {
  type: string;
  next?: string;
  end?: boolean;
  choices?: WfChoiceRule[];
  default?: string;
  catch?: { errorEquals?: string[]; next: string }[];
  branches?: WfMachine[];
  itemProcessor?: WfMachine;
  function?: string;
  workflow?: string;
  seconds?: number;
  timestamp?: string;
  secondsPath?: string;
  timestampPath?: string;
  error?: string;
}

/** A states map with its first state: a spec's top level, a Parallel branch, a Map item processor. */
export interface WfMachine {
  startAt: string;
  states: Record<string, WfState>;
}

/** What an edge stands for: a next, a Choice rule's next, a Choice's default, a catcher's next. */
export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

/** One edge between two states of the same states map. */
export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** The rule (`$.n > 10`), `default`, or the errors a catcher takes. */
  label?: string;
}

/** Whether `v` has the shape of a states map (startAt and states whose values have a type). */
export function asMachine(v: unknown): WfMachine | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const m = v as { startAt?: unknown; states?: unknown };
  if (typeof m.startAt !== 'string' || !m.states || typeof m.states !== 'object' || Array.isArray(m.states)) return undefined;
  for (const s of Object.values(m.states as Record<string, unknown>)) {
    if (!s || typeof s !== 'object' || typeof (s as { type?: unknown }).type !== 'string') return undefined;
  }
  return m as WfMachine;
}

/** The nested states maps of a state, with each one's id part (`0`, `1` for branches, `*` for a Map's items) and label. */
export function nestedMachines(s: WfState): { part: string; label: string; machine: WfMachine }[] {
  if (s.type === 'Parallel') {
    return (s.branches ?? []).flatMap((b, i) => (asMachine(b) ? [{ part: String(i), label: `branch ${i}`, machine: b }] : []));
  }
  if (s.type === 'Map' && asMachine(s.itemProcessor)) return [{ part: '*', label: 'each item', machine: s.itemProcessor as WfMachine }];
  return [];
}

const COMPARISON = /^(numeric|string|boolean|timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals|Matches)(Path)?$/;
const SYMBOLS: Record<string, string> = { Equals: '==', LessThan: '<', GreaterThan: '>', LessThanEquals: '<=', GreaterThanEquals: '>=', Matches: '~' };

/** A Choice rule as a short expression: `$.n > 10`, `isPresent($.x)`, `$.a == "x" && !($.b < 2)`. */
export function ruleText(r: WfChoiceRule): string {
  // A negation or a type test binds tightly and keeps its own parentheses; anything else with a space gets them.
  const paren = (t: string): string => (/\s/.test(t) && !t.startsWith('!') && !/^\w+\(\S*\)$/.test(t) ? `(${t})` : t);
  if (Array.isArray(r.and)) return r.and.map((x) => paren(ruleText(x))).join(' && ');
  if (Array.isArray(r.or)) return r.or.map((x) => paren(ruleText(x))).join(' || ');
  if (r.not && typeof r.not === 'object') return `!${paren(ruleText(r.not))}`;
  const v = r.variable ?? '?';
  for (const [k, val] of Object.entries(r)) {
    if (k === 'variable' || k === 'next' || val === undefined) continue;
    const m = COMPARISON.exec(k);
    if (m) return `${v} ${SYMBOLS[m[2]]} ${m[3] ? String(val) : JSON.stringify(val)}`;
    if (/^is[A-Z]/.test(k)) return `${val === false ? '!' : ''}${k}(${v})`;
  }
  return v;
}

/** The edges out of the states of `m`, in declaration order; an edge to a state that does not exist is left out. */
export function edgesOf(m: WfMachine): GraphEdge[] {
  const out: GraphEdge[] = [];
  const has = (n: string | undefined): n is string => typeof n === 'string' && Object.prototype.hasOwnProperty.call(m.states, n);
  for (const [from, s] of Object.entries(m.states)) {
    if (has(s.next)) out.push({ from, to: s.next, kind: 'next' });
    if (s.type === 'Choice') {
      for (const r of s.choices ?? []) if (has(r.next)) out.push({ from, to: r.next, kind: 'choice', label: ruleText(r) });
      if (has(s.default)) out.push({ from, to: s.default, kind: 'default', label: 'default' });
    }
    for (const c of s.catch ?? []) if (has(c.next)) out.push({ from, to: c.next, kind: 'catch', label: (c.errorEquals ?? []).join(', ') });
  }
  return out;
}

/** The one-line description under a state's name. */
export function detailOf(s: WfState): string {
  switch (s.type) {
    case 'Task': return s.function ? `Task: ${s.function}` : s.workflow ? `Task: workflow ${s.workflow}` : 'Task';
    case 'Wait':
      if (s.seconds !== undefined) return `Wait ${s.seconds}s`;
      if (s.timestamp) return `Wait until ${s.timestamp}`;
      return `Wait ${s.secondsPath ?? s.timestampPath ?? ''}`.trim();
    case 'Fail': return s.error ? `Fail: ${s.error}` : 'Fail';
    default: return s.type;
  }
}

/**
 * JSON with every object's keys sorted and no spaces, as the run's spec hash is taken of
 * (messages/workflow/canonical-json.ts; the page takes no code from there).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v: unknown) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
