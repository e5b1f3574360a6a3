/**
 * The functions workload of a chaos round, all through the real CLI: a python Function
 * (`mk function deploy`, maxInstances 3, idle 4 s, timeout 120 s) called synchronously (`mk function invoke`, a
 * NATS request a gateway answers) in a steady stream through the window, and in two bursts of
 * 4-6 calls at once, while the round SIGKILLs the gateway, the control plane, the node agent and
 * nats-server (target `gateway`, and the usual ones). The stream also counts the function's
 * serving instances now and then. Once the calls stop the function must scale back to zero; on
 * cleanup it is deleted and no pod of it may be left. The invariants, and exactly which failed
 * attempts may be retried, are in function-invariants.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from '../../messages';
import type { Rng } from '../helpers/chaos-random';
import {
  attemptOutcome, checkCalls, checkFunctionCleaned, checkMaxInstances, checkScaledToZero, servingInstances, type CallRecord,
} from './function-invariants';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorkloadOptions, WorkloadStep, WorldSnapshot } from './kind';
import { parseItems } from './pods';
import { firstLine } from './snapshot';

/**
 * The function's bounds: few instances, so a burst meets maxInstances; a short idle time, so it
 * goes back to zero within the settle; a timeout long enough for a cold start while the node
 * agent is paused (26 s) and containerd restarts on a busy machine: a call that waits longer for
 * an instance is answered 504, which fails the round.
 */
export const FUNCTION_LIMITS = { maxInstances: 3, idleSeconds: 4, timeoutSeconds: 120 } as const;
/** How long one invoke waits: a call may queue up to the timeout; it runs 0.1 s; plus the bus and the CLI's start. */
const INVOKE_TIMEOUT_S = FUNCTION_LIMITS.timeoutSeconds + 30;
const HANDLER = 'import time\n\ndef handler(event):\n    time.sleep(0.1)\n    return {"twice": event["i"] * 2}\n';

/** The plan, drawn from the seed. */
export interface FunctionsPlan {
  name: string;
  deployAtMs: number;
  /** The stream runs from the deploy until this moment. */
  streamUntilMs: number;
  bursts: { atMs: number; calls: number }[];
}

/** Draws the plan: deployed in the first 10 % of the window, the stream to 90 %, bursts between 20 % and 80 %. */
export function planFunctions(rng: Rng, o: Pick<WorkloadOptions, 'tag' | 'windowMs'>): FunctionsPlan {
  const w = o.windowMs;
  const bursts = [rng.between(0.2, 0.5), rng.between(0.5, 0.8)].map((f) => ({ atMs: Math.round(f * w), calls: rng.int(4, 6) }));
  return { name: `cfn-${o.tag}`, deployAtMs: Math.round(rng.between(0, 0.1 * w)), streamUntilMs: Math.round(0.9 * w), bursts };
}

class FunctionsWorkload implements ChaosWorkload {
  readonly kind = 'functions';
  readonly plurals = ['pods', 'functions'] as const;
  readonly steps: WorkloadStep[];
  private readonly calls: CallRecord[] = [];
  private readonly violations: Violation[] = [];
  private readonly done: string[] = [];
  private deployed = false;
  private stream: Promise<void> = Promise.resolve();
  private readonly bursts: Promise<void>[] = [];
  private nextId = 0;
  /** The most serving instances counted, and when (ms since the round began). */
  private most = { count: 0, atMs: undefined as number | undefined };

  constructor(private readonly plan: FunctionsPlan, private readonly o: WorkloadOptions) {
    const steps: WorkloadStep[] = [
      { atMs: plan.deployAtMs, what: `deploy ${plan.name} and start a stream of calls`, run: (ctx) => this.deploy(ctx) },
      ...plan.bursts.map((b, i) => ({ atMs: b.atMs, what: `a burst of ${b.calls} calls to ${plan.name}`, run: async (ctx: RoundContext) => { this.burst(ctx, i, b.calls); } })),
      { atMs: plan.streamUntilMs, what: `wait for the calls to ${plan.name} to be answered`, run: () => this.settleCalls() },
    ];
    this.steps = steps.sort((a, b) => a.atMs - b.atMs);
  }

  summary(): string {
    return `function ${this.plan.name} (max ${FUNCTION_LIMITS.maxInstances}) called in a stream and in bursts of ${this.plan.bursts.map((b) => b.calls).join(' and ')}`;
  }

  stepViolations(): Violation[] {
    return [...this.violations];
  }

  check(world: WorldSnapshot): Violation[] {
    if (!world.objects) return [{ invariant: 'api', subject: 'mk get', detail: `the api did not answer: ${world.apiError ?? 'unknown'}`, permanent: false }];
    this.count(world.objects.get('pods') as Pod[] | undefined, undefined);
    const nowMs = Math.max(0, ...this.calls.flatMap((c) => c.attempts.map((a) => a.endMs)));
    return [
      ...checkCalls(this.calls, world.faults, nowMs),
      ...checkMaxInstances(this.plan.name, FUNCTION_LIMITS.maxInstances, this.most.count, this.most.atMs),
      ...(this.deployed ? checkScaledToZero(this.plan.name, world) : []),
    ];
  }

