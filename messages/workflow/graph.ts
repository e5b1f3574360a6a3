/**
 * The shape of a states map as a graph: which states a run can reach from startAt, and which
 * loops it could never leave. Edges are next, a Choice's rules and default, and catchers.
 */
import type { State, StateMachine } from './schema';

/** The states a state can go to, in declaration order. */
export function successors(s: State): string[] {
  const out: string[] = [];
  if ('next' in s && typeof s.next === 'string') out.push(s.next);
  if (s.type === 'Choice') {
    for (const r of s.choices) if (r.next !== undefined) out.push(r.next);
    if (s.default !== undefined) out.push(s.default);
  }
  if ((s.type === 'Task' || s.type === 'Parallel' || s.type === 'Map') && s.catch) for (const c of s.catch) out.push(c.next);
  return out;
}

/** True for a state a run (or branch) can end at: end: true, Succeed, Fail. */
export function isTerminal(s: State): boolean {
  return s.type === 'Succeed' || s.type === 'Fail' || ('end' in s && s.end === true);
}

/** The states no path from startAt reaches, in declaration order (Step Functions refuses them too). */
export function unreachableStates(machine: StateMachine): string[] {
  const { states, startAt } = machine;
  const edges = edgesOf(states);
  const reached = new Set<string>([startAt]);
  const queue = [startAt];
  while (queue.length > 0) {
    for (const t of edges.get(queue.shift() as string) ?? []) {
      if (!reached.has(t)) { reached.add(t); queue.push(t); }
    }
  }
  return Object.keys(states).filter((n) => !reached.has(n));
}

/**
 * The loops a run could never leave: each strongly connected set of states from which no
 * terminal state (end, Succeed, Fail) can be reached and that holds no Wait, as one cycle
 * through it from its first-declared state (`['A', 'B', 'A']`). A loop through a Choice, or a
 * catch, that can lead out is not one; nor is a polling loop that waits.
 */
export function loopsWithoutExit(machine: StateMachine): string[][] {
  const { states } = machine;
  const names = Object.keys(states);
  const edges = edgesOf(states);
  const leadsOut = new Set<string>(names.filter((n) => isTerminal(states[n])));
  for (let grew = true; grew;) {
    grew = false;
    for (const n of names) {
      if (!leadsOut.has(n) && (edges.get(n) ?? []).some((t) => leadsOut.has(t))) { leadsOut.add(n); grew = true; }
    }
  }
  const out: string[][] = [];
  for (const scc of stronglyConnected(names, edges)) {
    const cyclic = scc.length > 1 || (edges.get(scc[0]) ?? []).includes(scc[0]);
    if (!cyclic || scc.some((n) => leadsOut.has(n) || states[n].type === 'Wait')) continue;
    out.push(cycleThrough(scc[0], edges, new Set(scc)));
  }
  return out;
}

/** Each state's successors that exist in the map (a missing name is reported elsewhere). */
function edgesOf(states: Record<string, State>): Map<string, string[]> {
  return new Map(Object.keys(states).map((n) => [n, successors(states[n]).filter((t) => Object.prototype.hasOwnProperty.call(states, t))]));
}

/** Tarjan's strongly connected components, each in declaration order, in the order their first state is declared. */
function stronglyConnected(names: string[], edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v) as number, low.get(w) as number)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop() as string; onStack.delete(w); comp.push(w); } while (w !== v);
      out.push(comp);
    }
  };
  for (const n of names) if (!index.has(n)) visit(n);
  const order = new Map(names.map((n, i) => [n, i]));
  const byOrder = (a: string, b: string) => (order.get(a) as number) - (order.get(b) as number);
  return out.map((c) => c.sort(byOrder)).sort((a, b) => byOrder(a[0], b[0]));
}

/** A cycle from `start` back to it inside `set` (which is strongly connected), as the names along it. */
function cycleThrough(start: string, edges: Map<string, string[]>, set: Set<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of edges.get(v) ?? []) {
      if (!set.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = prev.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!seen.has(w)) { seen.add(w); prev.set(w, v); queue.push(w); }
    }
  }
  /* c8 ignore next */
  return [start, start];
}
