/**
 * Draws a laid-out Workflow (workflow-layout.ts) as SVG: edges under nodes, a Parallel's branches
 * and a Map's item processor as dashed groups inside their state's box. Each state's box is a
 * `<g class="wf-node" data-state="<id>">`; `colour` sets its `data-status`, which the stylesheet
 * turns into the run's colours, without drawing the graph again.
 */
import { svgEl } from '../chart';
import { h } from '../dom';
import { cut, MAX_EDGE_LABEL, MAX_LABEL, type LaidNode, type MachineLayout } from '../workflow-layout';
import { STATE_STATUSES, type StateStatus } from '../workflow-status';

/** A drawn graph: its <svg> and each state's box by node id. */
export interface DrawnGraph {
  svg: SVGElement;
  nodes: Map<string, SVGElement>;
}

/** The words of each status, for the legend and tooltips. */
export const STATUS_LABEL: Record<StateStatus, string> = {
  running: 'running', succeeded: 'succeeded', failed: 'failed', 'not-reached': 'not reached',
};

const GROUP_LABEL_H = 16;

/** A label, cut to `max` characters; a cut one carries the whole text as its tooltip. */
function text(x: number, y: number, cls: string, value: string, max = MAX_LABEL): SVGElement {
  const t = svgEl('text', { x: x.toFixed(1), y: y.toFixed(1), class: cls });
  t.textContent = cut(value, max);
  if (t.textContent !== value) {
    const title = svgEl('title', {});
    title.textContent = value;
    t.appendChild(title);
  }
  return t;
}

function pathOf(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
}

function drawNode(n: LaidNode, nodes: Map<string, SVGElement>): SVGElement {
  const cls = `wf-node wf-${n.state.type.toLowerCase()}${n.start ? ' wf-start' : ''}${n.terminal ? ' wf-terminal' : ''}${n.groups.length ? ' wf-compound' : ''}`;
  const g = svgEl('g', { class: cls, 'data-state': n.id, transform: `translate(${n.x.toFixed(1)},${n.y.toFixed(1)})` });
  const title = svgEl('title', {});
  title.textContent = `${n.name}: ${n.detail}${n.start ? ' (start)' : ''}${n.terminal ? ' (can end here)' : ''}`;
  g.append(title, svgEl('rect', { class: 'wf-box', width: String(n.w), height: String(n.h), rx: n.terminal ? '14' : '4' }));
  g.append(text(12, 17, 'wf-name', n.name), text(12, 32, 'wf-detail', n.detail));
  for (const grp of n.groups) {
    const gg = svgEl('g', { class: 'wf-group', 'data-group': grp.id, transform: `translate(${grp.x.toFixed(1)},${grp.y.toFixed(1)})` });
    gg.append(svgEl('rect', { class: 'wf-group-box', width: String(grp.w), height: String(grp.h), rx: '4' }), text(6, 12, 'wf-group-label', grp.label));
    gg.appendChild(drawMachine(grp.layout, 0, GROUP_LABEL_H, nodes));
    g.appendChild(gg);
  }
  nodes.set(n.id, g);
  return g;
}

function drawMachine(layout: MachineLayout, ox: number, oy: number, nodes: Map<string, SVGElement>): SVGElement {
  const g = svgEl('g', { class: 'wf-machine', transform: `translate(${ox},${oy})` });
  for (const e of layout.edges) {
    const eg = svgEl('g', { class: `wf-edge wf-edge-${e.kind}${e.back ? ' wf-back' : ''}`, 'data-from': e.fromId, 'data-to': e.toId });
    eg.appendChild(svgEl('path', { d: pathOf(e.points), 'marker-end': 'url(#wf-arrow)' }));
    if (e.label) eg.appendChild(text(e.labelAt[0], e.labelAt[1], 'wf-edge-label', e.label, MAX_EDGE_LABEL));
    g.appendChild(eg);
  }
  for (const n of layout.nodes) g.appendChild(drawNode(n, nodes));
  return g;
}

/** Draws `layout` (the top level of a spec) as an <svg> labelled `label`. */
export function drawGraph(layout: MachineLayout, label: string): DrawnGraph {
  const nodes = new Map<string, SVGElement>();
  const svg = svgEl('svg', {
    class: 'wf-graph', role: 'img', 'aria-label': label,
    viewBox: `0 0 ${Math.ceil(layout.w)} ${Math.ceil(layout.h)}`, width: String(Math.ceil(layout.w)), height: String(Math.ceil(layout.h)),
  });
  const defs = svgEl('defs', {});
  const marker = svgEl('marker', { id: 'wf-arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' });
  marker.appendChild(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: 'wf-arrow' }));
  defs.appendChild(marker);
  svg.append(defs, drawMachine(layout, 0, 0, nodes));
  return { svg, nodes };
}

/** Sets each state's status (absent: not reached); with no statuses at all (a Workflow, not a run) none is set. */
export function colour(graph: DrawnGraph, statuses: Map<string, StateStatus> | undefined): void {
  for (const [id, el] of graph.nodes) {
    if (!statuses) { el.removeAttribute('data-status'); continue; }
    const s = statuses.get(id) ?? 'not-reached';
    if (el.getAttribute('data-status') !== s) el.setAttribute('data-status', s);
  }
}

/** The legend of the run's colours. */
export function legend(): HTMLElement {
  return h('ul', { class: 'wf-legend' }, ...STATE_STATUSES.map((s) => h('li', {}, h('span', { class: 'wf-swatch', 'data-status': s }), STATUS_LABEL[s])));
}
