/**
 * `npm run bench -- workflows [--runs N] [--steps S] [--rounds R] [--samples M] [--waiting K]
 * [--only overhead|throughput|resume]` (no root): the workflow engine against what a careful user
 * writes without it, in the same run, on the world of workflows-env.ts. Functions are warm: their
 * instances are up (minInstances = maxInstances) before anything is measured.
 *
 * - overhead: a chain of S Task states calling a function that returns its input, M runs over R
 *   rounds, each run interleaved with the same S calls made by a loop through the same gateway
 *   (async: submit with an id, the result from the results bucket; and sync), the order flipped
 *   every round.
 * - throughput: N runs of a Pass chain (the engine and its journal alone) at once, against as many
 *   journal appends made by N writers at once with no engine; N runs of the Task chain at once,
 *   against N async loops at once.
 * - resume: K runs waiting (half in a Wait, half in a long Task), the control plane SIGKILLed and
 *   started again once every wait and call is over; from its first answer to mk.api.ping to every
 *   run's TimerFired or TaskSucceeded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StorageType } from '@nats-io/jetstream';
import { taskCallId } from '../../actors/workflow/tasks';
import { invocationId } from '../../actors/workflow/engine/naming';
import type { WorkflowRunObject } from '../../messages';
import type { JsonValue, WorkflowSpec } from '../../messages/workflow';
import { until } from '../helpers/wait';
import { samplesPerRound } from './functions-report';
import { median } from './stats';
import { waitForQuietCpu } from './quiet';
import { startWorkflowsEnv, type SeenRun, type WorkflowsEnv } from './workflows-env';
import {
  formatWorkflows, WORKFLOW_PARTS, workflowsCommand, workflowsSettings,
  type OverheadResult, type OverheadRound, type ResumeResult, type ResumeRound, type ThroughputResult, type ThroughputRound, type ThroughputSide,
  type WorkflowsResult, type WorkflowsSettings,
} from './workflows-report';

/**
 * The functions: one that answers its input; one that sleeps `event.sleep` seconds first, having
 * made the file `event.mark` (when given), so the benchmark sees the call under way on the node.
 */
const ECHO = { name: 'wf-echo', code: 'def handler(event):\n    return event\n', instances: 2, concurrency: 32 };
const SLEEP = {
  name: 'wf-sleep', instances: 1, concurrency: 64,
  code: 'import time\n\n\ndef handler(event):\n    if event.get("mark"):\n        open(event["mark"], "w").close()\n    time.sleep(event["sleep"])\n    return event\n',
};
/** The input every chain starts from. */
const INPUT: JsonValue = { n: 1, note: 'workflow benchmark' };
/** The resume part's Wait and long Task, in seconds. */
const RESUME = { waitSeconds: 5, taskSeconds: 4, deadlineMs: 30_000 };
/** How long one run of a chain may take (ms), and N of them at once. */
const RUN_DEADLINE_MS = 60_000;
const BURST_DEADLINE_MS = 300_000;
/** The floor's stream (a scratch stream on the same server) and its payload, about one journal event. */
const FLOOR_STREAM = 'MK_BENCH_WF_FLOOR';
const FLOOR_PAYLOAD = new TextEncoder().encode(JSON.stringify({ type: 'StateEntered', path: 'P1#1', scope: '', state: 'P1', input: INPUT, at: new Date(0).toISOString() }).padEnd(256));

/** A chain of `steps` states named `<prefix>1..`, each made by `state(next)`. */
function chain(prefix: string, steps: number, state: (next: string | undefined) => Record<string, unknown>): WorkflowSpec {
  const states: Record<string, unknown> = {};
  for (let i = 1; i <= steps; i++) states[`${prefix}${i}`] = state(i < steps ? `${prefix}${i + 1}` : undefined);
  return { startAt: `${prefix}1`, states } as unknown as WorkflowSpec;
}
/** The state after this one, or the end. */
const followedBy = (next: string | undefined) => (next ? { next } : { end: true });

