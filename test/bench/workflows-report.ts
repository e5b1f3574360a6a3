/**
 * The workflows benchmark's figures and printed form: the engine's overhead per state transition
 * against the same function calls made by a hand-written loop, transitions per second with many
 * runs at once against their floors, and the time to resume waiting runs after a SIGKILL of the
 * control plane. Pure: the measuring part is workflows.ts.
 */
import { intFlag } from './flags';
import { busyWords } from './functions-report';
import { median, percentile, round, spread, type Spread } from './stats';

/** Aims of the benchmark (docs/benchmarks.md, "workflows"). */
export const AIMS = {
  /** Engine overhead per state transition against the async loop, p50 and p99 in ms. */
  overheadP50Ms: 5, overheadP99Ms: 25,
  /** Every waiting run resumed at most this long after the new control plane answers ping (ms). */
  resumeMs: 2000,
} as const;

/** The parts of the benchmark. */
export const WORKFLOW_PARTS = ['overhead', 'throughput', 'resume'] as const;
export type WorkflowPart = (typeof WORKFLOW_PARTS)[number];

/** One round of the overhead part: whole chains, each in ms. */
export interface OverheadRound {
  round: number;
  /** Which side went first in each alternation of the round. */
  first: 'workflow' | 'loop';
  /** Each run's status.startTime -> status.completionTime (the engine's own clock, whole ms). */
  statusMs: number[];
  /** Each run from its create request sent to phase Succeeded seen by a watch of the store. */
  endToEndMs: number[];
  /** The loop through the async path: submit with an id, wait for the result in the results bucket. */
  asyncLoopMs: number[];
  /** The loop through the sync path: one NATS request per call. */
  syncLoopMs: number[];
}

/** The overhead part: a chain of `steps` Task states against `steps` calls by hand. */
export interface OverheadResult { steps: number; rounds: OverheadRound[] }

/** What one side of a throughput round did: `runs` chains at once, until the last finished. */
export interface ThroughputSide {
  runs: number;
  /** States (or calls, or appends) in all. */
  states: number;
  /** Journal events in all (the floor: appends). */
  events: number;
  /** From the first start to the last end (ms). */
  wallMs: number;
  /** Runs or loops that did not succeed. */
  failed: number;
}

/** One round of the throughput part. */
export interface ThroughputRound {
  round: number;
  first: 'mk' | 'baseline';
  /** Pass-only chains (the engine and its journal, no function). */
  pass: ThroughputSide;
  /** Its floor: as many journal appends per writer as a Pass run made, one writer per run, at once, no engine. */
  floor: ThroughputSide;
  /** Task chains (every state a function call). */
  task: ThroughputSide;
  /** Its baseline: the async loop of the overhead part, one per run, at once. */
  loops: ThroughputSide;
}

/** The throughput part. */
export interface ThroughputResult { runs: number; steps: number; rounds: ThroughputRound[] }

/** One round of the resume part. */
export interface ResumeRound {
  round: number;
  /** Runs waiting in a Wait state, and in a long Task, when the control plane was killed. */
  waits: number;
  tasks: number;
  /** From the SIGKILL to the new control plane's start (ms): every wait and task was over by then. */
  downMs: number;
  /** From the new control plane's spawn to its first answer to mk.api.ping (ms). */
  startToPingMs: number;
  /** Per resumed run: from the ping answer to its TimerFired or TaskSucceeded seen by a watch (ms). */
  seenMs: number[];
  /** Per resumed run: from the ping answer to that event's own time in the journal (ms, whole ms). */
  eventMs: number[];
  /** Runs with no such event within the deadline. */
  notResumed: number;
  /** Runs whose timer fired or task answered before the kill (left out of the figures). */
  early: number;
  /** Runs that did not end Succeeded after the restart. */
  failed: number;
}

/** The resume part. */
export interface ResumeResult { runs: number; waitSeconds: number; taskSeconds: number; deadlineMs: number; rounds: ResumeRound[] }

