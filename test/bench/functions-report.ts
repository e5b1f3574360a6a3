/**
 * The functions benchmark's figures and printed form: cold starts (a pool hit and a pool miss per
 * runtime, the miss against this machine's raw CRI pod start plus the interpreter's start), warm
 * latency and requests per second through the gateway against direct calls to the instances, and
 * a scale from zero to many instances. Pure: the measuring part is functions.ts.
 */
import { instancesFor } from '../../actors/function/autoscale';
import { median, percentile, round, spread, type Spread } from './stats';

/** The runtimes measured. */
export const BENCH_RUNTIMES = ['python3', 'node'] as const;
export type BenchRuntime = (typeof BENCH_RUNTIMES)[number];

/** A cold start taken from the node's warm pool, or made from nothing. */
export type PoolMode = 'hit' | 'miss';

/** Aims of the benchmark (docs/benchmarks.md, "Functions"). */
export const AIMS = {
  /** A pool hit's p50 and p99 in ms (Fission's published best is 73 ms). */
  hitP50Ms: 50, hitP99Ms: 150,
  /** A pool miss at most this many times raw CRI pod start + the interpreter's start. */
  missRatio: 1.3,
  /** Warm latency through the gateway at most this many ms above a direct call, p50 and p99. */
  warmP50Ms: 1, warmP99Ms: 3,
  /** Requests per second through the gateway at least this share of direct. */
  rpsRatio: 0.8,
} as const;

/** The node's pool counter over a series: calls served from the pool and not; null when the node has no counter. */
export interface PoolCount { hit: number; miss: number }

/** One round of cold starts: mk's samples and, for a miss, the baseline's (each in ms). */
export interface ColdRound {
  round: number;
  first: 'mk' | 'baseline';
  mk: number[];
  /** Raw CRI sandbox + container start (miss only). */
  cri: number[];
  /** The loader spawned on the host until /healthz answers ready (miss only). */
  interpreter: number[];
}

/** The cold starts of one runtime in one mode. */
export interface ColdSeries {
  runtime: BenchRuntime;
  mode: PoolMode;
  /** MK_FUNCTION_POOL_SIZE the node agent ran with ('default' when unset). */
  poolSize: string;
  rounds: ColdRound[];
  /** The pool counter's change over the samples; null when the node exports none. */
  pool: PoolCount | null;
  /** Calls answered with anything but 200 (not in the samples). */
  errors: number;
}

/** What one load run measured; latencies in ms. */
export interface LatencyRun { requests: number; errors: number; seconds: number; p50: number; p99: number }

/** One round of a comparison between the gateway and direct calls. */
export interface VersusRound { round: number; first: 'gateway' | 'direct'; gateway: LatencyRun; direct: LatencyRun }

/** Warm latency of one function with one connection. */
export interface WarmSeries { runtime: BenchRuntime; concurrency: number; seconds: number; rounds: VersusRound[] }

/** Requests per second over several instances (direct: the load split over their IPs, summed). */
export interface RpsSeries { runtime: BenchRuntime; instances: number; concurrency: number; connections: number; seconds: number; rounds: VersusRound[] }

/** A scale from zero: calls kept in flight until every instance is Ready. */
export interface ScaleResult {
  runtime: BenchRuntime;
  maxInstances: number;
  sleepMs: number;
  /** Calls kept in flight. */
  inFlight: number;
  /** ms from the first call to each instance's Ready, in order. */
  readyAtMs: number[];
  /** ms to the first answer. */
  firstAnswerMs: number;
  /** ms until every one of the first `inFlight` calls was answered. */
  firstWaveMs: number;
  /** ms until maxInstances were Ready; null when they were not within the deadline. */
  allReadyMs: number | null;
  deadlineMs: number;
  calls: number;
  errors: number;
}

/** Everything the benchmark measured (printed as one JSON line). */
export interface FunctionsResult {
  /** The command that reruns it. */
  command: string;
  cold: ColdSeries[];
  warm: WarmSeries[];
  rps: RpsSeries[];
  scale: ScaleResult[];
  /** The machine's busy share (0..1) found before each measurement, after waiting for it to be idle. */
  busyBefore: number[];
}

/** The command line that reruns the benchmark. */
export function functionsCommand(o: { samples: number; rounds: number; seconds: number; only?: string }): string {
  return `npm run bench -- functions --samples ${o.samples} --rounds ${o.rounds} --seconds ${o.seconds}${o.only ? ` --only ${o.only}` : ''}`;
}

/** `total` samples over `rounds` rounds: as even as can be, the earlier rounds taking the rest. */
export function samplesPerRound(total: number, rounds: number): number[] {
  return Array.from({ length: rounds }, (_, i) => Math.floor(total / rounds) + (i < total % rounds ? 1 : 0));
}

