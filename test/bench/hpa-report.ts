/**
 * The hpa benchmark's figures and printed form: per round, the time from a load change to the
 * HorizontalPodAutoscaler's decision (the Deployment's spec.replicas written) and to the pods
 * following it, each also as a ratio against what the algorithm should need: the sync period plus
 * the stats period for a scale up, the scale-down stabilization window for a scale down. Pure.
 */
import { p50Range } from './replicaset-report';
import { plural } from './probes-report';
import { round } from './stats';

/** One round: load up, then load down. Times in ms from the load change; NaN: not within the deadline. */
export interface HpaRound {
  /** Load start -> the Deployment's spec.replicas raised. */
  upDecisionMs: number;
  /** The replicas the first raise wrote. */
  scaledTo: number;
  /** Load start -> that many of its pods Running. */
  upRunningMs: number;
  /** Load back to low -> spec.replicas back to the minimum. */
  downDecisionMs: number;
  /** Load back to low -> only the minimum of pods left Running. */
  downPodsMs: number;
  /** Busy share of the CPU before the round (0..1). */
  busyBefore: number;
}

/** A whole run and its settings. */
export interface HpaRun {
  nodes: number;
  /** Other pods on each hollow node, idle, in every stats report. */
  podsPerNode: number;
  minReplicas: number;
  maxReplicas: number;
  /** The HPA's cpu target, % of requests. */
  targetPercent: number;
  /** Usage reported at low and at high load, % of requests. */
  lowPercent: number;
  highPercent: number;
  /** MK_HPA_SYNC_PERIOD, ms. */
  syncMs: number;
  /** Time between two stats reports of a node, ms. */
  statsMs: number;
  /** The scale-down stabilization window, s; `windowDefault` when the HPA left it to the default. */
  downWindowS: number;
  windowDefault: boolean;
  rounds: HpaRound[];
}

/** What a scale up should take at most: a stats report to carry the load, a sync to see it. */
export const upBoundMs = (run: HpaRun): number => run.syncMs + run.statsMs;

/**
 * What a scale down should take at most: the last high recommendation can come a stats report and
 * a sync after the load fell, the window runs from there, and the next sync acts on it.
 */
export const downBoundMs = (run: HpaRun): number => run.downWindowS * 1000 + run.statsMs + 2 * run.syncMs;

/** Seconds, to 0.1 s. */
const secs = (ms: number): string => (Number.isNaN(ms) ? 'not within the deadline' : String(round(ms / 1000)));
/** A duration in seconds as written in the header. */
const dur = (ms: number): string => `${round(ms / 1000, 3)} s`;

/** `p50 (min-max)` of the finite values in s and as a ratio, or a note when none. */
function cells(xs: number[], against: number): [string, string] {
  const ok = xs.filter((x) => !Number.isNaN(x));
  if (ok.length === 0) return ['none within the deadline', '-'];
  const missed = xs.length - ok.length;
  return [`${p50Range(ok.map((x) => x / 1000))}${missed ? ` (${missed} missed)` : ''}`, `${p50Range(ok.map((x) => x / against), 2)}x`];
}

/** How many of `xs` are finite and at most `bound`. */
const within = (xs: number[], bound: number): number => xs.filter((x) => !Number.isNaN(x) && x <= bound).length;

/** The run as markdown lines: the settings, the summary table, a row per round, and the verdicts. */
export function formatHpa(run: HpaRun): string[] {
  const rs = run.rounds;
  const up = upBoundMs(run);
  const win = run.downWindowS * 1000;
  const row = (what: string, xs: number[], against: number, name: string) => {
    const [s, r] = cells(xs, against);
    return `| ${what} | ${s} | ${r} | ${name} |`;
  };
  const out = [
    `HPA min ${run.minReplicas} max ${run.maxReplicas} at ${run.targetPercent} % cpu of a Deployment on ${plural(run.nodes, 'hollow node')}`
      + `${run.podsPerNode ? ` (${run.podsPerNode} other pods each)` : ''}; sync period ${dur(run.syncMs)}, stats every ${dur(run.statsMs)}, `
      + `scale-down window ${run.downWindowS} s${run.windowDefault ? ' (default)' : ''}; load ${run.lowPercent} % -> ${run.highPercent} % `
      + `-> ${run.lowPercent} % of requests, ${plural(rs.length, 'round')}.`,
    '',
    '| from the load change | s: p50 (min-max) | ratio: p50 (min-max) | ratio against |',
    '|---|---|---|---|',
    row('up: spec.replicas raised', rs.map((r) => r.upDecisionMs), up, `sync + stats period (${dur(up)})`),
    row('up: new replicas Running', rs.map((r) => r.upRunningMs), up, `sync + stats period (${dur(up)})`),
    row(`down: spec.replicas back to ${run.minReplicas}`, rs.map((r) => r.downDecisionMs), win, `scale-down window (${run.downWindowS} s)`),
    row(`down: ${run.minReplicas} pods left`, rs.map((r) => r.downPodsMs), win, `scale-down window (${run.downWindowS} s)`),
    '',
    `| round | raised to | raised (s) | Running (s) | back to ${run.minReplicas} (s) | pods left (s) |`,
    '|---|---|---|---|---|---|',
  ];
  rs.forEach((r, i) => {
    out.push(`| ${i + 1} | ${Number.isNaN(r.upDecisionMs) ? '-' : r.scaledTo} | ${secs(r.upDecisionMs)} | ${secs(r.upRunningMs)} | `
      + `${secs(r.downDecisionMs)} | ${secs(r.downPodsMs)} |`);
  });
  const upOk = within(rs.map((r) => r.upDecisionMs), up);
  const down = downBoundMs(run);
  const downOk = within(rs.map((r) => r.downDecisionMs), down);
  const early = rs.filter((r) => r.downDecisionMs < win - run.syncMs).length;
  out.push('', `Scale up decided within the sync period + the stats period (${dur(up)}, the most the algorithm should need) `
    + `in ${upOk} of ${rs.length} rounds.`);
  out.push(`Scale down decided within the window + the stats period + two sync periods (${dur(down)}) in ${downOk} of ${rs.length} rounds`
    + `${early ? `; ${early} before the window less a sync period had passed (the window did not hold)` : ''}.`);
  const busy = rs.filter((r) => r.busyBefore >= 0.1);
  if (busy.length) {
    out.push(`${busy.length} of ${rs.length} rounds started with the CPU still busy (up to ${Math.round(Math.max(...busy.map((r) => r.busyBefore)) * 100)} %): `
      + 'another workload ran on this machine.');
  }
  return out;
}
