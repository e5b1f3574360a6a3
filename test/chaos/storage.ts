/**
 * The storage workload of a chaos round, all through the real CLI:
 *
 * - a ConfigMap, a Secret and 2-3 claims of the default class (local-path, WaitForFirstConsumer);
 * - a ReplicaSet of one busybox pod mounting the first claim, an emptyDir, the ConfigMap and the
 *   Secret; a standalone pod for each other claim, mounting it, an emptyDir and the Secret;
 * - a marker file written into the first claim from the ReplicaSet's pod (`mk exec`) as soon as
 *   it runs (beside the lane, which goes on); the ConfigMap changed once mid-window;
 * - the ReplicaSet's pod deleted mid-window, once the marker is written (its replacement must find
 *   the marker), and one
 *   standalone pod deleted with its claim (the claim's volume, reclaim policy Delete, must go).
 *
 * All objects carry the label `chaos-storage=<tag>` and live in `default`. Each snapshot also
 * reads the marker and the ConfigMap file from the ReplicaSet's current pod, and lists the node's
 * pod volume directories and the mounts under them. The invariants are in storage-invariants.ts.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { KubeObject, PersistentVolumeClaim, Pod } from '../../messages';
import { clusterPaths } from '../../embedded/paths';
import { mountsUnder } from '../../node-agent/containerd';
import { until } from '../helpers/wait';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorkloadOptions, WorkloadStep, WorldSnapshot } from './kind';
import { checkPodsCleaned, isRunning } from './pod-invariants';
import { parseItems } from './pods';
import { firstLine, type ChaosCluster } from './snapshot';
import {
  checkClaims, checkConfigValue, checkMarker, checkNodeVolumes, checkStorageCleaned, checkVolumes, type ClaimRecord, type StorageProbe,
} from './storage-invariants';
import {
  claimManifest, claimPodManifest, CONFIG_PATH, configMapManifest, MARKER_PATH, planStorage, secretManifest, STORAGE_LABEL, storageReplicaSetManifest, type StoragePlan,
} from './storage-plan';
import { checkNodeLeftovers } from './workload-invariants';

/** The node's pods root (`<node data dir>/pods`): pod volumes live under `<uid>/volumes`. */
export const nodePodsRoot = (dataDir: string): string => path.join(clusterPaths(dataDir).nodeData, 'pods');

/** The pod uids with a `volumes` directory under `podsRoot`. */
async function volumeDirs(podsRoot: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(podsRoot).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return []; throw err; })) {
    if (e.includes('_')) continue; // a pod's log directory (`<ns>_<name>_<uid>`)
    if (await stat(path.join(podsRoot, e, 'volumes')).then((s) => s.isDirectory(), () => false)) out.push(e);
  }
  return out.sort();
}

class StorageWorkload implements ChaosWorkload {
  readonly kind = 'storage';
  readonly plurals = ['pods', 'replicasets', 'persistentvolumeclaims', 'persistentvolumes', 'configmaps', 'secrets'] as const;
  readonly steps: WorkloadStep[];
  private readonly claims: ClaimRecord[];
  private readonly violations: Violation[] = [];
  private readonly podUids = new Set<string>();
  private readonly claimUids = new Set<string>();
  private readonly done: string[] = [];
  /** The marker, once its write was acknowledged. */
  private markerWritten?: string;
  /** The ConfigMap's acknowledged value, and values applied but not (yet) acknowledged. */
  private config = { acknowledged: 'v1', pending: [] as string[] };
  private lastProbe?: StorageProbe;
  /** The marker's write, started once the objects are applied; the ReplicaSet's pod is deleted only after it. */
  private markerWrite: Promise<void> = Promise.resolve();

