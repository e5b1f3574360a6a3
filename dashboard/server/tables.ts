/**
 * The tables of the feed as pure functions: one page of sorted rows, and what a page that changed
 * sends (the rows added or changed, the keys gone, the new order) instead of the whole table. The
 * server keeps the page each subscription last sent and diffs the next against it.
 */
import type { TableDelta, TableTopic } from '../protocol';

/** A row the page keys by. */
export interface Keyed { key: string }

/** One page as sent: its rows, where it starts, and how many rows match in all. */
export interface Page<T extends Keyed> { total: number; offset: number; rows: T[] }

/** Rows `offset` to `offset + limit` of `rows` (already filtered and sorted). */
export function pageOf<T extends Keyed>(rows: readonly T[], offset: number, limit: number): Page<T> {
  return { total: rows.length, offset, rows: rows.slice(offset, offset + limit) };
}

/** What changed between two pages of a table, as a delta's fields. */
export type PageChange<T> = Pick<TableDelta, 'remove' | 'order' | 'total'> & { upsert?: T[] };

/**
 * The change from `prev` to `next`: rows that are new or whose content differs, keys no longer on
 * the page, the keys in order when the order or set changed, and the total when it changed.
 * Undefined when nothing changed. Rows are compared by their JSON, so they must be plain data.
 */
export function diffPage<T extends Keyed>(prev: Page<T>, next: Page<T>): PageChange<T> | undefined {
  const before = new Map(prev.rows.map((r) => [r.key, JSON.stringify(r)]));
  const upsert = next.rows.filter((r) => before.get(r.key) !== JSON.stringify(r));
  const keys = new Set(next.rows.map((r) => r.key));
  const remove = prev.rows.filter((r) => !keys.has(r.key)).map((r) => r.key);
  const sameOrder = prev.rows.length === next.rows.length && prev.rows.every((r, i) => r.key === next.rows[i].key);
  const change: PageChange<T> = {
    ...(upsert.length ? { upsert } : {}),
    ...(remove.length ? { remove } : {}),
    ...(sameOrder ? {} : { order: next.rows.map((r) => r.key) }),
    ...(prev.total !== next.total ? { total: next.total } : {}),
  };
  return Object.keys(change).length ? change : undefined;
}

/** The delta frame of a change, or undefined when there is none. */
export function tableDelta<T extends TableTopic>(
  sub: number, topic: T, change: PageChange<unknown> | undefined,
): TableDelta<T> | undefined {
  if (!change) return undefined;
  return { type: 'delta', sub, topic, ...change } as TableDelta<T>;
}

/**
 * Applies a delta to a page, as the browser does: for tests that check a snapshot plus its deltas
 * equal the server's table, and for the page's own code to mirror.
 */
export function applyChange<T extends Keyed>(page: Page<T>, change: PageChange<T>): Page<T> {
  const rows = new Map(page.rows.map((r) => [r.key, r]));
  for (const k of change.remove ?? []) rows.delete(k);
  for (const r of change.upsert ?? []) rows.set(r.key, r);
  const order = change.order ?? page.rows.map((r) => r.key).filter((k) => rows.has(k));
  return { total: change.total ?? page.total, offset: page.offset, rows: order.map((k) => rows.get(k)!).filter(Boolean) };
}
