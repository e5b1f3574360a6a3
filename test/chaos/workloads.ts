/**
 * The workload-controller workload of a chaos round, all through the real CLI:
 *
 * - a ReplicaSet of 2-4 replicas, scaled up and down mid-window (`mk scale`);
 * - a Deployment of 2-3 replicas, rolled mid-window (`mk rollout restart`, or `mk apply` of its
 *   manifest with a changed env) and maybe rolled back a little later (`mk rollout undo`);
 * - a Job of 3 completions, 2 at a time, whose busybox pods `sleep 1`;
 * - a DaemonSet (one pod on the one node), rolled mid-window (`mk rollout restart daemonset/...`).
 *
 * All of them and their pods carry the label `chaos-workloads=<tag>`, and live in `default`.
 * The invariants are in workload-invariants.ts; the cleanup deletes the four objects (the
 * default, background cascade) and the garbage collector must take their pods.
 */
import type { KubeObject, Pod } from '../../messages';
import type { Rng } from '../helpers/chaos-random';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorkloadOptions, WorkloadStep, WorldSnapshot } from './kind';
import { checkPodsCleaned } from './pod-invariants';
import { parseItems } from './pods';
import {
  checkDaemonSet, checkDeployment, checkJob, checkNodeLeftovers, checkOwners, checkReplicaSet, checkWorkloadContainers, type WorkloadRecord,
} from './workload-invariants';

/** The label every object of the workload and every pod template carries, with the round's tag as value. */
export const WORKLOADS_LABEL = 'chaos-workloads';
/** The Job's shape. */
export const JOB_COMPLETIONS = 3;
export const JOB_PARALLELISM = 2;

/** How a Deployment is rolled: a restart (an annotation of the template) or an apply with a changed env. */
export type RollMethod = 'restart' | 'env';

/** The plan, drawn from the seed. */
export interface WorkloadsPlan {
  /** When the four objects are applied. */
  makeAtMs: number;
  replicaSet: { name: string; replicas: number; scales: { atMs: number; replicas: number }[] };
  deployment: { name: string; replicas: number; roll: { atMs: number; method: RollMethod }; undoAtMs?: number };
  job: { name: string };
  daemonSet: { name: string; rollAtMs: number };
}

/**
 * Draws the plan: the objects in the first 10 % of the window; the ReplicaSet scaled twice (up by
 * 1-2 and down to 1-3, in either order) between 25 % and 80 %; the Deployment rolled between 25 %
 * and 50 %, and rolled back (half the time) 15-30 % of the window later; the DaemonSet restarted
 * between 30 % and 70 % (drawn last, so the other objects' plans are those of the seed before).
 */
export function planWorkloads(rng: Rng, o: Pick<WorkloadOptions, 'tag' | 'windowMs'>): WorkloadsPlan {
  const w = o.windowMs;
  const base = `cw-${o.tag}`;
  const replicas = rng.int(2, 4);
  const upFirst = rng.chance(0.5);
  const t1 = Math.round(rng.between(0.25 * w, 0.5 * w));
  const t2 = Math.round(rng.between(0.55 * w, 0.8 * w));
  const up = (n: number) => n + rng.int(1, 2);
  const down = (n: number) => rng.int(1, Math.min(3, n - 1));
  const first = upFirst ? up(replicas) : down(replicas);
  const second = upFirst ? down(first) : up(first);
  const rollAt = Math.round(rng.between(0.25 * w, 0.5 * w));
  const method = rng.pick<RollMethod>(['restart', 'env']);
  const undo = rng.chance(0.5);
  return {
    makeAtMs: Math.round(rng.between(0, 0.1 * w)),
    replicaSet: { name: `${base}-rs`, replicas, scales: [{ atMs: t1, replicas: first }, { atMs: t2, replicas: second }] },
    deployment: {
      name: `${base}-d`, replicas: rng.int(2, 3), roll: { atMs: rollAt, method },
      ...(undo ? { undoAtMs: rollAt + Math.round(rng.between(0.15 * w, 0.3 * w)) } : {}),
    },
    job: { name: `${base}-j` },
    daemonSet: { name: `${base}-ds`, rollAtMs: Math.round(rng.between(0.3 * w, 0.7 * w)) },
  };
}

