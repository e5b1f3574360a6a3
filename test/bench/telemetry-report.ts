/**
 * The telemetry benchmark's figures and printed form: what actor telemetry costs a process (CPU
 * per wall second and memory with MK_ACTOR_TELEMETRY on and off, per load case) and the api's
 * latency and control plane CPU with it on and off. Pure: the measuring lives in telemetry.ts.
 */
import { median, percentile, round, spread, type Spread } from './stats';

/** The aim: telemetry on costs under this share of one core (%) at 10,000 actors. */
export const AIM_CORE_PERCENT = 2;

/** What one child process measured with telemetry on or off. */
export interface ActorsHalf {
  /** CPU seconds (user + system) per wall second over the measured window. */
  cpuPerSecond: number;
  /** Resident memory at the end of the window, bytes. */
  rssBytes: number;
  /** Messages the actors handled a second over the window. */
  handledPerSecond: number;
  /** Actor telemetry messages published over the window (0 when off). */
  published: number;
}

/** One load case of one round: both halves and which went first. */
export interface ActorsRound { round: number; first: 'on' | 'off'; on: ActorsHalf; off: ActorsHalf; busyBefore: { on: number; off: number } }

/** One load case: its name, the messages a second asked for, and its rounds. */
export interface ActorsCase { name: string; rate: number; rounds: ActorsRound[] }

/** The api part's figures of one half (ms). */
export interface ApiHalf {
  create: { p50: number; p99: number };
  get: { p50: number; p99: number };
  update: { p50: number; p99: number };
  /** Control plane CPU (user + system) per apply of the create and update phases, ms. */
  cpuMsPerApply: number;
}

/** One round of the api part. */
export interface ApiTelemetryRound { round: number; first: 'on' | 'off'; on: ApiHalf; off: ApiHalf }

/** apply -> Running (ms) of one cluster's half: N pods one after another and N at once. */
export interface PodsHalf { seq: number[]; con: number[] }

/** One round of the pod startup part. */
export interface PodsTelemetryRound { round: number; first: 'on' | 'off'; on: PodsHalf; off: PodsHalf }

/** What `npm run bench -- telemetry` measured. */
export interface TelemetryResult {
  actors: number;
  /** Seconds each half measured (after its warm-up). */
  seconds: number;
  cases: ActorsCase[];
  api?: { objects: number; rounds: ApiTelemetryRound[] };
  /** Pod startup with telemetry on and off (`--pod-startup`, root). */
  pods?: { pods: number; rounds: PodsTelemetryRound[] };
}

/** One load case over its rounds. */
export interface CaseSummary {
  name: string;
  rate: number;
  /** Medians over the rounds, % of one core. */
  offCore: number;
  onCore: number;
  /** on - off per round, % of one core. */
  diffCore: Spread;
  /** (on - off) / off per round, %. */
  diffOfOff: Spread;
  /** Medians over the rounds, MiB. */
  offRssMiB: number;
  onRssMiB: number;
  diffRssMiB: Spread;
  /** Handled messages a second, median of both halves' medians. */
  handledPerSecond: number;
}

const MIB = 2 ** 20;

/** Medians and per-round spreads of one case. Throws for a case without rounds. */
export function summarizeCase(c: ActorsCase): CaseSummary {
  if (c.rounds.length === 0) throw new Error(`case ${c.name} has no rounds`);
  const rs = c.rounds;
  const m = (f: (r: ActorsRound) => number, d = 2) => round(median(rs.map(f)), d);
  return {
    name: c.name, rate: c.rate,
    offCore: m((r) => r.off.cpuPerSecond * 100), onCore: m((r) => r.on.cpuPerSecond * 100),
    diffCore: spread(rs.map((r) => (r.on.cpuPerSecond - r.off.cpuPerSecond) * 100)),
    diffOfOff: spread(rs.map((r) => (r.off.cpuPerSecond > 0 ? ((r.on.cpuPerSecond - r.off.cpuPerSecond) / r.off.cpuPerSecond) * 100 : 0)), 1),
    offRssMiB: m((r) => r.off.rssBytes / MIB, 1), onRssMiB: m((r) => r.on.rssBytes / MIB, 1),
    diffRssMiB: spread(rs.map((r) => (r.on.rssBytes - r.off.rssBytes) / MIB), 1),
    handledPerSecond: Math.round(median(rs.flatMap((r) => [r.on.handledPerSecond, r.off.handledPerSecond]))),
  };
}