/** Everything the benchmark measured (printed as one JSON line). */
export interface WorkflowsResult {
  /** The command that reruns it. */
  command: string;
  overhead?: OverheadResult;
  throughput?: ThroughputResult;
  resume?: ResumeResult;
  /** The machine's busy share (0..1) found before each measured round, after waiting for it to be idle. */
  busyBefore: number[];
}

/** The settings of a run, as the flags give them. */
export interface WorkflowsSettings { runs: number; steps: number; rounds: number; samples: number; waiting: number; only?: WorkflowPart }

/** The command line that reruns the benchmark. */
export function workflowsCommand(s: WorkflowsSettings): string {
  return `npm run bench -- workflows --runs ${s.runs} --steps ${s.steps} --rounds ${s.rounds} --samples ${s.samples} --waiting ${s.waiting}${s.only ? ` --only ${s.only}` : ''}`;
}

/** Reads the flags; throws with the usage on a bad one. */
export function workflowsSettings(args: string[], usage: string): WorkflowsSettings {
  const i = args.indexOf('--only');
  const only = i >= 0 ? args[i + 1] : undefined;
  if (only !== undefined && !(WORKFLOW_PARTS as readonly string[]).includes(only)) throw new Error(`--only takes one of ${WORKFLOW_PARTS.join(', ')} (got ${only})\n${usage}`);
  const s: WorkflowsSettings = {
    runs: intFlag(args, '--runs', 50, usage), steps: intFlag(args, '--steps', 10, usage), rounds: intFlag(args, '--rounds', 5, usage),
    samples: intFlag(args, '--samples', 100, usage), waiting: intFlag(args, '--waiting', 20, usage), ...(only ? { only: only as WorkflowPart } : {}),
  };
  if (s.rounds > s.samples) throw new Error(`--rounds (${s.rounds}) may not exceed --samples (${s.samples}): every round takes a sample\n${usage}`);
  if (s.waiting < 2) throw new Error(`--waiting takes at least 2 (half wait, half run a long task)\n${usage}`);
  return s;
}

/** Which workflow measure and which loop an overhead row compares. */
export type OverheadMeasure = 'statusMs' | 'endToEndMs';
export type OverheadBaseline = 'asyncLoopMs' | 'syncLoopMs';

/**
 * Overhead per transition of each run of a round: (its duration - the median loop of the same
 * round) / steps, in ms. The loop's median, not its neighbour, so the loop's own noise is not
 * counted twice.
 */
export function perTransition(r: OverheadRound, measure: OverheadMeasure, baseline: OverheadBaseline, steps: number): number[] {
  const loop = median(r[baseline]);
  return r[measure].map((v) => (v - loop) / steps);
}

/** p50 and p99 over every run of every round, and the spread of the per-round p50 and p99 (ms per transition). */
export function overheadFigures(res: OverheadResult, measure: OverheadMeasure, baseline: OverheadBaseline): { p50: number; p99: number; perRoundP50: Spread; perRoundP99: Spread; n: number } {
  const per = res.rounds.map((r) => perTransition(r, measure, baseline, res.steps));
  const all = per.flat();
  return {
    p50: round(percentile(all, 50), 2), p99: round(percentile(all, 99), 2), n: all.length,
    perRoundP50: spread(per.map((xs) => percentile(xs, 50))), perRoundP99: spread(per.map((xs) => percentile(xs, 99))),
  };
}

const met = (ok: boolean) => (ok ? 'met' : 'not met');
const pair = (xs: number[]) => `${round(percentile(xs, 50))} / ${round(percentile(xs, 99))}`;
const ms = (s: Spread) => `${s.median} (${s.min} to ${s.max})`;
const x = (s: Spread) => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;

