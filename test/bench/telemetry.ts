/**
 * `npm run bench -- telemetry [--rounds R] [--actors N] [--rate M] [--seconds S] [--objects K] [--no-api]`:
 * what actor telemetry costs. No root.
 *
 * (a) A child process (this build's run.js, `telemetry-actors`) spawns N actors in one nact
 * ActorSystem and sends them M messages a second in total, round-robin, from a 10 ms timer; with
 * MK_ACTOR_TELEMETRY=on it runs the actor feed publishing to a real nats-server (it connects in
 * both cases, so the connection itself is not what differs). After a warm-up it measures its own
 * CPU (process.cpuUsage) over S seconds and its RSS. Three cases: idle (M = 0), M (default
 * 10,000), busy (5 M). Off and on alternate, the order flipped every round, each half started on
 * a quiet CPU.
 *
 * (b) The api benchmark's create/get/update (api.ts's mk half) against a control plane started
 * with MK_ACTOR_TELEMETRY=on or off, a fresh control plane and nats-server each half, alternating.
 *
 * (c) With `--pod-startup` (root): apply -> Running of N pods (--pods, default 20) one after
 * another and at once, in a cluster started by `mk up` in a network namespace with
 * MK_ACTOR_TELEMETRY=on or off in its environment (the supervisor passes it on to the control
 * plane and the node agent), a fresh cluster each half, alternating.
 */
import { spawn } from 'node:child_process';
import { dispatch, spawn as spawnActor, start, stop as stopSystem, type Ref } from 'nact';
import { connectBus } from '../../bus';
import { startActorFeed } from '../../bus/actor-feed';
import { actorTelemetryWanted } from '../../common/actor-telemetry';
import { actorWildcard, telemetryProcess } from '../../messages/telemetry';
import type { Bus } from '../../bus';
import { startNatsServer } from '../helpers/nats-server';
import { cpuMsOf, mkHalf } from './api';
import { startControlPlaneEnv } from './control-plane-env';
import { intFlag } from './flags';
import { waitForQuietCpu, waitForQuietNode } from './quiet';
import { percentile, round } from './stats';
import { applyUntilRunning, deletePods, noBenchPods, openBenchEnv } from './bench-env';
import {
  formatTelemetry, type ActorsCase, type ActorsHalf, type ActorsRound, type ApiHalf, type ApiTelemetryRound, type PodsHalf,
  type PodsTelemetryRound, type TelemetryResult,
} from './telemetry-report';

const QUIET = { deadlineMs: 20_000 };
const USER = 'bench';
const PASS = 'bench-telemetry';
/** Warm-up of each child before its window: the spawns' lifecycle batches and first census are out. */
const WARM_MS = 3_000;
/** The most a child may take (spawn, warm-up, window, stop) beyond its window. */
const CHILD_GRACE_MS = 120_000;

/** What the child needs: its size and load, the window, and the nats-server. */
export interface ActorsChildOptions { actors: number; rate: number; seconds: number; servers: string[]; user: string; pass: string }

/**
 * The child (`telemetry-actors`): N actors under one parent, M messages a second spread over them,
 * the actor feed on when the environment wants it; prints one JSON line (ActorsHalf).
 */
export async function telemetryActorsChild(o: ActorsChildOptions): Promise<ActorsHalf> {
  const on = actorTelemetryWanted();
  const bus = await connectBus({ servers: o.servers, user: o.user, pass: o.pass, name: 'mk-bench-telemetry', checkJetStream: false });
  const feed = on ? startActorFeed(bus, { process: telemetryProcess('node', 'bench-telemetry'), role: 'node' }) : undefined;
  await feed?.ready;
  const system = start('mk-bench-telemetry');
  let handled = 0;
  const parent = spawnActor(system, (state: number = 0) => state + 1, 'bench');
  const refs: Ref<unknown>[] = [];
  for (let i = 0; i < o.actors; i++) {
    refs.push(spawnActor(parent, (state: number = 0) => { handled++; return state + 1; }, `a${i}`) as Ref<unknown>);
  }
  // The load: every 10 ms, the messages due since the last tick, round-robin over the actors.
  let next = 0;
  let owed = 0;
  let last = performance.now();
  const timer = o.rate > 0 ? setInterval(() => {
    const now = performance.now();
    owed += ((now - last) / 1000) * o.rate;
    last = now;
    for (; owed >= 1; owed--) { dispatch(refs[next], { type: 'tick' }); next = (next + 1) % refs.length; }
  }, 10) : undefined;
  await new Promise((r) => setTimeout(r, WARM_MS));
  const p0 = feed?.counters().published ?? 0;
  const h0 = handled;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  const c1 = process.cpuUsage(c0);
  const wall = (performance.now() - t0) / 1000;
  const res: ActorsHalf = {
    cpuPerSecond: round((c1.user + c1.system) / 1e6 / wall, 5), rssBytes: process.memoryUsage().rss,
    handledPerSecond: Math.round((handled - h0) / wall), published: (feed?.counters().published ?? 0) - p0,
  };
  if (timer) clearInterval(timer);
  await feed?.stop();
  stopSystem(system);
  await bus.close();
  return res;
}

