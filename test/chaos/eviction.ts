/**
 * The eviction workload of a chaos round: a few pods that tolerate an unreachable node for only
 * EVICT_TOLERATION_SECONDS, applied at the start of the window. When the `node-pause` fault keeps
 * the node agent SIGSTOPped past the node monitor grace period, the node goes Unknown, is tainted
 * unreachable, and these pods are evicted; once the agent is back it must stop them and remove
 * them from the node. Without a pause (or when other faults disturbed it) they may stay, and
 * then they must run on with no container restarted (cluster-invariants.ts checkEvictions).
 */
import type { Pod } from '../../messages';
import type { Rng } from '../helpers/chaos-random';
import { checkEvictions, type EvictRecord } from './cluster-invariants';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorkloadOptions, WorkloadStep, WorldSnapshot } from './kind';
import { isRunning } from './pod-invariants';
import { parseItems } from './pods';
import { NODE_PAUSE_MS } from './round';

/** The label of the eviction pods, with the round's tag as value. */
export const EVICT_LABEL = 'chaos-evict';
/** How long the eviction pods tolerate an unreachable node. */
export const EVICT_TOLERATION_SECONDS = 2;
/** The node monitor grace period the harness gives clusters that a round pauses the node agent of. */
export const NODE_PAUSE_GRACE = '15s';

/** An eviction pod's manifest. */
export function evictPodManifest(name: string, tag: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    ${EVICT_LABEL}: "${tag}"
spec:
  terminationGracePeriodSeconds: 1
  tolerations:
    - key: node.kubernetes.io/unreachable
      operator: Exists
      effect: NoExecute
      tolerationSeconds: ${EVICT_TOLERATION_SECONDS}
  containers:
    - name: main
      image: busybox
      command: ["sleep", "86400"]
`;
}

class EvictionWorkload implements ChaosWorkload {
  readonly kind = 'eviction';
  readonly plurals = ['pods'] as const;
  readonly steps: WorkloadStep[];
  private readonly records: EvictRecord[];
  private readonly violations: Violation[] = [];

  constructor(count: number, private readonly o: WorkloadOptions, private readonly mustEvictAfterMs: number) {
    this.records = Array.from({ length: count }, (_, i) => ({ name: `ce-${o.tag}-${i}`, namespace: 'default' }));
    this.steps = [{ atMs: 0, what: `apply ${count} eviction pods`, run: (ctx) => this.apply(ctx) }];
  }

  summary(): string {
    return `${this.records.length} pods tolerating an unreachable node ${EVICT_TOLERATION_SECONDS} s`;
  }

  stepViolations(): Violation[] { return [...this.violations]; }

  /** Ready once every pod the apply made has been seen Running, or once the apply failed. */
  readyForPause(): boolean {
    return this.violations.length > 0 || (this.records.every((r) => r.uid !== undefined) && this.records.every((r) => r.runningAtMs !== undefined));
  }

  check(world: WorldSnapshot): Violation[] {
    return checkEvictions(this.records, world.faults ?? [], this.mustEvictAfterMs, world);
  }

  async cleanup(ctx: RoundContext): Promise<void> {
    await ctx.mkUntil('delete the eviction pods', () => ['delete', 'pods', '-l', `${EVICT_LABEL}=${this.o.tag}`, '--wait=false'], { deadlineMs: this.o.stepDeadlineMs });
  }

  checkCleaned(world: WorldSnapshot): Violation[] {
    const uids = new Set(this.records.map((r) => r.uid).filter((u) => u !== undefined));
    const out: Violation[] = [];
    for (const p of world.objects?.get('pods') ?? []) {
      if (p.metadata.labels?.[EVICT_LABEL] === this.o.tag) out.push({ invariant: 'cleanup', subject: `pod default/${p.metadata.name}`, permanent: false, detail: 'still in the store after the cleanup' });
    }
    for (const s of world.cri?.sandboxes ?? []) {
      if (uids.has(s.labels['mk.io/pod-uid'])) out.push({ invariant: 'cleanup', subject: `sandbox ${s.id.slice(0, 12)}`, permanent: false, detail: `of ${s.metadata?.name}, still on the node after the cleanup` });
    }
    return out;
  }

  report(): unknown { return { records: this.records, mustEvictAfterMs: this.mustEvictAfterMs }; }

  private async apply(ctx: RoundContext): Promise<void> {
    const stdin = this.records.map((r) => evictPodManifest(r.name, this.o.tag)).join('---\n');
    const sel = `${EVICT_LABEL}=${this.o.tag}`;
    try {
      await ctx.mkUntil('apply the eviction pods', () => ['apply', '-f', '-'], { stdin, deadlineMs: this.o.stepDeadlineMs });
      const { result } = await ctx.mkUntil('get the eviction pods', () => ['get', 'pods', '-l', sel, '-o', 'json'], { deadlineMs: this.o.stepDeadlineMs });
      const pods = parseItems<Pod>(result.stdout);
      for (const r of this.records) {
        r.uid = pods.find((p) => p.metadata.name === r.name)?.metadata.uid;
        if (!r.uid) this.violations.push({ invariant: 'lost', subject: `pod default/${r.name}`, permanent: true, detail: 'apply said it was done, yet it is not in the store right after' });
      }
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: 'apply the eviction pods', permanent: true, detail: (e as Error).message });
      return;
    }
    // Only a pod that runs on the node before a pause can be evicted by it: note when each does.
    await ctx.mkUntil('the eviction pods Running', () => ['get', 'pods', '-l', sel, '-o', 'json'], {
      deadlineMs: this.o.windowMs,
      done: (r) => {
        if (r.code !== 0) return false;
        const pods = parseItems<Pod>(r.stdout);
        for (const rec of this.records) {
          const p = pods.find((x) => x.metadata.uid === rec.uid);
          if (rec.runningAtMs === undefined && p && isRunning(p)) rec.runningAtMs = ctx.elapsedMs();
        }
        return this.records.every((rec) => rec.uid === undefined || rec.runningAtMs !== undefined);
      },
    }).catch(() => undefined);
    ctx.note(`eviction: ${this.records.filter((r) => r.runningAtMs !== undefined).length} of ${this.records.length} pods Running`);
  }
}

/** Pods a paused node loses: see the module comment. Pauses shorter than NODE_PAUSE_MS - 2 s do not oblige eviction. */
export const evictionKind: ChaosKind = {
  name: 'eviction',
  generate: (_rng: Rng, opts) => new EvictionWorkload(3, opts, NODE_PAUSE_MS - 2_000),
};
