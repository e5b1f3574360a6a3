/**
 * The workflow part of the object view: a Workflow's states as a graph; for a WorkflowRun its
 * phase, current states and output or error above the graph, whose states are coloured from
 * the run's status as it changes. A run's spec is its inline spec (spec.workflow) or the Workflow
 * its spec.workflowRef names, read through the same `object` subscription the view uses; when
 * that Workflow's spec no longer hashes to the run's pinned status.specHash, the page says so.
 */
import type { KubeObject } from '../../../../messages/meta';
import type { DeltaFrame, FeedError, SnapshotFrame } from '../../../protocol';
import type { ViewContext } from '../context';
import { h, link, replace, type Child } from '../dom';
import type { Subscription } from '../feed';
import { objectHref } from '../router';
import { layoutMachine } from '../workflow-layout';
import { asMachine, canonicalJson, type WfMachine } from '../workflow-spec';
import { historyIsPartial, stateStatuses, type RunHistoryRow } from '../workflow-status';
import { colour, drawGraph, legend, type DrawnGraph } from './workflow-graph';
import { errorLine } from './shared';

/** The most characters of a run's output the page shows (the YAML below has all of it). */
export const MAX_OUTPUT_CHARS = 4000;

/** The part of a WorkflowRun the panel reads (messages/workflow/run.ts). */
interface RunLike {
  spec?: { workflowRef?: { name?: string }; workflow?: unknown };
  status?: {
    phase?: string;
    specHash?: string;
    currentStates?: string[];
    output?: unknown;
    outputRef?: { bucket: string; key: string };
    error?: { error: string; cause?: string };
    history?: RunHistoryRow[];
  };
}

/** The workflow panel of one object page. */
export interface WorkflowPanel {
  /** Draws for the object as it is now (null: gone); does nothing for other kinds. */
  update(obj: KubeObject | null): void;
  /** Ends its subscription. */
  close(): void;
}

/** True for the kinds the panel draws. */
export function isWorkflowKind(kind: string | undefined): boolean {
  return kind === 'Workflow' || kind === 'WorkflowRun';
}

