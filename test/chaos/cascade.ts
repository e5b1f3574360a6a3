/**
 * The cascade workload of a chaos round, all through the real CLI:
 *
 * - owner pods, each with one or two dependent pods whose ownerReferences point at it (with
 *   blockOwnerDeletion), deleted mid-round with each propagation policy (Background, Foreground,
 *   Orphan), and one group never deleted; a foreground deletion is watched until its owner goes;
 * - namespaces made with pods in them and deleted mid-round;
 * - pods holding a finalizer (one from its manifest, one patched in after its apply), deleted
 *   mid-round, found still Terminating a few seconds later, then freed.
 *
 * Everything it makes carries the label `chaos-cascade=<tag>`; the groups and the finalizer pods
 * live in `default`.
 */
import type { KubeObject, Pod } from '../../messages';
import type { Rng } from '../helpers/chaos-random';
import {
  checkBinding, checkDanglingOwners, checkFinalizerPods, checkNamespaces, checkOwnerGroups, holdViolation,
  type CascadePolicy, type FinalizerRecord, type MadeObject, type NamespaceRecord, type OwnerGroup,
} from './cascade-invariants';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorkloadOptions, WorkloadStep, WorldSnapshot } from './kind';
import { describePodStatus, isRunning } from './pod-invariants';
import { parseItems } from './pods';

/** The label every object of the workload carries, with the round's tag as value. */
export const CASCADE_LABEL = 'chaos-cascade';
/** The finalizer the workload's finalizer pods hold. */
export const CHAOS_FINALIZER = 'chaos.mk.io/hold';
/** How long after its deletion a finalizer pod is freed. */
export const HOLD_MS = 3_000;

/** The plan, drawn from the seed. */
export interface CascadePlan {
  /** When the owners, finalizer pods and namespaces are applied (the dependents right after). */
  makeAtMs: number;
  groups: { owner: string; dependents: string[]; policy: CascadePolicy; deleteAtMs?: number }[];
  namespaces: { name: string; pods: string[]; deleteAtMs: number }[];
  finalizerPods: { name: string; inManifest: boolean; deleteAtMs: number }[];
}

/**
 * Draws the plan: one group per policy plus one kept, one or two dependents each; two namespaces
 * of one or two pods; two finalizer pods. The deletions fall between 25 % and 80 % of the window.
 */
export function planCascade(rng: Rng, o: Pick<WorkloadOptions, 'tag' | 'windowMs'>): CascadePlan {
  const w = o.windowMs;
  const when = (): number => Math.round(rng.between(0.25 * w, 0.8 * w));
  const policies = rng.shuffle<CascadePolicy>(['Background', 'Foreground', 'Orphan', 'kept']);
  const groups = policies.map((policy, i) => {
    const owner = `cc-${o.tag}-o${i}`;
    return {
      owner, policy,
      dependents: Array.from({ length: rng.int(1, 2) }, (_, j) => `${owner}-d${j}`),
      ...(policy === 'kept' ? {} : { deleteAtMs: when() }),
    };
  });
  const namespaces = [0, 1].map((k) => {
    const name = `cc-${o.tag}-n${k}`;
    return { name, pods: Array.from({ length: rng.int(1, 2) }, (_, j) => `${name}-p${j}`), deleteAtMs: when() };
  });
  const finalizerPods = [0, 1].map((k) => ({ name: `cc-${o.tag}-f${k}`, inManifest: k === 0, deleteAtMs: when() }));
  return { makeAtMs: Math.round(rng.between(0, 0.1 * w)), groups, namespaces, finalizerPods };
}

/** A chaos pod's manifest: busybox sleeping, with the workload's label and what else is given. */
export function cascadePodManifest(name: string, namespace: string, tag: string, extra: { ownerName?: string; ownerUid?: string; finalizer?: string } = {}): string {
  const meta: string[] = [`  name: ${name}`, `  namespace: ${namespace}`, `  labels:`, `    ${CASCADE_LABEL}: "${tag}"`];
  if (extra.ownerUid) {
    meta.push('  ownerReferences:', '    - apiVersion: v1', '      kind: Pod', `      name: ${extra.ownerName}`, `      uid: ${extra.ownerUid}`, '      blockOwnerDeletion: true');
  }
  if (extra.finalizer) meta.push('  finalizers:', `    - ${extra.finalizer}`);
  return `apiVersion: v1
kind: Pod
metadata:
${meta.join('\n')}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sleep", "86400"]
`;
}