/** A busybox container sleeping `seconds`, with the env given (name=value pairs). */
function container(seconds: number, env: Record<string, string> = {}): string {
  const e = Object.entries(env);
  return `      containers:
        - name: main
          image: busybox
          command: ["sleep", "${seconds}"]
${e.length > 0 ? `          env:\n${e.map(([k, v]) => `            - name: ${k}\n              value: "${v}"`).join('\n')}\n` : ''}`;
}

/**
 * An apps/v1 workload of `kind` named `name`: labelled with the round's tag, selecting its pods
 * by `app: name`, its template a long-sleeping busybox with `env`; `replicas` when given.
 */
function appsManifest(kind: 'ReplicaSet' | 'Deployment' | 'DaemonSet', name: string, tag: string, replicas?: number, env: Record<string, string> = {}): string {
  return `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: ${name}
  labels:
    ${WORKLOADS_LABEL}: "${tag}"
spec:
${replicas === undefined ? '' : `  replicas: ${replicas}\n`}  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
        ${WORKLOADS_LABEL}: "${tag}"
    spec:
      terminationGracePeriodSeconds: 1
${container(86400, env)}`;
}

/** The ReplicaSet's manifest. */
export function replicaSetManifest(name: string, tag: string, replicas: number): string {
  return appsManifest('ReplicaSet', name, tag, replicas);
}

/** The Deployment's manifest; `generation` goes into the env, so a new one is a new template. */
export function deploymentManifest(name: string, tag: string, replicas: number, generation: number): string {
  return appsManifest('Deployment', name, tag, replicas, { CHAOS_GENERATION: String(generation) });
}

/** The DaemonSet's manifest: one long-sleeping pod on each node. */
export function daemonSetManifest(name: string, tag: string): string {
  return appsManifest('DaemonSet', name, tag);
}

/** The Job's manifest: JOB_COMPLETIONS pods that sleep 1 s, JOB_PARALLELISM at a time. */
export function jobManifest(name: string, tag: string): string {
  return `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  labels:
    ${WORKLOADS_LABEL}: "${tag}"
spec:
  completions: ${JOB_COMPLETIONS}
  parallelism: ${JOB_PARALLELISM}
  template:
    metadata:
      labels:
        ${WORKLOADS_LABEL}: "${tag}"
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
${container(1)}`;
}

const PLURAL = { ReplicaSet: 'replicasets', Deployment: 'deployments', DaemonSet: 'daemonsets', Job: 'jobs' } as const;
/** What the cleanup deletes by label, and what must then be gone. */
const CLEANED = ['deployments', 'replicasets', 'daemonsets', 'jobs'] as const;

class WorkloadsWorkload implements ChaosWorkload {
  readonly kind = 'workloads';
  readonly plurals = ['pods', 'replicasets', 'deployments', 'daemonsets', 'jobs'] as const;
  readonly steps: WorkloadStep[];
  private readonly records: WorkloadRecord[];
  private readonly violations: Violation[] = [];
  /** Every pod uid of the workload seen in a snapshot: the cleanup must take them all. */
  private readonly podUids = new Set<string>();
  /** What the round did, for the report. */
  private readonly done: string[] = [];
  /** True once the Deployment's roll went through: an undo needs a revision to go back to. */
  private rolled = false;

  constructor(private readonly plan: WorkloadsPlan, private readonly o: WorkloadOptions) {
    const ns = 'default';
    this.records = [
      { kind: 'ReplicaSet', name: plan.replicaSet.name, namespace: ns },
      { kind: 'Deployment', name: plan.deployment.name, namespace: ns },
      { kind: 'Job', name: plan.job.name, namespace: ns, completions: JOB_COMPLETIONS },
      { kind: 'DaemonSet', name: plan.daemonSet.name, namespace: ns },
    ];
    const d = plan.deployment;
    const steps: WorkloadStep[] = [
      { atMs: plan.makeAtMs, what: 'apply a ReplicaSet, a Deployment, a Job and a DaemonSet', run: (ctx) => this.make(ctx) },
      ...plan.replicaSet.scales.map((s) => ({ atMs: s.atMs, what: `scale ${plan.replicaSet.name} to ${s.replicas}`, run: (ctx: RoundContext) => this.scale(ctx, s.replicas) })),
      { atMs: d.roll.atMs, what: `roll ${d.name} (${d.roll.method})`, run: (ctx) => this.roll(ctx) },
      ...(d.undoAtMs === undefined ? [] : [{ atMs: d.undoAtMs, what: `undo the rollout of ${d.name}`, run: (ctx: RoundContext) => this.undo(ctx) }]),
      { atMs: plan.daemonSet.rollAtMs, what: `roll ${plan.daemonSet.name} (restart)`, run: (ctx) => this.rollDaemonSet(ctx) },
    ];
    this.steps = steps.sort((a, b) => a.atMs - b.atMs);
  }

