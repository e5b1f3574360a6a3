/**
 * The failover benchmark's pure parts: from the store writes seen around a leader's end, how long
 * until another control plane held the lease and until it bound a pod; the summary over rounds and
 * the printed report. No I/O.
 */
import { median, round } from './stats';

/** How the leader is ended: SIGKILL (the lease must expire or be found dead) or SIGTERM (released). */
export type Fault = 'SIGKILL' | 'SIGTERM';

/** One write of the store as the benchmark's watch saw it (times in ms, one monotonic clock). */
export interface ObservedWrite {
  /** When the watch delivered it. */
  at: number;
  /** The store revision: the order the writes were made in. */
  revision: number;
  /** A write of the control planes' lease: its holder (undefined once released). */
  lease?: { holder?: string };
  /** A pod's first binding (spec.nodeName set): the pod's name. */
  bound?: string;
}

/** What one fault cost, in ms from the signal. */
export interface Gap {
  /** Signal -> the lease written by a holder other than the one signalled. */
  leaseMs?: number;
  /** Signal -> the first binding written after that takeover (so by the new leader). */
  boundMs?: number;
  /** The takeover's revision. */
  takeoverRevision?: number;
}

/**
 * Reads a fault's gap from the writes seen: the first lease write after `t0` naming a holder
 * other than `oldHolder`, then the first binding stored after it. A binding stored between the
 * signal and the takeover was the old leader's last (a write already on its way) and does not
 * end the gap. Undefined fields: not seen (yet).
 */
export function measureGap(t0: number, oldHolder: string, writes: readonly ObservedWrite[]): Gap {
  const takeover = writes.find((w) => w.at >= t0 && w.lease?.holder !== undefined && w.lease.holder !== oldHolder);
  if (!takeover) return {};
  const gap: Gap = { leaseMs: takeover.at - t0, takeoverRevision: takeover.revision };
  const bound = writes.find((w) => w.bound !== undefined && w.revision > takeover.revision);
  if (bound) gap.boundMs = Math.max(0, bound.at - t0);
  return gap;
}

/**
 * The longest wait for a binding within [from, to] with no fault: the largest interval between
 * consecutive bindings seen (and from `from` to the first). Read beside a fault's gap, it says
 * what the pace of the load alone gives. NaN when none was seen.
 */
export function steadyLongest(writes: readonly ObservedWrite[], from: number, to: number): number {
  const at = writes.filter((w) => w.bound !== undefined && w.at >= from && w.at <= to).map((w) => w.at);
  if (at.length === 0) return NaN;
  let longest = at[0] - from;
  for (let i = 1; i < at.length; i++) longest = Math.max(longest, at[i] - at[i - 1]);
  return longest;
}

/** One round of the benchmark. */
export interface FailoverRound {
  round: number;
  fault: Fault;
  /** The replica signalled (cp-1 ...), and the one that took over. */
  leader: string;
  successor: string;
  leaseMs: number;
  boundMs: number;
  /** The longest wait for a binding in the steady period before the signal (steadyLongest). */
  steadyMs: number;
  /** Apply requests that got no answer (or an error) during the round and were sent again. */
  failedApplies: number;
}

/** A whole run: its settings and its rounds. */
export interface FailoverRun {
  leaseSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  replicas: number;
  nodes: number;
  podsPerSecond: number;
  /** Each control plane in a pid namespace of its own: a dead holder cannot be seen, as across machines. */
  isolated: boolean;
  rounds: FailoverRound[];
  /** Load averages (1, 5, 15 min) when the rounds started and ended. */
  loadBefore: number[];
  loadAfter: number[];
  /** Pods applied and bound over the run. */
  applied: number;
  bound: number;
}

/** Median (p50: the mean of the middle two for an even count), smallest and largest over rounds, in ms (0.1). */
export interface RoundSpread { p50: number; min: number; max: number }

