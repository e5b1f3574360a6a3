/**
 * `npm run bench -- functions [--samples N] [--rounds R] [--seconds S] [--only cold|warm|rps|scale]`
 * (as root): functions on a real one-node cluster, each figure against a direct call in the same
 * run. Two clusters: one whose node agent runs with MK_FUNCTION_POOL_SIZE=0 (cold starts that miss
 * the warm pool, against raw CRI pod start plus the interpreter's start, alternating rounds), one
 * with the default pool (cold starts that may hit it; warm latency and requests per second
 * through the gateway against direct to the instances; a scale from zero). The runtime images are
 * built by a warm-up call before anything is measured.
 *
 * A cold sample calls a function with idleSeconds 1 and a scale-down window of 0 once it is back
 * to zero: no pod of it in the store, status.instances 0, no sandbox of it in containerd.
 */
import fs from 'node:fs';
import { startCluster, type TestCluster } from '../helpers/cluster';
import { intFlag } from './flags';
import {
  atZero, CALL_BODY, deployFunction, instancePods, interpreterStart, readPoolCounter, readyInstances, removeFunction, scratchDir, timedPost, writeCode,
} from './functions-env';
import {
  BENCH_RUNTIMES, formatFunctions, functionsCommand, poolDelta, samplesPerRound,
  type BenchRuntime, type ColdRound, type ColdSeries, type FunctionsResult, type PoolMode, type RpsSeries, type ScaleResult, type VersusRound, type WarmSeries,
} from './functions-report';
import { criHalf } from './cri-baseline';
import { openBenchEnv, type BenchEnv } from './bench-env';
import { loadFor, loadSplit } from './load-generator';
import { waitForQuietCpu, type QuietOptions } from './quiet';
import { LOADER_PORT } from '../../node-agent/images';

/** The parts of the benchmark. */
export const PARTS = ['cold', 'warm', 'rps', 'scale'] as const;
export type Part = (typeof PARTS)[number];

/** Settings of one measuring run (one cluster). */
export interface FunctionsInnerOptions {
  dataDir: string;
  gateway: string;
  parts: Part[];
  mode: PoolMode;
  poolSize: string;
  samples: number;
  rounds: number;
  seconds: number;
  progress?: (line: string) => void;
}

/** Instances and connections of the requests-per-second part. */
const RPS = { instances: 4, concurrency: 4, connections: 16 };
/** The scale-from-zero part: instances, calls in flight, the handler's sleep, how long to wait for every instance. */
const SCALE = { maxInstances: 20, inFlight: 40, sleepMs: 200, deadlineMs: 180_000 };

const fnUrl = (gateway: string, name: string) => `${gateway}/function/default/${name}`;

/** The busy share found by every quiet check of this process, in order (reported with the figures). */
const busyBefore: number[] = [];
/** Waits for the CPU to be idle (at most the deadline) and records how busy it was. */
async function quiet(opts: Omit<QuietOptions, 'alsoWaitFor'>): Promise<void> {
  busyBefore.push((await waitForQuietCpu(opts)).busy);
}

/** Cold starts of one runtime in this cluster's mode; the miss also measures its baseline. */
async function coldSeries(env: BenchEnv, o: FunctionsInnerOptions, runtime: BenchRuntime, scratch: string): Promise<ColdSeries> {
  const say = o.progress ?? (() => undefined);
  const name = `cold-${runtime === 'python3' ? 'py' : 'js'}`;
  const code = writeCode(scratch, runtime);
  await deployFunction(env.bus, name, runtime, code, { idleSeconds: 1, scaleDownWindowSeconds: 0 });
  let errors = 0;
  const sample = async (): Promise<number> => {
    for (;;) {
      await atZero(env.bus, env.cri, name);
      await quiet({ windowMs: 200, deadlineMs: 5_000 });
      const r = await timedPost(fnUrl(o.gateway, name), CALL_BODY);
      if (r.status === 200) return r.ms;
      errors++;
      say(`  a cold call of ${name} answered ${r.status}: ${r.body.slice(0, 200)}`);
      if (errors > 5) throw new Error(`cold calls of ${name} keep failing (${r.status}: ${r.body.slice(0, 200)})`);
    }
  };
  try {
    // Warm-ups, not measured: the runtime image built on the node, first-use code paths on both sides.
    say(`warm-up: ${runtime}, a cold call (builds the runtime image)`);
    await sample();
    if (o.mode === 'miss') {
      await criHalf(env.cri, ['warm-cri'], env.podLogsRoot);
      await interpreterStart(runtime, code);
    }
    const before = await readPoolCounter(o.dataDir);
    const rounds: ColdRound[] = [];
    const counts = samplesPerRound(o.samples, o.rounds);
    for (let r = 0; r < o.rounds; r++) {
      const first = r % 2 === 0 ? 'baseline' : 'mk';
      const round: ColdRound = { round: r + 1, first: o.mode === 'miss' ? first : 'mk', mk: [], cri: [], interpreter: [] };
      const sides = o.mode === 'miss' ? (first === 'mk' ? ['mk', 'baseline'] : ['baseline', 'mk']) : ['mk'];
      for (const side of sides) {
        for (let i = 0; i < counts[r]; i++) {
          if (side === 'mk') {
            round.mk.push(await sample());
          } else {
            await quiet({ windowMs: 200, deadlineMs: 5_000 });
            round.cri.push((await criHalf(env.cri, [`cri-${r}-${i}`], env.podLogsRoot))[0]);
            round.interpreter.push(await interpreterStart(runtime, code));
          }
        }
      }
      rounds.push(round);
      say(`round ${r + 1}/${o.rounds}, ${runtime} pool ${o.mode}: ${round.mk.map((v) => Math.round(v)).join(' ')} ms`
        + (round.cri.length ? `; CRI ${round.cri.map((v) => Math.round(v)).join(' ')} ms, interpreter ${round.interpreter.map((v) => Math.round(v)).join(' ')} ms` : ''));
    }
    const pool = poolDelta(before, await readPoolCounter(o.dataDir), runtime);
    return { runtime, mode: o.mode, poolSize: o.poolSize, rounds, pool, errors };
  } finally {
    await removeFunction(env.bus, name);
  }
}