  summary(): string {
    const p = this.plan;
    return `ReplicaSet of ${p.replicaSet.replicas} scaled to ${p.replicaSet.scales.map((s) => s.replicas).join(' then ')}, `
      + `Deployment of ${p.deployment.replicas} rolled (${p.deployment.roll.method})${p.deployment.undoAtMs === undefined ? '' : ' and rolled back'}, `
      + `Job of ${JOB_COMPLETIONS} completions (${JOB_PARALLELISM} at a time), DaemonSet restarted`;
  }

  stepViolations(): Violation[] {
    return [...this.violations];
  }

  private mine = (p: KubeObject): boolean => p.metadata.labels?.[WORKLOADS_LABEL] === this.o.tag;

  check(world: WorldSnapshot): Violation[] {
    const pods = (world.objects?.get('pods') ?? []) as Pod[];
    for (const p of pods.filter(this.mine)) if (p.metadata.uid) this.podUids.add(p.metadata.uid);
    const [rs, d, j, ds] = this.records;
    // A pod's controller: the ReplicaSet, the Job, the DaemonSet, or one of the Deployment's ReplicaSets.
    const owners = new Set([rs.uid, j.uid, ds.uid].filter((u): u is string => u !== undefined));
    for (const x of (world.objects?.get('replicasets') ?? []) as KubeObject[]) {
      if (d.uid !== undefined && x.metadata.ownerReferences?.some((r) => r.controller && r.uid === d.uid)) owners.add(x.metadata.uid ?? '');
    }
    return [
      ...checkReplicaSet(rs, world), ...checkDeployment(d, world), ...checkJob(j, world), ...checkDaemonSet(ds, world),
      ...(world.objects ? checkOwners(this.mine, owners, world) : []),
      ...checkWorkloadContainers(this.mine, world), ...checkNodeLeftovers(`cw-${this.o.tag}-`, world),
    ];
  }

  /** Deletes the four objects by label (background cascade): their ReplicaSets and pods must follow. */
  async cleanup(ctx: RoundContext): Promise<void> {
    const sel = `${WORKLOADS_LABEL}=${this.o.tag}`;
    const { result } = await ctx.mkUntil('list the workload pods', () => ['get', 'pods', '-l', sel, '-o', 'json'], { deadlineMs: this.o.stepDeadlineMs });
    for (const p of parseItems<Pod>(result.stdout)) if (p.metadata.uid) this.podUids.add(p.metadata.uid);
    for (const plural of CLEANED) {
      await ctx.mkUntil(`delete the workload ${plural}`, () => ['delete', plural, '-l', sel, '--wait=false'], { deadlineMs: this.o.stepDeadlineMs });
    }
  }

  checkCleaned(world: WorldSnapshot): Violation[] {
    const out = checkPodsCleaned(this.podUids, { key: WORKLOADS_LABEL, value: this.o.tag }, world);
    for (const plural of CLEANED) {
      for (const x of world.objects?.get(plural) ?? []) {
        if (this.mine(x) || this.records.some((r) => r.uid !== undefined && r.uid === x.metadata.uid)) {
          out.push({ invariant: 'cleanup', subject: `${plural} ${x.metadata.namespace ?? 'default'}/${x.metadata.name}`, permanent: false, detail: 'still in the store after its deletion' });
        }
      }
    }
    return out;
  }

  report(): unknown {
    return { plan: this.plan, records: this.records, done: this.done, podUids: [...this.podUids] };
  }

