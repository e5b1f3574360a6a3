/**
 * The Service workload of a chaos round, all through the real CLI:
 *
 * - two Deployments (`-a` of 2-3 replicas, `-b` of 1-2) of long-sleeping busybox pods, each
 *   scaled once mid-window (`mk scale`);
 * - Services over them in two bursts (`mk apply`): ClusterIP, NodePort and headless, each with
 *   an `http` TCP port and half of them a `dns` UDP port too;
 * - about a third of the Services deleted mid-window, and half of those applied again a little
 *   later under the same name (a new uid, new allocations).
 *
 * All objects and pods carry the label `chaos-services=<tag>` and live in `default`. Each snapshot
 * also probes the node (service-probe.ts, run in the cluster's namespace): the allocation bucket,
 * the nat table's chains and the cluster DNS. The invariants are in service-invariants.ts; the
 * cleanup deletes the Services and Deployments, and their keys, chains and pods must go.
 */
import path from 'node:path';
import type { EndpointSlice, KubeObject, Node, Pod, Service } from '../../messages';
import { gatewayOf } from '../../node-agent/network/cni';
import type { Rng } from '../helpers/chaos-random';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorkloadOptions, WorkloadStep, WorldSnapshot } from './kind';
import { checkPodsCleaned } from './pod-invariants';
import { parseItems } from './pods';
import {
  checkAllocationKeys, checkDns, checkEndpointSlices, checkProxyChains, checkServiceRanges, readyAddresses, serviceChainsOf, serviceDnsName,
  type ServiceProbe,
} from './service-invariants';
import type { ChaosCluster } from './snapshot';

/** The label every object of the workload and every pod template carries, with the round's tag as value. */
export const SERVICES_LABEL = 'chaos-services';

export type ChaosServiceType = 'ClusterIP' | 'NodePort' | 'headless';

/** One planned Service. */
export interface PlannedService {
  name: string;
  type: ChaosServiceType;
  /** The Deployment whose pods it selects. */
  target: string;
  /** It also has a `dns` UDP port. */
  udp: boolean;
  applyAtMs: number;
  deleteAtMs?: number;
  /** Applied again (same name) after its deletion. */
  reapplyAtMs?: number;
}

/** The plan, drawn from the seed. */
export interface ServicesPlan {
  makeAtMs: number;
  deployments: { name: string; replicas: number; scaleAtMs: number; scaleTo: number }[];
  services: PlannedService[];
}

/** How many Services a round of `count` objects makes: a fifth of them, 3 to 8. */
export const serviceCount = (count: number): number => Math.max(3, Math.min(8, Math.round(count / 5)));

/**
 * Draws the plan: the Deployments and the first half of the Services in the first 10 % of the
 * window, the rest between 15 % and 40 %; each Deployment scaled between 30 % and 80 %; a third
 * of the Services deleted between 40 % and 85 % and half of those applied again 10 % later.
 */
export function planServices(rng: Rng, o: Pick<WorkloadOptions, 'tag' | 'windowMs' | 'count'>): ServicesPlan {
  const w = o.windowMs;
  const base = `cs-${o.tag}`;
  const makeAtMs = Math.round(rng.between(0, 0.1 * w));
  const deployments = ['a', 'b'].map((x, i) => {
    const replicas = i === 0 ? rng.int(2, 3) : rng.int(1, 2);
    const scaleTo = rng.chance(0.5) ? replicas + rng.int(1, 2) : Math.max(0, replicas - rng.int(1, 2));
    return { name: `${base}-${x}`, replicas, scaleAtMs: Math.round(rng.between(0.3 * w, 0.8 * w)), scaleTo };
  });
  const n = serviceCount(o.count);
  const types: ChaosServiceType[] = ['ClusterIP', 'NodePort', 'headless'];
  const services: PlannedService[] = [];
  for (let i = 0; i < n; i++) {
    const type = i < types.length ? types[i] : rng.pick(types);
    const s: PlannedService = {
      name: `${base}-s${i}`, type, target: rng.pick(deployments).name, udp: rng.chance(0.5),
      applyAtMs: i < Math.ceil(n / 2) ? makeAtMs : Math.round(rng.between(0.15 * w, 0.4 * w)),
    };
    if (rng.chance(1 / 3)) {
      s.deleteAtMs = Math.round(rng.between(0.4 * w, 0.85 * w));
      if (rng.chance(0.5)) s.reapplyAtMs = s.deleteAtMs + Math.round(0.1 * w);
    }
    services.push(s);
  }
  return { makeAtMs, deployments, services };
}

