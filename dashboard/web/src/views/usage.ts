/**
 * Usage: live CPU and memory charts per node and per pod (a page of pods at a time). Each chart
 * is a `usage` subscription: the recent history first, then every new sample.
 */
import type { DeltaFrame, NodeRow, SnapshotFrame } from '../../../protocol';
import type { UsageSample } from '../../../../messages/usage';
import type { View, ViewContext } from '../context';
import { h, link, replace } from '../dom';
import { lineChart, type Point } from '../chart';
import * as fmt from '../format';
import { objectHref } from '../router';
import { TableState } from '../table';
import { errorLine, pager } from './shared';

/** The history a chart keeps, in ms. */
const KEEP_MS = 10 * 60_000;
/** Nodes charted at most. */
const MAX_NODE_CHARTS = 12;
/** Pods charted per page. */
const PODS_PER_PAGE = 24;

/** Merges new samples into a series (by time, no duplicates), keeping the last KEEP_MS. */
export function mergeSamples(series: UsageSample[], more: UsageSample[], now: number = Date.now()): UsageSample[] {
  const byT = new Map(series.map((s) => [s.t, s]));
  for (const s of more) byT.set(s.t, s);
  return [...byT.values()].filter((s) => now - Date.parse(s.t) <= KEEP_MS).sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
}

/** Draws live CPU and memory charts of a pod or node into `box`; returns the cleanup. */
export function usagePanel(ctx: ViewContext, kind: 'pods' | 'nodes', namespace: string | undefined, name: string, box: HTMLElement): () => void {
  let samples: UsageSample[] = [];
  const err = h('div', {});
  const charts = h('div', { class: 'charts', 'data-usage': `${kind}/${namespace ? `${namespace}/` : ''}${name}` });
  replace(box, err, charts);
  const draw = (): void => {
    const pts = (f: (s: UsageSample) => number): Point[] => samples.map((s) => ({ t: Date.parse(s.t), v: f(s) }));
    replace(charts, lineChart('CPU', pts((s) => s.cpuNanoCores), (v) => fmt.cpu(v), { w: 300, h: 60 }),
      lineChart('memory', pts((s) => s.memoryBytes), (v) => fmt.bytes(v), { w: 300, h: 60 }));
  };
  draw();
  const sub = ctx.feed.subscribe({ topic: 'usage', kind, namespace, name, historySeconds: 300 }, (f: SnapshotFrame | DeltaFrame) => {
    if (f.topic !== 'usage') return;
    samples = mergeSamples(f.type === 'snapshot' ? [] : samples, f.type === 'snapshot' ? f.samples : f.append);
    replace(err);
    draw();
  }, (e) => replace(err, errorLine(e)));
  return () => sub.close();
}

/** The Usage view. */
export const usageView: View = (root, ctx) => {
  const nodes = new TableState<NodeRow>();
  const status = h('div', {});
  const nodeBox = h('div', { class: 'grid' });
  const podBox = h('div', { class: 'grid' });
  const pagerBox = h('div', {});
  replace(root, h('h1', {}, 'Usage'), status, h('h2', {}, 'Nodes'), nodeBox, h('h2', {}, 'Pods'), pagerBox, podBox);
  let panels: (() => void)[] = [];
  let shown = '';
  let page = 0;
  const draw = (): void => {
    // At most MAX_NODE_CHARTS nodes: each chart is a subscription (the Nodes view pages them all).
    const nodeNames = nodes.rows().map((n) => n.name).slice(0, MAX_NODE_CHARTS);
    const pods = nodes.rows().flatMap((n) => n.pods).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    const pagePods = pods.slice(page * PODS_PER_PAGE, (page + 1) * PODS_PER_PAGE);
    const want = JSON.stringify([nodeNames, pagePods.map((p) => [p.namespace, p.name])]);
    replace(pagerBox, pager(page, PODS_PER_PAGE, pods.length, (p) => { page = p; draw(); }));
    if (want === shown) return;
    shown = want;
    for (const c of panels) c();
    panels = [];
    replace(nodeBox);
    replace(podBox);
    for (const n of nodeNames) {
      const card = h('div', { class: 'card' });
      nodeBox.append(h('div', {}, h('h2', {}, link(objectHref('nodes', undefined, n), n)), card));
      panels.push(usagePanel(ctx, 'nodes', undefined, n, card));
    }
    for (const p of pagePods) {
      const card = h('div', { class: 'card' });
      podBox.append(h('div', {}, h('h2', {}, link(objectHref('pods', p.namespace, p.name), `${p.namespace}/${p.name}`)), card));
      panels.push(usagePanel(ctx, 'pods', p.namespace, p.name, card));
    }
  };
  const sub = ctx.feed.subscribe({ topic: 'nodes' }, (f: SnapshotFrame | DeltaFrame) => {
    if (f.topic !== 'nodes') return;
    if (f.type === 'snapshot') nodes.snapshot(f); else nodes.delta(f);
    draw();
  }, (e) => replace(status, errorLine(e)));
  return () => { sub.close(); for (const c of panels) c(); };
};
