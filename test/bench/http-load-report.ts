/**
 * Figures and printed form shared by the HTTP benchmarks (service, ingress): requests per second
 * and latency of the same load against several targets, one of them the baseline, alternating
 * over rounds; every figure is the median over the rounds, each ratio that of the same round. Pure.
 */
import { median, round, spread } from './stats';

/** What one load run measured. */
export interface LoadResult {
  requests: number;
  errors: number;
  /** Seconds the load ran. */
  seconds: number;
  /** Latency percentiles in ms. */
  p50: number;
  p99: number;
}

/** One load run of one target in one mode, in one round. */
export interface LoadSample { round: number; mode: string; target: string; result: LoadResult }

/** A whole run: the targets (baseline first) and every sample. */
export interface LoadRun {
  /** What was measured, in words (first line printed). */
  title: string;
  /** Target names; the first is the baseline the others are divided by. */
  targets: string[];
  modes: string[];
  samples: LoadSample[];
  /** The aim, as the lowest RPS ratio to the baseline that meets it (0.95); none: not judged. */
  aim?: number;
  /** Busy share of the machine before each round (0..1). */
  busyBefore: number[];
}

/** Requests per second of a result. */
export const rps = (r: LoadResult): number => (r.seconds > 0 ? r.requests / r.seconds : 0);

const pr = (xs: number[], d: number): string => {
  if (xs.length === 0) return '-';
  const s = spread(xs, d);
  return `${s.median} (${s.min}-${s.max})`;
};

/** The run as markdown lines: a row per mode and target, then the aim per mode and target. */
export function formatLoad(run: LoadRun): string[] {
  const base = run.targets[0];
  const rounds = [...new Set(run.samples.map((s) => s.round))];
  const out = [
    `${run.title}, ${rounds.length} round${rounds.length === 1 ? '' : 's'} alternating.`,
    '',
    `| mode | target | requests/s | p50 (ms) | p99 (ms) | errors | RPS / ${base} | p99 / ${base} |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  const verdicts: string[] = [];
  for (const mode of run.modes) {
    const of = (target: string, r: number) => run.samples.find((s) => s.mode === mode && s.target === target && s.round === r)?.result;
    for (const target of run.targets) {
      const mine = rounds.map((r) => of(target, r)).filter((x): x is LoadResult => x !== undefined);
      const pairs = rounds.map((r) => [of(target, r), of(base, r)] as const).filter((p): p is [LoadResult, LoadResult] => !!p[0] && !!p[1] && rps(p[1]) > 0);
      const rpsRatio = pairs.map(([a, b]) => rps(a) / rps(b));
      const p99Ratio = pairs.filter(([, b]) => b.p99 > 0).map(([a, b]) => a.p99 / b.p99);
      const errors = mine.reduce((n, x) => n + x.errors, 0);
      out.push(`| ${mode} | ${target} | ${pr(mine.map(rps), 0)} | ${round(median(mine.map((x) => x.p50)), 2)} | ${round(median(mine.map((x) => x.p99)), 2)} | ${errors} | `
        + `${target === base ? '1' : pr(rpsRatio, 2)} | ${target === base ? '1' : pr(p99Ratio, 2)} |`);
      if (target !== base && rpsRatio.length > 0) {
        const m = median(rpsRatio);
        if (run.aim !== undefined) verdicts.push(`${mode}, ${target}: ${m >= run.aim ? 'met' : 'not met'} (${round(m, 2)}x)`);
      }
    }
  }
  if (run.aim !== undefined) out.push('', `Aim: at least ${run.aim}x the requests per second of ${base}: ${verdicts.join('; ')}.`);
  const busy = run.busyBefore.filter((b) => b >= 0.1);
  if (busy.length) out.push(`${busy.length} of ${run.busyBefore.length} rounds started with the CPU busy (up to ${Math.round(Math.max(...busy) * 100)} %): another workload ran on this machine.`);
  return out;
}

/**
 * The client's SYN retransmits per `mode, target` as lines after the table (none without counts):
 * a new connection whose SYN went unanswered or was refused; one that waits for the timer waits
 * 1 s, so a few of them dominate the mean.
 */
export function formatSynRetrans(counts: Map<string, number>): string[] {
  if (counts.size === 0) return [];
  return ['', `SYN retransmits by the client: ${[...counts].map(([k, n]) => `${k} ${n}`).join('; ')}.`];
}

/**
 * The load generator, run with `node -e` in the client's namespace: argv url, mode (`keep-alive`
 * or `new-connection`), connections, seconds. Prints one JSON LoadResult line.
 */
export const LOAD_SCRIPT = `const http = require('http');
const [url, mode, conns, secs] = process.argv.slice(1);
const keep = mode === 'keep-alive';
const agent = keep ? new http.Agent({ keepAlive: true, maxSockets: Number(conns) }) : false;
const lat = []; let errors = 0; const end = Date.now() + Number(secs) * 1000; const t0 = process.hrtime.bigint();
const one = () => new Promise((res) => {
  const s = process.hrtime.bigint();
  const req = http.get(url, { agent, headers: keep ? {} : { connection: 'close' }, timeout: 5000 }, (r) => {
    r.resume(); r.on('end', () => { if (r.statusCode === 200) lat.push(Number(process.hrtime.bigint() - s) / 1e6); else errors++; res(); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => { errors++; res(); });
});
const worker = async () => { while (Date.now() < end) await one(); };
Promise.all(Array.from({ length: Number(conns) }, worker)).then(() => {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9; lat.sort((a, b) => a - b);
  const pct = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.max(0, Math.ceil(p / 100 * lat.length) - 1))] : 0;
  console.log(JSON.stringify({ requests: lat.length, errors, seconds, p50: pct(50), p99: pct(99) }));
  if (agent) agent.destroy();
});`;