/** A Deployment of `replicas` long-sleeping busybox pods labelled `app: NAME` and with the round's tag. */
export function serviceDeploymentManifest(name: string, tag: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    ${SERVICES_LABEL}: "${tag}"
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
        ${SERVICES_LABEL}: "${tag}"
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox
          command: ["sleep", "86400"]
          ports:
            - containerPort: 8080
`;
}

/** A Service of the plan: selects its Deployment's pods; `http` 80 -> 8080 TCP, and `dns` 53 -> 5353 UDP when asked. */
export function serviceManifest(s: Pick<PlannedService, 'name' | 'type' | 'target' | 'udp'>, tag: string): string {
  const type = s.type === 'headless' ? 'ClusterIP' : s.type;
  return `apiVersion: v1
kind: Service
metadata:
  name: ${s.name}
  labels:
    ${SERVICES_LABEL}: "${tag}"
spec:
  type: ${type}
${s.type === 'headless' ? '  clusterIP: None\n' : ''}  selector:
    app: ${s.target}
  ports:
    - name: http
      port: 80
      targetPort: 8080
      protocol: TCP
${s.udp ? '    - name: dns\n      port: 53\n      targetPort: 5353\n      protocol: UDP\n' : ''}`;
}

// The probe, built: next to this file in dist/, or under dist/ when this runs from the sources.
const PROBE = ((d) => (path.basename(path.dirname(path.dirname(d))) === 'dist' ? path.join(d, 'service-probe.js')
  : path.join(d, '..', '..', 'dist', 'test', 'chaos', 'service-probe.js')))(__dirname);

/** What a Service of the plan became: whether the store should have it. */
interface ServiceRecord { plan: PlannedService; applied: boolean; deleted: boolean; uids: string[] }

class ServicesWorkload implements ChaosWorkload {
  readonly kind = 'services';
  readonly plurals = ['pods', 'deployments', 'services', 'endpointslices', 'nodes'] as const;
  readonly steps: WorkloadStep[];
  private readonly records: ServiceRecord[];
  private readonly violations: Violation[] = [];
  private readonly podUids = new Set<string>();
  private readonly done: string[] = [];
  /** The MK-SVC chains of every Service of the round ever seen: a stale one is named by whose it was. */
  private readonly chainsSeen = new Map<string, string>();
  private probeErrors = 0;
  /** What the last `check` judged: how many of the round's Services, allocation keys, MK-SVC chains and DNS names. */
  private lastChecked?: { services: number; endpoints: number; keys: number; chains: number; dnsNames: number };

  constructor(private readonly plan: ServicesPlan, private readonly o: WorkloadOptions) {
    this.records = plan.services.map((s) => ({ plan: s, applied: false, deleted: false, uids: [] }));
    const first = this.records.filter((r) => r.plan.applyAtMs === plan.makeAtMs);
    const steps: WorkloadStep[] = [
      { atMs: plan.makeAtMs, what: `apply 2 Deployments and ${first.length} Services`, run: (ctx) => this.make(ctx, first) },
      ...this.records.filter((r) => !first.includes(r)).map((r) => ({ atMs: r.plan.applyAtMs, what: `apply ${r.plan.name}`, run: (ctx: RoundContext) => this.apply(ctx, [r]) })),
      ...plan.deployments.map((d) => ({ atMs: d.scaleAtMs, what: `scale ${d.name} to ${d.scaleTo}`, run: (ctx: RoundContext) => this.change(ctx, `scale ${d.name} to ${d.scaleTo}`, ['scale', `deployment/${d.name}`, `--replicas=${d.scaleTo}`]).then(() => undefined) })),
      ...this.records.filter((r) => r.plan.deleteAtMs !== undefined).map((r) => ({ atMs: r.plan.deleteAtMs!, what: `delete ${r.plan.name}`, run: (ctx: RoundContext) => this.remove(ctx, r) })),
      ...this.records.filter((r) => r.plan.reapplyAtMs !== undefined).map((r) => ({ atMs: r.plan.reapplyAtMs!, what: `apply ${r.plan.name} again`, run: (ctx: RoundContext) => this.apply(ctx, [r]) })),
    ];
    this.steps = steps.sort((a, b) => a.atMs - b.atMs);
  }

  summary(): string {
    const s = this.plan.services;
    const by = (t: ChaosServiceType) => s.filter((x) => x.type === t).length;
    return `${s.length} Services (${by('ClusterIP')} ClusterIP, ${by('NodePort')} NodePort, ${by('headless')} headless) over 2 Deployments `
      + `scaled ${this.plan.deployments.map((d) => `${d.replicas}->${d.scaleTo}`).join(' and ')}, `
      + `${s.filter((x) => x.deleteAtMs !== undefined).length} deleted (${s.filter((x) => x.reapplyAtMs !== undefined).length} applied again)`;
  }

  stepViolations(): Violation[] {
    return [...this.violations];
  }

  private mine = (x: KubeObject): boolean => x.metadata.labels?.[SERVICES_LABEL] === this.o.tag;

  /** Probes the node once per snapshot: allocation keys, nat chains, and DNS for this round's Services. */
  async observe(cluster: ChaosCluster, world: WorldSnapshot): Promise<void> {
    const probe: ServiceProbe = {};
    (world.observed ??= {})[this.kind] = probe;
    if (!cluster.run) { probe.allocationsError = probe.iptablesError = probe.dnsError = 'the cluster cannot run commands in its namespace'; return; }
    const node = ((world.objects?.get('nodes') ?? []) as Node[]).find((n) => n.spec?.podCIDR);
    const services = ((world.objects?.get('services') ?? []) as Service[]).filter(this.mine);
    const names = node ? services.map((s) => serviceDnsName(s)) : [];
    const server = node ? gatewayOf(node.spec!.podCIDR!) : '127.0.0.1';
    try {
      const r = await cluster.run([process.execPath, PROBE, cluster.dataDir, server, ...names]);
      if (r.code !== 0) throw new Error(r.stderr.trim() || `exit ${r.code}`);
      Object.assign(probe, JSON.parse(r.stdout) as ServiceProbe);
      if (!node) probe.dnsError = 'no node with a podCIDR is listed';
    } catch (e) {
      this.probeErrors++;
      probe.allocationsError = probe.iptablesError = probe.dnsError = `the probe failed: ${(e as Error).message.split('\n')[0]}`;
    }
  }

  check(world: WorldSnapshot): Violation[] {
    if (!world.objects) return [{ invariant: 'api', subject: 'mk get', detail: `the api did not answer: ${world.apiError ?? 'unknown'}`, permanent: false }];
    const pods = (world.objects.get('pods') ?? []) as Pod[];
    for (const p of pods.filter(this.mine)) if (p.metadata.uid) this.podUids.add(p.metadata.uid);
    const services = (world.objects.get('services') ?? []) as Service[];
    const slices = (world.objects.get('endpointslices') ?? []) as EndpointSlice[];
    const mine = services.filter(this.mine);
    this.remember(mine, slices);
    const out: Violation[] = [...checkServiceRanges(services)];
    for (const r of this.records) {
      const s = mine.find((x) => x.metadata.name === r.plan.name);
      if (s?.metadata.uid && !r.uids.includes(s.metadata.uid)) r.uids.push(s.metadata.uid);
      if (r.applied && !r.deleted && !s) out.push({ invariant: 'lost', subject: `service default/${r.plan.name}`, permanent: false, detail: 'applied and never deleted, yet not in the store' });
      if (r.deleted && s) out.push({ invariant: 'deleted', subject: `service default/${r.plan.name}`, permanent: false, detail: 'deleted, yet still in the store' });
    }
    for (const s of mine) out.push(...checkEndpointSlices(s, slices, pods));
    out.push(...this.checkNode(world, services, mine, slices));
    const probe = world.observed?.[this.kind] as ServiceProbe | undefined;
    this.lastChecked = {
      services: mine.length,
      endpoints: mine.reduce((n, s) => n + readyAddresses(s, slices).length, 0),
      keys: probe?.allocations?.length ?? 0,
      chains: probe?.natChains?.filter((c) => c.startsWith('MK-SVC-')).length ?? 0,
      dnsNames: Object.keys(probe?.dns ?? {}).length,
    };
    return out;
  }

  /** The node's side: allocation keys, proxy chains, DNS answers. */
  private checkNode(world: WorldSnapshot, services: Service[], mine: Service[], slices: EndpointSlice[]): Violation[] {
    const probe = world.observed?.[this.kind] as ServiceProbe | undefined;
    const node = ((world.objects?.get('nodes') ?? []) as Node[]).find((n) => n.spec?.podCIDR)?.metadata.name ?? 'node';
    if (!probe) return [{ invariant: 'probe', subject: `node ${node}`, permanent: false, detail: 'the node was not probed' }];
    const out: Violation[] = [];
    const fail = (what: string, err: string) => out.push({ invariant: 'probe', subject: `node ${node}`, permanent: false, detail: `${what}: ${err}` });
    if (probe.allocations) out.push(...checkAllocationKeys(probe.allocations, services));
    else fail('allocation keys', probe.allocationsError ?? 'not read');
    if (probe.natChains) out.push(...checkProxyChains(node, probe.natChains, services, slices, this.chainsSeen));
    else fail('iptables-save', probe.iptablesError ?? 'not read');
    if (probe.dns) out.push(...checkDns(node, probe.dns, mine, slices));
    else fail('cluster DNS', probe.dnsError ?? 'not asked');
    return out;
  }

  private remember(mine: Service[], slices: EndpointSlice[]): void {
    for (const s of mine) for (const c of serviceChainsOf(s, slices)) this.chainsSeen.set(c.chain, c.portName);
  }

  async cleanup(ctx: RoundContext): Promise<void> {
    const sel = `${SERVICES_LABEL}=${this.o.tag}`;
    const { result } = await ctx.mkUntil('list the service pods', () => ['get', 'pods', '-l', sel, '-o', 'json'], { deadlineMs: this.o.stepDeadlineMs });
    for (const p of parseItems<Pod>(result.stdout)) if (p.metadata.uid) this.podUids.add(p.metadata.uid);
    for (const plural of ['services', 'deployments']) {
      await ctx.mkUntil(`delete the round's ${plural}`, () => ['delete', plural, '-l', sel, '--wait=false'], { deadlineMs: this.o.stepDeadlineMs });
    }
    for (const r of this.records) r.deleted = true;
  }

  checkCleaned(world: WorldSnapshot): Violation[] {
    const out = checkPodsCleaned(this.podUids, { key: SERVICES_LABEL, value: this.o.tag }, world);
    for (const plural of ['services', 'deployments', 'endpointslices']) {
      for (const x of world.objects?.get(plural) ?? []) {
        const own = plural === 'endpointslices' ? this.records.some((r) => x.metadata.labels?.['kubernetes.io/service-name'] === r.plan.name) : this.mine(x);
        if (own) out.push({ invariant: 'cleanup', subject: `${plural} ${x.metadata.namespace ?? 'default'}/${x.metadata.name}`, permanent: false, detail: 'still in the store after its deletion' });
      }
    }
    // Once they are gone from the store, their keys and chains must go too.
    if (out.length === 0 && world.objects) out.push(...this.checkNode(world, (world.objects.get('services') ?? []) as Service[], [], (world.objects.get('endpointslices') ?? []) as EndpointSlice[]));
    return out;
  }

  report(): unknown {
    return { plan: this.plan, records: this.records, done: this.done, podUids: [...this.podUids], probeErrors: this.probeErrors, lastChecked: this.lastChecked };
  }

  private async make(ctx: RoundContext, first: ServiceRecord[]): Promise<void> {
    const stdin = this.plan.deployments.map((d) => serviceDeploymentManifest(d.name, this.o.tag, d.replicas)).join('---\n');
    if (!(await this.change(ctx, 'apply the Deployments', ['apply', '-f', '-'], stdin))) return;
    await this.apply(ctx, first);
  }

  private async apply(ctx: RoundContext, records: ServiceRecord[]): Promise<void> {
    const stdin = records.map((r) => serviceManifest(r.plan, this.o.tag)).join('---\n');
    // An apply cut short may have written some of them: until acknowledged, either is fine.
    for (const r of records) { r.deleted = false; r.applied = false; }
    if (await this.change(ctx, `apply ${records.map((r) => r.plan.name).join(', ')}`, ['apply', '-f', '-'], stdin)) for (const r of records) r.applied = true;
  }

  private async remove(ctx: RoundContext, r: ServiceRecord): Promise<void> {
    if (!r.applied) return;
    r.applied = false;
    const ok = await this.change(ctx, `delete ${r.plan.name}`, ['delete', 'service', r.plan.name, '--wait=false'], undefined,
      (x, attempt) => x.code === 0 || (attempt > 1 && /not found/.test(x.stderr)));
    if (ok) r.deleted = true;
  }

  /** Runs one change through the CLI with retries; false (and an `available` violation) when it never went through. */
  private async change(ctx: RoundContext, what: string, args: string[], stdin?: string, done?: (r: { code: number; stderr: string }, attempt: number) => boolean): Promise<boolean> {
    try {
      const { attempts } = await ctx.mkUntil(what, () => args, { stdin, deadlineMs: this.o.stepDeadlineMs, ...(done ? { done } : {}) });
      this.done.push(`${ctx.elapsedMs()} ms: ${what}${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
      ctx.note(`services: ${what}: done${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
      return true;
    } catch (e) {
      this.violations.push({ invariant: 'available', subject: what, permanent: true, detail: (e as Error).message });
      return false;
    }
  }
}

/** Services over Deployments, scaled and deleted: see the module comment. */
export const servicesKind: ChaosKind = {
  name: 'services',
  generate: (rng, opts) => new ServicesWorkload(planServices(rng, opts), opts),
};