  private async make(ctx: RoundContext): Promise<void> {
    const { tag } = this.o;
    const p = this.plan;
    const stdin = [
      replicaSetManifest(p.replicaSet.name, tag, p.replicaSet.replicas),
      deploymentManifest(p.deployment.name, tag, p.deployment.replicas, 0),
      jobManifest(p.job.name, tag),
      daemonSetManifest(p.daemonSet.name, tag),
    ].join('---\n');
    try {
      await ctx.mkUntil('apply the workloads', () => ['apply', '-f', '-'], { stdin, deadlineMs: this.o.stepDeadlineMs });
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: 'apply the workloads', permanent: true, detail: (e as Error).message });
      return;
    }
    this.records[0].replicas = p.replicaSet.replicas;
    this.records[1].replicas = p.deployment.replicas;
    // The uids right after the apply: "not lost" later means the same uid is still there.
    for (const r of this.records) {
      try {
        const got = await ctx.mkUntil(`get ${r.name}`, () => ['get', PLURAL[r.kind], r.name, '-o', 'json'], {
          deadlineMs: this.o.stepDeadlineMs,
          done: (x) => x.code === 0 || /not found/.test(x.stderr),
        });
        const uid = got.result.code === 0 ? parseItems<KubeObject>(got.result.stdout)[0]?.metadata.uid : undefined;
        if (uid) r.uid = uid;
        else this.violations.push({ invariant: 'lost', subject: `${r.kind} ${r.namespace}/${r.name}`, permanent: true, detail: 'apply said it was done, yet it is not in the store right after' });
      } catch (e) {
        this.violations.push({ invariant: 'available', subject: `get ${r.name}`, permanent: true, detail: (e as Error).message });
      }
    }
    this.done.push(`${ctx.elapsedMs()} ms: applied`);
    ctx.note(`workloads: ${p.replicaSet.name}, ${p.deployment.name}, ${p.job.name} and ${p.daemonSet.name} applied`);
  }

  /** Runs one change through the CLI with retries; false (and an `available` violation) when it never went through. */
  private async change(ctx: RoundContext, what: string, args: string[], stdin?: string): Promise<boolean> {
    try {
      const { attempts } = await ctx.mkUntil(what, () => args, { stdin, deadlineMs: this.o.stepDeadlineMs });
      this.done.push(`${ctx.elapsedMs()} ms: ${what}${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
      ctx.note(`workloads: ${what}: done${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
      return true;
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: what, permanent: true, detail: (e as Error).message });
      return false;
    }
  }

  private async scale(ctx: RoundContext, replicas: number): Promise<void> {
    const r = this.records[0];
    if (r.uid === undefined) return;
    // Until it is acknowledged, either count may be the one the store has.
    r.replicas = undefined;
    if (await this.change(ctx, `scale ${r.name} to ${replicas}`, ['scale', `replicaset/${r.name}`, `--replicas=${replicas}`])) r.replicas = replicas;
  }

  private async roll(ctx: RoundContext): Promise<void> {
    const d = this.plan.deployment;
    if (this.records[1].uid === undefined) return;
    this.rolled = d.roll.method === 'restart'
      ? await this.change(ctx, `rollout restart ${d.name}`, ['rollout', 'restart', `deployment/${d.name}`])
      : await this.change(ctx, `apply ${d.name} with a new env`, ['apply', '-f', '-'], deploymentManifest(d.name, this.o.tag, d.replicas, 1));
  }

  /** `mk rollout restart daemonset/NAME`: a new restartedAt on the template replaces the daemon pod. */
  private async rollDaemonSet(ctx: RoundContext): Promise<void> {
    const r = this.records[3];
    if (r.uid === undefined) return;
    if (await this.change(ctx, `rollout restart ${r.name}`, ['rollout', 'restart', `daemonset/${r.name}`])) r.restarted = true;
  }

  private async undo(ctx: RoundContext): Promise<void> {
    const d = this.plan.deployment;
    if (!this.rolled) return;
    await this.change(ctx, `rollout undo ${d.name}`, ['rollout', 'undo', `deployment/${d.name}`]);
  }
}

/** A ReplicaSet, a Deployment, a Job and a DaemonSet: see the module comment. */
export const workloadsKind: ChaosKind = {
  name: 'workloads',
  generate: (rng, opts) => new WorkloadsWorkload(planWorkloads(rng, opts), opts),
};
