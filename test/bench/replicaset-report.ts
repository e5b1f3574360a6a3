/**
 * The replicaset benchmark's figures and printed form: per round, the time for a ReplicaSet created
 * with N replicas to have N pods Running against N pods applied directly, their ratio, messages
 * per pod, and the time to replace the pods deleted at once. Pure.
 */
import { plural } from './probes-report';
import { median, round, spread } from './stats';

/** The aim: a ReplicaSet within this factor of direct creates (p50 of the rounds). */
export const AIM_RATIO = 1.1;

/** One round: the set and the direct creates, in the order they ran. */
export interface ReplicaSetRound {
  /** Which half ran first in this round. */
  first: 'replicaset' | 'direct';
  /** ReplicaSet created -> N pods Running, ms. */
  replicasetMs: number;
  /** First apply sent -> N pods Running, ms. */
  directMs: number;
  /** nats-server messages (in + out) per pod in each half. */
  replicasetMsgsPerPod: number;
  directMsgsPerPod: number;
  /** Pods deleted at once -> the set has N Running again, ms; NaN when it did not within the deadline. */
  replaceMs: number;
  /** How many pods were deleted for replaceMs. */
  replaced: number;
  /** Busy share of the CPU before each half (0..1). */
  busyBefore: { replicaset: number; direct: number };
}

/** A whole run. */
export interface ReplicaSetRun {
  pods: number;
  nodes: number;
  /** Applies in flight at a time for the direct creates (the set's largest slow-start batch). */
  window: number;
  rounds: ReplicaSetRound[];
}

/** p50 (median) and min-max of `xs`, as `p50 (min-max)`, rounded to `digits`. */
export function p50Range(xs: number[], digits = 1): string {
  const s = spread(xs, digits);
  return `${s.median} (${s.min}-${s.max})`;
}

/** The ratio replicaset / direct of each round. */
export const ratios = (run: ReplicaSetRun): number[] => run.rounds.map((r) => r.replicasetMs / r.directMs);

/** The run as markdown lines: the summary table, a row per round, and whether the aim was met. */
export function formatReplicaSet(run: ReplicaSetRun): string[] {
  const rs = run.rounds;
  const col = (f: (r: ReplicaSetRound) => number, d = 1) => p50Range(rs.map(f), d);
  const rat = ratios(run);
  const out = [
    `${run.pods} pods on ${run.nodes} hollow nodes, ${plural(rs.length, 'round')}; direct creates ${run.window} in flight.`,
    '',
    '| | ReplicaSet 0 -> N | direct creates | ratio |',
    '|---|---|---|---|',
    `| to N Running, ms: p50 (min-max) | ${col((r) => r.replicasetMs)} | ${col((r) => r.directMs)} | ${p50Range(rat, 2)}x |`,
    `| nats messages per pod | ${col((r) => r.replicasetMsgsPerPod)} | ${col((r) => r.directMsgsPerPod)} | |`,
    '',
    '| round | first | ReplicaSet (ms) | direct (ms) | ratio | replace (ms) |',
    '|---|---|---|---|---|---|',
  ];
  rs.forEach((r, i) => {
    out.push(`| ${i + 1} | ${r.first} | ${round(r.replicasetMs)} | ${round(r.directMs)} | ${round(r.replicasetMs / r.directMs, 2)}x | `
      + `${Number.isNaN(r.replaceMs) ? 'not within the deadline' : round(r.replaceMs)} |`);
  });
  const repl = rs.filter((r) => !Number.isNaN(r.replaceMs)).map((r) => r.replaceMs);
  const replaced = rs[0]?.replaced ?? 0;
  out.push('', `Replacing ${replaced} pods deleted at once (no baseline): `
    + `${repl.length ? `${p50Range(repl)} ms` : 'never within the deadline'}${repl.length < rs.length ? ` (${rs.length - repl.length} of ${rs.length} rounds not within the deadline)` : ''}.`);
  const m = median(rat);
  out.push(`Aim: the ReplicaSet within ${AIM_RATIO}x of direct creates at p50: ${m <= AIM_RATIO ? 'met' : 'not met'} (${round(m, 2)}x).`);
  const busy = rs.flatMap((r) => [r.busyBefore.replicaset, r.busyBefore.direct]).filter((b) => b >= 0.1);
  if (busy.length) out.push(`${busy.length} of ${rs.length * 2} halves started with the CPU still busy (up to ${Math.round(Math.max(...busy) * 100)} %): another workload ran on this machine.`);
  return out;
}