/**
 * The `mk_function_pool_total{runtime,result}` counters of a Prometheus text, by `runtime/result`;
 * null when the text has none (the node has no warm pool).
 */
export function parsePoolCounter(text: string): Map<string, number> | null {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('mk_function_pool_total{')) continue;
    const close = line.indexOf('}');
    const labels = Object.fromEntries([...line.slice(0, close).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const value = Number(line.slice(close + 1).trim().split(/\s+/)[0]);
    if (labels.runtime && labels.result && Number.isFinite(value)) out.set(`${labels.runtime}/${labels.result}`, value);
  }
  return out.size > 0 || /^# (TYPE|HELP) mk_function_pool_total /m.test(text) ? out : null;
}

/** The change of the pool counter of `runtime` between two readings; null when either has none. */
export function poolDelta(before: Map<string, number> | null, after: Map<string, number> | null, runtime: string): PoolCount | null {
  if (!before || !after) return null;
  const d = (result: string) => (after.get(`${runtime}/${result}`) ?? 0) - (before.get(`${runtime}/${result}`) ?? 0);
  return { hit: d('hit'), miss: d('miss') };
}

/** p50, p99, fastest and slowest of `ms`, rounded to 0.1 ms. */
export function figures(ms: number[]): { p50: number; p99: number; min: number; max: number; n: number } {
  return { p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)), min: round(Math.min(...ms)), max: round(Math.max(...ms)), n: ms.length };
}

