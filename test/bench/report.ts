/**
 * The pod-startup benchmark's printed form: the headline table in the shape docs/benchmarks.md
 * uses (medians over rounds, the ratio's spread beside it), then the per-round figures.
 */
import type { HalfResult, PodStartupResult, RoundResult } from './pod-startup';
import { median, round, spread, type Spread } from './stats';

/** One mode summarised over its rounds. */
export interface ModeSummary {
  mkP50: number; mkP99: number; criP50: number; criP99: number;
  /** Per-round mk p50 / CRI p50. */
  ratioP50: Spread;
  /** Per-round mk p99 / CRI p99. */
  ratioP99: Spread;
}

/** Medians over the rounds of each side's p50 and p99, and the spread of the per-round ratios. */
export function summarizeRounds(rounds: RoundResult[]): ModeSummary {
  const m = (f: (r: RoundResult) => number) => round(median(rounds.map(f)));
  return {
    mkP50: m((r) => r.mk.p50), mkP99: m((r) => r.mk.p99), criP50: m((r) => r.cri.p50), criP99: m((r) => r.cri.p99),
    ratioP50: spread(rounds.map((r) => r.ratioP50)), ratioP99: spread(rounds.map((r) => r.ratioP99)),
  };
}

const x = (s: Spread) => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;

/** The tables, as markdown lines. */
export function formatPodStartup(res: PodStartupResult): string[] {
  const seq = summarizeRounds(res.sequential);
  const con = summarizeRounds(res.concurrent);
  const row = (label: string, s: ModeSummary) =>
    `| ${label} | ${s.mkP50} | ${s.mkP99} | ${s.criP50} | ${s.criP99} | ${x(s.ratioP50)} | ${x(s.ratioP99)} |`;
  const pair = (h: { p50: number; p99: number }) => `${h.p50} / ${h.p99}`;
  const out = [
    `${res.pods} pods per half, ${res.rounds} rounds, order flipped every round; figures are medians over the rounds,`,
    'ratios are mk / CRI per round: median (min-max).',
    '',
    '| pods | mk p50 (ms) | mk p99 (ms) | CRI p50 (ms) | CRI p99 (ms) | ratio p50 | ratio p99 |',
    '|---|---|---|---|---|---|---|',
    row(`${res.pods} one after another`, seq),
    row(`${res.pods} at once (CRI limit ${res.criLimit})`, con),
    '',
    `At-once baseline, concurrency limits tried in the warm-up (${res.pods} pods each):`,
    '',
    '| limit | p50 (ms) | p99 (ms) | all done (ms) |',
    '|---|---|---|---|',
    ...res.limitProbe.map((p) => `| ${p.limit}${p.limit === res.criLimit ? ' (used)' : ''} | ${p.p50} | ${p.p99} | ${p.makespan} |`),
    '',
    'Per round, p50 / p99 in ms:',
    '',
    '| round | first | one after another: mk | CRI | ratio p50 | at once: mk | CRI | ratio p50 |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (let i = 0; i < res.sequential.length; i++) {
    const s = res.sequential[i];
    const c = res.concurrent[i];
    out.push(`| ${s.round} | ${s.first === 'mk' ? 'mk' : 'CRI'} | ${pair(s.mk)} | ${pair(s.cri)} | ${s.ratioP50.toFixed(2)}x | ${pair(c.mk)} | ${pair(c.cri)} | ${c.ratioP50.toFixed(2)}x |`);
  }
  const halves = [...res.sequential, ...res.concurrent].flatMap((r) => [r.mk, r.cri]);
  const busy = halves.filter((h) => !h.quiet.idle);
  const pct = (hs: HalfResult[]) => `${(Math.max(...hs.map((h) => h.quiet.busy)) * 100).toFixed(1)} %`;
  out.push('');
  out.push(busy.length === 0
    ? `Every half started with containerd empty and the CPU under 10 % busy (the busiest: ${pct(halves)} over 500 ms).`
    : `${busy.length} of ${halves.length} halves started with the CPU still busy (up to ${pct(busy)}): another workload ran on this machine; read those rounds with care.`);
  return out;
}