/** The overhead table, as markdown lines. */
export function formatOverhead(res: OverheadResult): string[] {
  const all = (f: (r: OverheadRound) => number[]) => res.rounds.flatMap(f);
  const perRound = res.rounds[0]?.statusMs.length ?? 0;
  const out = [
    '### Overhead per state transition',
    '',
    `A chain of ${res.steps} Task states calling a function that returns its input, against the same ${res.steps} calls made one`,
    'after another by a hand-written loop through the same gateway: the async path (submit with an id, the result from the',
    `results bucket), and the sync path (a NATS request per call). ${perRound} of each per round, interleaved, ${res.rounds.length} rounds, the`,
    'order flipped every round. Per transition: (run - the median loop of its round) / steps; p50 / p99 over every run,',
    'per-round p50 and p99: median (min to max).',
    '',
    '| workflow measured by | against | workflow p50 / p99 (ms) | loop p50 / p99 (ms) | per transition p50 (ms) | per transition p99 (ms) | per-round p50 (ms) | per-round p99 (ms) | aim |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const rows: [OverheadMeasure, string][] = [['statusMs', 'status times'], ['endToEndMs', 'create -> Succeeded']];
  const loops: [OverheadBaseline, string][] = [['asyncLoopMs', 'async loop'], ['syncLoopMs', 'sync loop']];
  const verdicts: string[] = [];
  for (const [b, bLabel] of loops) {
    for (const [m, mLabel] of rows) {
      const f = overheadFigures(res, m, b);
      const aim = `p50 ${met(f.p50 < AIMS.overheadP50Ms)}, p99 ${met(f.p99 < AIMS.overheadP99Ms)}`;
      out.push(`| ${mLabel} | ${bLabel} | ${pair(all((r) => r[m]))} | ${pair(all((r) => r[b]))} | ${f.p50} | ${f.p99} | ${ms(f.perRoundP50)} | ${ms(f.perRoundP99)} | ${aim} |`);
      if (b === 'asyncLoopMs') verdicts.push(`${mLabel}: ${f.p50} ms p50 ${met(f.p50 < AIMS.overheadP50Ms)}, ${f.p99} ms p99 ${met(f.p99 < AIMS.overheadP99Ms)}`);
    }
  }
  out.push('', `Aim: under ${AIMS.overheadP50Ms} ms p50 and ${AIMS.overheadP99Ms} ms p99 per transition against the async loop: ${verdicts.join('; ')}.`);
  return out;
}

const rate = (n: number, wallMs: number) => (wallMs > 0 ? n / (wallMs / 1000) : 0);

/** The throughput table, as markdown lines. */
export function formatThroughput(res: ThroughputResult): string[] {
  const rs = res.rounds;
  const med = (f: (r: ThroughputRound) => number) => Math.round(median(rs.map(f)));
  const failed = rs.reduce((n, r) => n + r.pass.failed + r.floor.failed + r.task.failed + r.loops.failed, 0);
  const out = [
    '### Transitions per second',
    '',
    `${res.runs} runs of a chain of ${res.steps} states started at once, from the first create to the last run seen Succeeded, ${rs.length}`,
    'rounds, mk and its baseline alternating; figures are medians over the rounds, ratios mk / baseline per round:',
    'median (min-max). The Pass chain (the engine and its journal alone) against its floor: one writer per run at once,',
    'each making one journal append per event a Pass run made (each awaited, with the expected last sequence), with no',
    'engine: what journaling event by event costs. The engine appends a step\'s events as one message, so it can beat it.',
    'The Task chain against the async loop, one per run, at once.',
    '',
    '| chain | runs at once | events per run | mk states/s | mk events/s | baseline | baseline per s | ratio | failed |',
    '|---|---|---|---|---|---|---|---|---|',
    `| Pass | ${res.runs} | ${med((r) => r.pass.events / Math.max(1, r.pass.runs))} | ${med((r) => rate(r.pass.states, r.pass.wallMs))} | ${med((r) => rate(r.pass.events, r.pass.wallMs))} | `
      + `journal appends | ${med((r) => rate(r.floor.events, r.floor.wallMs))} appends | ${x(spread(rs.map((r) => rate(r.pass.events, r.pass.wallMs) / rate(r.floor.events, r.floor.wallMs))))} events | ${rs.reduce((n, r) => n + r.pass.failed + r.floor.failed, 0)} |`,
    `| Task | ${res.runs} | ${med((r) => r.task.events / Math.max(1, r.task.runs))} | ${med((r) => rate(r.task.states, r.task.wallMs))} | ${med((r) => rate(r.task.events, r.task.wallMs))} | `
      + `async loops | ${med((r) => rate(r.loops.states, r.loops.wallMs))} calls | ${x(spread(rs.map((r) => rate(r.task.states, r.task.wallMs) / rate(r.loops.states, r.loops.wallMs))))} states | ${rs.reduce((n, r) => n + r.task.failed + r.loops.failed, 0)} |`,
    '',
    'Per round, wall time in ms:',
    '',
    '| round | first | Pass | floor | Task | loops |',
    '|---|---|---|---|---|---|',
    ...rs.map((r) => `| ${r.round} | ${r.first} | ${Math.round(r.pass.wallMs)} | ${Math.round(r.floor.wallMs)} | ${Math.round(r.task.wallMs)} | ${Math.round(r.loops.wallMs)} |`),
    '',
    failed === 0 ? 'Every run and loop succeeded.' : `${failed} runs or loops did not succeed (the aim is none).`,
  ];
  return out;
}

/** The slowest run of a round to resume (ms); NaN when none did. */
const slowest = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);

