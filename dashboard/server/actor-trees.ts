/**
 * The actor trees of every process of the cluster, kept in memory from their telemetry
 * (messages/telemetry.ts): lifecycle batches change the trees, stats batches the figures, a
 * snapshot reply fills a tree a process already had before we listened. No I/O here: the feed
 * (actor-feed-client.ts) hands messages in, and asks for a snapshot when `needsSnapshot` says so.
 */
import type {
  ActorInfo, ActorLifecycleBatch, ActorSnapshotReply, ActorStats, ActorStatsBatch, ProcessStats,
} from '../../messages/telemetry';
import type { ProcessRow, TreeRow, TreeSort } from '../protocol';

interface ActorEntry { info: ActorInfo; stats?: ActorStats }

/** One process's tree. */
interface ProcessTree {
  process: string;
  incarnation: string;
  actors: Map<string, ActorEntry>;
  self?: ProcessStats;
  lastSeen: number;
  /** The last lifecycle seq applied. */
  seq: number;
  /** True until a snapshot filled the tree (lifecycle messages are kept for after it). */
  loading: boolean;
  pending: ActorLifecycleBatch['events'];
}

/** What the tree view asks for (TreeParams without paging). */
export interface TreeFilter { process?: string; hideSystem?: boolean; search?: string; sort?: TreeSort }

/** How many lifecycle events a loading process keeps before it asks for a new snapshot anyway. */
const MAX_PENDING = 50_000;

/** The cluster's actor trees. `version` counts changes, so views recompute only when it moved. */
export class ActorTrees {
  private readonly trees = new Map<string, ProcessTree>();
  version = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The processes known, with their figures. */
  processes(): ProcessRow[] {
    return [...this.trees.values()].map((t) => ({
      key: t.process, process: t.process, incarnation: t.incarnation,
      ...(t.self ? { self: t.self } : {}), lastSeen: new Date(t.lastSeen).toISOString(),
    })).sort((a, b) => a.key.localeCompare(b.key));
  }

  /** How many actors are held, over every process. */
  get size(): number {
    let n = 0;
    for (const t of this.trees.values()) n += t.actors.size;
    return n;
  }

  /**
   * Whether `process` (incarnation `incarnation`) needs a snapshot: it is new, restarted, or lost
   * lifecycle messages. Marks it loading (so the caller asks once).
   */
  needsSnapshot(process: string, incarnation: string): boolean {
    const t = this.trees.get(process);
    if (t && t.incarnation === incarnation) return false;
    this.trees.set(process, {
      process, incarnation, actors: new Map(), lastSeen: this.now(), seq: 0, loading: true, pending: [],
    });
    this.version++;
    return true;
  }

  /** Applies one page of a snapshot; `last` ends the load (pending lifecycle events after it are applied). */
  applySnapshot(reply: ActorSnapshotReply, last: boolean): void {
    const t = this.trees.get(reply.process);
    if (!t || t.incarnation !== reply.incarnation) return;
    for (const a of reply.actors) {
      const { stats, ...info } = a;
      t.actors.set(info.path, { info, ...(stats ? { stats } : {}) });
    }
    t.self = reply.self;
    t.seq = Math.max(t.seq, reply.seq);
    t.lastSeen = this.now();
    if (last) {
      t.loading = false;
      const pending = t.pending;
      t.pending = [];
      this.applyEvents(t, pending.filter((e) => e.seq > reply.seq));
    }
    this.version++;
  }

  /**
   * Applies a lifecycle batch. Returns false when the process must be (re)loaded from a snapshot:
   * unknown, another incarnation, or a seq was skipped.
   */
  applyLifecycle(batch: ActorLifecycleBatch): boolean {
    const t = this.trees.get(batch.process);
    if (!t || t.incarnation !== batch.incarnation) return false;
    t.lastSeen = this.now();
    if (t.loading) {
      t.pending.push(...batch.events);
      return t.pending.length < MAX_PENDING;
    }
    const ok = this.applyEvents(t, batch.events);
    this.version++;
    return ok;
  }

