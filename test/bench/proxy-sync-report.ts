/**
 * The proxy-sync benchmark's figures and printed form: the service proxy's first sync of S
 * services x E endpoints, then one endpoint changed among them (a partial sync), against a full
 * resync of the same state, alternating over rounds; with the iptables-restore input of each. Pure.
 */
import { median, round, spread } from './stats';

/** One round: the partial sync after one endpoint changed and a full resync, in the order run. */
export interface ProxySyncRound {
  first: 'partial' | 'full';
  /** ms of the partial sync (one endpoint changed) and of the full resync. */
  partialMs: number;
  fullMs: number;
  /** Bytes of iptables-restore input each wrote. */
  partialBytes: number;
  fullBytes: number;
}

/** A whole run. */
export interface ProxySyncRun {
  services: number;
  endpoints: number;
  /** ms from starting the proxy to its first (full) sync applied, and that sync's input size. */
  firstSyncMs: number;
  firstBytes: number;
  /** Rules in the nat table after the first sync. */
  natRules: number;
  rounds: ProxySyncRound[];
  /** Busy share of the machine before the run (0..1). */
  busyBefore: number;
}

const kb = (b: number): string => (b >= 1024 ? `${round(b / 1024)} KiB` : `${b} B`);

/** The run as markdown lines. */
export function formatProxySync(run: ProxySyncRun): string[] {
  const rs = run.rounds;
  const pr = (xs: number[], d = 1) => { const s = spread(xs, d); return `${s.median} (${s.min}-${s.max})`; };
  const out = [
    `${run.services} services x ${run.endpoints} endpoints (${run.natRules} nat rules), ${rs.length} round${rs.length === 1 ? '' : 's'} alternating.`,
    '',
    '| sync | ms: median (min-max) | iptables-restore input |',
    '|---|---|---|',
    `| first (full, from nothing) | ${round(run.firstSyncMs)} | ${kb(run.firstBytes)} |`,
    `| one endpoint changed (partial) | ${pr(rs.map((r) => r.partialMs))} | ${kb(median(rs.map((r) => r.partialBytes)))} |`,
    `| full resync of the same state | ${pr(rs.map((r) => r.fullMs))} | ${kb(median(rs.map((r) => r.fullBytes)))} |`,
    '',
    `Partial / full resync: time ${pr(rs.map((r) => r.partialMs / r.fullMs), 3)}x, input ${pr(rs.map((r) => r.partialBytes / r.fullBytes), 4)}x.`,
  ];
  if (run.busyBefore >= 0.1) out.push(`The CPU was ${Math.round(run.busyBefore * 100)} % busy before the run: another workload ran on this machine.`);
  return out;
}
