/**
 * The page's copy of one table subscription (tree, hot, objects, nodes, lag): the rows of the
 * current page, kept by key, in the server's order. A snapshot replaces everything; a delta
 * upserts rows, removes keys and, when the page's order changed, gives the new order. Pure: no DOM.
 */

/** A row of any table: the server keys every row. */
export interface Keyed { key: string }

/** A snapshot's part that the table keeps. */
export interface TableSnapshotLike<R extends Keyed> { rows: R[]; total: number; offset: number }
/** A delta's part that the table applies. */
export interface TableDeltaLike<R extends Keyed> { upsert?: R[]; remove?: string[]; order?: string[]; total?: number }

/** Rows by key, in order, with the total the server counts for the filter. */
export class TableState<R extends Keyed> {
  private byKey = new Map<string, R>();
  private order: string[] = [];
  total = 0;
  offset = 0;

  /** Replaces the table with a snapshot's page. */
  snapshot(s: TableSnapshotLike<R>): void {
    this.byKey = new Map(s.rows.map((r) => [r.key, r]));
    this.order = s.rows.map((r) => r.key);
    this.total = s.total;
    this.offset = s.offset;
  }

  /**
   * Applies a delta: upserted rows replace theirs (a new key goes last until an order says where),
   * removed keys go, and `order` (when given) is the page's new order; keys it leaves out go too.
   */
  delta(d: TableDeltaLike<R>): void {
    for (const r of d.upsert ?? []) {
      if (!this.byKey.has(r.key)) this.order.push(r.key);
      this.byKey.set(r.key, r);
    }
    if (d.remove?.length) {
      const gone = new Set(d.remove);
      for (const k of gone) this.byKey.delete(k);
      this.order = this.order.filter((k) => !gone.has(k));
    }
    if (d.order) {
      this.order = d.order.filter((k) => this.byKey.has(k));
      const keep = new Set(this.order);
      for (const k of [...this.byKey.keys()]) if (!keep.has(k)) this.byKey.delete(k);
    }
    if (d.total !== undefined) this.total = d.total;
  }

  /** The rows in order. */
  rows(): R[] {
    return this.order.map((k) => this.byKey.get(k)).filter((r): r is R => r !== undefined);
  }

  /** One row by key. */
  get(key: string): R | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.order.length;
  }
}
