/** Nodes: each node's capacity, allocatable and live usage, with its pods and theirs. */
import type { DeltaFrame, NodeRow, SnapshotFrame } from '../../../protocol';
import type { View } from '../context';
import { h, link, replace } from '../dom';
import * as fmt from '../format';
import { frameScheduler } from '../keyed';
import { objectHref } from '../router';
import { TableState } from '../table';
import { errorLine, pager } from './shared';

/** Node cards drawn per page. */
const NODES_PER_PAGE = 20;

function nodeCard(n: NodeRow): HTMLElement {
  const cpuCap = fmt.quantity(n.allocatable.cpu ?? n.capacity.cpu);
  const memCap = fmt.quantity(n.allocatable.memory ?? n.capacity.memory);
  const u = n.usage;
  return h('div', { class: 'card node', 'data-node': n.name },
    h('h2', {}, link(objectHref('nodes', undefined, n.name), n.name), ' ',
      h('span', { class: n.ready ? 'ok' : 'error' }, n.ready ? 'Ready' : 'NotReady'), n.unschedulable ? h('span', { class: 'muted' }, ', SchedulingDisabled') : ''),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'capacity'), h('th', {}, 'allocatable'), h('th', {}, 'usage'))),
      h('tbody', {},
        h('tr', {}, h('td', {}, 'cpu'), h('td', {}, n.capacity.cpu ?? ''), h('td', {}, n.allocatable.cpu ?? ''),
          h('td', {}, u ? `${fmt.cpu(u.cpuNanoCores)} ${cpuCap ? fmt.percent(u.cpuNanoCores / 1e9, cpuCap) : ''}` : '')),
        h('tr', {}, h('td', {}, 'memory'), h('td', {}, n.capacity.memory ?? ''), h('td', {}, n.allocatable.memory ?? ''),
          h('td', {}, u ? `${fmt.bytes(u.memoryBytes)} ${memCap ? fmt.percent(u.memoryBytes, memCap) : ''}` : '')),
        h('tr', {}, h('td', {}, 'pods'), h('td', {}, n.capacity.pods ?? ''), h('td', {}, n.allocatable.pods ?? ''), h('td', {}, String(n.pods.length))))),
    h('h2', {}, `Pods (${n.pods.length})`),
    h('table', { class: 'pods' }, h('tbody', {}, ...n.pods.slice(0, 200).map((p) => h('tr', {},
      h('td', {}, link(objectHref('pods', p.namespace, p.name), `${p.namespace}/${p.name}`)), h('td', {}, p.phase ?? ''),
      h('td', { class: 'num' }, p.usage ? fmt.cpu(p.usage.cpuNanoCores) : ''), h('td', { class: 'num' }, p.usage ? fmt.bytes(p.usage.memoryBytes) : ''))))),
    n.pods.length > 200 ? h('p', { class: 'muted' }, `and ${n.pods.length - 200} more: see Objects, pods`) : '');
}

/** The Nodes view. */
export const nodesView: View = (root, ctx) => {
  const nodes = new TableState<NodeRow>();
  const status = h('div', { class: 'status' });
  const grid = h('div', { class: 'grid nodes' });
  const pagerBox = h('div', {});
  replace(root, h('h1', {}, 'Nodes'), status, pagerBox, grid);
  // The topic sends every node; a page of them is drawn.
  let page = 0;
  const render = frameScheduler(() => {
    const all = nodes.rows();
    page = Math.min(page, Math.max(0, Math.ceil(all.length / NODES_PER_PAGE) - 1));
    replace(pagerBox, all.length > NODES_PER_PAGE ? pager(page, NODES_PER_PAGE, all.length, (p) => { page = p; render(); }) : '');
    replace(grid, ...all.slice(page * NODES_PER_PAGE, (page + 1) * NODES_PER_PAGE).map(nodeCard));
  });
  const sub = ctx.feed.subscribe({ topic: 'nodes' }, (f: SnapshotFrame | DeltaFrame) => {
    if (f.topic !== 'nodes') return;
    if (f.type === 'snapshot') nodes.snapshot(f); else nodes.delta(f);
    if (nodes.size === 0) replace(status, h('p', { class: 'muted' }, 'No nodes.')); else replace(status);
    render();
  }, (e) => replace(status, errorLine(e)));
  return () => sub.close();
};
