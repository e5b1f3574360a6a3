/**
 * A Workflow's states as a graph, laid out for the object view's SVG: one node per state, a
 * Parallel's branches and a Map's item processor as groups nested in their state's node, and
 * edges for next, each Choice rule's next and default, and catchers (the edges
 * messages/workflow/graph.ts walks). The layout is layered, top to bottom: a state's layer is the
 * length of the longest path to it from startAt (loops broken at their back edges, found by a
 * depth-first walk from startAt), and a layer's states are ordered by when a breadth-first walk
 * from startAt first reaches them. Back edges run up a lane on the right. Pure: no DOM.
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

/** A point, [x, y]. */
export type Point = [number, number];

/** A laid-out state. Coordinates are relative to its states map's layout. */
export interface LaidNode {
  /** The state's name within its scope. */
  name: string;
  /** Unique in the whole graph: the name after its enclosing groups' ids (`Fan/0/Step`; a Map's item processor's part is `*`). */
  id: string;
  state: WfState;
  layer: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** The type and what it does, one short line (`Task: add`, `Wait 5s`). */
  detail: string;
  /** True for startAt. */
  start: boolean;
  /** True where the run (or branch) can end: end: true, Succeed, Fail. */
  terminal: boolean;
  /** A Parallel's branches, a Map's item processor; relative to this node. */
  groups: LaidGroup[];
}

/** A nested states map drawn inside its Parallel or Map state's node. */
export interface LaidGroup {
  /** The prefix of its states' ids without the trailing slash (`Fan/0`, `Each/*`). */
  id: string;
  /** `branch 0`, `each item`. */
  label: string;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Its states, relative to the group's corner. */
  layout: MachineLayout;
}

/** A laid-out edge: a polyline through `points` and where its label goes. */
export interface LaidEdge extends GraphEdge {
  /** The ids of both ends. */
  fromId: string;
  toId: string;
  /** True for an edge that closes a loop (it goes to an earlier or the same layer). */
  back: boolean;
  points: Point[];
  labelAt: Point;
}

/** A states map laid out: its size, its layers (node ids, in order), nodes and edges. */
export interface MachineLayout {
  w: number;
  h: number;
  layers: string[][];
  nodes: LaidNode[];
  edges: LaidEdge[];
}

/** The width of a character of the graph's monospace 12px labels, for sizing boxes. */
export const CHAR_W = 7.3;
/** The longest label a node or edge shows; longer ones are cut (the whole text is in a tooltip). */
export const MAX_LABEL = 30;
const NODE_H = 40;
const MIN_NODE_W = 96;
const LAYER_GAP = 56;
const NODE_GAP = 28;
const MARGIN = 16;
const LANE = 14;
const HEADER_H = 38;
const GROUP_LABEL_H = 16;
const GROUP_PAD = 8;

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

/** `text` cut to `max` characters with an ellipsis. */
export function cut(text: string, max = MAX_LABEL): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function textWidth(...lines: string[]): number {
  return Math.ceil(Math.max(...lines.map((l) => cut(l).length)) * CHAR_W) + 24;
}

/**
 * The layer of each state reachable from startAt (the longest path to it once back edges are
 * left out), the order in which a breadth-first walk first reaches them, and the back edges
 * (`from -> to` keys).
 */
