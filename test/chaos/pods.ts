/**
 * The pod workload of a chaos round: N bare pods (busybox, a long sleep) applied in a few bursts
 * at random moments, some of them deleted in a few waves later on (each wave with its own grace
 * period: the pod's own, 1 s, or 0, which is a forced deletion), all through the real CLI.
 */
import type { Pod } from '../../messages';
import type { Rng } from '../helpers/chaos-random';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorkloadOptions, WorkloadStep, WorldSnapshot } from './kind';
import { checkPods, checkPodsCleaned, type PodRecord } from './pod-invariants';
import { checkActors } from './actor-invariants';

/** The label every pod of a round carries, with the round's tag as value. */
export const ROUND_LABEL = 'chaos-round';
/** The label naming a pod's burst. */
export const BURST_LABEL = 'chaos-burst';

/** How a delete wave stops its pods: the pod's own grace period, 1 s, or 0 (forced). */
export type WaveGrace = 'own' | 0 | 1;

/** The pods' plan, drawn from the seed. */
export interface PodPlan {
  pods: { name: string; burst: number; graceSeconds: number; wave?: number }[];
  bursts: { atMs: number }[];
  waves: { atMs: number; grace: WaveGrace }[];
}

/**
 * Draws the plan: 1 to 3 bursts in the first 60 % of the window (the first within its first
 * 20 %), 1 to 3 delete waves after the first burst, and each pod deleted with probability
 * `deleteShare` by a wave later than its burst.
 */
export function planPods(rng: Rng, o: WorkloadOptions & { deleteShare?: number }): PodPlan {
  const w = o.windowMs;
  const nBursts = Math.min(o.count, rng.int(1, 3));
  const bursts = [rng.between(0, 0.2 * w), ...Array.from({ length: nBursts - 1 }, () => rng.between(0.1 * w, 0.6 * w))]
    .sort((a, b) => a - b).map((atMs) => ({ atMs: Math.round(atMs) }));
  const nWaves = rng.int(1, 3);
  const waves = Array.from({ length: nWaves }, () => rng.between(bursts[0].atMs + 0.1 * w, w)).sort((a, b) => a - b)
    .map((atMs) => ({ atMs: Math.round(atMs), grace: rng.pick<WaveGrace>(['own', 0, 1]) }));
  // Every burst gets at least one pod; the rest are spread at random.
  const burstOf = rng.shuffle(Array.from({ length: o.count }, (_, i) => (i < nBursts ? i : rng.int(0, nBursts - 1))));
  const pods = burstOf.map((burst, i) => {
    const later = waves.map((wv, k) => ({ wv, k })).filter(({ wv }) => wv.atMs > bursts[burst].atMs);
    const wave = later.length > 0 && rng.chance(o.deleteShare ?? 0.3) ? rng.pick(later).k : undefined;
    return { name: `cp-${o.tag}-${i}`, burst, graceSeconds: rng.int(1, 3), wave };
  });
  return { pods, bursts, waves };
}

/** The manifest of one chaos pod. */
export function podManifest(name: string, tag: string, burst: number, graceSeconds: number): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    ${ROUND_LABEL}: "${tag}"
    ${BURST_LABEL}: "${burst}"
spec:
  terminationGracePeriodSeconds: ${graceSeconds}
  containers:
    - name: main
      image: busybox
      command: ["sleep", "86400"]
