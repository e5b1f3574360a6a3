/**
 * `mk top` tables, as kubectl top prints them (kubectl's pkg/cmd/top, metricsutil/metrics_printer.go):
 * CPU in millicores rounded up (`250m`), memory in whole Mi (`12Mi`), node percentages of the
 * node's capacity truncated to whole percents; `<unknown>` for a node without metrics.
 */
import type { NodeMetrics, PodMetrics, Usage } from '../../messages/usage';
import { renderTable } from './tabwriter';

/** What `--sort-by` takes. */
export const TOP_SORT_KEYS = ['cpu', 'memory'] as const;
/** One of TOP_SORT_KEYS. */
export type TopSortKey = (typeof TOP_SORT_KEYS)[number];

/** Nanocores as kubectl top prints them: millicores, rounded up. */
export function topCpu(nanoCores: number): string {
  return `${Math.ceil(Math.max(0, nanoCores) / 1e6 - 1e-9)}m`;
}

/** Bytes as kubectl top prints them: whole Mi, rounded down. */
export function topMemory(bytes: number): string {
  return `${Math.floor(Math.max(0, bytes) / 2 ** 20)}Mi`;
}

/** `used` as a whole percent of `total` (`<unknown>` without a total). */
export function topPercent(used: number, total: number): string {
  return total > 0 ? `${Math.floor((used / total) * 100)}%` : '<unknown>';
}

/** Sorts by usage, largest first (stable: equal ones keep their order); no key keeps the order. */
function sortBy<T>(items: T[], key: TopSortKey | undefined, raw: (t: T) => Usage): T[] {
  if (!key) return items;
  const f = key === 'cpu' ? (t: T) => raw(t).cpuNanoCores : (t: T) => raw(t).memoryBytes;
  return [...items].sort((a, b) => f(b) - f(a));
}

/** Options of the pods table. */
export interface TopPodsOptions {
  /** -A: a NAMESPACE column first. */
  allNamespaces?: boolean;
  /** --containers: one row per container, with POD and NAME columns. */
  containers?: boolean;
  sortBy?: TopSortKey;
  noHeaders?: boolean;
}

/** The `mk top pods` table; trailing newline included, '' when there is nothing to print. */
export function renderTopPods(items: PodMetrics[], opts: TopPodsOptions = {}): string {
  const ns = (p: PodMetrics): string[] => (opts.allNamespaces ? [p.metadata.namespace] : []);
  const sorted = sortBy(items, opts.sortBy, (p) => p.raw);
  if (opts.containers) {
    const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'];
    const rows = sorted.flatMap((p) => sortBy(p.containers, opts.sortBy, (c) => c.raw).map((c) => [
      ...ns(p), p.metadata.name, c.name, topCpu(c.raw.cpuNanoCores), topMemory(c.raw.memoryBytes),
    ]));
    return renderTable(opts.noHeaders ? null : header, rows);
  }
  const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)'];
  const rows = sorted.map((p) => [...ns(p), p.metadata.name, topCpu(p.raw.cpuNanoCores), topMemory(p.raw.memoryBytes)]);
  return renderTable(opts.noHeaders ? null : header, rows);
}

/** Options of the nodes table. */
export interface TopNodesOptions {
  sortBy?: TopSortKey;
  noHeaders?: boolean;
  /** Nodes that exist but have no metrics: shown last with `<unknown>`, as kubectl does. */
  withoutMetrics?: string[];
}

/** The `mk top nodes` table; trailing newline included. */
export function renderTopNodes(items: NodeMetrics[], opts: TopNodesOptions = {}): string {
  const header = ['NAME', 'CPU(cores)', 'CPU%', 'MEMORY(bytes)', 'MEMORY%'];
  const rows = sortBy(items, opts.sortBy, (n) => n.raw).map((n) => [
    n.metadata.name,
    topCpu(n.raw.cpuNanoCores), topPercent(n.raw.cpuNanoCores, n.capacity.cpuNanoCores),
    topMemory(n.raw.memoryBytes), topPercent(n.raw.memoryBytes, n.capacity.memoryBytes),
  ]);
  for (const name of opts.withoutMetrics ?? []) rows.push([name, '<unknown>', '<unknown>', '<unknown>', '<unknown>']);
  return renderTable(opts.noHeaders ? null : header, rows);
}