  async cleanup(ctx: RoundContext): Promise<void> {
    await ctx.mkUntil(`delete function ${this.plan.name}`, () => ['delete', 'function', this.plan.name, '--wait=false'], {
      deadlineMs: this.o.stepDeadlineMs, done: (r, attempt) => r.code === 0 || (attempt > 1 && /not found/.test(r.stderr)) || (!this.deployed && /not found/.test(r.stderr)),
    });
  }

  checkCleaned(world: WorldSnapshot): Violation[] {
    return checkFunctionCleaned(this.plan.name, world);
  }

  report(): unknown {
    const attempts = this.calls.reduce((n, c) => n + c.attempts.length, 0);
    const retried = this.calls.filter((c) => c.attempts.length > 1).map((c) => ({
      id: c.id, lane: c.lane, outcomes: c.attempts.map((a) => `${a.startMs}-${a.endMs} ms ${attemptOutcome(a, c.expected)}: ${firstLine(a.stderr)}`),
    }));
    return { plan: this.plan, done: this.done, calls: this.calls.length, answered: this.calls.filter((c) => c.answered).length, attempts, retried, mostInstances: this.most };
  }

  private async deploy(ctx: RoundContext): Promise<void> {
    const codeDir = fs.mkdtempSync(path.join(os.tmpdir(), `mk-chaos-fn-${this.o.tag}-`));
    fs.writeFileSync(path.join(codeDir, 'work.py'), HANDLER);
    const args = ['function', 'deploy', this.plan.name, '--runtime', 'python3', '--handler', 'work.handler', '-f', codeDir,
      '--max', String(FUNCTION_LIMITS.maxInstances), '--idle', `${FUNCTION_LIMITS.idleSeconds}s`, '--timeout', `${FUNCTION_LIMITS.timeoutSeconds}s`];
    try {
      const { attempts } = await ctx.mkUntil(`deploy ${this.plan.name}`, () => args, { deadlineMs: this.o.stepDeadlineMs });
      this.deployed = true;
      this.done.push(`${ctx.elapsedMs()} ms: deployed${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: `deploy ${this.plan.name}`, permanent: true, detail: (e as Error).message });
      return;
    } finally {
      // The code is in the cluster's code bucket once deployed.
      fs.rmSync(codeDir, { recursive: true, force: true });
    }
    // Off the lane: the bursts keep their times while the stream runs.
    this.stream = (async () => {
      let n = 0;
      while (ctx.elapsedMs() < this.plan.streamUntilMs && !ctx.signal.aborted) {
        await this.call(ctx, 'stream');
        if (++n % 3 === 0) await this.sample(ctx);
      }
    })();
  }

  private burst(ctx: RoundContext, i: number, calls: number): void {
    if (!this.deployed) return;
    this.bursts.push(Promise.all(Array.from({ length: calls }, () => this.call(ctx, `burst ${i + 1}`))).then(() => this.sample(ctx)));
  }

  private async settleCalls(): Promise<void> {
    await this.stream;
    await Promise.all(this.bursts);
    this.done.push(`${this.calls.filter((c) => c.answered).length} of ${this.calls.length} calls answered`);
  }

  /** One call, sent again while its attempts fail in a way function-invariants.ts allows, until the step deadline. */
  private async call(ctx: RoundContext, lane: string): Promise<void> {
    const id = this.nextId++;
    const c: CallRecord = { id, lane, expected: { twice: id * 2 }, attempts: [], answered: false };
    this.calls.push(c);
    const deadline = ctx.elapsedMs() + this.o.stepDeadlineMs;
    while (!ctx.signal.aborted && ctx.elapsedMs() < deadline) {
      const startMs = ctx.elapsedMs();
      const r = await ctx.mk(['function', 'invoke', this.plan.name, '--data', JSON.stringify({ i: id }), '--timeout', String(INVOKE_TIMEOUT_S)], { timeoutMs: (INVOKE_TIMEOUT_S + 30) * 1000 })
        .catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
      const a = { startMs, endMs: ctx.elapsedMs(), code: r.code, stdout: r.stdout, stderr: r.stderr };
      c.attempts.push(a);
      const o = attemptOutcome(a, c.expected);
      if (o === 'ok') { c.answered = true; return; }
      // A wrong result or another error is judged by check(); sending it again would hide nothing.
      if (o === 'wrong-result' || o === 'error') return;
      ctx.note(`functions: call ${id} (${lane}) attempt ${c.attempts.length}: ${firstLine(r.stderr) || `exit ${r.code}`}; again`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** Counts the function's serving instances now. */
  private async sample(ctx: RoundContext): Promise<void> {
    const r = await ctx.mk(['get', 'pods', '-l', `mk.io/function=${this.plan.name}`, '-o', 'json'], { timeoutMs: 20_000 }).catch(() => undefined);
    if (r?.code === 0) this.count(parseItems<Pod>(r.stdout), ctx.elapsedMs());
  }

  /** `atMs` is when, in ms since the round began (undefined for a settled snapshot's count). */
  private count(pods: readonly Pod[] | undefined, atMs: number | undefined): void {
    const n = servingInstances(pods ?? [], this.plan.name).length;
    if (n > this.most.count) this.most = { count: n, atMs };
  }
}

/** A function called in a stream and in bursts while its gateway and the cluster's processes are killed: see the module comment. */
export const functionsKind: ChaosKind = {
  name: 'functions',
  generate: (rng, opts) => new FunctionsWorkload(planFunctions(rng, opts), opts),
};
