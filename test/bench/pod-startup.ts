/**
 * The pod-startup benchmark's inner part, run inside the cluster's network namespace: apply ->
 * Running through mk against the same sandboxes and containers made by calling CRI directly, for
 * N pods one after another and N at once, over several rounds.
 *
 * Fairness: every half starts on a quiet node (containerd holds nothing, the CPU is idle again);
 * the two sides alternate, the order flipped every round; the at-once baseline runs with the
 * concurrency limit that a warm-up found fastest for raw CRI, not as an unbounded burst.
 */
import { applyUntilRunning, deletePods, noBenchPods, openBenchEnv } from './bench-env';
import { criHalf, limitLabel, type Limit } from './cri-baseline';
import { waitForQuietNode, type QuietReport } from './quiet';
import { percentile, round, summary } from './stats';

/** Which way pods are made. */
export type Side = 'mk' | 'cri';

/** One side's half of one round. */
export interface HalfResult { p50: number; p99: number; n: number; ms: number[]; quiet: QuietReport }

/** Both halves of one mode (one after another, or at once) in one round. */
export interface RoundResult { round: number; first: Side; mk: HalfResult; cri: HalfResult; ratioP50: number; ratioP99: number }

/** One concurrency limit tried for the at-once baseline. */
export interface LimitProbe { limit: string; p50: number; p99: number; makespan: number }

/** Everything the benchmark measured (printed as one JSON line). */
export interface PodStartupResult {
  pods: number;
  rounds: number;
  limitProbe: LimitProbe[];
  /** The limit the at-once baseline used. */
  criLimit: string;
  sequential: RoundResult[];
  concurrent: RoundResult[];
}

/** Options of the inner benchmark. */
export interface PodStartupOptions {
  dataDir: string;
  pods: number;
  rounds: number;
  /** Concurrency limits tried for the at-once baseline (default 1, 2, 4, 8, unbounded). */
  limits?: Limit[];
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

const DEFAULT_LIMITS: Limit[] = [1, 2, 4, 8, Infinity];

/** The limit whose probe had the lowest p50 (ties: the shorter makespan, then the smaller limit). */
export function bestLimit(probes: (LimitProbe & { value: Limit })[]): Limit {
  const sorted = [...probes].sort((a, b) => a.p50 - b.p50 || a.makespan - b.makespan || a.value - b.value);
  if (sorted.length === 0) throw new Error('no concurrency limit was probed');
  return sorted[0].value;
}

/** The sides in the order they run in round `r` (0-based): CRI first in even rounds. */
export function orderOf(r: number): [Side, Side] {
  return r % 2 === 0 ? ['cri', 'mk'] : ['mk', 'cri'];
}

/** Runs the benchmark and returns its figures. Throws when a pod fails or the node never empties. */
export async function podStartup(opts: PodStartupOptions): Promise<PodStartupResult> {
  const say = opts.progress ?? (() => undefined);
  const env = await openBenchEnv(opts.dataDir, 'mk-bench');
  try {
    const quiet = () => waitForQuietNode(env.cri, { alsoWaitFor: () => noBenchPods(env.bus) });
    const names = (prefix: string) => Array.from({ length: opts.pods }, (_, i) => `${prefix}-${i}`);
    const mkHalf = async (ns: string[], concurrent: boolean): Promise<number[]> => {
      try {
        const t = await applyUntilRunning(env.bus, ns, concurrent);
        return t.map((x) => x.runningAt - x.appliedAt);
      } finally {
        await deletePods(env.bus, ns).catch(() => undefined);
      }
    };

    // Warm-ups, not measured: first-use costs (code paths, the image's snapshots) on both sides.
    say('warm-up: mk, 1 pod and then all at once');
    await quiet();
    await mkHalf(['warm-mk'], false);
    await quiet();
    await mkHalf(names('warm-mk-all'), true);
    await quiet();
    await criHalf(env.cri, ['warm-cri'], env.podLogsRoot);

    const probes: (LimitProbe & { value: Limit })[] = [];
    for (const limit of opts.limits ?? DEFAULT_LIMITS) {
      await quiet();
      const t0 = performance.now();
      const ms = await criHalf(env.cri, names(`probe-${limitLabel(limit)}`), env.podLogsRoot, limit);
      const makespan = round(performance.now() - t0);
      probes.push({ limit: limitLabel(limit), value: limit, ...summary(ms), makespan });
      say(`warm-up: CRI with ${opts.pods} at once, limit ${limitLabel(limit)}: p50 ${round(percentile(ms, 50))} ms, all done in ${makespan} ms`);
    }
    const limit = bestLimit(probes);
    say(`the at-once baseline uses limit ${limitLabel(limit)}`);

    const half = async (side: Side, prefix: string, concurrent: boolean): Promise<HalfResult> => {
      const q = await quiet();
      if (!q.idle) say(`  (the CPU was still ${Math.round(q.busy * 100)} % busy after ${q.waitedMs} ms: another workload on this machine?)`);
      const ms = side === 'mk'
        ? await mkHalf(names(`${prefix}-mk`), concurrent)
        : await criHalf(env.cri, names(`${prefix}-cri`), env.podLogsRoot, concurrent ? limit : undefined);
      return { ...summary(ms), ms: ms.map((v) => round(v)), quiet: { ...q, busy: round(q.busy, 3) } };
    };
    const sequential: RoundResult[] = [];
    const concurrent: RoundResult[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const order = orderOf(r);
      for (const [mode, out] of [['seq', sequential], ['con', concurrent]] as const) {
        const got: Partial<Record<Side, HalfResult>> = {};
        for (const side of order) got[side] = await half(side, `r${r}-${mode}`, mode === 'con');
        const mk = got.mk!;
        const cri = got.cri!;
        out.push({ round: r + 1, first: order[0], mk, cri, ratioP50: round(mk.p50 / cri.p50, 3), ratioP99: round(mk.p99 / cri.p99, 3) });
        say(`round ${r + 1}/${opts.rounds}, ${mode === 'seq' ? 'one after another' : 'at once'}, ${order[0]} first: mk p50 ${mk.p50} ms, CRI p50 ${cri.p50} ms`);
      }
    }
    await quiet();
    return {
      pods: opts.pods, rounds: opts.rounds,
      limitProbe: probes.map(({ value: _value, ...p }) => p),
      criLimit: limitLabel(limit), sequential, concurrent,
    };
  } finally {
    await env.close();
  }
}

/** Entry of the inner process: runs the benchmark and prints its result as one JSON line. */
export async function podStartupInner(opts: PodStartupOptions): Promise<void> {
  const res = await podStartup({ ...opts, progress: opts.progress ?? ((l) => console.error(l)) });
  console.log(JSON.stringify(res));
}
