/** Pieces several views share: pagers, error lines, links to kept objects and actors. */
import type { FeedError, TreeRow } from '../../../protocol';
import type { KeptObject } from '../../../../messages/telemetry';
import { h, link, type Child } from '../dom';
import * as fmt from '../format';
import { pluralOf } from '../kinds';
import { actorHref, objectHref } from '../router';

/** Rows per page of the paged tables. */
export const PAGE_SIZE = 100;

/** "1-100 of 10,000" with previous and next buttons; `go(page)` changes page. */
export function pager(page: number, size: number, total: number, go: (page: number) => void): HTMLElement {
  const first = total === 0 ? 0 : page * size + 1;
  const last = Math.min(total, (page + 1) * size);
  return h('div', { class: 'pager' },
    h('button', { type: 'button', class: 'prev', disabled: page === 0, onclick: () => go(page - 1) }, '‹ prev'),
    h('span', { class: 'range' }, `${first}-${last} of ${total.toLocaleString('en')}`),
    h('button', { type: 'button', class: 'next', disabled: last >= total, onclick: () => go(page + 1) }, 'next ›'));
}

/** An error line naming the code and message. */
export function errorLine(e: FeedError): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, `${e.code}: ${e.message}`);
}

/** A link to the object an actor keeps. */
export function keptLink(o: KeptObject | undefined, at?: string): Child {
  if (!o) return '';
  const label = `${o.kind.toLowerCase()}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
  return link(objectHref(pluralOf(o.kind), o.namespace, o.name, at), label);
}

/** A link to an actor's page, labelled by its path. */
export function actorLink(row: Pick<TreeRow, 'process' | 'path'>, at?: string, label?: string): HTMLAnchorElement {
  return link(actorHref(row.process, row.path, at), label ?? row.path);
}

/** The last crash, short. */
export function crashText(row: Pick<TreeRow, 'lastCrash'>): string {
  const c = row.lastCrash;
  if (!c) return '';
  return `${c.error}${c.message ? ` (handling ${c.message})` : ''}`;
}

/** A numeric cell. */
export function num(v: string): HTMLTableCellElement {
  return h('td', { class: 'num' }, v);
}

/** The figures of an actor row as cells: mailbox, msgs/s, mean, p99, restarts. */
export function figureCells(r: TreeRow): HTMLTableCellElement[] {
  return [
    num(r.mailbox === undefined ? '' : String(r.mailbox)),
    num(fmt.rate(r.rate)), num(fmt.ms(r.meanMs)), num(fmt.ms(r.p99Ms)),
    num(r.restarts === undefined ? '' : String(r.restarts)),
  ];
}

/** A colour for a backlog: green when empty, through amber, to red at 100 and more (log scale). */
export function heatColour(mailbox: number): string {
  const x = Math.min(1, Math.log10(1 + Math.max(0, mailbox)) / 2);
  return `hsl(${Math.round(120 - 120 * x)}, 70%, ${Math.round(45 + 10 * (1 - x))}%)`;
}
