/**
 * The dashboard benchmark's figures and printed form: from a pod's status written to the store
 * until the dashboard's page shows it, against a plain NATS subscriber of the watch subject seeing
 * the same change (the bus's own latency). Pure: the measuring lives in dashboard.ts.
 */
import { median, percentile, round, spread, type Spread } from './stats';

/** The aim: the page shows a change within this many ms at p95. */
export const AIM_P95_MS = 250;

/** The two ways changes are written. */
export const PHASES = ['paced', 'burst'] as const;
export type Phase = (typeof PHASES)[number];

/** The latencies (ms) of one phase of one round: per change, seen by each observer. */
export interface PhaseSamples {
  /** Write -> the page's DOM shows the marker. */
  page: number[];
  /** Write -> a NATS subscriber of mk.watch in the bench process gets the event. */
  bus: number[];
  /** Write -> a NATS client in the browser (nats-server's websocket listener) gets it; absent when not measured. */
  ws?: number[];
}

/** One round: the samples of each phase. */
export interface DashboardRound { round: number; phases: Record<Phase, PhaseSamples> }

/** What `npm run bench -- dashboard` measured. */
export interface DashboardResult {
  changes: number;
  /** Pods the changes are spread over (one page of the objects view). */
  pods: number;
  /** Pause between paced changes, ms (plus a random part up to the server's 250 ms tick). */
  gapMs: number;
  rounds: DashboardRound[];
  /** Why the websocket alternative was not measured, when it was not. */
  wsSkipped?: string;
}

/** p50 and p95 of samples, ms to 0.1. */
export interface Latency { p50: number; p95: number; n: number }

/** p50 and p95 of `xs`. Throws for no samples (a phase that saw nothing is a bug). */
export function latency(xs: number[]): Latency {
  if (xs.length === 0) throw new Error('no samples');
  return { p50: round(percentile(xs, 50), 1), p95: round(percentile(xs, 95), 1), n: xs.length };
}

/** One phase over all rounds. */
export interface PhaseSummary {
  phase: Phase;
  /** Medians over the rounds of each round's p50 and p95. */
  page: Latency;
  bus: Latency;
  ws?: Latency;
  /** Per round, page / bus at p50 and p95: median (min-max). */
  ratioP50: Spread;
  ratioP95: Spread;
  /** Per round, page - bus at p95, ms. */
  extraP95: Spread;
}

function medianLatency(ls: Latency[]): Latency {
  return { p50: round(median(ls.map((l) => l.p50)), 1), p95: round(median(ls.map((l) => l.p95)), 1), n: ls.reduce((a, l) => a + l.n, 0) };
}

/** Per phase: medians of the rounds' p50/p95, and the spread of the per-round ratios. Throws for no rounds. */
export function summarizeDashboard(rounds: DashboardRound[]): PhaseSummary[] {
  if (rounds.length === 0) throw new Error('no rounds');
  return PHASES.map((phase) => {
    const per = rounds.map((r) => ({ page: latency(r.phases[phase].page), bus: latency(r.phases[phase].bus), ws: r.phases[phase].ws }));
    const ws = per.every((p) => p.ws && p.ws.length > 0) ? medianLatency(per.map((p) => latency(p.ws!))) : undefined;
    // A bus p50 of 0 ms (same millisecond) would divide by zero: count it as 0.1 ms.
    const div = (a: number, b: number) => a / Math.max(b, 0.1);
    return {
      phase, page: medianLatency(per.map((p) => p.page)), bus: medianLatency(per.map((p) => p.bus)), ...(ws ? { ws } : {}),
      ratioP50: spread(per.map((p) => div(p.page.p50, p.bus.p50)), 1), ratioP95: spread(per.map((p) => div(p.page.p95, p.bus.p95)), 1),
      extraP95: spread(per.map((p) => p.page.p95 - p.bus.p95), 1),
    };
  });
}

/** Whether the page met the aim in a phase: the median of the rounds' p95 under AIM_P95_MS. */
export function dashboardAimMet(s: PhaseSummary): boolean {
  return s.page.p95 < AIM_P95_MS;
}

const lat = (l: Latency) => `${l.p50} / ${l.p95}`;
const x = (s: Spread) => `${s.median}x (${s.min}-${s.max})`;

/** The tables, as markdown lines. */
export function formatDashboard(res: DashboardResult): string[] {
  const sums = summarizeDashboard(res.rounds);
  const withWs = sums.some((s) => s.ws);
  const out = [
    `${res.changes} pod status changes per phase over ${res.pods} pods, ${res.rounds.length} rounds: paced (one at a time, each awaited, ${res.gapMs}-${res.gapMs + 250} ms apart)`,
    `and burst (one change to each pod at once, repeated). Each change is timed from just before its mk.api.update-status request until`,
    'the dashboard\'s page (headless Chromium, objects view of pods) shows it in its DOM, and until a NATS subscriber of mk.watch in the',
    'bench process gets it (the bus\'s own latency), both seeing the same change. ms, medians over the rounds; ratios page / bus per round.',
    '',
    `| phase | page p50 / p95 | bus p50 / p95 |${withWs ? ' browser NATS (websocket) p50 / p95 |' : ''} ratio p50 | ratio p95 | page - bus at p95 (ms) |`,
    `|---|---|---|${withWs ? '---|' : ''}---|---|---|`,
    ...sums.map((s) => `| ${s.phase} | ${lat(s.page)} | ${lat(s.bus)} |${withWs ? ` ${s.ws ? lat(s.ws) : '-'} |` : ''} ${x(s.ratioP50)} | ${x(s.ratioP95)} | ${s.extraP95.median} (${s.extraP95.min}-${s.extraP95.max}) |`),
    '',
    `Aim (the page within ${AIM_P95_MS} ms at p95): ${sums.map((s) => `${s.phase} ${dashboardAimMet(s) ? 'met' : 'not met'} (${s.page.p95} ms)`).join(', ')}.`,
  ];
  if (res.wsSkipped) out.push(`The browser over nats-server's websocket listener was not measured: ${res.wsSkipped}.`);
  return out;
}
