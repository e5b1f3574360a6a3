/**
 * `mk get`'s table: the columns each kind declares (messages/kinds/), laid out by Go's tabwriter
 * as kubectl's printers do. Priority-1 columns are shown with `-o wide` only.
 */
import type { KindInfo, KubeObject } from '../../messages';
import { resourceName } from '../../messages/kind';
import { renderTable } from './tabwriter';

/** What a table needs besides the objects. */
export interface TableOptions {
  wide?: boolean;
  /** Prepend a NAMESPACE column (`-A`). */
  withNamespace?: boolean;
  noHeaders?: boolean;
  now?: number;
  /** Write names as `kind/name` (`mk get all`, as kubectl does when it prints several kinds). */
  kindPrefix?: boolean;
}

/** Renders objects of one kind as kubectl's table; trailing newline included. */
export function renderObjects(kind: KindInfo, objects: KubeObject[], opts: TableOptions = {}): string {
  const now = opts.now ?? Date.now();
  const cols = kind.columns.filter((c) => opts.wide || !c.priority);
  const header = [...(opts.withNamespace ? ['NAMESPACE'] : []), ...cols.map((c) => c.name)];
  const cell = (c: (typeof cols)[number], o: KubeObject) => (opts.kindPrefix && c.name === 'NAME' ? resourceName(kind, c.value(o, now)) : c.value(o, now));
  const rows = objects.map((o) => [...(opts.withNamespace ? [o.metadata.namespace ?? ''] : []), ...cols.map((c) => cell(c, o))]);
  return renderTable(opts.noHeaders ? null : header, rows);
}