/** A namespace's manifest, with the workload's label. */
export function namespaceManifest(name: string, tag: string): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels:
    ${CASCADE_LABEL}: "${tag}"
`;
}

/** True when every error line of a call says "not found" (a retried delete that went through the first time). */
function onlyNotFound(stderr: string): boolean {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('Warning'));
  return lines.length > 0 && lines.every((l) => /not found/.test(l));
}

class CascadeWorkload implements ChaosWorkload {
  readonly kind = 'cascade';
  readonly plurals = ['pods', 'namespaces', 'events'] as const;
  readonly steps: WorkloadStep[];
  private readonly groups: OwnerGroup[];
  private readonly namespaces: NamespaceRecord[];
  private readonly finalizers: FinalizerRecord[];
  private readonly violations: Violation[] = [];
  private readonly nodeOf = new Map<string, string>();
  private readonly uids = new Set<string>();

  constructor(private readonly plan: CascadePlan, private readonly o: WorkloadOptions) {
    this.groups = plan.groups.map((g) => ({
      namespace: 'default', owner: { name: g.owner }, dependents: g.dependents.map((name) => ({ name })), policy: g.policy,
    }));
    this.namespaces = plan.namespaces.map((n) => ({ name: n.name, pods: n.pods.map((name) => ({ name })) }));
    this.finalizers = plan.finalizerPods.map((f) => ({ name: f.name, namespace: 'default', finalizer: CHAOS_FINALIZER }));
    const steps: WorkloadStep[] = [
      { atMs: plan.makeAtMs, what: 'make owners, finalizer pods and namespaces, then dependents', run: (ctx) => this.make(ctx) },
      ...plan.groups.flatMap((g, i) => (g.deleteAtMs === undefined ? [] : [{
        atMs: g.deleteAtMs, what: `delete owner ${g.owner} (${g.policy})`, run: (ctx: RoundContext) => this.deleteOwner(ctx, i),
      }])),
      ...plan.namespaces.map((n, k) => ({ atMs: n.deleteAtMs, what: `delete namespace ${n.name}`, run: (ctx: RoundContext) => this.deleteNamespace(ctx, k) })),
      ...plan.finalizerPods.flatMap((f, k) => [
        { atMs: f.deleteAtMs, what: `delete ${f.name} (finalizer)`, run: (ctx: RoundContext) => this.deleteHeld(ctx, k) },
        { atMs: f.deleteAtMs + HOLD_MS, what: `free ${f.name}`, run: (ctx: RoundContext) => this.release(ctx, k) },
      ]),
    ];
    this.steps = steps.sort((a, b) => a.atMs - b.atMs);
  }

  summary(): string {
    return `${this.plan.groups.length} owners (${this.plan.groups.map((g) => `${g.policy}: ${g.dependents.length}`).join(', ')} dependents), `
      + `${this.plan.namespaces.length} namespaces, ${this.plan.finalizerPods.length} finalizer pods`;
  }

  stepViolations(): Violation[] {
    return [...this.violations];
  }

  check(world: WorldSnapshot): Violation[] {
    const out = [
      ...checkOwnerGroups(this.groups, world), ...checkNamespaces(this.namespaces, world), ...checkFinalizerPods(this.finalizers, world),
      ...checkDanglingOwners(world), ...checkBinding(this.nodeOf, world),
    ];
    // What must still be there must also run: kept groups and orphans.
    const pods = world.objects?.get('pods') as Pod[] | undefined;
    const mustRun = this.groups.flatMap((g) => (g.policy === 'kept' ? [g.owner, ...g.dependents] : g.policy === 'Orphan' ? g.dependents : []));
    for (const m of mustRun) {
      const p = pods?.find((x) => x.metadata.uid === m.uid);
      if (p && !isRunning(p)) out.push({ invariant: 'running', subject: `pod default/${m.name}`, permanent: false, detail: `not Running: ${describePodStatus(p)}` });
    }
    return out;
  }

  async cleanup(ctx: RoundContext): Promise<void> {
    const sel = `${CASCADE_LABEL}=${this.o.tag}`;
    for (const f of this.finalizers) {
      if (f.uid === undefined || f.releasedAtMs !== undefined) continue;
      await this.unfinalize(ctx, f.name);
    }
    await ctx.mkUntil('delete the cascade pods', () => ['delete', 'pods', '-l', sel, '--wait=false'], { deadlineMs: this.o.stepDeadlineMs });
    await ctx.mkUntil('delete the cascade namespaces', () => ['delete', 'namespaces', '-l', sel, '--wait=false'], { deadlineMs: this.o.stepDeadlineMs });
  }

  checkCleaned(world: WorldSnapshot): Violation[] {
    const out: Violation[] = [];
    if (!world.objects) return [{ invariant: 'api', subject: 'mk get', permanent: false, detail: `the api did not answer: ${world.apiError ?? 'unknown'}` }];
    for (const [plural, objs] of world.objects) {
      for (const o of objs) {
        const mine = o.metadata.labels?.[CASCADE_LABEL] === this.o.tag || this.uids.has(o.metadata.uid ?? '')
          || this.namespaces.some((n) => n.name === o.metadata.namespace);
        if (mine && plural !== 'events') out.push({ invariant: 'cleanup', subject: `${plural} ${o.metadata.name}`, permanent: false, detail: 'still in the store after the cleanup' });
      }
    }
    for (const s of world.cri?.sandboxes ?? []) {
      if (this.uids.has(s.labels['mk.io/pod-uid'])) out.push({ invariant: 'cleanup', subject: `sandbox ${s.id.slice(0, 12)}`, permanent: false, detail: `of ${s.metadata?.namespace}/${s.metadata?.name}, still on the node after the cleanup` });
    }
    return out;
  }

  report(): unknown {
    return { plan: this.plan, groups: this.groups, namespaces: this.namespaces, finalizers: this.finalizers };
  }

  /** Lists the workload's pods (all namespaces) as the store has them now. */
  private async listPods(ctx: RoundContext, what: string): Promise<Pod[]> {
    const { result } = await ctx.mkUntil(what, () => ['get', 'pods', '-A', '-l', `${CASCADE_LABEL}=${this.o.tag}`, '-o', 'json'], { deadlineMs: this.o.stepDeadlineMs });
    return parseItems<Pod>(result.stdout);
  }

  private remember(made: MadeObject, namespace: string, pods: Pod[]): void {
    const p = pods.find((x) => x.metadata.name === made.name && (x.metadata.namespace ?? 'default') === namespace);
    if (p?.metadata.uid) {
      made.uid = p.metadata.uid;
      this.uids.add(p.metadata.uid);
    } else {
      this.violations.push({ invariant: 'lost', subject: `pod ${namespace}/${made.name}`, permanent: true, detail: 'apply said it was done, yet it is not in the store right after' });
    }
  }

  private async make(ctx: RoundContext): Promise<void> {
    const tag = this.o.tag;
    const docs = [
      ...this.namespaces.map((n) => namespaceManifest(n.name, tag)),
      ...this.namespaces.flatMap((n) => n.pods.map((p) => cascadePodManifest(p.name, n.name, tag))),
      ...this.groups.map((g) => cascadePodManifest(g.owner.name, 'default', tag)),
      ...this.plan.finalizerPods.map((f) => cascadePodManifest(f.name, 'default', tag, f.inManifest ? { finalizer: CHAOS_FINALIZER } : {})),
    ];
    try {
      await ctx.mkUntil('apply owners, finalizer pods and namespaces', () => ['apply', '-f', '-'], { stdin: docs.join('---\n'), deadlineMs: this.o.stepDeadlineMs });
      let pods = await this.listPods(ctx, 'get the owners');
      for (const n of this.namespaces) {
        n.created = true;
        for (const p of n.pods) this.remember(p, n.name, pods);
      }
      for (const g of this.groups) this.remember(g.owner, 'default', pods);
      for (const f of this.finalizers) this.remember(f as MadeObject, 'default', pods);
      // The second finalizer pod gets its finalizer after its apply.
      for (const f of this.plan.finalizerPods.filter((x) => !x.inManifest)) {
        await ctx.mkUntil(`add the finalizer to ${f.name}`, () => ['patch', 'pod', f.name, '--type', 'merge', '-p', JSON.stringify({ metadata: { finalizers: [CHAOS_FINALIZER] } })], { deadlineMs: this.o.stepDeadlineMs });
      }
      const deps = this.groups.filter((g) => g.owner.uid).flatMap((g) => g.dependents.map((d) => cascadePodManifest(d.name, 'default', tag, { ownerName: g.owner.name, ownerUid: g.owner.uid })));
      if (deps.length > 0) {
        await ctx.mkUntil('apply the dependents', () => ['apply', '-f', '-'], { stdin: deps.join('---\n'), deadlineMs: this.o.stepDeadlineMs });
        pods = await this.listPods(ctx, 'get the dependents');
        for (const g of this.groups.filter((x) => x.owner.uid)) for (const d of g.dependents) this.remember(d, 'default', pods);
      }
      ctx.note(`cascade: ${this.uids.size} pods made`);
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: 'make the cascade objects', permanent: true, detail: (e as Error).message });
    }
  }

  /** Deletes `args` (a delete command), accepting "not found" on a retry. */
  private async del(ctx: RoundContext, what: string, args: string[]): Promise<boolean> {
    try {
      await ctx.mkUntil(what, (attempt) => [...args, '--wait=false', ...(attempt > 1 ? ['--ignore-not-found'] : [])], {
        deadlineMs: this.o.stepDeadlineMs,
        done: (r, attempt) => r.code === 0 || (attempt > 1 && onlyNotFound(r.stderr)),
      });
      return true;
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: what, permanent: true, detail: (e as Error).message });
      return false;
    }
  }

  private async deleteOwner(ctx: RoundContext, i: number): Promise<void> {
    const g = this.groups[i];
    if (g.owner.uid === undefined) return;
    g.deleteRequestedAtMs = ctx.elapsedMs();
    if (!await this.del(ctx, `delete owner ${g.owner.name}`, ['delete', 'pod', g.owner.name, `--cascade=${g.policy.toLowerCase()}`])) return;
    if (g.policy !== 'Foreground') return;
    // Watch the foreground deletion until the owner is gone: it must go after its dependents.
    g.observed = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !ctx.signal.aborted) {
      const r = await ctx.mk(['get', 'pods', '-l', `${CASCADE_LABEL}=${this.o.tag}`, '-o', 'json'], { timeoutMs: 10_000 }).catch(() => undefined);
      if (r?.code === 0) {
        const pods = parseItems<KubeObject>(r.stdout);
        const owner = pods.some((p) => p.metadata.uid === g.owner.uid);
        const deps = g.dependents.map((d) => d.uid).filter((u): u is string => !!u && pods.some((p) => p.metadata.uid === u));
        g.observed.push({ atMs: ctx.elapsedMs(), owner, dependents: deps });
        if (!owner) break;
      }
      await new Promise((res) => setTimeout(res, 250));
    }
    ctx.note(`foreground ${g.owner.name}: ${g.observed.length} poll(s), owner ${g.observed.at(-1)?.owner === false ? 'gone' : 'still there'}`);
  }

  private async deleteNamespace(ctx: RoundContext, k: number): Promise<void> {
    const n = this.namespaces[k];
    if (!n.created) return;
    n.deleteRequestedAtMs = ctx.elapsedMs();
    await this.del(ctx, `delete namespace ${n.name}`, ['delete', 'namespace', n.name]);
  }

  private async deleteHeld(ctx: RoundContext, k: number): Promise<void> {
    const f = this.finalizers[k];
    if (f.uid === undefined) return;
    f.deleteRequestedAtMs = ctx.elapsedMs();
    await this.del(ctx, `delete ${f.name}`, ['delete', 'pod', f.name]);
  }

  private async unfinalize(ctx: RoundContext, name: string): Promise<void> {
    await ctx.mkUntil(`remove the finalizer of ${name}`, () => ['patch', 'pod', name, '--type', 'merge', '-p', JSON.stringify({ metadata: { finalizers: null } })], {
      deadlineMs: this.o.stepDeadlineMs,
      done: (r) => r.code === 0 || onlyNotFound(r.stderr),
    });
  }

  private async release(ctx: RoundContext, k: number): Promise<void> {
    const f = this.finalizers[k];
    if (f.uid === undefined || f.deleteRequestedAtMs === undefined) return;
    try {
      const pods = await this.listPods(ctx, `get ${f.name} before freeing it`);
      const v = holdViolation(f, pods.find((p) => p.metadata.name === f.name));
      if (v) this.violations.push(v);
      await this.unfinalize(ctx, f.name);
      f.releasedAtMs = ctx.elapsedMs();
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: `free ${f.name}`, permanent: true, detail: (e as Error).message });
    }
  }
}

/** Owners and dependents, namespaces, finalizers: see the module comment. */
export const cascadeKind: ChaosKind = {
  name: 'cascade',
  generate: (rng, opts) => new CascadeWorkload(planCascade(rng, opts), opts),
};
