/**
 * The volumes benchmark's printed form: the command, the headline table (medians over rounds of
 * each side's p50 and p90, the with / without ratio's spread over rounds), then every round with
 * its p50, p90 and spread (fastest-slowest pod).
 */
import { median, round, spread, type Spread } from './stats';
import type { VolumesHalf, VolumesResult } from './volumes';

/** The rounds summarised. */
export interface VolumesSummary {
  withP50: number; withP90: number; withoutP50: number; withoutP90: number;
  /** Per-round with p50 / without p50. */
  ratioP50: Spread;
  /** Per-round with p90 / without p90. */
  ratioP90: Spread;
}

/** Medians over the rounds of each side's p50 and p90, and the spread of the per-round ratios. */
export function summarizeVolumes(res: VolumesResult): VolumesSummary {
  const m = (f: (r: VolumesResult['results'][number]) => number) => round(median(res.results.map(f)));
  return {
    withP50: m((r) => r.with.p50), withP90: m((r) => r.with.p90), withoutP50: m((r) => r.without.p50), withoutP90: m((r) => r.without.p90),
    ratioP50: spread(res.results.map((r) => r.ratioP50)), ratioP90: spread(res.results.map((r) => r.ratioP90)),
  };
}

const x = (s: Spread) => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
const half = (h: VolumesHalf) => `${h.p50} / ${h.p90} (${h.min}-${h.max})`;

/** The tables, as markdown lines. Throws on a result with no rounds (nothing to report). */
export function formatVolumes(res: VolumesResult): string[] {
  if (res.results.length === 0) throw new Error('the volumes benchmark measured no round');
  const s = summarizeVolumes(res);
  const out = [
    `\`${res.command}\``,
    '',
    `${res.pods} pods per half, one after another, ${res.rounds} rounds, order flipped every round; apply -> Running per pod`,
    '(with volumes: an emptyDir, a ConfigMap and a claim of the default class, the clock started before the claim\'s apply);',
    'figures are medians over the rounds, ratios are with / without per round: median (min-max).',
    '',
    '| pods | with p50 (ms) | with p90 (ms) | without p50 (ms) | without p90 (ms) | ratio p50 | ratio p90 |',
    '|---|---|---|---|---|---|---|',
    `| ${res.pods} one after another | ${s.withP50} | ${s.withP90} | ${s.withoutP50} | ${s.withoutP90} | ${x(s.ratioP50)} | ${x(s.ratioP90)} |`,
    '',
    'Per round, p50 / p90 (fastest-slowest) in ms:',
    '',
    '| round | first | with volumes | without | ratio p50 | ratio p90 |',
    '|---|---|---|---|---|---|',
    ...res.results.map((r) => `| ${r.round} | ${r.first} | ${half(r.with)} | ${half(r.without)} | ${r.ratioP50.toFixed(2)}x | ${r.ratioP90.toFixed(2)}x |`),
  ];
  const halves = res.results.flatMap((r) => [r.with, r.without]);
  const busy = halves.filter((h) => !h.quiet.idle);
  const pct = (hs: VolumesHalf[]) => `${(Math.max(...hs.map((h) => h.quiet.busy)) * 100).toFixed(1)} %`;
  out.push('');
  out.push(busy.length === 0
    ? `Every half started with containerd empty, no claim or volume left, and the CPU under 10 % busy (the busiest: ${pct(halves)} over 500 ms).`
    : `${busy.length} of ${halves.length} halves started with the CPU still busy (up to ${pct(busy)}): another workload ran on this machine; read those rounds with care.`);
  return out;
}