/** Whether a case met the aim: the median of the per-round differences under AIM_CORE_PERCENT. */
export function caseAimMet(s: CaseSummary): boolean {
  return s.diffCore.median < AIM_CORE_PERCENT;
}

/** One api operation over the rounds: medians on and off, and the spread of the on/off ratios. */
export interface ApiOpSummary { op: 'create' | 'get' | 'update'; onP50: number; offP50: number; onP99: number; offP99: number; ratioP50: Spread; ratioP99: Spread }

/** The api part summarized per operation, and the CPU per apply. Throws for no rounds. */
export function summarizeApiTelemetry(rounds: ApiTelemetryRound[]): { ops: ApiOpSummary[]; cpu: { on: number; off: number; ratio: Spread } } {
  if (rounds.length === 0) throw new Error('the api part has no rounds');
  const m = (f: (r: ApiTelemetryRound) => number) => round(median(rounds.map(f)), 2);
  const ops = (['create', 'get', 'update'] as const).map((op) => ({
    op,
    onP50: m((r) => r.on[op].p50), offP50: m((r) => r.off[op].p50), onP99: m((r) => r.on[op].p99), offP99: m((r) => r.off[op].p99),
    ratioP50: spread(rounds.map((r) => r.on[op].p50 / r.off[op].p50)), ratioP99: spread(rounds.map((r) => r.on[op].p99 / r.off[op].p99)),
  }));
  return {
    ops,
    cpu: { on: round(median(rounds.map((r) => r.on.cpuMsPerApply)), 3), off: round(median(rounds.map((r) => r.off.cpuMsPerApply)), 3), ratio: spread(rounds.map((r) => r.on.cpuMsPerApply / r.off.cpuMsPerApply)) },
  };
}

/** One way of starting pods over the rounds: medians of the rounds' p50/p99 on and off, the on/off ratios. */
export interface PodsSummary { mode: 'seq' | 'con'; onP50: number; offP50: number; onP99: number; offP99: number; ratioP50: Spread; ratioP99: Spread }

/** The pod startup part summarized, one after another and at once. Throws for no rounds. */
export function summarizePodsTelemetry(rounds: PodsTelemetryRound[]): PodsSummary[] {
  if (rounds.length === 0) throw new Error('the pod startup part has no rounds');
  return (['seq', 'con'] as const).map((mode) => {
    const p = (h: PodsHalf, q: number) => percentile(h[mode], q);
    const m = (f: (r: PodsTelemetryRound) => number) => round(median(rounds.map(f)), 1);
    return {
      mode, onP50: m((r) => p(r.on, 50)), offP50: m((r) => p(r.off, 50)), onP99: m((r) => p(r.on, 99)), offP99: m((r) => p(r.off, 99)),
      ratioP50: spread(rounds.map((r) => p(r.on, 50) / p(r.off, 50))), ratioP99: spread(rounds.map((r) => p(r.on, 99) / p(r.off, 99))),
    };
  });
}

const range = (s: Spread, unit = '') => `${s.median}${unit} (${s.min}-${s.max})`;
const x = (s: Spread) => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;