  constructor(private readonly plan: StoragePlan, private readonly o: WorkloadOptions) {
    this.claims = plan.claims.map((name) => ({ name, namespace: 'default', applied: false, deleted: false }));
    const steps: WorkloadStep[] = [
      { atMs: plan.makeAtMs, what: `apply ${plan.claims.length} claims, a ReplicaSet, ${plan.claims.length - 1} pods, a ConfigMap and a Secret`, run: (ctx) => this.make(ctx) },
      { atMs: plan.configUpdate.atMs, what: `change ${plan.configMap}`, run: (ctx) => this.updateConfig(ctx) },
      { atMs: plan.deleteRsPodAtMs, what: `delete the pod of ${plan.replicaSet}`, run: (ctx) => this.deleteRsPod(ctx) },
      { atMs: plan.deletePair.atMs, what: `delete ${plan.deletePair.pod} and ${plan.deletePair.claim}`, run: (ctx) => this.deletePair(ctx) },
    ];
    this.steps = steps.sort((a, b) => a.atMs - b.atMs);
  }

  summary(): string {
    return `${this.plan.claims.length} claims, a ReplicaSet and ${this.plan.claims.length - 1} pods mounting them; a marker written; `
      + `the ConfigMap changed, the ReplicaSet's pod deleted, ${this.plan.deletePair.pod} and its claim deleted`;
  }

  stepViolations(): Violation[] {
    return [...this.violations];
  }

  private mine = (x: KubeObject): boolean => x.metadata.labels?.[STORAGE_LABEL] === this.o.tag;

  /** The ReplicaSet's current Running pod (not terminating), if any. */
  private rsPod(world: WorldSnapshot): Pod | undefined {
    const pods = ((world.objects?.get('pods') ?? []) as Pod[]).filter((p) => this.mine(p) && p.metadata.labels?.app === this.plan.replicaSet);
    return pods.find((p) => !p.metadata.deletionTimestamp && isRunning(p));
  }

  /** Reads the marker and the ConfigMap file from the ReplicaSet's pod, and the node's volume directories and mounts. */
  async observe(cluster: ChaosCluster, world: WorldSnapshot): Promise<void> {
    const podsRoot = nodePodsRoot(cluster.dataDir);
    const probe: StorageProbe = { podsRoot };
    (world.observed ??= {})[this.kind] = probe;
    const pod = this.rsPod(world);
    if (pod) {
      probe.pod = `default/${pod.metadata.name}`;
      const read = async (file: string): Promise<{ text?: string; error?: string }> => {
        try {
          const r = await cluster.mk(['exec', pod.metadata.name, '--', 'cat', file], { timeoutMs: 20_000 });
          return r.code === 0 ? { text: r.stdout } : { error: firstLine(r.stderr) || `exit ${r.code}` };
        } catch (e) {
          return { error: firstLine((e as Error).message) };
        }
      };
      const [m, c] = [await read(MARKER_PATH), await read(CONFIG_PATH)];
      probe.marker = m.text; probe.markerError = m.error;
      probe.config = c.text; probe.configError = c.error;
    }
    try { probe.volumeDirs = await volumeDirs(podsRoot); } catch (e) { probe.volumeDirsError = firstLine((e as Error).message); }
    // The node agents share this machine's mount namespace: its mountinfo is theirs.
    try { probe.mounts = await mountsUnder(podsRoot); } catch (e) { probe.mountsError = firstLine((e as Error).message); }
    this.lastProbe = probe;
  }

  check(world: WorldSnapshot): Violation[] {
    if (!world.objects) return [{ invariant: 'api', subject: 'mk get', detail: `the api did not answer: ${world.apiError ?? 'unknown'}`, permanent: false }];
    this.remember(world);
    const probe = world.observed?.[this.kind] as StorageProbe | undefined;
    return [
      ...checkClaims(this.claims, world),
      ...checkVolumes(world),
      ...checkMarker(this.markerWritten, probe),
      ...checkConfigValue(this.config.acknowledged, this.config.pending, probe),
      ...checkNodeVolumes(world, probe),
      ...checkNodeLeftovers(`cst-${this.o.tag}-`, world),
    ];
  }

