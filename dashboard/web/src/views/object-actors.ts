/**
 * The actors that keep one object (the control plane's pod actor and the node's pod actor, for
 * a pod): a `tree` subscription searching for its name, filtered to the actors whose kept object
 * is this one. Links go to each actor's page.
 */
import type { DeltaFrame, SnapshotFrame, TreeRow } from '../../../protocol';
import type { ViewContext } from '../context';
import { h, replace } from '../dom';
import { pluralOf } from '../kinds';
import { TableState } from '../table';
import { actorLink, crashText, errorLine } from './shared';

/** Whether `row` keeps the object plural/namespace/name. */
export function keeps(row: Pick<TreeRow, 'object'>, plural: string, namespace: string | undefined, name: string): boolean {
  const o = row.object;
  return !!o && o.name === name && pluralOf(o.kind) === pluralOf(plural) && (o.namespace ?? undefined) === (namespace ?? undefined);
}

/** Draws the actors keeping the object into `box`; returns the cleanup. */
export function actorsOf(ctx: ViewContext, plural: string, namespace: string | undefined, name: string, box: HTMLElement): () => void {
  const table = new TableState<TreeRow>();
  const draw = (): void => {
    const rows = table.rows().filter((r) => keeps(r, plural, namespace, name));
    replace(box, rows.length === 0 ? h('p', { class: 'muted' }, 'No actor keeps it (yet).') : h('ul', { class: 'keepers' },
      ...rows.map((r) => h('li', { 'data-process': r.process }, actorLink(r), ` in ${r.process} (${r.kind}), mailbox ${r.mailbox ?? 0}, restarts ${r.restarts ?? 0}`,
        r.lastCrash ? h('span', { class: 'error' }, `, last crash: ${crashText(r)}`) : ''))));
  };
  const sub = ctx.feed.subscribe({ topic: 'tree', search: name, hideSystem: false, sort: 'path', offset: 0, limit: 500 }, (f: SnapshotFrame | DeltaFrame) => {
    if (f.topic !== 'tree') return;
    if (f.type === 'snapshot') table.snapshot(f); else table.delta(f);
    draw();
  }, (e) => replace(box, errorLine(e)));
  return () => sub.close();
}