/** The tables, as markdown lines. */
export function formatTelemetry(res: TelemetryResult): string[] {
  const sums = res.cases.map(summarizeCase);
  const n = res.cases[0]?.rounds.length ?? 0;
  const out = [
    `Actor telemetry's cost: one process with ${res.actors} actors in one ActorSystem, ${res.seconds} s measured per half,`,
    `${n} rounds, MK_ACTOR_TELEMETRY=off and on alternating (order flipped every round), the feed publishing to a real nats-server when on;`,
    'CPU in % of one core (user + system per wall second of the process); medians over the rounds, per-round differences: median (min-max).',
    '',
    '| case | msg/s asked | msg/s handled | CPU off | CPU on | on - off (% of a core) | on - off (% of off) | RSS off MiB | RSS on MiB | RSS on - off MiB |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...sums.map((s) => `| ${s.name} | ${s.rate} | ${s.handledPerSecond} | ${s.offCore} | ${s.onCore} | ${range(s.diffCore)} | ${range(s.diffOfOff, ' %')} | ${s.offRssMiB} | ${s.onRssMiB} | ${range(s.diffRssMiB)} |`),
    '',
    `Aim (telemetry under ${AIM_CORE_PERCENT} % of one core at ${res.actors} actors, median of the per-round differences): `
      + sums.map((s) => `${s.name} ${caseAimMet(s) ? 'met' : 'not met'} (${s.diffCore.median} %)`).join(', ') + '.',
  ];
  if (res.actors !== 10_000) out.push(`(The aim is stated for 10,000 actors; this run had ${res.actors}.)`);
  const busy = res.cases.flatMap((c) => c.rounds.flatMap((r) => [r.busyBefore.on, r.busyBefore.off]));
  const worst = busy.length ? Math.max(...busy) : 0;
  out.push('', worst < 0.1
    ? `Every half started with the CPU under 10 % busy (the busiest: ${(worst * 100).toFixed(1)} % over 500 ms).`
    : `${busy.filter((b) => b >= 0.1).length} of ${busy.length} halves started with the CPU still busy (up to ${(worst * 100).toFixed(1)} %): another workload ran on this machine; read those rounds with care.`);
  if (res.api) {
    const a = summarizeApiTelemetry(res.api.rounds);
    out.push('', `The api with telemetry on and off: ${res.api.objects} namespaces created, read and updated one at a time through mk.api against`,
      `a control plane started with MK_ACTOR_TELEMETRY=on or off (a fresh one each half), ${res.api.rounds.length} rounds alternating; ms, medians over the rounds;`,
      'ratios on / off per round: median (min-max).', '',
      '| operation | on p50 | off p50 | on p99 | off p99 | ratio p50 | ratio p99 |', '|---|---|---|---|---|---|---|',
      ...a.ops.map((o) => `| ${o.op} | ${o.onP50} | ${o.offP50} | ${o.onP99} | ${o.offP99} | ${x(o.ratioP50)} | ${x(o.ratioP99)} |`), '',
      `Control plane CPU per apply (create and update phases, user + system): on ${a.cpu.on} ms, off ${a.cpu.off} ms, ratio ${x(a.cpu.ratio)}.`);
  }
  if (res.pods) {
    const ps = summarizePodsTelemetry(res.pods.rounds);
    out.push('', `Pod startup (apply -> Running) with telemetry on and off: a cluster started by \`mk up\` with MK_ACTOR_TELEMETRY=on or off`,
      `(a fresh one each half, in a network namespace), ${res.pods.pods} pods one after another and ${res.pods.pods} at once, ${res.pods.rounds.length} rounds alternating;`,
      'ms, medians over the rounds; ratios on / off per round: median (min-max).', '',
      '| pods | on p50 | off p50 | on p99 | off p99 | ratio p50 | ratio p99 |', '|---|---|---|---|---|---|---|',
      ...ps.map((s) => `| ${s.mode === 'seq' ? 'one after another' : 'at once'} | ${s.onP50} | ${s.offP50} | ${s.onP99} | ${s.offP99} | ${x(s.ratioP50)} | ${x(s.ratioP99)} |`));
  }
  return out;
}