/** Gateway and direct runs of one load, alternating over the rounds (direct first in odd rounds). */
async function versus(
  o: FunctionsInnerOptions, label: string, gateway: (seconds: number) => Promise<VersusRound['gateway']>, direct: (seconds: number) => Promise<VersusRound['direct']>,
): Promise<VersusRound[]> {
  const say = o.progress ?? (() => undefined);
  // Warm-ups, not measured: connections, the instances' first calls, the load generator's own start.
  await gateway(1);
  await direct(1);
  const rounds: VersusRound[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const first = r % 2 === 0 ? 'direct' : 'gateway';
    const got: Partial<Record<'gateway' | 'direct', VersusRound['gateway']>> = {};
    for (const side of first === 'direct' ? ['direct', 'gateway'] as const : ['gateway', 'direct'] as const) {
      await quiet({ windowMs: 300, deadlineMs: 10_000 });
      got[side] = await (side === 'gateway' ? gateway(o.seconds) : direct(o.seconds));
    }
    rounds.push({ round: r + 1, first, gateway: got.gateway!, direct: got.direct! });
    say(`round ${r + 1}/${o.rounds}, ${label}: gateway ${Math.round(got.gateway!.requests / got.gateway!.seconds)} req/s p50 ${got.gateway!.p50} ms p99 ${got.gateway!.p99} ms; `
      + `direct ${Math.round(got.direct!.requests / got.direct!.seconds)} req/s p50 ${got.direct!.p50} ms p99 ${got.direct!.p99} ms`);
  }
  return rounds;
}

/** Warm latency of one instance with one connection. */
async function warmSeries(env: BenchEnv, o: FunctionsInnerOptions, runtime: BenchRuntime, scratch: string): Promise<WarmSeries> {
  const name = `warm-${runtime === 'python3' ? 'py' : 'js'}`;
  await deployFunction(env.bus, name, runtime, writeCode(scratch, runtime), { minInstances: 1, maxInstances: 1, concurrency: 1 });
  try {
    const [ip] = await readyInstances(env.bus, name, 1);
    const rounds = await versus(o, `${runtime} warm latency`,
      async (seconds) => (await loadFor(fnUrl(o.gateway, name), CALL_BODY, 1, seconds)).run,
      async (seconds) => (await loadFor(`http://${ip}:${LOADER_PORT}/run`, CALL_BODY, 1, seconds)).run);
    return { runtime, concurrency: 1, seconds: o.seconds, rounds };
  } finally {
    await removeFunction(env.bus, name);
  }
}

/** Requests per second over several instances. */
async function rpsSeries(env: BenchEnv, o: FunctionsInnerOptions, runtime: BenchRuntime, scratch: string): Promise<RpsSeries> {
  const name = `rps-${runtime === 'python3' ? 'py' : 'js'}`;
  await deployFunction(env.bus, name, runtime, writeCode(scratch, runtime), { minInstances: RPS.instances, maxInstances: RPS.instances, concurrency: RPS.concurrency });
  try {
    const ips = await readyInstances(env.bus, name, RPS.instances);
    const rounds = await versus(o, `${runtime} requests per second`,
      async (seconds) => (await loadFor(fnUrl(o.gateway, name), CALL_BODY, RPS.connections, seconds)).run,
      async (seconds) => (await loadSplit(ips.map((ip) => `http://${ip}:${LOADER_PORT}/run`), CALL_BODY, RPS.connections, seconds)).run);
    return { runtime, ...RPS, seconds: o.seconds, rounds };
  } finally {
    await removeFunction(env.bus, name);
  }
}