  private remember(world: WorldSnapshot): void {
    for (const p of ((world.objects?.get('pods') ?? []) as Pod[]).filter(this.mine)) if (p.metadata.uid) this.podUids.add(p.metadata.uid);
    for (const c of ((world.objects?.get('persistentvolumeclaims') ?? []) as PersistentVolumeClaim[]).filter(this.mine)) if (c.metadata.uid) this.claimUids.add(c.metadata.uid);
  }

  async cleanup(ctx: RoundContext): Promise<void> {
    const sel = `${STORAGE_LABEL}=${this.o.tag}`;
    for (const plural of ['pods', 'persistentvolumeclaims']) {
      const { result } = await ctx.mkUntil(`list the storage ${plural}`, () => ['get', plural, '-l', sel, '-o', 'json'], { deadlineMs: this.o.stepDeadlineMs });
      for (const x of parseItems<KubeObject>(result.stdout)) if (x.metadata.uid) (plural === 'pods' ? this.podUids : this.claimUids).add(x.metadata.uid);
    }
    for (const plural of ['replicasets', 'pods', 'persistentvolumeclaims', 'configmaps', 'secrets']) {
      await ctx.mkUntil(`delete the round's ${plural}`, () => ['delete', plural, '-l', sel, '--wait=false'], { deadlineMs: this.o.stepDeadlineMs });
    }
    for (const c of this.claims) c.deleted = true;
  }

  checkCleaned(world: WorldSnapshot): Violation[] {
    const out = checkPodsCleaned(this.podUids, { key: STORAGE_LABEL, value: this.o.tag }, world);
    return [...out, ...checkStorageCleaned(this.claimUids, this.podUids, this.mine, world, world.observed?.[this.kind] as StorageProbe | undefined)];
  }

  report(): unknown {
    return {
      plan: this.plan, claims: this.claims, done: this.done, podUids: [...this.podUids], claimUids: [...this.claimUids],
      markerWritten: this.markerWritten, config: this.config, lastProbe: this.lastProbe,
    };
  }

  private async make(ctx: RoundContext): Promise<void> {
    const p = this.plan;
    const stdin = [
      configMapManifest(p.configMap, this.o.tag, 'v1'), secretManifest(p.secret, this.o.tag),
      ...p.claims.map((c) => claimManifest(c, this.o.tag)),
      storageReplicaSetManifest(p, this.o.tag),
      ...p.claims.slice(1).map((c) => claimPodManifest(c, p.secret, this.o.tag)),
    ].join('---\n');
    if (!(await this.change(ctx, 'apply the storage objects', ['apply', '-f', '-'], stdin))) return;
    for (const c of this.claims) c.applied = true;
    // Off the lane: the pod may take a while to run under the faults, and the other steps keep their times.
    this.markerWrite = this.writeMarker(ctx);
  }

  /**
   * Waits for the ReplicaSet's pod to run, then writes the marker (and syncs it) through
   * `mk exec`; the marker counts as written once an exec of it exited 0.
   */
  private async writeMarker(ctx: RoundContext): Promise<void> {
    const sel = `app=${this.plan.replicaSet}`;
    const script = `echo ${this.plan.marker} > ${MARKER_PATH}.tmp && sync && mv ${MARKER_PATH}.tmp ${MARKER_PATH} && sync`;
    // Each attempt looks for the pod again: the one tried last may have been replaced.
    const ok = await this.change(ctx, 'write the marker into the claim', [], undefined, undefined, async () => {
      const r = await ctx.mk(['get', 'pods', '-l', sel, '-o', 'json'], { timeoutMs: 20_000 }).catch(() => undefined);
      const pods = r?.code === 0 ? parseItems<Pod>(r.stdout) : [];
      for (const x of pods) if (x.metadata.uid) this.podUids.add(x.metadata.uid);
      const pod = pods.find((x) => !x.metadata.deletionTimestamp && isRunning(x))?.metadata.name;
      // With no pod Running yet, a harmless listing stands in for the exec and is never accepted.
      const args = pod ? ['exec', pod, '--', 'sh', '-c', script] : ['get', 'pods', '-l', sel, '--no-headers'];
      return { args, done: (x) => pod !== undefined && x.code === 0 };
    });
    if (ok) this.markerWritten = this.plan.marker;
  }