/**
 * Checks that the cluster on `bus` runs with telemetry `mode`: with it on, some process publishes
 * actor stats (once a second) within 3 s; with it off, none does. Throws otherwise, so a setting
 * that did not reach the processes cannot pass for a comparison.
 */
export async function checkTelemetryMode(bus: Bus, mode: 'on' | 'off'): Promise<void> {
  let seen = 0;
  const sub = bus.nc.subscribe(actorWildcard('stats'), { callback: () => { seen++; } });
  try {
    await bus.nc.flush();
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline && !(mode === 'on' && seen > 0)) await new Promise((r) => setTimeout(r, 50));
  } finally {
    sub.unsubscribe();
  }
  if (mode === 'on' && seen === 0) throw new Error('MK_ACTOR_TELEMETRY=on, yet no process published actor stats within 3 s');
  if (mode === 'off' && seen > 0) throw new Error(`MK_ACTOR_TELEMETRY=off, yet ${seen} actor stats messages were published within 3 s`);
}

/** Runs one child with telemetry `mode`; resolves with what it measured. Killed by pid after its deadline. */
function runChild(script: string, mode: 'on' | 'off', o: ActorsChildOptions): Promise<ActorsHalf> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, 'telemetry-actors', '--actors', String(o.actors), '--rate', String(o.rate), '--seconds', String(o.seconds)], {
      env: { ...process.env, MK_ACTOR_TELEMETRY: mode, MK_LOG_LEVEL: 'warn', MK_BENCH_SERVERS: o.servers.join(','), MK_BENCH_USER: o.user, MK_BENCH_PASS: o.pass },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.seconds * 1000 + CHILD_GRACE_MS);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) { reject(new Error(`the telemetry child (${mode}) failed (${signal ?? `exit ${code}`})\n${out}`)); return; }
      try { resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as ActorsHalf); } catch (e) { reject(new Error(`the telemetry child printed no result: ${String(e)}\n${out}`)); }
    });
  });
}

/** The api half's figures from api.ts's mk half against a fresh control plane with telemetry `mode`. */
async function apiHalf(mode: 'on' | 'off', objects: number, r: number): Promise<ApiHalf> {
  const env = await startControlPlaneEnv(`telemetry-${mode}`, { env: { MK_ACTOR_TELEMETRY: mode } });
  try {
    await checkTelemetryMode(env.bus, mode);
    const cpu = () => cpuMsOf(env.cpPid);
    await mkHalf(env.bus, Array.from({ length: Math.min(100, objects) }, (_, i) => `tel-warm-${i}`), 1, cpu);
    await waitForQuietCpu(QUIET);
    const h = await mkHalf(env.bus, Array.from({ length: objects }, (_, i) => `tel-r${r}-${i}`), 1, cpu);
    const f = (xs: number[]) => ({ p50: round(percentile(xs, 50), 2), p99: round(percentile(xs, 99), 2) });
    return { create: f(h.s.create), get: f(h.s.get), update: f(h.s.update), cpuMsPerApply: round((h.cpu.create + h.cpu.update) / 2, 3) };
  } finally {
    await env.stop();
  }
}

/**
 * The measuring part of (c), run inside the cluster's namespace: a warm-up (one pod, then N at
 * once), then N pods one after another and N at once, each on a quiet node; apply -> Running, ms.
 */
export async function telemetryPodsInner(dataDir: string, pods: number, mode: 'on' | 'off'): Promise<PodsHalf> {
  const env = await openBenchEnv(dataDir, 'mk-bench-telemetry');
  try {
    await checkTelemetryMode(env.bus, mode);
    const quiet = () => waitForQuietNode(env.cri, { alsoWaitFor: () => noBenchPods(env.bus) });
    const run = async (prefix: string, concurrent: boolean, count = pods): Promise<number[]> => {
      const ns = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
      await quiet();
      try {
        return (await applyUntilRunning(env.bus, ns, concurrent)).map((t) => round(t.runningAt - t.appliedAt, 1));
      } finally {
        await deletePods(env.bus, ns).catch(() => undefined);
      }
    };
    await run('warm-one', false, 1);
    await run('warm-all', true);
    const seq = await run('tel-seq', false);
    const con = await run('tel-con', true);
    await quiet();
    return { seq, con };
  } finally {
    await env.close();
  }
}