/** The busy share found by every quiet check, in order. */
const busyBefore: number[] = [];
async function quiet(): Promise<void> {
  busyBefore.push((await waitForQuietCpu({ windowMs: 300, deadlineMs: 10_000 })).busy);
}

/** Whole ms between a run's status times; NaN when it has none. */
const statusDuration = (r: WorkflowRunObject) => Date.parse(r.status?.completionTime ?? '') - Date.parse(r.status?.startTime ?? '');

/** One run from its create request to Succeeded seen by the watch; throws when it ends otherwise. */
async function timedRun(env: WorkflowsEnv, name: string, workflow: string): Promise<{ statusMs: number; endToEndMs: number }> {
  const done = env.finished(name, RUN_DEADLINE_MS);
  const t0 = performance.now();
  await env.createRun(name, workflow, INPUT);
  const seen = await done;
  if (seen.run.status?.phase !== 'Succeeded') throw new Error(`run ${name} ended ${seen.run.status?.phase}: ${JSON.stringify(seen.run.status?.error)}`);
  return { statusMs: statusDuration(seen.run), endToEndMs: seen.seenAt - t0 };
}

/** How long `f` takes, in ms. */
async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** The overhead part (see the module comment). */
async function overheadPart(env: WorkflowsEnv, o: WorkflowsSettings, say: (l: string) => void): Promise<OverheadResult> {
  say('overhead: warm-up (3 runs and 3 loops of each kind, not measured)');
  for (let i = 0; i < 3; i++) {
    await timedRun(env, `ovh-warm-${i}`, 'task-chain');
    await env.asyncLoop(ECHO.name, INPUT, o.steps);
    await env.syncLoop(ECHO.name, INPUT, o.steps);
  }
  await env.deleteRuns([0, 1, 2].map((i) => `ovh-warm-${i}`));
  const rounds: OverheadRound[] = [];
  const counts = samplesPerRound(o.samples, o.rounds);
  for (let r = 0; r < o.rounds; r++) {
    await quiet();
    const round: OverheadRound = { round: r + 1, first: r % 2 === 0 ? 'workflow' : 'loop', statusMs: [], endToEndMs: [], asyncLoopMs: [], syncLoopMs: [] };
    const names: string[] = [];
    for (let i = 0; i < counts[r]; i++) {
      const workflow = async () => {
        const name = `ovh-${r + 1}-${i}`;
        names.push(name);
        const t = await timedRun(env, name, 'task-chain');
        round.statusMs.push(t.statusMs);
        round.endToEndMs.push(t.endToEndMs);
      };
      const loops = async () => {
        round.asyncLoopMs.push(await timed(() => env.asyncLoop(ECHO.name, INPUT, o.steps)));
        round.syncLoopMs.push(await timed(() => env.syncLoop(ECHO.name, INPUT, o.steps)));
      };
      for (const side of round.first === 'workflow' ? [workflow, loops] : [loops, workflow]) await side();
    }
    rounds.push(round);
    const med = (xs: number[]) => Math.round(median(xs));
    say(`overhead round ${r + 1}/${o.rounds}: run ${med(round.statusMs)} ms (status), ${med(round.endToEndMs)} ms (create -> Succeeded); `
      + `loop ${med(round.asyncLoopMs)} ms async, ${med(round.syncLoopMs)} ms sync (medians of ${counts[r]})`);
    await env.deleteRuns(names);
  }
  return { steps: o.steps, rounds };
}

/** `runs` runs of `workflow` created at once; until the last is seen final. */
async function burst(env: WorkflowsEnv, prefix: string, workflow: string, runs: number, steps: number): Promise<{ side: ThroughputSide; names: string[] }> {
  const names = Array.from({ length: runs }, (_, i) => `${prefix}-${i}`);
  const done = names.map((n) => env.finished(n, BURST_DEADLINE_MS).catch(() => undefined));
  const t0 = performance.now();
  await Promise.all(names.map((n) => env.createRun(n, workflow, INPUT)));
  const seen = (await Promise.all(done)).filter((s): s is SeenRun => s !== undefined);
  const ok = seen.filter((s) => s.run.status?.phase === 'Succeeded');
  return {
    names,
    side: {
      runs, states: ok.length * steps, events: ok.reduce((n, s) => n + (s.run.status?.events ?? 0), 0),
      wallMs: seen.length ? Math.max(...seen.map((s) => s.seenAt)) - t0 : NaN, failed: runs - ok.length,
    },
  };
}