const all = (rounds: ColdRound[], f: (r: ColdRound) => number[]): number[] => rounds.flatMap(f);
const x = (s: Spread) => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
const ms = (s: Spread) => `${s.median} (${s.min}-${s.max})`;
/** A signed difference's spread: `+0.7 (+0.6 to +0.8)`. */
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v}`;
const diff = (s: Spread) => `${signed(s.median)} (${signed(s.min)} to ${signed(s.max)})`;
const met = (ok: boolean) => (ok ? 'met' : 'not met');

/** A miss series' baseline: its CRI and interpreter figures and their sums. */
export function missBaseline(series: ColdSeries): { p50: number; p99: number; ratioP50: number; ratioP99: number; perRound: Spread } {
  const mk = figures(all(series.rounds, (r) => r.mk));
  const cri = figures(all(series.rounds, (r) => r.cri));
  const interp = figures(all(series.rounds, (r) => r.interpreter));
  const p50 = round(cri.p50 + interp.p50);
  const p99 = round(cri.p99 + interp.p99);
  const perRound = series.rounds.filter((r) => r.mk.length && r.cri.length && r.interpreter.length)
    .map((r) => percentile(r.mk, 50) / (percentile(r.cri, 50) + percentile(r.interpreter, 50)));
  return { p50, p99, ratioP50: round(mk.p50 / p50, 2), ratioP99: round(mk.p99 / p99, 2), perRound: spread(perRound) };
}

/** What the pool counter says about a series, in words. */
export function poolWords(s: ColdSeries): string {
  const n = all(s.rounds, (r) => r.mk).length;
  if (!s.pool) return `the node exports no mk_function_pool_total: every one of the ${n} samples was a pool miss`;
  // A cold call of a function with concurrency 1 starts ceil(1 / 0.7) = 2 instances (the 70 %
  // target utilisation, as Knative's), so the node counts two starts per sample.
  return `${s.pool.hit} pool hits and ${s.pool.miss} misses counted over ${n} samples (each cold call starts ${instancesFor(1, 1)} instances)`;
}

/** The cold-start tables, as markdown lines. */
export function formatCold(series: ColdSeries[]): string[] {
  if (series.length === 0) return [];
  const out = [
    '### Cold start',
    '',
    'One sample: an HTTP call to the gateway for a function with no instance, until its answer. p50 / p99 over every sample;',
    'spread: the per-round p50, median (min-max).',
    '',
    '| runtime | mode | pool size | samples | p50 (ms) | p99 (ms) | fastest-slowest (ms) | per-round p50 (ms) | errors | pool counter |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of series) {
    const f = figures(all(s.rounds, (r) => r.mk));
    const counter = s.pool ? `${s.pool.hit} hits, ${s.pool.miss} misses` : 'none';
    out.push(`| ${s.runtime} | pool ${s.mode} | ${s.poolSize} | ${f.n} | ${f.p50} | ${f.p99} | ${f.min}-${f.max} | ${ms(spread(s.rounds.filter((r) => r.mk.length).map((r) => percentile(r.mk, 50)), 1))} | ${s.errors} | ${counter} |`);
  }
  const misses = series.filter((s) => s.mode === 'miss' && s.rounds.some((r) => r.cri.length && r.interpreter.length));
  if (misses.length) {
    out.push('', 'Pool miss against this machine\'s raw CRI pod start (sandbox + container, busybox) plus the interpreter\'s start (the loader',
      'spawned on the host with the code until /healthz answers ready), measured in the same run, alternating rounds:', '',
      '| runtime | CRI p50 / p99 (ms) | interpreter p50 / p99 (ms) | baseline p50 / p99 (ms) | mk miss p50 / p99 (ms) | ratio p50 | ratio p99 | per-round ratio p50 |',
      '|---|---|---|---|---|---|---|---|');
    for (const s of misses) {
      const cri = figures(all(s.rounds, (r) => r.cri));
      const interp = figures(all(s.rounds, (r) => r.interpreter));
      const mk = figures(all(s.rounds, (r) => r.mk));
      const b = missBaseline(s);
      out.push(`| ${s.runtime} | ${cri.p50} / ${cri.p99} | ${interp.p50} / ${interp.p99} | ${b.p50} / ${b.p99} | ${mk.p50} / ${mk.p99} | ${b.ratioP50.toFixed(2)}x | ${b.ratioP99.toFixed(2)}x | ${x(b.perRound)} |`);
    }
  }
  out.push('');
  for (const s of series) {
    const f = figures(all(s.rounds, (r) => r.mk));
    if (s.mode === 'hit') {
      out.push(`- ${s.runtime}, pool hit: ${poolWords(s)}; aim p50 < ${AIMS.hitP50Ms} ms and p99 < ${AIMS.hitP99Ms} ms: ${met(f.p50 < AIMS.hitP50Ms && f.p99 < AIMS.hitP99Ms)}.`);
    } else {
      const b = misses.includes(s) ? missBaseline(s) : undefined;
      const verdict = b ? `; aim within ${AIMS.missRatio}x of the baseline: p50 ${met(b.ratioP50 <= AIMS.missRatio)} (${b.ratioP50.toFixed(2)}x), p99 ${met(b.ratioP99 <= AIMS.missRatio)} (${b.ratioP99.toFixed(2)}x)` : '';
      out.push(`- ${s.runtime}, pool miss: ${poolWords(s)}${verdict}.`);
    }
  }
  return out;
}

/** Per round gateway minus direct in ms, for p50 or p99. */
function differences(rounds: VersusRound[], p: 'p50' | 'p99'): number[] {
  return rounds.map((r) => r.gateway[p] - r.direct[p]);
}

const med = (xs: number[], d = 2) => round(median(xs), d);
const rpsOf = (r: LatencyRun) => (r.seconds > 0 ? r.requests / r.seconds : 0);

/** The warm-latency table, as markdown lines. */
export function formatWarm(series: WarmSeries[]): string[] {
  if (series.length === 0) return [];
  const out = [
    '### Warm latency',
    '',
    `One connection, calls back to back, ${series[0].seconds} s per side and round, through the gateway against`,
    'direct to the instance\'s loader (`http://<pod IP>:8080/run`, same body); figures are medians over the rounds,',
    'differences gateway - direct per round: median (min to max).',
    '',
    '| runtime | concurrency | rounds | gateway p50 / p99 (ms) | direct p50 / p99 (ms) | + p50 (ms) | + p99 (ms) | gateway req/s | direct req/s | errors |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const verdicts: string[] = [];
  for (const s of series) {
    const g = (f: (r: VersusRound) => number) => med(s.rounds.map(f));
    const d50 = spread(differences(s.rounds, 'p50'));
    const d99 = spread(differences(s.rounds, 'p99'));
    const errors = s.rounds.reduce((n, r) => n + r.gateway.errors + r.direct.errors, 0);
    out.push(`| ${s.runtime} | ${s.concurrency} | ${s.rounds.length} | ${g((r) => r.gateway.p50)} / ${g((r) => r.gateway.p99)} | ${g((r) => r.direct.p50)} / ${g((r) => r.direct.p99)} | `
      + `${diff(d50)} | ${diff(d99)} | ${Math.round(median(s.rounds.map((r) => rpsOf(r.gateway))))} | ${Math.round(median(s.rounds.map((r) => rpsOf(r.direct))))} | ${errors} |`);
    verdicts.push(`${s.runtime}: ${signed(d50.median)} ms p50 ${met(d50.median <= AIMS.warmP50Ms)}, ${signed(d99.median)} ms p99 ${met(d99.median <= AIMS.warmP99Ms)}`);
  }
  out.push('', `Aim: at most +${AIMS.warmP50Ms} ms p50 and +${AIMS.warmP99Ms} ms p99 through the gateway: ${verdicts.join('; ')}.`);
  return out;
}