/** Per fault: how many rounds, the lease and binding gaps, the applies sent again. */
export interface FaultSummary { fault: Fault; rounds: number; lease: RoundSpread; bound: RoundSpread; failedApplies: number }

/** The steady periods of every round: the longest wait for a binding with no fault. */
export function summarizeSteady(rounds: readonly FailoverRound[]): RoundSpread {
  return roundSpread(rounds.map((r) => r.steadyMs));
}

function roundSpread(xs: number[]): RoundSpread {
  return { p50: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) };
}

/** The summary per fault, SIGKILL first; a fault without rounds is left out. */
export function summarizeFailover(rounds: readonly FailoverRound[]): FaultSummary[] {
  const out: FaultSummary[] = [];
  for (const fault of ['SIGKILL', 'SIGTERM'] as const) {
    const rs = rounds.filter((r) => r.fault === fault);
    if (rs.length === 0) continue;
    out.push({
      fault, rounds: rs.length,
      lease: roundSpread(rs.map((r) => r.leaseMs)), bound: roundSpread(rs.map((r) => r.boundMs)),
      failedApplies: rs.reduce((a, r) => a + r.failedApplies, 0),
    });
  }
  return out;
}

const s1 = (ms: number): string => (ms / 1000).toFixed(2);
const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');

/**
 * The report: the lease settings and the bound they allow, a table per fault (p50 and min-max
 * over rounds), then every round. Seconds with two decimals.
 */
export function formatFailover(run: FailoverRun): string[] {
  const lines: string[] = [];
  const boundS = (run.leaseSeconds * 1000 + run.retryPeriodMs) / 1000;
  lines.push(`lease ${run.leaseSeconds} s, renew deadline ${s1(run.renewDeadlineMs)} s, retry period ${s1(run.retryPeriodMs)} s; `
    + `${run.replicas} control planes${run.isolated ? ', each in a pid namespace of its own' : ' in one pid namespace'}, `
    + `${run.nodes} hollow nodes, ${run.podsPerSecond} pods/s applied`);
  lines.push(run.isolated
    ? `bound for SIGKILL: the lease (${run.leaseSeconds} s) + one retry period = ${boundS.toFixed(2)} s before the lease is taken`
    : `bound for SIGKILL: one retry period (${s1(run.retryPeriodMs)} s) before the lease is taken: a standby on the same machine sees the holder's process gone; the lease (${run.leaseSeconds} s) bounds it across machines (--isolate)`);
  lines.push(`load average ${load(run.loadBefore)} at the start, ${load(run.loadAfter)} at the end; ${run.applied} pods applied, ${run.bound} bound`);
  lines.push('');
  lines.push('| fault | rounds | -> lease taken p50 (s) | min-max | -> next pod bound p50 (s) | min-max | applies sent again |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const s of summarizeFailover(run.rounds)) {
    lines.push(`| ${s.fault} | ${s.rounds} | ${s1(s.lease.p50)} | ${s1(s.lease.min)}-${s1(s.lease.max)} | ${s1(s.bound.p50)} | ${s1(s.bound.min)}-${s1(s.bound.max)} | ${s.failedApplies} |`);
  }
  if (run.rounds.length > 0) {
    const st = summarizeSteady(run.rounds);
    lines.push(`| none (longest wait for a binding before each signal) | ${run.rounds.length} | - | - | ${s1(st.p50)} | ${s1(st.min)}-${s1(st.max)} | - |`);
  }
  lines.push('');
  lines.push('| round | fault | leader | successor | -> lease taken (s) | -> next pod bound (s) | before: longest wait (s) | applies sent again |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const r of run.rounds) {
    lines.push(`| ${r.round} | ${r.fault} | ${r.leader} | ${r.successor} | ${s1(r.leaseMs)} | ${s1(r.boundMs)} | ${s1(r.steadyMs)} | ${r.failedApplies} |`);
  }
  return lines;
}
