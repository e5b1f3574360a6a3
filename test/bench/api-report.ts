/**
 * The api benchmark's figures and printed form: per operation, the medians over the rounds of
 * mk's and raw KV's p50 and p99, the per-round ratios' spread, and whether the aim was met.
 * Pure: the measuring lives in api.ts.
 */
import { median, percentile, round, spread, type Spread } from './stats';

/** The operations timed on both sides. */
export const API_OPS = ['create', 'get', 'update', 'list', 'watch'] as const;
/** One timed operation (see API_OPS). */
export type ApiOp = (typeof API_OPS)[number];
/** The operations that write: the aim is about these. */
export const MUTATIONS: readonly ApiOp[] = ['create', 'update'];

/** The aim: a mutation's p99 under this many ms ... */
export const AIM_P99_MS = 2;
/** ... and within this many times raw KV's p99. */
export const AIM_RATIO = 5;

/** p50 and p99 (ms, to 0.01) of one operation in one half, and the sample count. */
export interface OpFigures { p50: number; p99: number; n: number }

/** One side of one round: figures per operation. */
export type HalfFigures = Record<ApiOp, OpFigures>;

/** One round: both halves, which went first, and how busy the CPU was before each. */
export interface ApiRound {
  round: number;
  first: 'mk' | 'kv';
  mk: HalfFigures;
  kv: HalfFigures;
  /** Busy share of the CPU before each half (0..1). */
  busyBefore: { mk: number; kv: number };
  /**
   * The control plane's CPU time (user + system, /proc/<pid>/stat) per request of the mk half's
   * create, get and update phases, ms: less sensitive to other load on the machine than latency.
   */
  cpuMsPerRequest?: { create: number; get: number; update: number };
  /** Applies a second with PARALLEL requests in flight (mk: updates through mk.api.apply; KV: KV updates). */
  parallel?: { inFlight: number; mk: number; kv: number };
}

/** What `npm run bench -- api` measured. */
export interface ApiResult {
  objects: number;
  lists: number;
  /** Size of one stored object (and of the raw KV payload), bytes. */
  payloadBytes: number;
  rounds: ApiRound[];
}

/** p50 and p99 of `xs` to 0.01 ms. Throws for no samples (a half that timed nothing is a bug). */
export function opFigures(xs: number[]): OpFigures {
  if (xs.length === 0) throw new Error('no samples');
  return { p50: round(percentile(xs, 50), 2), p99: round(percentile(xs, 99), 2), n: xs.length };
}

/** One operation over all rounds. */
export interface OpSummary {
  op: ApiOp;
  mkP50: number; mkP99: number; kvP50: number; kvP99: number;
  ratioP50: Spread; ratioP99: Spread;
}

/** Medians over the rounds and the spread of the per-round ratios mk / raw KV, per operation. */
export function summarizeApi(rounds: ApiRound[]): OpSummary[] {
  return API_OPS.map((op) => {
    const m = (f: (r: ApiRound) => number) => round(median(rounds.map(f)), 2);
    return {
      op,
      mkP50: m((r) => r.mk[op].p50), mkP99: m((r) => r.mk[op].p99), kvP50: m((r) => r.kv[op].p50), kvP99: m((r) => r.kv[op].p99),
      ratioP50: spread(rounds.map((r) => r.mk[op].p50 / r.kv[op].p50)),
      ratioP99: spread(rounds.map((r) => r.mk[op].p99 / r.kv[op].p99)),
    };
  });
}

/** Whether a mutation met the aim: p99 under AIM_P99_MS and the p99 ratio (median) within AIM_RATIO. */
export function aimMet(s: OpSummary): { p99: boolean; ratio: boolean } {
  return { p99: s.mkP99 < AIM_P99_MS, ratio: s.ratioP99.median <= AIM_RATIO };
}

const x = (s: Spread) => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;