/** The requests-per-second table, as markdown lines. */
export function formatRps(series: RpsSeries[]): string[] {
  if (series.length === 0) return [];
  const s0 = series[0];
  const out = [
    '### Requests per second',
    '',
    `${s0.connections} connections for ${s0.seconds} s per side and round: through the gateway (one load generator) against direct (the`,
    `same connections split over the ${s0.instances} instances' IPs, one load generator each, at once, summed); figures are medians`,
    'over the rounds, the ratio gateway / direct per round: median (min-max).',
    '',
    '| runtime | instances | concurrency | connections | gateway req/s | direct req/s | ratio | gateway p50 / p99 (ms) | direct p50 / p99 (ms) | errors |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const verdicts: string[] = [];
  for (const s of series) {
    const ratio = spread(s.rounds.filter((r) => rpsOf(r.direct) > 0).map((r) => rpsOf(r.gateway) / rpsOf(r.direct)));
    const g = (f: (r: VersusRound) => number) => med(s.rounds.map(f));
    const errors = s.rounds.reduce((n, r) => n + r.gateway.errors + r.direct.errors, 0);
    out.push(`| ${s.runtime} | ${s.instances} | ${s.concurrency} | ${s.connections} | ${Math.round(median(s.rounds.map((r) => rpsOf(r.gateway))))} | ${Math.round(median(s.rounds.map((r) => rpsOf(r.direct))))} | `
      + `${x(ratio)} | ${g((r) => r.gateway.p50)} / ${g((r) => r.gateway.p99)} | ${g((r) => r.direct.p50)} / ${g((r) => r.direct.p99)} | ${errors} |`);
    verdicts.push(`${s.runtime}: ${met(ratio.median >= AIMS.rpsRatio)} (${ratio.median.toFixed(2)}x)`);
  }
  out.push('', `Aim: at least ${AIMS.rpsRatio}x the requests per second of direct: ${verdicts.join('; ')}.`);
  return out;
}

/** The scale-from-zero table, as markdown lines. */
export function formatScale(results: ScaleResult[]): string[] {
  if (results.length === 0) return [];
  const out = [
    '### Scale from zero',
    '',
    'From no instance, calls kept in flight (each caller sends its next call when the last is answered) until every instance',
    'is Ready; a handler that sleeps. Times from the first call.',
    '',
    '| runtime | instances | sleep (ms) | in flight | first answer (ms) | first calls answered (ms) | 1st / half / all Ready (ms) | calls | errors |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const at = (i: number) => (r.readyAtMs[i] === undefined ? '-' : String(Math.round(r.readyAtMs[i])));
    const allReady = r.allReadyMs === null ? `not all (${r.readyAtMs.length} in ${Math.round(r.deadlineMs / 1000)} s)` : String(Math.round(r.allReadyMs));
    out.push(`| ${r.runtime} | ${r.maxInstances} | ${r.sleepMs} | ${r.inFlight} | ${Math.round(r.firstAnswerMs)} | ${Math.round(r.firstWaveMs)} | `
      + `${at(0)} / ${at(Math.ceil(r.maxInstances / 2) - 1)} / ${allReady} | ${r.calls} | ${r.errors} |`);
  }
  const errors = results.reduce((n, r) => n + r.errors, 0);
  out.push('', errors === 0 ? 'Every call was answered with 200.' : `${errors} calls failed (the aim is none).`);
  return out;
}

/** The whole result, as markdown lines: the command first. */
export function formatFunctions(res: FunctionsResult): string[] {
  const parts = [formatCold(res.cold), formatWarm(res.warm), formatRps(res.rps), formatScale(res.scale)].filter((p) => p.length > 0);
  if (parts.length === 0) throw new Error('the functions benchmark measured nothing');
  return [`\`${res.command}\``, ...parts.flatMap((p) => ['', ...p]), '', busyWords(res.busyBefore)];
}

/** Whether the measurements started on an idle CPU, in words. */
export function busyWords(busy: number[]): string {
  const pct = (xs: number[]) => `${(Math.max(...xs) * 100).toFixed(1)} %`;
  const high = busy.filter((b) => b >= 0.1);
  if (busy.length === 0) return 'The CPU was not checked before the measurements.';
  return high.length === 0
    ? `Every measurement started with the CPU under 10 % busy (the busiest: ${pct(busy)}).`
    : `${high.length} of ${busy.length} measurements started with the CPU still busy after waiting (up to ${pct(high)}): another workload ran on this machine; read those figures with care.`;
}