/** Starts a cluster with telemetry `mode`, runs telemetryPodsInner in it, removes it (run.ts gives it). */
export type PodsHalfRunner = (mode: 'on' | 'off', pods: number) => Promise<PodsHalf>;

/** Runs the benchmark, prints its tables and one JSON line. */
export async function telemetryBench(argv: string[], script: string, usage: string, podsHalf?: PodsHalfRunner): Promise<TelemetryResult> {
  const rounds = intFlag(argv, '--rounds', 3, usage);
  const actors = intFlag(argv, '--actors', 10_000, usage);
  const rate = intFlag(argv, '--rate', 10_000, usage);
  const seconds = intFlag(argv, '--seconds', 10, usage);
  const objects = intFlag(argv, '--objects', 1000, usage);
  const say = (l: string) => console.error(l);
  const cases: ActorsCase[] = [{ name: 'idle', rate: 0, rounds: [] }, { name: `${rate} msg/s`, rate, rounds: [] }, { name: 'busy', rate: rate * 5, rounds: [] }];
  say('starting a nats-server ...');
  const nats = await startNatsServer({ user: USER, pass: PASS });
  try {
    for (let r = 1; r <= rounds; r++) {
      for (const c of cases) {
        const first = r % 2 === 1 ? 'off' : 'on';
        const halves: Partial<Record<'on' | 'off', ActorsHalf>> = {};
        const busyBefore = { on: 0, off: 0 };
        for (const mode of first === 'off' ? ['off', 'on'] as const : ['on', 'off'] as const) {
          busyBefore[mode] = (await waitForQuietCpu(QUIET)).busy;
          const h = await runChild(script, mode, { actors, rate: c.rate, seconds, servers: [nats.url], user: USER, pass: PASS });
          // The feed sends stats every second: a window of 2 s or more without any means it did not run.
          if (mode === 'on' && seconds >= 2 && h.published === 0) throw new Error('the telemetry child ran with MK_ACTOR_TELEMETRY=on but published nothing');
          halves[mode] = h;
        }
        const round1: ActorsRound = { round: r, first, on: halves.on!, off: halves.off!, busyBefore };
        c.rounds.push(round1);
        say(`round ${r}/${rounds}, ${c.name}: CPU off ${(round1.off.cpuPerSecond * 100).toFixed(2)} %, on ${(round1.on.cpuPerSecond * 100).toFixed(2)} % of a core`);
      }
    }
  } finally {
    await nats.stop();
  }
  const res: TelemetryResult = { actors, seconds, cases };
  if (!argv.includes('--no-api')) {
    const apiRounds: ApiTelemetryRound[] = [];
    for (let r = 1; r <= rounds; r++) {
      const first = r % 2 === 1 ? 'off' : 'on';
      const h: Partial<Record<'on' | 'off', ApiHalf>> = {};
      for (const mode of first === 'off' ? ['off', 'on'] as const : ['on', 'off'] as const) {
        await waitForQuietCpu(QUIET);
        say(`api round ${r}/${rounds}: ${objects} namespaces, telemetry ${mode} ...`);
        h[mode] = await apiHalf(mode, objects, r);
      }
      apiRounds.push({ round: r, first, on: h.on!, off: h.off! });
    }
    res.api = { objects, rounds: apiRounds };
  }
  if (argv.includes('--pod-startup')) {
    if (!podsHalf) throw new Error('--pod-startup needs a cluster runner');
    if (process.getuid?.() !== 0) throw new Error('--pod-startup starts clusters with mk up: run it as root');
    const pods = intFlag(argv, '--pods', 20, usage);
    const podRounds: PodsTelemetryRound[] = [];
    for (let r = 1; r <= rounds; r++) {
      const first = r % 2 === 1 ? 'off' : 'on';
      const h: Partial<Record<'on' | 'off', PodsHalf>> = {};
      for (const mode of first === 'off' ? ['off', 'on'] as const : ['on', 'off'] as const) {
        say(`pod startup round ${r}/${rounds}: a cluster with telemetry ${mode}, ${pods} pods one after another and at once ...`);
        h[mode] = await podsHalf(mode, pods);
      }
      podRounds.push({ round: r, first, on: h.on!, off: h.off! });
    }
    res.pods = { pods, rounds: podRounds };
  }
  for (const line of formatTelemetry(res)) console.log(line);
  console.log(JSON.stringify(res));
  return res;
}