export function layering(m: WfMachine): { layer: Map<string, number>; reach: Map<string, number>; back: Set<string> } {
  const names = Object.keys(m.states);
  const edges = edgesOf(m);
  const succ = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const e of edges) succ.get(e.from)?.push(e.to);
  const reach = new Map<string, number>();
  const start = Object.prototype.hasOwnProperty.call(m.states, m.startAt) ? m.startAt : undefined;
  if (start !== undefined) {
    reach.set(start, 0);
    for (let i = 0, queue = [start]; i < queue.length; i++) {
      for (const t of succ.get(queue[i]) ?? []) if (!reach.has(t)) { reach.set(t, reach.size); queue.push(t); }
    }
  }
  // Back edges: those to a state on the depth-first walk's stack (iterative, so a long chain cannot overflow).
  const back = new Set<string>();
  const done = new Set<string>();
  const onStack = new Set<string>();
  if (start !== undefined) {
    const stack: { n: string; i: number }[] = [{ n: start, i: 0 }];
    onStack.add(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const out = succ.get(top.n) ?? [];
      if (top.i >= out.length) { stack.pop(); onStack.delete(top.n); done.add(top.n); continue; }
      const t = out[top.i++];
      if (onStack.has(t)) back.add(`${top.n}->${t}`);
      else if (!done.has(t)) { onStack.add(t); stack.push({ n: t, i: 0 }); }
    }
  }
  // Longest path over the forward edges, in topological order (Kahn's).
  const reached = names.filter((n) => reach.has(n));
  const indeg = new Map<string, number>(reached.map((n) => [n, 0]));
  const forward = edges.filter((e) => reach.has(e.from) && !back.has(`${e.from}->${e.to}`));
  for (const e of forward) indeg.set(e.to, (indeg.get(e.to) ?? 0) + 1);
  const layer = new Map<string, number>(reached.map((n) => [n, 0]));
  const ready = reached.filter((n) => indeg.get(n) === 0);
  while (ready.length > 0) {
    const n = ready.shift() as string;
    for (const e of forward) {
      if (e.from !== n) continue;
      layer.set(e.to, Math.max(layer.get(e.to) ?? 0, (layer.get(n) ?? 0) + 1));
      indeg.set(e.to, (indeg.get(e.to) ?? 0) - 1);
      if (indeg.get(e.to) === 0) ready.push(e.to);
    }
  }
  return { layer, reach, back };
}

