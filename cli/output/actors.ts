/**
 * The `mk actors` table: one row per actor, the figures of its last second (mailbox depth,
 * messages a second, p99 handling time), its restarts and its last crash.
 */
import { age } from '../../messages/printing/time';
import type { ActorRow } from '../actors';
import { renderTable } from './tabwriter';

/** What `--sort-by` takes: largest first, except path. */
export const ACTOR_SORT_KEYS = ['path', 'mailbox', 'rate', 'p99', 'restarts'] as const;
export type ActorSortKey = (typeof ACTOR_SORT_KEYS)[number];

/** Sorts rows: by process and path, or largest first by a figure (ties by process and path). */
export function sortActors(rows: ActorRow[], key: ActorSortKey = 'path'): ActorRow[] {
  const byPath = (a: ActorRow, b: ActorRow): number => a.process.localeCompare(b.process) || a.path.localeCompare(b.path);
  if (key === 'path') return [...rows].sort(byPath);
  const f: Record<Exclude<ActorSortKey, 'path'>, (r: ActorRow) => number> = {
    mailbox: (r) => r.stats?.mailbox ?? 0,
    rate: (r) => r.stats?.rate ?? 0,
    p99: (r) => r.stats?.p99Ms ?? 0,
    restarts: (r) => r.stats?.restarts ?? 0,
  };
  return [...rows].sort((a, b) => f[key](b) - f[key](a) || byPath(a, b));
}

/** The object an actor keeps, as `kind/namespace/name` (`-` for none). */
function kept(r: ActorRow): string {
  const o = r.object;
  if (!o) return '-';
  return `${o.kind.toLowerCase()}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/** A crash as `<age> ago: <error>` cut to 60 characters. */
function crash(r: ActorRow, now: number): string {
  const c = r.stats?.lastCrash;
  if (!c) return '-';
  const text = `${age(c.at, now)} ago: ${c.error.replace(/\s+/g, ' ')}`;
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** A handling time in ms with one decimal below 10 ms. */
function ms(v: number | undefined): string {
  if (v === undefined) return '-';
  return v < 10 ? v.toFixed(1) : String(Math.round(v));
}

/** The table; trailing newline included, '' when there are no rows and no header. */
export function renderActors(rows: ActorRow[], opts: { noHeaders?: boolean; wide?: boolean; now?: number } = {}): string {
  const now = opts.now ?? Date.now();
  const header = ['PROCESS', 'PATH', 'KIND', 'OBJECT', 'MAILBOX', 'MSG/S', 'P99(ms)', 'RESTARTS', 'LAST CRASH', ...(opts.wide ? ['MEAN(ms)', 'MAX WAIT(ms)', 'AGE'] : [])];
  const body = rows.map((r) => [
    r.process, r.path, r.kind, kept(r), String(r.stats?.mailbox ?? 0), (r.stats?.rate ?? 0).toFixed(r.stats && r.stats.rate < 10 ? 1 : 0),
    ms(r.stats?.p99Ms), String(r.stats?.restarts ?? 0), crash(r, now),
    ...(opts.wide ? [ms(r.stats?.meanMs), ms(r.stats?.maxWaitMs), age(r.since, now)] : []),
  ]);
  return renderTable(opts.noHeaders ? null : header, body);
}
