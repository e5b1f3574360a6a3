/**
 * The colours of a WorkflowRun's graph: which states run now, which ended and how, read from the
 * run's status (currentStates and the latest rows of its history). State paths are the engine's
 * (actors/workflow/engine/naming.ts): `Check#2` is the second visit of Check, `Fan#1/0/Step#1`
 * Step in branch 0 of Fan, `Each#1/17/Work#1` item 17 of a Map, `Fan#1@2/0/...` a retried
 * Parallel's second attempt. Pure: no DOM.
 */
import { nestedMachines, type WfMachine } from './workflow-spec';

/** How a state of a run stands. */
export type StateStatus = 'running' | 'succeeded' | 'failed' | 'not-reached';

/** Every status, in the legend's order. */
export const STATE_STATUSES: readonly StateStatus[] = ['running', 'succeeded', 'failed', 'not-reached'];

/** A row of a run's history, as far as the colours read it (messages/workflow/run.ts WorkflowRunHistoryRow). */
export interface RunHistoryRow { seq: number; type: string; path: string }

/** The part of WorkflowRun.status the colours read. */
export interface RunStatusLike {
  currentStates?: string[];
  history?: RunHistoryRow[];
}

/**
 * The graph node ids along a state path, outermost first: `Fan#1@2/0/Step#1` gives `Fan` and
 * `Fan/0/Step`; `Each#1/17/Work#1` (Each a Map) gives `Each` and the id of Work in Each's item
 * processor, whose part for the item is `*` (every item is drawn as one).
 * Empty when the path does not fit the spec (a state it does not have, a branch out of range),
 * as a run of an edited Workflow's older spec may.
 */
export function nodesOfPath(m: WfMachine, path: string): string[] {
  const segs = path.split('/');
  const out: string[] = [];
  let machine: WfMachine | undefined = m;
  let prefix = '';
  for (let i = 0; i < segs.length; i += 2) {
    const name = segs[i].split('#')[0];
    if (!machine || name === '' || !Object.prototype.hasOwnProperty.call(machine.states, name)) return [];
    out.push(`${prefix}${name}`);
    if (i + 1 >= segs.length) break;
    const nested = nestedMachines(machine.states[name]);
    const branch = nested.find((n) => n.part === '*' || n.part === segs[i + 1]);
    if (!branch || !/^\d+$/.test(segs[i + 1])) return [];
    prefix = `${prefix}${name}/${branch.part}/`;
    machine = branch.machine;
  }
  return out;
}

/**
 * The status of each state of the graph the run reached, by node id (states it has not reached
 * are absent: not reached). A state is running while any of its paths is in currentStates (at any
 * visit, in any branch or item), and so is every state enclosing it; otherwise its latest
 * StateExited or StateFailed row decides (succeeded or failed; a caught failure is a failure).
 * The history in a status holds only its latest rows, so a state that ended before them shows
 * as not reached (historyIsPartial tells).
 */
export function stateStatuses(m: WfMachine, status: RunStatusLike | undefined): Map<string, StateStatus> {
  const out = new Map<string, StateStatus>();
  const latest = new Map<string, number>();
  for (const row of status?.history ?? []) {
    if (row.type !== 'StateExited' && row.type !== 'StateFailed') continue;
    const ids = nodesOfPath(m, row.path);
    const id = ids[ids.length - 1];
    if (id === undefined || (latest.get(id) ?? -Infinity) > row.seq) continue;
    latest.set(id, row.seq);
    out.set(id, row.type === 'StateExited' ? 'succeeded' : 'failed');
  }
  for (const p of status?.currentStates ?? []) for (const id of nodesOfPath(m, p)) out.set(id, 'running');
  return out;
}

/** True when the status's history starts after the run's first event (older rows were left out). */
export function historyIsPartial(status: RunStatusLike | undefined): boolean {
  const rows = status?.history ?? [];
  return rows.length > 0 && Math.min(...rows.map((r) => r.seq)) > 1;
}