/** The sha256 (hex) of the spec's canonical JSON; undefined where the page has no WebCrypto (not a secure context). */
async function specHashOf(spec: unknown): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const digest = await subtle.digest('SHA-256', new TextEncoder().encode(canonicalJson(spec)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function outputText(v: unknown): string {
  const t = JSON.stringify(v, null, 2) ?? 'null';
  return t.length > MAX_OUTPUT_CHARS ? `${t.slice(0, MAX_OUTPUT_CHARS)}\n... (cut: the YAML below has all of it)` : t;
}

/** The run's phase, current states and output or error. */
function runSummary(run: RunLike, namespace: string | undefined): HTMLElement {
  const st = run.status ?? {};
  const phase = st.phase ?? 'Pending';
  const current = st.currentStates ?? [];
  const ref = run.spec?.workflowRef?.name;
  const rows: Child[] = [
    h('dt', {}, 'workflow'), h('dd', {}, ref ? link(objectHref('workflows', namespace, ref), ref) : run.spec?.workflow ? 'inline (spec.workflow)' : '<none>'),
    h('dt', {}, 'phase'), h('dd', {}, h('span', { class: `wf-phase phase-${phase}` }, phase)),
    h('dt', {}, 'current states'), h('dd', { class: 'wf-current' }, current.length ? current.join(', ') : 'none'),
  ];
  if (st.error) rows.push(h('dt', {}, 'error'), h('dd', { class: 'error wf-error' }, `${st.error.error}${st.error.cause ? `: ${st.error.cause}` : ''}`));
  if (st.output !== undefined) rows.push(h('dt', {}, 'output'), h('dd', {}, h('pre', { class: 'wf-output' }, outputText(st.output))));
  else if (st.outputRef) rows.push(h('dt', {}, 'output'), h('dd', { class: 'muted' }, `kept in the object store (${st.outputRef.bucket}/${st.outputRef.key})`));
  return h('dl', { class: 'wf-run' }, ...rows);
}

/** Makes the workflow panel of an object page, drawing into `box`. */
export function workflowPanel(ctx: ViewContext, box: HTMLElement, namespace: string | undefined): WorkflowPanel {
  const head = h('div', { class: 'wf-head' });
  const notes = h('div', { class: 'wf-notes' });
  const legendBox = h('div', {});
  const graphBox = h('div', { class: 'wf-graph-box' });
  let shown = false;
  let obj: KubeObject | null = null;
  let refName: string | undefined;
  let refSub: Subscription | undefined;
  let refObj: KubeObject | null | undefined;
  let refError: FeedError | undefined;
  let drawnKey: string | undefined;
  let graph: DrawnGraph | undefined;
  let hashed: { key: string; hash: string | undefined } | undefined;

  const follow = (name: string | undefined): void => {
    if (name === refName) return;
    refSub?.close();
    refSub = undefined;
    refName = name;
    refObj = undefined;
    refError = undefined;
    if (name === undefined) return;
    refSub = ctx.feed.subscribe({ topic: 'object', kind: 'workflows', namespace, name }, (f: SnapshotFrame | DeltaFrame) => {
      if (f.topic !== 'object') return;
      if (f.type === 'snapshot') refObj = f.detail.object;
      else if (f.object !== undefined) refObj = f.object;
      else return;
      refError = undefined;
      draw();
    }, (e) => { refError = e; draw(); });
  };

  const draw = (): void => {
    if (!obj || !isWorkflowKind(obj.kind)) {
      if (shown) { replace(box); shown = false; drawnKey = undefined; graph = undefined; }
      follow(undefined);
      return;
    }
    if (!shown) {
      replace(box, h('h2', {}, obj.kind === 'WorkflowRun' ? 'Run' : 'States'), head, notes, legendBox, graphBox);
      shown = true;
    }
    const isRun = obj.kind === 'WorkflowRun';
    const run = obj as unknown as RunLike;
    const noteList: Child[] = [];
    let spec: unknown;
    if (!isRun) {
      spec = obj.spec;
      replace(head);
    } else {
      replace(head, runSummary(run, namespace), h('h2', {}, 'States'));
      const ref = run.spec?.workflow === undefined ? run.spec?.workflowRef?.name : undefined;
      follow(ref);
      if (ref === undefined) spec = run.spec?.workflow;
      else if (refError) noteList.push(errorLine(refError));
      else if (refObj === undefined) noteList.push(h('p', { class: 'muted' }, `Reading workflow ${ref}...`));
      else if (refObj === null) noteList.push(h('p', { class: 'muted wf-missing' }, `Workflow ${ref} does not exist in this namespace, so its states cannot be drawn.`));
      else spec = refObj.spec;
    }
    const machine: WfMachine | undefined = spec === undefined ? undefined : asMachine(spec);
    if (spec !== undefined && !machine) noteList.push(h('p', { class: 'error' }, 'The spec has no startAt and states to draw.'));
    const key = machine ? canonicalJson(machine) : '';
    if (isRun && machine) {
      if (historyIsPartial(run.status)) {
        noteList.push(h('p', { class: 'muted wf-partial' }, 'The status holds only the latest rows of the run\'s history: states that ended before them show as not reached.'));
      }
      if (run.spec?.workflow === undefined && run.status?.specHash && hashed?.key === key && hashed.hash !== undefined && hashed.hash !== run.status.specHash) {
        noteList.push(h('p', { class: 'lag-behind wf-changed' }, `Workflow ${refName ?? ''} changed since this run started: the graph shows its spec as it is now, not the one the run follows.`));
      }
      if (run.spec?.workflow === undefined && hashed?.key !== key) {
        hashed = { key, hash: undefined };
        void specHashOf(spec).then((hash) => { if (hashed?.key === key) { hashed.hash = hash; draw(); } }, () => undefined);
      }
    }
    replace(notes, ...noteList);
    if (!machine) {
      replace(graphBox);
      replace(legendBox);
      drawnKey = undefined;
      graph = undefined;
      return;
    }
    if (key !== drawnKey || !graph) {
      graph = drawGraph(layoutMachine(machine), `the states of ${obj.metadata.name}`);
      replace(graphBox, graph.svg);
      replace(legendBox, isRun ? legend() : '');
      drawnKey = key;
    }
    colour(graph, isRun ? stateStatuses(machine, run.status) : undefined);
  };

  return {
    update(o: KubeObject | null): void {
      // The view calls this on every frame; an unchanged object (events changed) draws nothing.
      if (o === obj && shown) return;
      obj = o;
      draw();
    },
    close(): void { follow(undefined); },
  };
}