/** From zero: calls kept in flight until maxInstances are Ready (or the deadline), each instance's Ready timed. */
async function scaleFromZero(env: BenchEnv, o: FunctionsInnerOptions, runtime: BenchRuntime, scratch: string): Promise<ScaleResult> {
  const say = o.progress ?? (() => undefined);
  const name = `scale-${runtime === 'python3' ? 'py' : 'js'}`;
  await deployFunction(env.bus, name, runtime, writeCode(scratch, runtime, SCALE.sleepMs), { maxInstances: SCALE.maxInstances, concurrency: 1 });
  try {
    // The image exists already (the cold part or a first call); this call only makes sure, then back to zero.
    say(`warm-up: one call of ${name}, then back to zero`);
    await timedPost(fnUrl(o.gateway, name), CALL_BODY);
    await removeFunction(env.bus, name);
    await deployFunction(env.bus, name, runtime, writeCode(scratch, runtime, SCALE.sleepMs), { maxInstances: SCALE.maxInstances, concurrency: 1 });
    await quiet({ windowMs: 300, deadlineMs: 10_000 });
    const readyAt = new Map<string, number>();
    let done = false;
    let calls = 0;
    let errors = 0;
    let firstAnswer = NaN;
    const firstWave: number[] = [];
    const t0 = performance.now();
    const watcher = (async () => {
      while (!done && performance.now() - t0 < SCALE.deadlineMs) {
        const pods = await instancePods(env.bus, name);
        for (const p of pods) {
          if (!readyAt.has(p.metadata.name) && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) readyAt.set(p.metadata.name, performance.now() - t0);
        }
        if (readyAt.size >= SCALE.maxInstances) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const caller = async (i: number) => {
      let first = true;
      while (first || (readyAt.size < SCALE.maxInstances && performance.now() - t0 < SCALE.deadlineMs)) {
        calls++;
        const r = await timedPost(fnUrl(o.gateway, name), CALL_BODY).catch(() => ({ status: 0, ms: 0, body: '' }));
        const at = performance.now() - t0;
        if (r.status !== 200) errors++;
        else if (Number.isNaN(firstAnswer)) firstAnswer = at;
        if (first) firstWave[i] = at;
        first = false;
      }
    };
    await Promise.all(Array.from({ length: SCALE.inFlight }, (_, i) => caller(i)));
    done = true;
    await watcher;
    const readyAtMs = [...readyAt.values()].sort((a, b) => a - b);
    const res: ScaleResult = {
      runtime, maxInstances: SCALE.maxInstances, sleepMs: SCALE.sleepMs, inFlight: SCALE.inFlight, readyAtMs, firstAnswerMs: firstAnswer,
      firstWaveMs: Math.max(...firstWave), allReadyMs: readyAtMs.length >= SCALE.maxInstances ? readyAtMs[SCALE.maxInstances - 1] : null,
      deadlineMs: SCALE.deadlineMs, calls, errors,
    };
    say(`${runtime} from zero: first answer ${Math.round(res.firstAnswerMs)} ms, ${readyAtMs.length} Ready, the last at ${Math.round(readyAtMs[readyAtMs.length - 1] ?? NaN)} ms, ${calls} calls, ${errors} errors`);
    return res;
  } finally {
    await removeFunction(env.bus, name);
  }
}

/** Runs the asked parts against one cluster; returns what they measured. */
export async function functionsParts(o: FunctionsInnerOptions): Promise<Omit<FunctionsResult, 'command'>> {
  const env = await openBenchEnv(o.dataDir, 'mk-bench-functions');
  const scratch = scratchDir();
  const out: Omit<FunctionsResult, 'command'> = { cold: [], warm: [], rps: [], scale: [], busyBefore };
  try {
    for (const runtime of BENCH_RUNTIMES) if (o.parts.includes('cold')) out.cold.push(await coldSeries(env, o, runtime, scratch));
    for (const runtime of BENCH_RUNTIMES) if (o.parts.includes('warm')) out.warm.push(await warmSeries(env, o, runtime, scratch));
    for (const runtime of BENCH_RUNTIMES) if (o.parts.includes('rps')) out.rps.push(await rpsSeries(env, o, runtime, scratch));
    if (o.parts.includes('scale')) out.scale.push(await scaleFromZero(env, o, 'python3', scratch));
    return out;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
    await env.close();
  }
}

/** Entry of the inner process (`functions-inner`): runs the parts and prints their result as one JSON line. */
export async function functionsInner(o: FunctionsInnerOptions): Promise<void> {
  const res = await functionsParts({ ...o, progress: o.progress ?? ((l) => console.error(l)) });
  console.log(JSON.stringify(res));
}

/** The value of MK_FUNCTION_POOL_SIZE in the node agent's own environment ('unset' when absent), from /proc. */
function nodeAgentPoolSize(c: TestCluster): string {
  const pid = c.pidOf('node-agent');
  if (pid === undefined) throw new Error('the cluster has no node agent process');
  const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return env.find((e) => e.startsWith('MK_FUNCTION_POOL_SIZE='))?.slice('MK_FUNCTION_POOL_SIZE='.length) ?? 'unset';
}

/** Runs a measuring part inside a cluster's namespace and returns its parsed result. */
export type RunInner = <T>(c: TestCluster, args: string[]) => Promise<T>;

/** `functions`: starts the clusters the asked parts need, measures, prints the tables and the JSON. */
export async function functionsBench(args: string[], usage: string, runInner: RunInner): Promise<void> {
  const samples = intFlag(args, '--samples', 100, usage);
  const rounds = intFlag(args, '--rounds', 5, usage);
  const seconds = intFlag(args, '--seconds', 10, usage);
  const i = args.indexOf('--only');
  const only = i >= 0 ? args[i + 1] : undefined;
  if (only !== undefined && !(PARTS as readonly string[]).includes(only)) throw new Error(`--only takes one of ${PARTS.join(', ')} (got ${only})\n${usage}`);
  if (rounds > samples) throw new Error(`--rounds (${rounds}) may not exceed --samples (${samples}): every round takes a sample\n${usage}`);
  if (process.getuid?.() !== 0) throw new Error('functions needs root (it starts clusters in network namespaces)');
  const parts = only ? [only as Part] : [...PARTS];
  const result: FunctionsResult = { command: functionsCommand({ samples, rounds, seconds, only }), cold: [], warm: [], rps: [], scale: [], busyBefore: [] };
  const clusters: { mode: PoolMode; env: NodeJS.ProcessEnv; parts: Part[] }[] = [
    { mode: 'miss' as const, env: { MK_FUNCTION_POOL_SIZE: '0' }, parts: parts.filter((p) => p === 'cold') },
    // The default pool size, named: `mk up` hands its node agent the size it runs with.
    { mode: 'hit' as const, env: { MK_FUNCTION_POOL_SIZE: '2' }, parts },
  ].filter((x) => x.parts.length > 0);
  for (const cl of clusters) {
    console.error(`starting a cluster in a network namespace${cl.env.MK_FUNCTION_POOL_SIZE ? ` with MK_FUNCTION_POOL_SIZE=${cl.env.MK_FUNCTION_POOL_SIZE}` : ' (default pool)'} ...`);
    const c = await startCluster({ env: cl.env });
    try {
      const m = /Functions (http:\/\/[0-9.]+:\d+)\/function\//.exec(c.upStdout ?? '');
      if (!m) throw new Error(`mk up printed no gateway URL:\n${c.upStdout}`);
      const poolSize = nodeAgentPoolSize(c);
      console.error(`the node agent runs with MK_FUNCTION_POOL_SIZE=${poolSize}; measuring ${cl.parts.join(', ')} ...`);
      if ((cl.env.MK_FUNCTION_POOL_SIZE ?? 'unset') !== poolSize) throw new Error(`the node agent did not get MK_FUNCTION_POOL_SIZE=${cl.env.MK_FUNCTION_POOL_SIZE ?? 'unset'} (it has ${poolSize})`);
      const got = await runInner<Omit<FunctionsResult, 'command'>>(c, [
        'functions-inner', '--data-dir', c.dataDir, '--gateway', m[1], '--parts', cl.parts.join(','), '--mode', cl.mode,
        '--pool-size', poolSize === 'unset' ? 'default' : poolSize, '--samples', String(samples), '--rounds', String(rounds), '--seconds', String(seconds),
      ]);
      for (const k of ['cold', 'warm', 'rps', 'scale', 'busyBefore'] as const) (result[k] as unknown[]).push(...got[k]);
    } finally {
      await c.destroy();
    }
  }
  // The miss first, then the hit, per runtime.
  result.cold.sort((a, b) => BENCH_RUNTIMES.indexOf(a.runtime) - BENCH_RUNTIMES.indexOf(b.runtime) || (a.mode === 'hit' ? 1 : 0) - (b.mode === 'hit' ? 1 : 0));
  for (const line of formatFunctions(result)) console.log(line);
  console.log(JSON.stringify(result));
}
