/**
 * `npm run bench -- hpa [--rounds 5] [--sync 15s] [--stats-period 5s] [--down-window 300s]
 * [--nodes 3] [--pods-per-node 0]`: how fast the HorizontalPodAutoscaler reacts to a load change.
 * A fresh nats-server and control plane (control-plane-env.ts, MK_HPA_SYNC_PERIOD from --sync)
 * with hollow nodes (hollow-node.ts: the real node api, a fake runtime that reports every pod
 * Running at once); a Deployment `web` of 2 replicas requesting 200m cpu each, and an HPA on it
 * (min 2, max 6, cpu at 50 %, default behaviour; --down-window writes
 * behavior.scaleDown.stabilizationWindowSeconds).
 *
 * Hollow nodes have no runtime and send no usage, so this process plays their stats: every stats
 * period, on a fixed beat, one report per node on `mk.stats.<node>` (the node agents' subject and
 * shape, messages/usage.ts) with the Running pods the watch subject shows on that node, the
 * Deployment's at the current load and the other pods (--pods-per-node, a ReplicaSet spread over
 * the nodes) idle. Each round, after the HPA has settled at 2 replicas on low load and a random
 * pause (so the change falls anywhere in the sync and stats beats):
 *
 * - load start: the Deployment's pods report 200 % of their requests from the next beat on; timed
 *   until its spec.replicas is raised (`mk.watch.deployments`, the HPA's decision) and until that
 *   many of its pods are Running (`mk.watch.pods`);
 * - load end, after another random pause: back to 10 %; timed until spec.replicas is back at the
 *   minimum and only that many pods are left Running.
 *
 * The CPU is waited for until quiet before each round. No root.
 */
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { decode, request, type Bus } from '../../bus';
import {
  API, watchSubject, type Deployment, type GetResult, type HorizontalPodAutoscaler, type ListResult, type Node, type Pod, type WatchEvent,
} from '../../messages';
import { parseDuration } from '../../messages/duration';
import { statsSubject, type NodeUsageReport } from '../../messages/usage';
import { startControlPlaneEnv } from './control-plane-env';
import { intFlag } from './flags';
import { hollowNodeName } from './hollow-node';
import { formatHpa, type HpaRound, type HpaRun } from './hpa-report';
import { waitForQuietCpu } from './quiet';
import { startHollow, stopHollow } from './scheduling';

const NAME = 'web';
const REQUEST_MILLIS = 200;
const MIN = 2;
const MAX = 6;
const TARGET = 50;
const LOW = 10;
const HIGH = 200;
const FILLER_MILLIS = 1;