  private async updateConfig(ctx: RoundContext): Promise<void> {
    const v = this.plan.configUpdate.value;
    this.config.pending.push(v);
    if (await this.change(ctx, `change ${this.plan.configMap}`, ['apply', '-f', '-'], configMapManifest(this.plan.configMap, this.o.tag, v))) {
      this.config = { acknowledged: v, pending: [] };
    }
  }

  private async deleteRsPod(ctx: RoundContext): Promise<void> {
    await this.markerWrite;
    const sel = `app=${this.plan.replicaSet}`;
    await this.change(ctx, `delete the pod of ${this.plan.replicaSet}`, ['delete', 'pods', '-l', sel, '--wait=false']);
  }

  private async deletePair(ctx: RoundContext): Promise<void> {
    const { pod, claim } = this.plan.deletePair;
    const notFound = (x: { code: number; stderr: string }, attempt: number) => x.code === 0 || (attempt > 1 && /not found/.test(x.stderr));
    await this.change(ctx, `delete ${pod}`, ['delete', 'pod', pod, '--wait=false'], undefined, notFound);
    const r = this.claims.find((c) => c.name === claim)!;
    r.applied = false;
    if (await this.change(ctx, `delete ${claim}`, ['delete', 'persistentvolumeclaim', claim, '--wait=false'], undefined, notFound)) r.deleted = true;
  }

  /**
   * Runs one change through the CLI with retries; false (and an `available` violation) when it
   * never went through. `each`, when given, chooses the arguments and the acceptance per attempt.
   */
  private async change(
    ctx: RoundContext, what: string, args: string[], stdin?: string, done?: (r: { code: number; stderr: string }, attempt: number) => boolean,
    each?: (attempt: number) => Promise<{ args: string[]; done: (r: { code: number; stderr: string }) => boolean }>,
  ): Promise<boolean> {
    try {
      let attempts: number;
      if (each) {
        attempts = await this.until(ctx, what, each);
      } else {
        ({ attempts } = await ctx.mkUntil(what, () => args, { stdin, deadlineMs: this.o.stepDeadlineMs, ...(done ? { done } : {}) }));
      }
      this.done.push(`${ctx.elapsedMs()} ms: ${what}${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
      ctx.note(`storage: ${what}: done${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
      return true;
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: what, permanent: true, detail: (e as Error).message });
      return false;
    }
  }

  /** Retries `each`'s command (every 500 ms, like `mkUntil`) until it is accepted or the step's deadline passes. */
  private async until(ctx: RoundContext, what: string, each: (attempt: number) => Promise<{ args: string[]; done: (r: { code: number; stderr: string }) => boolean }>): Promise<number> {
    let attempts = 0;
    let last = '';
    let got: number | 'aborted';
    try {
      got = await until(what, async () => {
        if (ctx.signal.aborted) return 'aborted' as const;
        const { args, done } = await each(++attempts);
        const r = await ctx.mk(args, { timeoutMs: 20_000 }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
        if (done(r)) return attempts;
        last = firstLine(r.stderr) || `exit ${r.code}`;
        return undefined;
      }, this.o.stepDeadlineMs, 500);
    } catch (e) {
      throw new Error(`${what}: not done after ${attempts} attempt(s) in ${this.o.stepDeadlineMs} ms; last answer: ${last}`, { cause: e });
    }
    if (got === 'aborted') throw new Error(`${what}: the run was interrupted after ${attempts} attempt(s)`);
    return got;
  }
}

/** Claims, a ReplicaSet and pods mounting them, a marker, a changing ConfigMap: see the module comment. */
export const storageKind: ChaosKind = {
  name: 'storage',
  generate: (rng, opts) => new StorageWorkload(planStorage(rng, opts), opts),
};