/** The floor of the Pass chain: `writers` at once, each making `appends` awaited appends with the expected last sequence. */
async function journalFloor(env: WorkflowsEnv, round: number, writers: number, appends: number): Promise<ThroughputSide> {
  const js = env.bus.js;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    let last = 0;
    try {
      for (let i = 0; i < appends; i++) {
        last = (await js.publish(`mk.bench.wf-floor.${round}.${w}`, FLOOR_PAYLOAD, { expect: { lastSubjectSequence: last } })).seq;
      }
    } catch {
      failed++;
    }
  }));
  return { runs: writers, states: 0, events: (writers - failed) * appends, wallMs: performance.now() - t0, failed };
}

/** `runs` async loops at once. */
async function loopBurst(env: WorkflowsEnv, runs: number, steps: number): Promise<ThroughputSide> {
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: runs }, () => env.asyncLoop(ECHO.name, INPUT, steps).catch(() => { failed++; })));
  return { runs, states: (runs - failed) * steps, events: 0, wallMs: performance.now() - t0, failed };
}

/** The throughput part (see the module comment). */
async function throughputPart(env: WorkflowsEnv, o: WorkflowsSettings, say: (l: string) => void): Promise<ThroughputResult> {
  const jsm = env.bus.jsm;
  await jsm.streams.add({ name: FLOOR_STREAM, subjects: ['mk.bench.wf-floor.>'], storage: StorageType.File });
  try {
    say('throughput: warm-up (a Pass run, a Task run; the Pass run gives the floor its appends per writer)');
    const warm = await burst(env, 'thr-warm-pass', 'pass-chain', 1, o.steps);
    const warmTask = await burst(env, 'thr-warm-task', 'task-chain', 1, o.steps);
    await env.deleteRuns([...warm.names, ...warmTask.names]);
    const appends = warm.side.events;
    if (!appends) throw new Error('the warm-up Pass run did not succeed');
    const rounds: ThroughputRound[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const first = r % 2 === 0 ? 'mk' : 'baseline';
      const names: string[] = [];
      const got: Partial<Pick<ThroughputRound, 'pass' | 'floor' | 'task' | 'loops'>> = {};
      const sides: Record<'pass' | 'floor' | 'task' | 'loops', () => Promise<ThroughputSide>> = {
        pass: async () => { const b = await burst(env, `thr-pass-${r + 1}`, 'pass-chain', o.runs, o.steps); names.push(...b.names); return b.side; },
        floor: () => journalFloor(env, r + 1, o.runs, appends),
        task: async () => { const b = await burst(env, `thr-task-${r + 1}`, 'task-chain', o.runs, o.steps); names.push(...b.names); return b.side; },
        loops: () => loopBurst(env, o.runs, o.steps),
      };
      const order = first === 'mk' ? ['pass', 'floor', 'task', 'loops'] as const : ['floor', 'pass', 'loops', 'task'] as const;
      for (const side of order) {
        await quiet();
        got[side] = await sides[side]();
      }
      const round: ThroughputRound = { round: r + 1, first, pass: got.pass!, floor: got.floor!, task: got.task!, loops: got.loops! };
      rounds.push(round);
      const perS = (n: number, ms: number) => Math.round(n / (ms / 1000));
      say(`throughput round ${r + 1}/${o.rounds}: Pass ${perS(round.pass.events, round.pass.wallMs)} events/s, floor ${perS(round.floor.events, round.floor.wallMs)} appends/s; `
        + `Task ${perS(round.task.states, round.task.wallMs)} states/s, loops ${perS(round.loops.states, round.loops.wallMs)} calls/s`);
      await env.deleteRuns(names);
    }
    return { runs: o.runs, steps: o.steps, rounds };
  } finally {
    await jsm.streams.delete(FLOOR_STREAM).catch(() => undefined);
  }
}