/** Lays out the states map `m`; its states' ids start with `prefix` (`''` at the top level, `Fan/0/` in a branch). */
export function layoutMachine(m: WfMachine, prefix = ''): MachineLayout {
  const names = Object.keys(m.states);
  const { layer, reach, back } = layering(m);
  // States no walk from startAt reaches (a valid spec has none) go in a last layer of their own.
  const last = names.reduce((x, n) => Math.max(x, layer.get(n) ?? -1), -1);
  const unreached = names.filter((n) => !layer.has(n));
  for (const n of unreached) layer.set(n, last + 1);
  const order = (n: string): number => reach.get(n) ?? reach.size + unreached.indexOf(n);
  const layers: string[][] = [];
  for (const n of [...names].sort((a, b) => order(a) - order(b))) (layers[layer.get(n) as number] ??= []).push(n);

  const nodes = new Map<string, LaidNode>();
  for (const name of names) {
    const state = m.states[name];
    const detail = detailOf(state);
    const nested = nestedMachines(state);
    const node: LaidNode = {
      name, id: `${prefix}${name}`, state, layer: layer.get(name) as number, x: 0, y: 0, w: 0, h: NODE_H, detail,
      start: name === m.startAt, terminal: state.type === 'Succeed' || state.type === 'Fail' || state.end === true, groups: [],
    };
    if (nested.length === 0) {
      node.w = Math.max(MIN_NODE_W, textWidth(name, detail));
    } else {
      let gx = GROUP_PAD;
      for (const n of nested) {
        const layout = layoutMachine(n.machine, `${prefix}${name}/${n.part}/`);
        const g: LaidGroup = { id: `${prefix}${name}/${n.part}`, label: n.label, x: gx, y: HEADER_H, w: layout.w, h: GROUP_LABEL_H + layout.h, layout };
        node.groups.push(g);
        gx += g.w + GROUP_PAD;
      }
      node.w = Math.max(MIN_NODE_W, textWidth(name, detail), gx);
      node.h = HEADER_H + Math.max(...node.groups.map((g) => g.h)) + GROUP_PAD;
      // Centre the groups when the header is the wider part.
      const slack = (node.w - gx) / 2;
      for (const g of node.groups) g.x += slack;
    }
    nodes.set(name, node);
  }

  const widthOf = (row: string[]): number => row.reduce((s, n) => s + (nodes.get(n) as LaidNode).w, 0) + NODE_GAP * (row.length - 1);
  const content = Math.max(0, ...layers.map((row) => (row ? widthOf(row) : 0)));
  let y = MARGIN;
  for (const row of layers) {
    if (!row) continue;
    let x = MARGIN + (content - widthOf(row)) / 2;
    for (const n of row) {
      const node = nodes.get(n) as LaidNode;
      node.x = x;
      node.y = y;
      x += node.w + NODE_GAP;
    }
    y += Math.max(...row.map((n) => (nodes.get(n) as LaidNode).h)) + LAYER_GAP;
  }
  const bottom = y - LAYER_GAP + MARGIN;

  // Edges: forward ones leave the bottom and enter the top through ports spread along the side,
  // in the order of the other end's position; back ones run up a lane of their own on the right.
  const graph = edgesOf(m);
  const isBack = (e: GraphEdge): boolean => back.has(`${e.from}->${e.to}`) || !reach.has(e.from);
  const centre = (n: string): number => { const b = nodes.get(n) as LaidNode; return b.x + b.w / 2; };
  const ports = (ends: GraphEdge[], key: (e: GraphEdge) => number): Map<GraphEdge, number> => {
    const sorted = [...ends].sort((a, b) => key(a) - key(b));
    return new Map(sorted.map((e, i) => [e, (i + 1) / (sorted.length + 1)]));
  };
  const outPort = new Map<GraphEdge, number>();
  const inPort = new Map<GraphEdge, number>();
  for (const n of names) {
    for (const [e, f] of ports(graph.filter((e) => e.from === n && !isBack(e)), (e) => centre(e.to))) outPort.set(e, f);
    for (const [e, f] of ports(graph.filter((e) => e.to === n && !isBack(e)), (e) => centre(e.from))) inPort.set(e, f);
  }
  const laneStart = MARGIN + content + LANE;
  let lanes = 0;
  let labelRoom = 0;
  const edges: LaidEdge[] = graph.map((e) => {
    const s = nodes.get(e.from) as LaidNode;
    const t = nodes.get(e.to) as LaidNode;
    const ids = { fromId: s.id, toId: t.id };
    if (isBack(e)) {
      const lane = laneStart + LANE * lanes++;
      const sy = s.y + s.h / 2 - 5;
      const ty = t.y + t.h / 2 + 5;
      if (e.label) labelRoom = Math.max(labelRoom, cut(e.label).length * CHAR_W + 6);
      return { ...e, ...ids, back: true, points: [[s.x + s.w, sy], [lane, sy], [lane, ty], [t.x + t.w, ty]], labelAt: [lane + 4, (sy + ty) / 2] };
    }
    const sx = s.x + s.w * (outPort.get(e) as number);
    const tx = t.x + t.w * (inPort.get(e) as number);
    const sy = s.y + s.h;
    const ty = t.y;
    // Bend in the gap under the source's layer (its tallest node's bottom), then go straight down.
    const rowBottom = Math.max(...(layers[s.layer] ?? [e.from]).map((n) => { const b = nodes.get(n) as LaidNode; return b.y + b.h; }));
    const my = rowBottom + LAYER_GAP / 2;
    return { ...e, ...ids, back: false, points: [[sx, sy], [sx, my], [tx, my], [tx, ty]], labelAt: [tx + 4, my + 12] };
  });
  const w = lanes > 0 ? laneStart + LANE * (lanes - 1) + labelRoom + MARGIN : MARGIN * 2 + content;
  return { w, h: bottom, layers, nodes: [...nodes.values()], edges };
}
