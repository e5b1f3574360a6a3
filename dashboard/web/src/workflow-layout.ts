/**
 * A Workflow's states laid out for the object view's SVG: one box per state, a Parallel's
 * branches and a Map's item processor as groups nested in their state's box, and the edges of
 * workflow-spec.ts. The layout is layered, top to bottom: a state's layer is the length of the
 * longest path to it from startAt (loops broken at their back edges, found by a depth-first walk
 * from startAt), and a layer's states are ordered by when a breadth-first walk from startAt first
 * reaches them. Back edges run up lanes of their own on the right, edges that skip layers down
 * lanes on the left. Pure: no DOM.
 */
import { detailOf, edgesOf, nestedMachines, type GraphEdge, type WfMachine, type WfState } from './workflow-spec';

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
/** The longest label a node shows; longer ones are cut (the whole text is in a tooltip). */
export const MAX_LABEL = 30;
/** The longest label an edge shows (a Choice rule, a catcher's errors). */
export const MAX_EDGE_LABEL = 24;
const NODE_H = 40;
const MIN_NODE_W = 96;
const LAYER_GAP = 56;
const LABEL_LINE = 13;
const BEND = 14;
const NODE_GAP = 28;
const MARGIN = 16;
const LANE = 14;
const HEADER_H = 38;
const GROUP_LABEL_H = 16;
const GROUP_PAD = 8;

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

  // Edges: forward ones leave the bottom and enter the top through ports spread along the side,
  // in the order of the other end's position; back ones run up lanes of their own on the right.
  const graph = edgesOf(m);
  const isBack = (e: GraphEdge): boolean => back.has(`${e.from}->${e.to}`) || !reach.has(e.from);
  const into = new Map<string, GraphEdge[]>(names.map((n) => [n, graph.filter((e) => e.to === n && !isBack(e))]));
  const labelled = (n: string): number => (into.get(n) as GraphEdge[]).filter((e) => e.label).length;
  // A state's slot in its layer: its box, widened where the labels of edges into it, written
  // right of their ports, need the room.
  const slot = new Map<string, number>(names.map((n) => {
    const node = nodes.get(n) as LaidNode;
    const ins = into.get(n) as GraphEdge[];
    const label = Math.max(0, ...ins.map((e) => (e.label ? cut(e.label, MAX_EDGE_LABEL).length * CHAR_W : 0)));
    return [n, label === 0 ? node.w : Math.max(node.w, (node.w * ins.length) / (ins.length + 1) + 4 + label)];
  }));
  // Forward edges that skip layers run down lanes of their own on the left, longest outermost,
  // so that they pass beside the states in between rather than behind them.
  const long = graph.filter((e) => !isBack(e) && (layer.get(e.to) as number) - (layer.get(e.from) as number) > 1)
    .sort((a, b) => ((layer.get(b.to) as number) - (layer.get(b.from) as number)) - ((layer.get(a.to) as number) - (layer.get(a.from) as number)));
  const leftLane = new Map<GraphEdge, number>(long.map((e, i) => [e, MARGIN + LANE * i]));
  const left = MARGIN + LANE * long.length;
  const widthOf = (row: string[]): number => row.reduce((s, n) => s + (slot.get(n) as number), 0) + NODE_GAP * (row.length - 1);
  const content = Math.max(0, ...layers.map((row) => (row ? widthOf(row) : 0)));
  // The gap above a layer grows by a line for each label more than one that enters one of its states.
  const gapAbove = (row: string[] | undefined): number => LAYER_GAP + LABEL_LINE * Math.max(0, ...(row ?? []).map((n) => labelled(n) - 1));
  let y = MARGIN;
  layers.forEach((row, i) => {
    if (!row) return;
    let x = left + (content - widthOf(row)) / 2;
    for (const n of row) {
      const node = nodes.get(n) as LaidNode;
      node.x = x;
      node.y = y;
      x += (slot.get(n) as number) + NODE_GAP;
    }
    y += Math.max(...row.map((n) => (nodes.get(n) as LaidNode).h)) + (i + 1 < layers.length ? gapAbove(layers[i + 1]) : 0);
  });
  const bottom = Math.max(y, MARGIN) + MARGIN;

  const centre = (n: string): number => { const b = nodes.get(n) as LaidNode; return b.x + b.w / 2; };
  const ports = (ends: GraphEdge[], key: (e: GraphEdge) => number): Map<GraphEdge, number> => {
    const sorted = [...ends].sort((a, b) => key(a) - key(b));
    return new Map(sorted.map((e, i) => [e, (i + 1) / (sorted.length + 1)]));
  };
  const outPort = new Map<GraphEdge, number>();
  const inPort = new Map<GraphEdge, number>();
  const labelLine = new Map<GraphEdge, number>();
  for (const n of names) {
    for (const [e, f] of ports(graph.filter((e) => e.from === n && !isBack(e)), (e) => centre(e.to))) outPort.set(e, f);
    const ins = ports(into.get(n) as GraphEdge[], (e) => centre(e.from));
    for (const [e, f] of ins) inPort.set(e, f);
    [...ins.keys()].filter((e) => e.label).forEach((e, i) => labelLine.set(e, i));
  }
  const laneStart = left + content + LANE;
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
      if (e.label) labelRoom = Math.max(labelRoom, cut(e.label, MAX_EDGE_LABEL).length * CHAR_W + 6);
      return { ...e, ...ids, back: true, points: [[s.x + s.w, sy], [lane, sy], [lane, ty], [t.x + t.w, ty]], labelAt: [lane + 4, (sy + ty) / 2] };
    }
    const sx = s.x + s.w * (outPort.get(e) as number);
    const tx = t.x + t.w * (inPort.get(e) as number);
    const sy = s.y + s.h;
    const ty = t.y;
    // Bend just under the source's layer (its tallest box), then go straight down into the target.
    const rowBottom = Math.max(...(layers[s.layer] ?? [e.from]).map((n) => { const b = nodes.get(n) as LaidNode; return b.y + b.h; }));
    const my = rowBottom + BEND;
    // A label sits just above its target, right of the port; several into one state stack up.
    const labelAt: Point = [tx + 4, ty - 6 - LABEL_LINE * (labelled(e.to) - 1 - (labelLine.get(e) ?? 0))];
    const lane = leftLane.get(e);
    if (lane === undefined) return { ...e, ...ids, back: false, points: [[sx, sy], [sx, my], [tx, my], [tx, ty]], labelAt };
    return { ...e, ...ids, back: false, points: [[sx, sy], [sx, my], [lane, my], [lane, ty - BEND], [tx, ty - BEND], [tx, ty]], labelAt };
  });
  const w = lanes > 0 ? laneStart + LANE * (lanes - 1) + labelRoom + MARGIN : left + content + MARGIN;
  return { w, h: bottom, layers, nodes: [...nodes.values()], edges };
}