/** The event that says a waiting run resumed: its timer fired or its task's answer was taken. */
const resumedRow = (r: WorkflowRunObject) => r.status?.history?.find((h) => (h.type === 'TimerFired' && h.path === 'Nap#1') || (h.type === 'TaskSucceeded' && h.path === 'Long#1'));
/** The run is in its Wait or its Task. */
const isWaiting = (r: WorkflowRunObject | undefined) => !!r?.status?.history?.some((h) => (h.type === 'TimerStarted' && h.path === 'Nap#1') || (h.type === 'TaskScheduled' && h.path === 'Long#1'));

/** One round of the resume part. */
async function resumeRound(env: WorkflowsEnv, r: number, k: number, say: (l: string) => void): Promise<ResumeRound> {
  const names = Array.from({ length: k }, (_, i) => `res-${r}-${i}`);
  const isWait = (i: number) => i % 2 === 0;
  const done = names.map((n) => env.finished(n, 120_000).catch(() => undefined));
  const mark = (n: string) => path.join(env.dir, `${n}.called`);
  await Promise.all(names.map((n, i) => env.createRun(n, isWait(i) ? 'nap' : 'long', isWait(i) ? INPUT : { sleep: RESUME.taskSeconds, mark: mark(n) })));
  const callOf = (run: WorkflowRunObject) => taskCallId(invocationId(run.metadata.uid ?? '', 'Long#1', 1));
  // Waiting: the Wait's timer started, or the Task's function running on the node (a call only
  // queued would wait for a gateway that may not know the instance yet, and time out).
  const before = await until('every run in its Wait or its Task\'s function running', async () => {
    const runs = await Promise.all(names.map((n) => env.getRun(n)));
    if (!runs.every(isWaiting)) return undefined;
    return (runs as WorkflowRunObject[]).every((run) => run.spec.workflowRef?.name !== 'long' || fs.existsSync(mark(run.metadata.name))) ? runs as WorkflowRunObject[] : undefined;
  }, 60_000, 20);
  const tKill = performance.now();
  await env.killControlPlane();
  // Down until every Wait's time has passed and every long Task's answer is recorded.
  // A run that went on before the kill (a machine too slow for --waiting K) is left out of the figures.
  const wentOn = new Set(before.filter((run) => resumedRow(run) !== undefined).map((run) => run.metadata.name));
  const early = wentOn.size;
  if (early > 0) say(`resume round ${r}: ${early} runs went on before the kill; they are left out`);
  const measured = names.filter((n) => !wentOn.has(n));
  /** What still goes on while the control plane is down, in words; empty when nothing does. */
  const stillOn = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const run of before) {
      if (run.spec.workflowRef?.name === 'nap') {
        const started = run.status?.history?.find((h) => h.type === 'TimerStarted' && h.path === 'Nap#1');
        const fireAt = Date.parse(started?.detail.replace(/^wait timer until /, '') ?? '');
        if (!(fireAt < Date.now())) out.push(`${run.metadata.name} waits until ${started?.detail ?? '(no timer)'}`);
      } else {
        const res = await env.asyncResult(callOf(run));
        if (res?.status !== 'Succeeded') out.push(`${run.metadata.name}'s call is ${res ? `${res.status}${res.error ? ` (${res.error})` : ''}` : 'not recorded'}`);
      }
    }
    return out;
  };
  let left: string[] = [];
  await until('every wait over and every long task answered', async () => {
    left = await stillOn();
    return left.length === 0 ? true : undefined;
  }, 60_000, 20).catch((e: unknown) => { throw new Error(`${(e as Error).message}: ${left.join('; ')}`); });
  const seen = new Map<string, { seenAt: number; eventAt: number }>();
  const stop = env.onRun((s) => {
    const row = resumedRow(s.run);
    if (row && !seen.has(s.run.metadata.name)) seen.set(s.run.metadata.name, { seenAt: s.seenAt, eventAt: Date.parse(row.time) });
  });
  const downMs = performance.now() - tKill;
  const start = await env.startControlPlane();
  try {
    await until('every run resumed', () => (measured.every((n) => seen.has(n)) ? true : undefined), RESUME.deadlineMs, 10).catch(() => undefined);
  } finally {
    stop();
  }
  const resumed = measured.filter((n) => seen.has(n));
  const round: ResumeRound = {
    round: r, waits: names.filter((_, i) => isWait(i)).length, tasks: names.filter((_, i) => !isWait(i)).length,
    downMs, startToPingMs: start.pingAt - start.spawnedAt,
    seenMs: resumed.map((n) => seen.get(n)!.seenAt - start.pingAt),
    eventMs: resumed.map((n) => seen.get(n)!.eventAt - start.pingWall),
    notResumed: measured.length - resumed.length, early, failed: 0,
  };
  round.failed = (await Promise.all(done)).filter((s) => s?.run.status?.phase !== 'Succeeded').length;
  await env.deleteRuns(names);
  return round;
}

