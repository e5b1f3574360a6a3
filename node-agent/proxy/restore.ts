/**
 * The one iptables-restore transaction of a sync, as a pure function: given the chains applied by
 * the last sync and the chains wanted now, the input that rewrites only the chains that changed
 * and deletes those no longer wanted (declaring a chain with `--noflush` flushes it; `-X` deletes
 * it). Unchanged chains are not named at all, so a big cluster's sync writes a few lines.
 */
import { isProxyChain } from './chains';
import type { ProxyRules } from './rules';

/** The tables the proxy writes. */
export const TABLES = ['filter', 'nat'] as const;
export type Table = (typeof TABLES)[number];

/** Chains and their rules, as last applied. */
export type AppliedChains = Record<Table, Map<string, string[]>>;

/** What a sync writes: the restore input ('' for nothing) and the chains it names. */
export interface RestorePlan {
  input: string;
  written: Record<Table, string[]>;
  removed: Record<Table, string[]>;
}

const same = (a: string[] | undefined, b: string[]): boolean => a === b || (a !== undefined && a.length === b.length && a.every((l, i) => l === b[i]));

/**
 * The restore input that turns `previous` into `next`. Without `previous` (a full sync) every
 * chain is written and every proxy chain in `present` (read from iptables-save) that is not wanted
 * is deleted: what a killed predecessor left behind.
 */
export function planRestore(previous: AppliedChains | undefined, next: ProxyRules, present?: Record<Table, string[]>): RestorePlan {
  const plan: RestorePlan = { input: '', written: { filter: [], nat: [] }, removed: { filter: [], nat: [] } };
  const lines: string[] = [];
  for (const table of TABLES) {
    const want = next[table];
    const written = [...want.keys()].filter((c) => !previous || !same(previous[table].get(c), want.get(c)!));
    const before = previous ? [...previous[table].keys()] : (present?.[table] ?? []).filter((c) => isProxyChain(table, c));
    const removed = [...new Set(before)].filter((c) => !want.has(c));
    if (written.length === 0 && removed.length === 0) continue;
    plan.written[table] = written;
    plan.removed[table] = removed;
    lines.push(`*${table}`);
    for (const c of [...written, ...removed]) lines.push(`:${c} - [0:0]`);
    for (const c of written) lines.push(...want.get(c)!);
    for (const c of removed) lines.push(`-X ${c}`);
    lines.push('COMMIT');
  }
  plan.input = lines.length > 0 ? `${lines.join('\n')}\n` : '';
  return plan;
}

/** The input that flushes and deletes `chains` (teardown), or '' when there are none. */
export function planRemoval(chains: Record<Table, string[]>): string {
  const lines: string[] = [];
  for (const table of TABLES) {
    const mine = [...new Set(chains[table])].filter((c) => isProxyChain(table, c));
    if (mine.length === 0) continue;
    lines.push(`*${table}`, ...mine.map((c) => `:${c} - [0:0]`), ...mine.map((c) => `-X ${c}`), 'COMMIT');
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** The chain names declared in iptables-save output of one table (`:NAME POLICY [p:b]` lines). */
export function chainsInSave(save: string): string[] {
  return save.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]);
}

/**
 * What is remembered as applied: the chains of `rules`. The rule arrays are shared, not copied
 * (buildRules' arrays are not changed once built; a RuleCache hands the same ones to later builds,
 * which is what lets planRestore skip an unchanged chain without reading its lines).
 */
export function snapshot(rules: ProxyRules): AppliedChains {
  return { filter: new Map(rules.filter), nat: new Map(rules.nat) };
}
