/**
 * The workflows workload of a chaos round, through the real CLI: one Workflow made of engine-only
 * states (Pass, a 2 s Wait, a Map over three items, a Choice), so every step of it is the engine
 * and its journal rather than a function, and a few runs of it applied at moments spread over
 * the window (by name, so a retried apply never makes a second run) while the round SIGKILLs
 * nats-server, the control plane, the node agent and containerd. Once the faults stop every run
 * must have Succeeded with the output its input decides, with a history in which no event and no
 * state execution appears twice, and the status's event count must be the journal's last event.
 */
import type { WorkflowRunObject } from '../../messages';
import type { Rng } from '../helpers/chaos-random';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorkloadOptions, WorkloadStep, WorldSnapshot } from './kind';
import { ROUND_LABEL } from './pods';

/** The round's workflow: engine-only states; a run's output depends on its input `i` only. */
export const CHAOS_WORKFLOW_SPEC = {
  startAt: 'Prep',
  states: {
    Prep: { type: 'Pass', parameters: { 'i.$': '$.i', items: [1, 2, 3] }, next: 'Nap' },
    Nap: { type: 'Wait', seconds: 2, next: 'Each' },
    Each: { type: 'Map', itemsPath: '$.items', itemProcessor: { startAt: 'Echo', states: { Echo: { type: 'Pass', end: true } } }, resultPath: '$.mapped', next: 'Pick' },
    Pick: { type: 'Choice', choices: [{ variable: '$.i', numericGreaterThanEquals: 3, next: 'High' }], default: 'Low' },
    High: { type: 'Pass', result: 'high', resultPath: '$.side', end: true },
    Low: { type: 'Pass', result: 'low', resultPath: '$.side', end: true },
  },
} as const;

/** The output a run of CHAOS_WORKFLOW_SPEC on `{ i }` must end with. */
export function expectedOutput(i: number): unknown {
  return { i, items: [1, 2, 3], mapped: [1, 2, 3], side: i >= 3 ? 'high' : 'low' };
}

/** The plan, drawn from the seed. */
export interface WorkflowsPlan {
  workflow: string;
  applyAtMs: number;
  runs: { name: string; i: number; atMs: number }[];
}

/** Draws the plan: the workflow in the first 10 % of the window, up to 6 runs between 10 % and 80 %. */
export function planWorkflows(rng: Rng, o: Pick<WorkloadOptions, 'tag' | 'windowMs' | 'count'>): WorkflowsPlan {
  const w = o.windowMs;
  const n = Math.max(1, Math.min(6, o.count));
  const runs = Array.from({ length: n }, (_, i) => ({ name: `cwr-${o.tag}-${i}`, i, atMs: Math.round(rng.between(0.1, 0.8) * w) }));
  return { workflow: `cwf-${o.tag}`, applyAtMs: Math.round(rng.between(0, 0.1 * w)), runs: runs.sort((a, b) => a.atMs - b.atMs) };
}

/** The invariants on the settled runs of the plan (see the module comment). */
export function checkRuns(plan: WorkflowsPlan, runs: readonly WorkflowRunObject[], applied: ReadonlySet<string>): Violation[] {
  const out: Violation[] = [];
  const byName = new Map(runs.map((r) => [r.metadata.name, r]));
  for (const p of plan.runs) {
    const subject = `workflowrun ${p.name}`;
    const r = byName.get(p.name);
    if (!r) {
      if (applied.has(p.name)) out.push({ invariant: 'lost', subject, detail: 'applied, and gone', permanent: true });
      continue;
    }
    const st = r.status ?? {};
    if (st.phase !== 'Succeeded') {
      const final = st.phase === 'Failed' || st.phase === 'Cancelled' || st.phase === 'TimedOut';
      out.push({ invariant: 'finished', subject, detail: `phase ${st.phase ?? 'Pending'}${st.error ? `: ${st.error.error}: ${st.error.cause ?? ''}` : ''}`, permanent: final });
      continue;
    }
    if (JSON.stringify(st.output) !== JSON.stringify(expectedOutput(p.i))) {
      out.push({ invariant: 'output', subject, detail: `output ${JSON.stringify(st.output)}, expected ${JSON.stringify(expectedOutput(p.i))}`, permanent: true });
    }
    const rows = st.history ?? [];
    const seqs = rows.map((h) => h.seq);
    if (new Set(seqs).size !== seqs.length || seqs.some((s, k) => k > 0 && s !== seqs[k - 1] + 1)) {
      out.push({ invariant: 'journal', subject, detail: `history seqs not one run of distinct numbers: ${seqs.join(',')}`, permanent: true });
    }
    const entered = rows.filter((h) => h.type === 'StateEntered').map((h) => h.path);
    const twice = entered.filter((p2, k) => entered.indexOf(p2) !== k);
    if (twice.length > 0) out.push({ invariant: 'attempt-twice', subject, detail: `states entered twice: ${twice.join(', ')}`, permanent: true });
    if (st.events !== seqs.at(-1)) out.push({ invariant: 'journal', subject, detail: `status.events ${st.events} but the last event is ${seqs.at(-1)}`, permanent: true });
  }
  return out;
}