`;
}

/** Parses `mk get ... -o json` (a List, or one object). Throws a SyntaxError on anything else. */
export function parseItems<T>(stdout: string): T[] {
  const v = JSON.parse(stdout) as { kind?: string; items?: T[] };
  return v.kind === 'List' ? v.items ?? [] : [v as T];
}

/** True when every error line of a delete is a "not found" (not a bus failure halfway through). */
function onlyNotFound(stderr: string): boolean {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('Warning'));
  return lines.length > 0 && lines.every((l) => /pods? "[^"]+" not found/.test(l));
}

class PodWorkload implements ChaosWorkload {
  readonly kind = 'pods';
  readonly plurals = ['pods'] as const;
  readonly steps: WorkloadStep[];
  private readonly records: PodRecord[];
  private readonly violations: Violation[] = [];
  private readonly cleanupUids = new Set<string>();

  constructor(private readonly plan: PodPlan, private readonly o: WorkloadOptions) {
    this.records = plan.pods.map((p) => ({ name: p.name, namespace: 'default', burst: p.burst }));
    const steps: WorkloadStep[] = [
      ...plan.bursts.map((b, k) => ({ atMs: b.atMs, what: `apply burst ${k}`, run: (ctx: RoundContext) => this.applyBurst(ctx, k) })),
      ...plan.waves.map((wv, k) => ({ atMs: wv.atMs, what: `delete wave ${k}`, run: (ctx: RoundContext) => this.deleteWave(ctx, k) })),
    ];
    this.steps = steps.sort((a, b) => a.atMs - b.atMs);
  }

  summary(): string {
    const deleted = this.plan.pods.filter((p) => p.wave !== undefined).length;
    return `${this.plan.pods.length} pods in ${this.plan.bursts.length} burst(s), ${deleted} deleted in ${this.plan.waves.length} wave(s) `
      + `(grace ${this.plan.waves.map((w) => w.grace).join(', ')})`;
  }

  stepViolations(): Violation[] {
    return [...this.violations];
  }

  check(world: WorldSnapshot): Violation[] {
    return [...checkPods(this.records, world), ...checkActors(world, (world.objects?.get('pods') ?? []) as Pod[])];
  }

  checkCleaned(world: WorldSnapshot): Violation[] {
    for (const r of this.records) if (r.uid) this.cleanupUids.add(r.uid);
    return checkPodsCleaned(this.cleanupUids, { key: ROUND_LABEL, value: this.o.tag }, world);
  }

  /** Every pod of the round still in the store is deleted (the pods' own grace), by label. */
  async cleanup(ctx: RoundContext): Promise<void> {
    const sel = `${ROUND_LABEL}=${this.o.tag}`;
    const { result } = await ctx.mkUntil('list the round\'s pods', () => ['get', 'pods', '-l', sel, '-o', 'json'], { deadlineMs: this.o.stepDeadlineMs });
    for (const p of parseItems<Pod>(result.stdout)) if (p.metadata.uid) this.cleanupUids.add(p.metadata.uid);
    await ctx.mkUntil('delete the round\'s pods', () => ['delete', 'pods', '-l', sel, '--wait=false'], { deadlineMs: this.o.stepDeadlineMs });
  }

  report(): unknown {
    return { plan: this.plan, records: this.records };
  }

  private async applyBurst(ctx: RoundContext, k: number): Promise<void> {
    const pods = this.plan.pods.filter((p) => p.burst === k);
    const stdin = pods.map((p) => podManifest(p.name, this.o.tag, k, p.graceSeconds)).join('---\n');
    let result;
    try {
      ({ result } = await ctx.mkUntil(`apply burst ${k}`, () => ['apply', '-f', '-'], { stdin, deadlineMs: this.o.stepDeadlineMs }));
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: `apply burst ${k}`, permanent: true, detail: (e as Error).message });
      return;
    }
    const at = ctx.elapsedMs();
    ctx.note(`burst ${k}: ${result.stdout.trim().split('\n').length} pods applied`);
    // The uids right after the apply: "not lost" later means the same uid is still there.
    const sel = `${ROUND_LABEL}=${this.o.tag},${BURST_LABEL}=${k}`;
    let items: Pod[];
    try {
      const got = await ctx.mkUntil(`get burst ${k}`, () => ['get', 'pods', '-l', sel, '-o', 'json'], { deadlineMs: this.o.stepDeadlineMs });
      items = parseItems<Pod>(got.result.stdout);
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: `get burst ${k}`, permanent: true, detail: (e as Error).message });
      return;
    }
    for (const p of pods) {
      const rec = this.records.find((r) => r.name === p.name)!;
      const got = items.find((i) => i.metadata.name === p.name);
      rec.appliedAtMs = at;
      if (got?.metadata.uid) rec.uid = got.metadata.uid;
      else this.violations.push({ invariant: 'lost', subject: `pod default/${p.name}`, permanent: true, detail: `apply said it was done, yet the pod is not in the store right after` });
    }
  }

  private async deleteWave(ctx: RoundContext, k: number): Promise<void> {
    const wave = this.plan.waves[k];
    // Only pods whose apply went through (a burst that never applied has nothing to delete).
    const recs = this.records.filter((r) => this.plan.pods.find((p) => p.name === r.name)?.wave === k && r.uid !== undefined);
    if (recs.length === 0) return;
    const grace = wave.grace === 'own' ? [] : ['--grace-period', String(wave.grace)];
    for (const r of recs) r.deleteRequestedAtMs = ctx.elapsedMs();
    const names = recs.map((r) => r.name);
    try {
      // A retry may find a pod already gone (the first attempt went through before failing): that is fine.
      const { result, attempts } = await ctx.mkUntil(`delete wave ${k}`, (attempt) => ['delete', 'pod', ...names, '--wait=false', ...grace, ...(attempt > 1 ? ['--ignore-not-found'] : [])], {
        deadlineMs: this.o.stepDeadlineMs,
        done: (r, attempt) => r.code === 0 || (attempt === 1 && onlyNotFound(r.stderr)),
      });
      if (attempts === 1 && result.code !== 0) {
        for (const m of result.stderr.matchAll(/pods "([^"]+)" not found/g)) {
          this.violations.push({ invariant: 'lost', subject: `pod default/${m[1]}`, permanent: true, detail: 'applied and not yet deleted, but its deletion found no such pod' });
        }
        // Those not reported missing were deleted by the same call.
        const missing = new Set([...result.stderr.matchAll(/pods "([^"]+)" not found/g)].map((m) => m[1]));
        for (const r of recs) if (!missing.has(r.name)) r.deleteConfirmed = true;
      } else {
        for (const r of recs) r.deleteConfirmed = true;
      }
      ctx.note(`wave ${k}: ${names.length} pods deleted (grace ${wave.grace})`);
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: `delete wave ${k}`, permanent: true, detail: (e as Error).message });
    }
  }
}

/** Bare pods: see the module comment. */
export const podsKind: ChaosKind = {
  name: 'pods',
  generate: (rng, opts) => new PodWorkload(planPods(rng, opts), opts),
};
