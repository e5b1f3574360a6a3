/** Lag: the objects whose controller has not yet observed their latest spec (observedGeneration behind generation). */
import type { DeltaFrame, LagRow, SnapshotFrame } from '../../../protocol';
import type { View } from '../context';
import { h, link, replace } from '../dom';
import { frameScheduler, renderRows } from '../keyed';
import { pluralOf } from '../kinds';
import { objectHref } from '../router';
import { TableState } from '../table';
import { errorLine, num } from './shared';

/** The Lag view. */
export const lagView: View = (root, ctx) => {
  const table = new TableState<LagRow>();
  const status = h('div', { class: 'status' });
  const tbody = h('tbody', {});
  const empty = h('p', { class: 'muted' });
  replace(root, h('h1', {}, 'Reconcile lag'),
    h('p', { class: 'muted' }, 'Objects whose status.observedGeneration is behind metadata.generation: their controller has not acted on their latest spec yet.'),
    status, h('table', { class: 'lag' }, h('thead', {}, h('tr', {}, ...['kind', 'namespace', 'name', 'generation', 'observed', 'behind by'].map((c) => h('th', {}, c)))), tbody), empty);
  const render = frameScheduler(() => {
    const rows = table.rows();
    empty.textContent = rows.length ? '' : 'Nothing is behind.';
    renderRows(tbody, rows, (r) => r.key, (r) => [r.kind, r.namespace ?? '', link(objectHref(pluralOf(r.kind), r.namespace, r.name), r.name),
      num(String(r.generation)), num(r.observedGeneration === undefined ? 'never' : String(r.observedGeneration)),
      num(String(r.generation - (r.observedGeneration ?? 0)))]);
  });
  const sub = ctx.feed.subscribe({ topic: 'lag' }, (f: SnapshotFrame | DeltaFrame) => {
    if (f.topic !== 'lag') return;
    if (f.type === 'snapshot') table.snapshot(f); else table.delta(f);
    render();
  }, (e) => replace(status, errorLine(e)));
  return () => sub.close();
};