/** The resume table, as markdown lines. */
export function formatResume(res: ResumeResult): string[] {
  const rs = res.rounds;
  const allSeen = spread(rs.map((r) => slowest(r.seenMs)), 0);
  const notResumed = rs.reduce((n, r) => n + r.notResumed, 0);
  const failed = rs.reduce((n, r) => n + r.failed, 0);
  const out = [
    '### Resume after a SIGKILL of the control plane',
    '',
    `${res.runs} runs per round, half in a Wait of ${res.waitSeconds} s, half in a Task whose function sleeps ${res.taskSeconds} s; the control plane`,
    'SIGKILLed once every run waits, started again once every wait and call was over (so a resumed run\'s timer fires, or its',
    'task\'s recorded answer is read, at once). From the new control plane\'s first answer to mk.api.ping to each run\'s',
    'TimerFired or TaskSucceeded: seen by a watch of the store, and the event\'s own time in the journal.',
    '',
    '| round | waits | tasks | down (ms) | spawn -> ping (ms) | seen p50 (ms) | all seen (ms) | journal p50 (ms) | all in journal (ms) | not resumed | went on before the kill | not Succeeded |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rs.map((r) => `| ${r.round} | ${r.waits} | ${r.tasks} | ${Math.round(r.downMs)} | ${Math.round(r.startToPingMs)} | ${round(percentile(r.seenMs, 50), 0)} | `
      + `${round(slowest(r.seenMs), 0)} | ${round(percentile(r.eventMs, 50), 0)} | ${round(slowest(r.eventMs), 0)} | ${r.notResumed} | ${r.early} | ${r.failed} |`),
    '',
    `All resumed, seen by the watch, per round: ${ms(allSeen)} ms. Aim: every run resumed under ${AIMS.resumeMs} ms after the restart: `
      + `${met(notResumed === 0 && allSeen.max < AIMS.resumeMs)} (the slowest round ${allSeen.max} ms${notResumed ? `, ${notResumed} runs not resumed within ${res.deadlineMs} ms` : ''}).`,
    failed === 0 ? 'Every run succeeded after the restart.' : `${failed} runs did not succeed after the restart (the aim is none).`,
  ];
  return out;
}

/** The whole result, as markdown lines: the command first, then how the functions ran. */
export function formatWorkflows(res: WorkflowsResult): string[] {
  const parts = [
    res.overhead ? formatOverhead(res.overhead) : [], res.throughput ? formatThroughput(res.throughput) : [], res.resume ? formatResume(res.resume) : [],
  ].filter((p) => p.length > 0);
  if (parts.length === 0) throw new Error('the workflows benchmark measured nothing');
  return [
    `\`${res.command}\``,
    '',
    'The engine and its journal are real (a nats-server and the built `mk control-plane`), the gateway runs in the benchmark\'s',
    'process, and function instances run on a fake node: the real python loader on a loopback address, no containerd.',
    ...parts.flatMap((p) => ['', ...p]),
    '',
    busyWords(res.busyBefore),
  ];
}