/** Reads `--name DURATION` (15s, 500ms, 1m) in ms, or `fallback`; a bad one throws with the usage. */
function durationFlag(args: string[], name: string, fallback: string, usage: string): number {
  const i = args.indexOf(name);
  const text = i < 0 ? fallback : args[i + 1];
  if (text === undefined || text.startsWith('--')) throw new Error(`${name} takes a duration such as 15s or 500ms (got nothing)\n${usage}`);
  try {
    return parseDuration(text, name);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${usage}`, { cause: e });
  }
}

/** Waits until `cond` holds, polling every `everyMs`; false when `ms` passed first. */
async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface SeenPod { node: string; uid: string; app: string | undefined; readyAtMs: number }

/** Running pods and the Deployment's spec.replicas as the watch subjects show them, timed on arrival. */
class Watch {
  readonly running = new Map<string, SeenPod>();
  replicas: number | undefined;
  /** Every change of `replicas`, with performance.now() of its arrival. */
  readonly changes: { replicas: number | undefined; at: number }[] = [];
  private readonly subs;
  constructor(bus: Bus) {
    const pods = bus.nc.subscribe(watchSubject('pods', 'default'), {
      callback: (_err, msg) => {
        const ev = decode<WatchEvent>(msg.data);
        const pod = ev.object as Pod;
        const name = pod.metadata.name;
        if (ev.type === 'DELETED' || pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running' || !pod.spec.nodeName) { this.running.delete(name); return; }
        if (this.running.has(name)) return;
        const ready = pod.status.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
        this.running.set(name, {
          node: pod.spec.nodeName, uid: pod.metadata.uid ?? '', app: pod.metadata.labels?.app,
          readyAtMs: ready?.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : Date.now(),
        });
      },
    });
    const deps = bus.nc.subscribe(watchSubject('deployments', 'default'), {
      callback: (_err, msg) => {
        const at = performance.now();
        const ev = decode<WatchEvent>(msg.data);
        const d = ev.object as Deployment;
        if (d.metadata.name !== NAME) return;
        const r = ev.type === 'DELETED' ? undefined : d.spec.replicas;
        if (r !== this.replicas) { this.replicas = r; this.changes.push({ replicas: r, at }); }
      },
    });
    this.subs = [pods, deps];
  }
  /** When spec.replicas first changed to a value `ok` takes, after `since`; NaN when it did not. */
  firstChange(since: number, ok: (replicas: number) => boolean): number {
    return this.changes.find((c) => c.at >= since && c.replicas !== undefined && ok(c.replicas))?.at ?? NaN;
  }
  /** Running pods of the Deployment. */
  count(): number {
    let n = 0;
    for (const p of this.running.values()) if (p.app === NAME) n++;
    return n;
  }
  stop(): void { for (const s of this.subs) s.unsubscribe(); }
}

/**
 * Plays the hollow nodes' stats: every `periodMs` on a fixed beat, one report per node with its
 * Running pods, the Deployment's at `percent` of their request. stop() ends it.
 */
function playStats(bus: Bus, watch: Watch, nodes: number, periodMs: number) {
  const state = { percent: LOW, stopped: false };
  const t0 = performance.now();
  let beat = 0;
  let timer: NodeJS.Timeout | undefined;
  const publish = () => {
    const now = new Date().toISOString();
    const byNode = new Map<string, NodeUsageReport['pods']>();
    for (let i = 0; i < nodes; i++) byNode.set(hollowNodeName(i), []);
    const app = (REQUEST_MILLIS * state.percent) / 100 * 1e6;
    for (const [name, p] of watch.running) {
      const cpu = p.app === NAME ? app : FILLER_MILLIS * 1e6;
      byNode.get(p.node)?.push({ namespace: 'default', name, uid: p.uid, cpuNanoCores: cpu, memoryBytes: 2 ** 24, containers: [{ name: 'main', cpuNanoCores: cpu, memoryBytes: 2 ** 24 }] });
    }
    for (const [node, pods] of byNode) {
      const used = pods.reduce((s, p) => s + p.cpuNanoCores, 0);
      const report: NodeUsageReport = {
        node, timestamp: now, windowSeconds: periodMs / 1000, usage: { cpuNanoCores: used, memoryBytes: 2 ** 30 },
        capacity: { cpuNanoCores: 4e9, memoryBytes: 16 * 2 ** 30 }, pods,
      };
      bus.nc.publish(statsSubject(node), new TextEncoder().encode(JSON.stringify(report)));
    }
  };
  const tick = () => {
    if (state.stopped) return;
    publish();
    beat++;
    timer = setTimeout(tick, Math.max(0, t0 + beat * periodMs - performance.now()));
  };
  tick();
  return { state, stop: () => { state.stopped = true; clearTimeout(timer); } };
}

/** Runs the benchmark, prints the tables and one JSON line. */
export async function hpaBench(argv: string[], usage: string): Promise<HpaRun> {
  const rounds = intFlag(argv, '--rounds', 5, usage);
  const nodes = intFlag(argv, '--nodes', 3, usage);
  // 0 (the default) or a positive integer.
  const podsPerNode = argv.includes('--pods-per-node') && argv[argv.indexOf('--pods-per-node') + 1] !== '0' ? intFlag(argv, '--pods-per-node', 0, usage) : 0;
  const syncMs = durationFlag(argv, '--sync', '15s', usage);
  const statsMs = durationFlag(argv, '--stats-period', '5s', usage);
  const windowDefault = !argv.includes('--down-window');
  const windowMs = durationFlag(argv, '--down-window', '300s', usage);
  if (windowMs % 1000 !== 0) throw new Error(`--down-window takes whole seconds (got ${windowMs} ms)\n${usage}`);
  const downWindowS = windowMs / 1000;
  if (podsPerNode * nodes + MAX > nodes * 110) throw new Error(`--pods-per-node ${podsPerNode} do not fit on hollow nodes of 110 pods each\n${usage}`);
  const upDeadline = 10 * (syncMs + statsMs) + 60_000;
  const downDeadline = windowMs + upDeadline;
  const say = (l: string) => console.error(l);

  say(`starting a nats-server and a control plane (MK_HPA_SYNC_PERIOD=${syncMs}ms) with ${nodes} hollow nodes ...`);
  const env = await startControlPlaneEnv('hpa', { env: { MK_HPA_SYNC_PERIOD: `${syncMs}ms` } });
  const { bus } = env;
  let hollow: ChildProcess[] = [];
  const watch = new Watch(bus);
  let stats: ReturnType<typeof playStats> | undefined;
  const run: HpaRun = {
    nodes, podsPerNode, minReplicas: MIN, maxReplicas: MAX, targetPercent: TARGET, lowPercent: LOW, highPercent: HIGH,
    syncMs, statsMs, downWindowS, windowDefault, rounds: [],
  };
  try {
    await bus.nc.flush();
    hollow = await startHollow(env, nodes, say);
    const readyNodes = async () => (await request<ListResult>(bus, API.list, { kind: 'nodes' })).items
      .filter((n) => (n as Node).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (!(await waitUntil(async () => (await readyNodes()) >= nodes, 60_000, 200))) throw new Error(`only ${await readyNodes()} of ${nodes} nodes Ready`);
    stats = playStats(bus, watch, nodes, statsMs);
    const spec = (millis: number) => ({
      containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: `${millis}m`, memory: '16Mi' } } }],
    });
    if (podsPerNode > 0) {
      const total = podsPerNode * nodes;
      await request(bus, API.apply, {
        object: {
          apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'filler' },
          spec: { replicas: total, selector: { matchLabels: { app: 'filler' } }, template: { metadata: { labels: { app: 'filler' } }, spec: spec(10) } },
        },
      }, { timeoutMs: 60_000 });
      if (!(await waitUntil(() => watch.running.size >= total, 120_000, 100))) throw new Error(`${watch.running.size} of ${total} other pods Running after 120 s`);
    }
    await request(bus, API.apply, {
      object: {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: NAME },
        spec: { replicas: MIN, selector: { matchLabels: { app: NAME } }, template: { metadata: { labels: { app: NAME } }, spec: spec(REQUEST_MILLIS) } },
      },
    }, { timeoutMs: 60_000 });
    await request(bus, API.apply, {
      object: {
        apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: NAME },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: NAME }, minReplicas: MIN, maxReplicas: MAX,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: TARGET } } }],
          ...(windowDefault ? {} : { behavior: { scaleDown: { stabilizationWindowSeconds: downWindowS } } }),
        },
      },
    }, { timeoutMs: 60_000 });

    const hpaStatus = async () => ((await request<GetResult>(bus, API.get, { kind: 'horizontalpodautoscalers', namespace: 'default', name: NAME })).object as unknown as HorizontalPodAutoscaler).status;
    /**
     * Settled on low load: 2 replicas Running, each Ready for two stats periods (so its reports count
     * as a ready pod's), and the HPA's status showing a measured utilization at the minimum.
     */
    const settled = async () => {
      if (watch.replicas !== MIN || watch.count() !== MIN) return false;
      const now = Date.now();
      for (const p of watch.running.values()) if (p.app === NAME && p.readyAtMs + 2 * statsMs > now) return false;
      const s = await hpaStatus();
      const util = s?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
      return s?.currentReplicas === MIN && s.desiredReplicas === MIN && typeof util === 'number' && util <= TARGET;
    };

    say(`${nodes} hollow nodes Ready; ${rounds} rounds: load ${LOW} % -> ${HIGH} % -> ${LOW} % of requests `
      + `(sync ${syncMs} ms, stats every ${statsMs} ms, scale-down window ${downWindowS} s) ...`);
    for (let r = 1; r <= rounds; r++) {
      if (!(await waitUntil(settled, downDeadline, 200))) throw new Error(`round ${r}: the HPA did not settle at ${MIN} replicas on low load within ${downDeadline} ms (status ${JSON.stringify(await hpaStatus())})`);
      const busyBefore = (await waitForQuietCpu({ deadlineMs: 15_000 })).busy;
      // Anywhere within the beats of the sync and the stats.
      await new Promise((res) => setTimeout(res, Math.random() * (syncMs + statsMs)));
      const t0 = performance.now();
      stats.state.percent = HIGH;
      const raised = await waitUntil(() => (watch.replicas ?? 0) > MIN, upDeadline, 5);
      const raisedAt = watch.firstChange(t0, (n) => n > MIN);
      const upDecisionMs = raised ? raisedAt - t0 : NaN;
      const scaledTo = watch.changes.find((c) => c.at === raisedAt)?.replicas ?? MIN;
      const up = raised && await waitUntil(() => watch.count() >= scaledTo, upDeadline, 5);
      const upRunningMs = up ? performance.now() - t0 : NaN;

      // The load ends anywhere within the beats too, not right after the sync that scaled up.
      await new Promise((res) => setTimeout(res, Math.random() * (syncMs + statsMs)));
      const t1 = performance.now();
      stats.state.percent = LOW;
      const lowered = await waitUntil(() => watch.replicas === MIN, downDeadline, 5);
      const downDecisionMs = lowered ? watch.firstChange(t1, (n) => n === MIN) - t1 : NaN;
      const gone = lowered && await waitUntil(() => watch.count() === MIN, upDeadline, 5);
      const downPodsMs = gone ? performance.now() - t1 : NaN;
      const round: HpaRound = { upDecisionMs, scaledTo, upRunningMs, downDecisionMs, downPodsMs, busyBefore };
      run.rounds.push(round);
      const s = (ms: number) => (Number.isNaN(ms) ? 'never' : `${(ms / 1000).toFixed(1)} s`);
      say(`round ${r}: raised to ${scaledTo} after ${s(upDecisionMs)}, Running after ${s(upRunningMs)}; `
        + `back to ${MIN} after ${s(downDecisionMs)}, pods left after ${s(downPodsMs)}`);
      if (!lowered) throw new Error(`round ${r}: not scaled down within ${downDeadline} ms; stopping`);
    }
  } finally {
    stats?.stop();
    watch.stop();
    await stopHollow(hollow);
    await env.stop();
  }
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const line of formatHpa(run)) console.log(line);
  console.log(JSON.stringify(run));
  return run;
}