/** The resume part (see the module comment). */
async function resumePart(env: WorkflowsEnv, o: WorkflowsSettings, say: (l: string) => void): Promise<ResumeResult> {
  say('resume: warm-up (a call of the sleeping function, so the gateway has its instance in view)');
  await env.asyncLoop(SLEEP.name, { sleep: 0 }, 1);
  const rounds: ResumeRound[] = [];
  for (let r = 1; r <= o.rounds; r++) {
    await quiet();
    const round = await resumeRound(env, r, o.waiting, say);
    rounds.push(round);
    say(`resume round ${r}/${o.rounds}: down ${Math.round(round.downMs)} ms, spawn -> ping ${Math.round(round.startToPingMs)} ms, `
      + `${round.seenMs.length} resumed, the last ${Math.round(Math.max(...round.seenMs))} ms after the ping; ${round.notResumed} not resumed, ${round.failed} not Succeeded`);
  }
  return { runs: o.waiting, waitSeconds: RESUME.waitSeconds, taskSeconds: RESUME.taskSeconds, deadlineMs: RESUME.deadlineMs, rounds };
}

/** `workflows`: starts the world, measures the asked parts, prints the tables and the JSON. */
export async function workflowsBench(args: string[], usage: string): Promise<void> {
  const o = workflowsSettings(args, usage);
  const say = (l: string) => console.error(l);
  const parts = o.only ? [o.only] : [...WORKFLOW_PARTS];
  say('starting a nats-server, a control plane, the gateway and a fake function node ...');
  const env = await startWorkflowsEnv(say);
  const result: WorkflowsResult = { command: workflowsCommand(o), busyBefore };
  try {
    await env.deployPython(ECHO.name, ECHO.code, ECHO.instances, ECHO.concurrency);
    if (parts.includes('resume')) await env.deployPython(SLEEP.name, SLEEP.code, SLEEP.instances, SLEEP.concurrency);
    await env.applyWorkflow('task-chain', chain('T', o.steps, (next) => ({ type: 'Task', function: ECHO.name, ...followedBy(next) })));
    await env.applyWorkflow('pass-chain', chain('P', o.steps, (next) => ({ type: 'Pass', ...followedBy(next) })));
    await env.applyWorkflow('nap', { startAt: 'Nap', states: { Nap: { type: 'Wait', seconds: RESUME.waitSeconds, next: 'Done' }, Done: { type: 'Pass', end: true } } } as unknown as WorkflowSpec);
    await env.applyWorkflow('long', { startAt: 'Long', states: { Long: { type: 'Task', function: SLEEP.name, next: 'Done' }, Done: { type: 'Pass', end: true } } } as unknown as WorkflowSpec);
    say(`functions Ready; measuring ${parts.join(', ')} ...`);
    if (parts.includes('overhead')) result.overhead = await overheadPart(env, o, say);
    if (parts.includes('throughput')) result.throughput = await throughputPart(env, o, say);
    if (parts.includes('resume')) result.resume = await resumePart(env, o, say);
  } finally {
    await env.close();
  }
  for (const line of formatWorkflows(result)) console.log(line);
  console.log(JSON.stringify(result));
}