const LABEL: Record<ApiOp, { mk: string; kv: string }> = {
  create: { mk: 'mk.api.apply (created)', kv: 'KV create' },
  get: { mk: 'mk.api.get', kv: 'KV get' },
  update: { mk: 'mk.api.apply (configured)', kv: 'KV update (revision)' },
  list: { mk: 'mk.api.list', kv: 'the store\'s list on the raw bucket' },
  watch: { mk: 'apply sent -> mk.watch event', kv: 'KV update sent -> KV watch entry' },
};

/** The tables, as markdown lines. */
export function formatApi(res: ApiResult): string[] {
  const sums = summarizeApi(res.rounds);
  const n = res.rounds.length;
  const out = [
    `${res.objects} objects per half (namespaces, ${res.payloadBytes} bytes stored each), ${res.lists} lists of all of them, ${n} rounds,`,
    'halves alternating (order flipped every round); ms, medians over the rounds; ratios mk / raw KV per round: median (min-max).',
    '',
    '| operation | mk | raw KV baseline | mk p50 | mk p99 | KV p50 | KV p99 | ratio p50 | ratio p99 |',
    '|---|---|---|---|---|---|---|---|---|',
    ...sums.map((s) => `| ${s.op} | ${LABEL[s.op].mk} | ${LABEL[s.op].kv} | ${s.mkP50} | ${s.mkP99} | ${s.kvP50} | ${s.kvP99} | ${x(s.ratioP50)} | ${x(s.ratioP99)} |`),
    '',
  ];
  for (const s of sums.filter((v) => MUTATIONS.includes(v.op))) {
    const met = aimMet(s);
    out.push(`Aim for ${s.op}: p99 under ${AIM_P99_MS} ms: ${met.p99 ? 'met' : 'not met'} (${s.mkP99} ms); `
      + `within ${AIM_RATIO}x of raw KV at p99: ${met.ratio ? 'met' : 'not met'} (${s.ratioP99.median.toFixed(2)}x; at p50 ${s.ratioP50.median.toFixed(2)}x).`);
  }
  out.push('', 'Per round, p50 / p99 in ms:', '', `| round | first | ${API_OPS.map((o) => `${o}: mk | KV`).join(' | ')} |`,
    `|---|---|${API_OPS.map(() => '---|---|').join('')}`);
  for (const r of res.rounds) {
    const pair = (f: OpFigures) => `${f.p50} / ${f.p99}`;
    out.push(`| ${r.round} | ${r.first === 'mk' ? 'mk' : 'KV'} | ${API_OPS.map((o) => `${pair(r.mk[o])} | ${pair(r.kv[o])}`).join(' | ')} |`);
  }
  const cpu = res.rounds.map((r) => r.cpuMsPerRequest).filter((c) => c !== undefined);
  if (cpu.length > 0) {
    const m = (f: (c: NonNullable<ApiRound['cpuMsPerRequest']>) => number) => round(median(cpu.map(f)), 3);
    out.push('', `Control plane CPU per request (user + system, median over the rounds): create ${m((c) => c.create)} ms, `
      + `get ${m((c) => c.get)} ms, update ${m((c) => c.update)} ms (the update's includes publishing its watch event).`);
  }
  const par = res.rounds.map((r) => r.parallel).filter((p) => p !== undefined);
  if (par.length > 0) {
    out.push('', `With ${par[0].inFlight} requests in flight (median over the rounds): mk.api.apply ${Math.round(median(par.map((p) => p.mk)))} updates/s, `
      + `raw KV ${Math.round(median(par.map((p) => p.kv)))} updates/s.`);
  }
  const busy = res.rounds.flatMap((r) => [r.busyBefore.mk, r.busyBefore.kv]);
  const worst = Math.max(...busy);
  out.push('', worst < 0.1
    ? `Every half started with the CPU under 10 % busy (the busiest: ${(worst * 100).toFixed(1)} % over 500 ms).`
    : `${busy.filter((b) => b >= 0.1).length} of ${busy.length} halves started with the CPU still busy (up to ${(worst * 100).toFixed(1)} %): another workload ran on this machine; read those rounds with care.`);
  return out;
}
