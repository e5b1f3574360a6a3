/**
 * `mk get`'s table: the columns each kind declares (messages/kinds/), laid out by Go's tabwriter
 * as kubectl's printers do. Priority-1 columns are shown with `-o wide` only.
 */
import type { KindInfo, KubeObject } from '../../messages';
import { renderTable } from './tabwriter';

/** What a table needs besides the objects. */
export interface TableOptions {
  wide?: boolean;
  /** Prepend a NAMESPACE column (`-A`). */
  withNamespace?: boolean;
  noHeaders?: boolean;
  now?: number;
}

/** Renders objects of one kind as kubectl's table; trailing newline included. */
export function renderObjects(kind: KindInfo, objects: KubeObject[], opts: TableOptions = {}): string {
  const now = opts.now ?? Date.now();
  const cols = kind.columns.filter((c) => opts.wide || !c.priority);
  const header = [...(opts.withNamespace ? ['NAMESPACE'] : []), ...cols.map((c) => c.name)];
  const rows = objects.map((o) => [...(opts.withNamespace ? [o.metadata.namespace ?? ''] : []), ...cols.map((c) => c.value(o, now))]);
  return renderTable(opts.noHeaders ? null : header, rows);
}