  private applyEvents(t: ProcessTree, events: ActorLifecycleBatch['events']): boolean {
    for (const e of events) {
      if (e.seq <= t.seq) continue;
      if (e.seq !== t.seq + 1) return false;
      t.seq = e.seq;
      if (e.type === 'spawned') {
        t.actors.set(e.actor.path, { info: e.actor });
      } else if (e.type === 'stopped') {
        // Its children stop with it; their own messages may come later or never.
        for (const p of t.actors.keys()) if (p === e.path || p.startsWith(`${e.path}/`)) t.actors.delete(p);
      } else {
        const a = t.actors.get(e.path);
        if (a) {
          const base: ActorStats = a.stats ?? {
            path: e.path, mailbox: 0, handled: 0, rate: 0, meanMs: 0, p99Ms: 0, maxWaitMs: 0, restarts: 0,
          };
          a.stats = { ...base, restarts: e.restarts, ...(e.type === 'crashed' ? { lastCrash: e.crash } : {}) };
        }
      }
    }
    return true;
  }

  /** Applies a stats batch. Returns false when the process is unknown or another incarnation. */
  applyStats(batch: ActorStatsBatch): boolean {
    const t = this.trees.get(batch.process);
    if (!t || t.incarnation !== batch.incarnation) return false;
    t.self = batch.self;
    t.lastSeen = this.now();
    for (const s of batch.actors) {
      const a = t.actors.get(s.path);
      if (a) a.stats = s;
    }
    this.version++;
    return true;
  }

  /** Forgets a process (gone quiet for too long). */
  forget(process: string): void {
    if (this.trees.delete(process)) this.version++;
  }

  /** Processes not heard of since `before` (ms). */
  silentSince(before: number): string[] {
    return [...this.trees.values()].filter((t) => t.lastSeen < before).map((t) => t.process);
  }

  /** Every actor that passes the filter, sorted as asked. */
  rows(filter: TreeFilter = {}): TreeRow[] {
    const search = filter.search?.toLowerCase();
    const out: TreeRow[] = [];
    for (const t of this.trees.values()) {
      if (filter.process && t.process !== filter.process) continue;
      for (const a of t.actors.values()) {
        if (filter.hideSystem && a.info.system) continue;
        if (search && !matchesSearch(a.info, search)) continue;
        out.push(treeRow(t.process, a));
      }
    }
    return sortRows(out, filter.sort ?? 'path');
  }

  /** The top `n` actors by mailbox or rate (ties by key). */
  hot(by: 'mailbox' | 'rate', n: number, filter: Omit<TreeFilter, 'sort'> = {}): TreeRow[] {
    const rows = this.rows({ ...filter, sort: 'path' }).filter((r) => (r[by] ?? 0) > 0);
    return sortRows(rows, by).slice(0, n);
  }
}

function matchesSearch(a: ActorInfo, search: string): boolean {
  if (a.path.toLowerCase().includes(search) || a.kind.toLowerCase().includes(search)) return true;
  const o = a.object;
  return !!o && `${o.kind}/${o.namespace ?? ''}/${o.name}`.toLowerCase().includes(search);
}

/** One actor as the page shows it. */
export function treeRow(process: string, a: { info: ActorInfo; stats?: ActorStats }): TreeRow {
  const { path: _path, ...stats } = a.stats ?? { path: '' };
  const depth = Math.max(0, a.info.path.split('/').filter(Boolean).length - 1);
  return { ...a.info, ...stats, key: `${process} ${a.info.path}`, process, depth };
}

/** Path order (processes, then the tree's paths), or the figure largest first, ties by key. */
export function sortRows(rows: TreeRow[], sort: TreeSort): TreeRow[] {
  const byKey = (a: TreeRow, b: TreeRow): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  if (sort === 'path') {
    // A parent comes right before its children: '/' sorts before every other character here.
    const order = new Map(rows.map((r) => [r, `${r.process}\u0000${r.path.replaceAll('/', '\u0001')}`]));
    return rows.sort((a, b) => { const x = order.get(a)!, y = order.get(b)!; return x < y ? -1 : x > y ? 1 : 0; });
  }
  const field = ({ mailbox: 'mailbox', rate: 'rate', p99: 'p99Ms', restarts: 'restarts' } as const)[sort];
  return rows.sort((a, b) => (b[field] ?? 0) - (a[field] ?? 0) || byKey(a, b));
}