class WorkflowsWorkload implements ChaosWorkload {
  readonly kind = 'workflows';
  readonly plurals = ['workflows', 'workflowruns'] as const;
  readonly steps: WorkloadStep[];
  private readonly violations: Violation[] = [];
  private readonly done: string[] = [];
  private readonly applied = new Set<string>();
  private workflowApplied = false;

  constructor(private readonly plan: WorkflowsPlan, private readonly o: WorkloadOptions) {
    this.steps = [
      { atMs: plan.applyAtMs, what: `apply workflow ${plan.workflow}`, run: (ctx) => this.apply(ctx, plan.workflow, this.workflowManifest()) },
      ...plan.runs.map((r) => ({ atMs: r.atMs, what: `run ${r.name}`, run: (ctx: RoundContext) => this.apply(ctx, r.name, this.runManifest(r.name, r.i)) })),
    ];
  }

  summary(): string {
    return `workflow ${this.plan.workflow} (Pass, Wait 2 s, Map of 3, Choice) run ${this.plan.runs.length} times`;
  }

  stepViolations(): Violation[] {
    return [...this.violations];
  }

  check(world: WorldSnapshot): Violation[] {
    if (!world.objects) return [{ invariant: 'api', subject: 'mk get', detail: `the api did not answer: ${world.apiError ?? 'unknown'}`, permanent: false }];
    const runs = (world.objects.get('workflowruns') ?? []) as unknown as WorkflowRunObject[];
    return checkRuns(this.plan, runs.filter((r) => r.metadata.labels?.[ROUND_LABEL] === this.o.tag), this.applied);
  }

  async cleanup(ctx: RoundContext): Promise<void> {
    for (const plural of ['workflowruns', 'workflows']) {
      await ctx.mkUntil(`delete the round's ${plural}`, () => ['delete', plural, '-l', `${ROUND_LABEL}=${this.o.tag}`, '--wait=false'], { deadlineMs: this.o.stepDeadlineMs });
    }
  }

  checkCleaned(world: WorldSnapshot): Violation[] {
    if (!world.objects) return [{ invariant: 'api', subject: 'mk get', detail: `the api did not answer: ${world.apiError ?? 'unknown'}`, permanent: false }];
    return this.plurals.flatMap((plural) => (world.objects!.get(plural) ?? [])
      .filter((o) => o.metadata.labels?.[ROUND_LABEL] === this.o.tag)
      .map((o) => ({ invariant: 'leak', subject: `${plural} ${o.metadata.name}`, detail: 'still there after cleanup', permanent: false })));
  }

  report(): unknown {
    return { plan: this.plan, done: this.done, workflowApplied: this.workflowApplied };
  }

  private workflowManifest(): string {
    return JSON.stringify({ apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: { name: this.plan.workflow, labels: { [ROUND_LABEL]: this.o.tag } }, spec: CHAOS_WORKFLOW_SPEC });
  }

  private runManifest(name: string, i: number): string {
    return JSON.stringify({
      apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name, labels: { [ROUND_LABEL]: this.o.tag } },
      spec: { workflowRef: { name: this.plan.workflow }, input: { i } },
    });
  }

  /** Applies one manifest by name (a retry of an apply that went through changes nothing). */
  private async apply(ctx: RoundContext, name: string, manifest: string): Promise<void> {
    try {
      const { attempts } = await ctx.mkUntil(`apply ${name}`, () => ['apply', '-f', '-'], { stdin: manifest, deadlineMs: this.o.stepDeadlineMs });
      this.applied.add(name);
      if (name === this.plan.workflow) this.workflowApplied = true;
      this.done.push(`${ctx.elapsedMs()} ms: applied ${name}${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: `apply ${name}`, permanent: true, detail: (e as Error).message });
    }
  }
}

/** Workflow runs started while the cluster's processes are killed: see the module comment. */
export const workflowsKind: ChaosKind = {
  name: 'workflows',
  generate: (rng, opts) => new WorkflowsWorkload(planWorkflows(rng, opts), opts),
};
