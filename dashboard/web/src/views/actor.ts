/**
 * One actor: what it is and keeps, its parent and children, its figures with a short live
 * history (mailbox and msgs/s since the page opened), its restarts and last crash. With a
 * scrubber time, the actor as the tree had it then.
 */
import type { AtResult, DeltaFrame, SnapshotFrame, TreeRow } from '../../../protocol';
import type { View } from '../context';
import { lineChart, type Point } from '../chart';
import { h, replace, type Child } from '../dom';
import { errorOf } from '../feed';
import * as fmt from '../format';
import { actorHref, type Route } from '../router';
import { pluralOf } from '../kinds';
import { TableState } from '../table';
import type { KeptObject } from '../../../../messages/telemetry';
import { containersTable } from './pod-status';
import { actorLink, errorLine, keptLink } from './shared';

type ActorRoute = Extract<Route, { view: 'actor' }>;

/** Points kept per chart (one per stats message, about a second each). */
const HISTORY = 300;

function facts(r: TreeRow, at?: string): Child {
  const dl = (...pairs: [string, Child][]): HTMLElement => h('dl', {}, ...pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v)]));
  return h('div', { class: 'grid' },
    h('div', { class: 'card' }, dl(
      ['process', r.process], ['path', r.path], ['kind', `${r.kind}${r.system ? ' (system)' : ''}`],
      ['keeps', keptLink(r.object, at) || 'nothing'],
      ['parent', r.parent ? h('a', { href: actorHref(r.process, r.parent, at) }, r.parent) : 'none (a top actor)'],
      ['since', r.since])),
    at ? '' : h('div', { class: 'card' }, dl(
      ['mailbox', String(r.mailbox ?? 0)], ['msgs/s', fmt.rate(r.rate ?? 0)], ['handled', String(r.handled ?? 0)],
      ['mean', fmt.ms(r.meanMs ?? 0)], ['p99', fmt.ms(r.p99Ms ?? 0)], ['longest wait', fmt.ms(r.maxWaitMs ?? 0)],
      ['restarts', String(r.restarts ?? 0)])),
    h('div', { class: 'card crash-card' }, h('h2', {}, 'Last crash'), r.lastCrash
      ? dl(['at', r.lastCrash.at], ['error', h('span', { class: 'error crash-error' }, r.lastCrash.error)], ['message', r.lastCrash.message ?? ''])
      : h('p', { class: 'muted' }, at ? 'not kept in the history' : 'none')));
}

/** The actor page. */
export const actorView: View = (root, ctx) => {
  const route = ctx.route as ActorRoute;
  const status = h('div', { class: 'status' });
  const body = h('div', {});
  const charts = h('div', { class: 'grid charts' });
  const children = h('div', {});
  const kept = h('div', { class: 'kept' });
  replace(root, h('h1', {}, route.path, h('span', { class: 'muted' }, ` in ${route.process}`)), status, body, kept, charts, h('h2', {}, 'Children'), children);
  const drawChildren = (rows: TreeRow[]): void => {
    const kids = rows.filter((r) => r.parent === route.path);
    replace(children, kids.length ? h('ul', {}, ...kids.slice(0, 200).map((k) => h('li', {}, actorLink(k, route.at), ` ${k.kind}`, k.object ? [' keeps ', keptLink(k.object, route.at)] : ''))) : h('p', { class: 'muted' }, 'None.'));
  };

  if (route.at) {
    let alive = true;
    void (async () => {
      const rows: TreeRow[] = [];
      // The past tree comes in pages in path order; read until the actor's children are past.
      for (let offset = 0; alive && offset < 20_000; offset += 500) {
        const v = (await ctx.feed.request({ type: 'at', time: route.at!, process: route.process, offset, limit: 500 })).value as AtResult;
        rows.push(...v.tree.rows);
        if (v.tree.rows.length === 0 || offset + v.tree.rows.length >= v.tree.total) break;
      }
      if (!alive) return;
      const me = rows.find((r) => r.path === route.path);
      if (!me) { replace(status, h('p', { class: 'muted' }, `${route.path} did not exist in ${route.process} at ${route.at}.`)); return; }
      replace(body, facts(me, route.at));
      drawChildren(rows);
    })().catch((e: unknown) => { if (alive) replace(status, errorLine(errorOf(e))); });
    return () => { alive = false; };
  }

  const table = new TableState<TreeRow>();
  let keptSub: { key: string; close(): void } | undefined;
  /** The kept object, live: a pod's containers (restarts, last termination) beside its actor. */
  const follow = (o: KeptObject | undefined): void => {
    const key = o ? `${pluralOf(o.kind)}/${o.namespace ?? ''}/${o.name}` : '';
    if (keptSub?.key === key) return;
    keptSub?.close();
    keptSub = undefined;
    replace(kept);
    if (!o) return;
    const box = h('div', {});
    replace(kept, h('h2', {}, 'Keeps ', keptLink(o)), box);
    const s = ctx.feed.subscribe({ topic: 'object', kind: o.kind, namespace: o.namespace, name: o.name }, (f: SnapshotFrame | DeltaFrame) => {
      if (f.topic !== 'object') return;
      const obj = f.type === 'snapshot' ? f.detail.object : f.object;
      if (obj === undefined) return;
      if (obj === null) { replace(box, h('p', { class: 'muted' }, 'It no longer exists.')); return; }
      replace(box, pluralOf(o.kind) === 'pods' ? containersTable(obj)
        : h('p', {}, `resourceVersion ${obj.metadata.resourceVersion ?? ''}, generation ${obj.metadata.generation ?? ''}`));
    }, (e) => replace(box, errorLine(e)));
    keptSub = { key, close: () => s.close() };
  };
  const mailbox: Point[] = [];
  const rate: Point[] = [];
  const onFrame = (f: SnapshotFrame | DeltaFrame): void => {
    if (f.topic !== 'tree') return;
    if (f.type === 'snapshot') table.snapshot(f); else table.delta(f);
    const me = table.rows().find((r) => r.path === route.path);
    if (!me) { replace(status, h('p', { class: 'muted gone' }, `${route.path} is not running in ${route.process} (stopped, or not yet spawned).`)); replace(body); return; }
    replace(status);
    replace(body, facts(me));
    follow(me.object);
    const t = Date.now();
    mailbox.push({ t, v: me.mailbox ?? 0 });
    rate.push({ t, v: me.rate ?? 0 });
    if (mailbox.length > HISTORY) { mailbox.shift(); rate.shift(); }
    replace(charts, lineChart('mailbox', mailbox, (v) => String(Math.round(v))), lineChart('msgs/s', rate, (v) => fmt.rate(v)));
    drawChildren(table.rows());
  };
  const sub = ctx.feed.subscribe({ topic: 'tree', process: route.process, search: route.path, hideSystem: false, sort: 'path', offset: 0, limit: 500 },
    onFrame, (e) => replace(status, errorLine(e)));
  return () => { sub.close(); keptSub?.close(); };
};
