/**
 * Objects: the objects of one kind as `mk get` prints them (the server sends the kind's columns
 * and cells), filtered by namespace and label selector, paged by the server, live.
 */
import type { ColumnInfo, DeltaFrame, ObjectRow, SnapshotFrame } from '../../../protocol';
import type { View } from '../context';
import { h, link, replace } from '../dom';
import * as fmt from '../format';
import { frameScheduler, renderRows } from '../keyed';
import { MENU_KINDS } from '../kinds';
import { objectHref, type Route } from '../router';
import { TableState } from '../table';
import { errorLine, PAGE_SIZE, pager } from './shared';

type ObjectsRoute = Extract<Route, { view: 'objects' }>;

/** The Objects view. */
export const objectsView: View = (root, ctx) => {
  const route = ctx.route as ObjectsRoute;
  const go = (r: Partial<ObjectsRoute>): void => ctx.replace({ ...route, ...r });
  const table = new TableState<ObjectRow>();
  let columns: ColumnInfo[] = [];
  let plural = route.plural;
  const status = h('div', { class: 'status' });
  const thead = h('thead', {});
  const tbody = h('tbody', {});
  const pagerBox = h('div', {});

  const kindSel = h('input', { list: 'kinds', name: 'kind', value: route.plural, size: 14, 'aria-label': 'kind' });
  kindSel.addEventListener('change', () => { if (kindSel.value.trim()) go({ plural: kindSel.value.trim(), page: 0 }); });
  const ns = h('input', { type: 'text', name: 'namespace', placeholder: 'all namespaces', value: route.namespace ?? '', size: 14 });
  ns.addEventListener('change', () => go({ namespace: ns.value.trim() || undefined, page: 0 }));
  const labels = h('input', { type: 'text', name: 'labels', placeholder: 'label selector (app=web)', value: route.labels ?? '', size: 24 });
  labels.addEventListener('change', () => go({ labels: labels.value.trim() || undefined, page: 0 }));
  replace(root, h('h1', {}, 'Objects'),
    h('datalist', { id: 'kinds' }, ...MENU_KINDS.map((k) => h('option', { value: k }))),
    h('div', { class: 'toolbar' }, kindSel, ns, labels),
    status, h('table', { class: 'objects' }, thead, tbody), pagerBox);

  const ageCol = (): number => columns.findIndex((c) => c.name === 'AGE');
  // Like `mk get`: priority 1 columns only when wide.
  let wide = false;
  const shown = (): number[] => columns.map((c, i) => (wide || c.priority === 0 ? i : -1)).filter((i) => i >= 0);
  const drawHead = (): void => replace(thead, h('tr', {}, h('th', {}, 'namespace'), ...shown().map((i) => h('th', {}, columns[i].name.toLowerCase()))));
  const wideBox = h('input', { type: 'checkbox', name: 'wide', onchange: (e) => { wide = (e.target as HTMLInputElement).checked; drawHead(); tbody.replaceChildren(); render(); } });
  root.querySelector('.toolbar')?.append(h('label', {}, wideBox, ' wide'));
  const render = frameScheduler(() => {
    const now = Date.now();
    const ai = ageCol();
    const cols = shown();
    renderRows(tbody, table.rows(), (r) => r.key, (r) => {
      const cells = r.cells.map((c, i) => (i === ai && r.created ? fmt.age(r.created, now) : c));
      const ni = columns.findIndex((c) => c.name === 'NAME');
      const href = objectHref(plural, r.namespace, r.name);
      return [
        r.namespace ?? '',
        ...cols.map((i) => (i === ni || (ni < 0 && i === 0) ? link(href, cells[i] ?? '') : cells[i] ?? '')),
      ];
    }, (r) => `${wide} ${r.resourceVersion} ${r.created ? fmt.age(r.created, now) : ''} ${r.cells.join('\u0000')}`);
    replace(pagerBox, pager(route.page, PAGE_SIZE, table.total, (page) => go({ page })));
  });
  const onFrame = (f: SnapshotFrame | DeltaFrame): void => {
    if (f.topic !== 'objects') return;
    if (f.type === 'snapshot') {
      table.snapshot(f);
      columns = f.columns ?? columns;
      plural = f.kind ?? plural;
      drawHead();
      replace(status);
    } else {
      table.delta(f);
    }
    render();
  };
  const sub = ctx.feed.subscribe({ topic: 'objects', kind: route.plural, namespace: route.namespace, labelSelector: route.labels, offset: route.page * PAGE_SIZE, limit: PAGE_SIZE },
    onFrame, (e) => replace(status, errorLine(e)));
  const ages = setInterval(render, 5000);
  return () => { sub.close(); clearInterval(ages); };
};
