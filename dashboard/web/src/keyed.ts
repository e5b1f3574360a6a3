/**
 * Renders a page of keyed rows into a <tbody>, touching only what changed: a row whose data is
 * the same keeps its <tr>, a changed row gets new cells, rows move only when the order changed.
 * A delta of ten changed actors among 500 thus costs ten rows, not a whole table.
 */
import { append, type Child } from './dom';

const SIG = Symbol('sig');
type Tr = HTMLTableRowElement & { [SIG]?: string };

/** Makes `tbody` show `rows` (keyed by `key`), cells from `cells`; `sig` says when a row changed. */
export function renderRows<R>(
  tbody: HTMLTableSectionElement,
  rows: readonly R[],
  key: (r: R) => string,
  cells: (r: R) => Child[],
  sig: (r: R) => string = (r) => JSON.stringify(r),
): void {
  const existing = new Map<string, Tr>();
  for (const tr of Array.from(tbody.children) as Tr[]) existing.set(tr.dataset.key ?? '', tr);
  const keep = new Set<string>();
  let at: ChildNode | null = tbody.firstChild;
  for (const r of rows) {
    const k = key(r);
    keep.add(k);
    const s = sig(r);
    let tr = existing.get(k);
    if (!tr) {
      tr = document.createElement('tr') as Tr;
      tr.dataset.key = k;
    }
    if (tr[SIG] !== s) {
      tr[SIG] = s;
      const frag = document.createDocumentFragment();
      for (const c of cells(r)) {
        if (c instanceof HTMLTableCellElement) frag.appendChild(c);
        else { const td = document.createElement('td'); append(td, [c]); frag.appendChild(td); }
      }
      tr.replaceChildren(frag);
    }
    if (tr !== at) tbody.insertBefore(tr, at);
    else at = at.nextSibling;
  }
  for (const [k, tr] of existing) if (!keep.has(k)) tr.remove();
}

/** Coalesces renders to one per animation frame. */
export function frameScheduler(render: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; render(); });
  };
}
