/**
 * `npm run bench -- replicaset [--pods 100] [--rounds 5] [--nodes 10]`: what the ReplicaSet
 * controller adds to making pods. A fresh nats-server and control plane (control-plane-env.ts)
 * with hollow nodes (hollow-node.ts: the real node api, a fake runtime that reports every pod
 * Running at once); then, per round and alternating which goes first:
 *
 * - ReplicaSet: one ReplicaSet created through mk.api.apply with `replicas: N` (0 -> N), timed
 *   until N of its pods are Running on `mk.watch.pods` (as scheduling.ts watches);
 * - direct: N pods applied through mk.api.apply, as many in flight as the set's largest
 *   slow-start batch, timed until N are Running.
 *
 * After the set's half, 10 % of its pods are deleted at once and the time until it has N Running
 * pods again is taken (no baseline: nothing else replaces pods). Between halves everything is
 * deleted and waited for until gone, then the CPU until quiet. Messages per pod come from
 * nats-server's monitoring port. No root.
 */
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { decode, request, type Bus } from '../../bus';
import { API, type ListResult, type Node, type Pod, type WatchEvent } from '../../messages';
import { slowStartBatches } from '../../actors/replicaset/reconcile';
import { startControlPlaneEnv } from './control-plane-env';
import { waitForQuietCpu } from './quiet';
import { formatReplicaSet, type ReplicaSetRound, type ReplicaSetRun } from './replicaset-report';
import { natsCounts, startHollow, stopHollow, type NatsCounts } from './scheduling';
import { intFlag } from './flags';

const RS_LABEL = { bench: 'replicaset' };
const DIRECT_LABEL = { bench: 'direct' };
const SPEC = { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] };

/** Waits until `cond` holds, polling every `everyMs`; false when `ms` passed first. */
async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Pods seen on the watch subject: Running ones by name, and those deleted (gone from the store). */
class PodWatch {
  readonly running = new Map<string, { labels: Record<string, string>; at: number }>();
  private readonly sub;
  constructor(bus: Bus) {
    this.sub = bus.nc.subscribe(`${API.watchPrefix}.pods.default.>`, {
      callback: (_err, msg) => {
        const at = performance.now();
        const ev = decode<WatchEvent>(msg.data);
        const pod = ev.object as Pod;
        const name = pod.metadata.name;
        if (ev.type === 'DELETED' || pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running') { this.running.delete(name); return; }
        if (!this.running.has(name)) this.running.set(name, { labels: pod.metadata.labels ?? {}, at });
      },
    });
  }
  /** Running pods with label bench=`value`. */
  count(value: string): number {
    let n = 0;
    for (const p of this.running.values()) if (p.labels.bench === value) n++;
    return n;
  }
  stop(): void { this.sub.unsubscribe(); }
}

const msgs = (a: NatsCounts, b: NatsCounts, pods: number) => Math.round(((b.inMsgs - a.inMsgs + b.outMsgs - a.outMsgs) / pods) * 10) / 10;

/** Lists the benchmark's pods (label bench=`value`) in the store. */
async function listPods(bus: Bus, value: string): Promise<Pod[]> {
  return (await request<ListResult>(bus, API.list, { kind: 'pods', namespace: 'default', labelSelector: `bench=${value}` })).items as Pod[];
}

/** Runs the benchmark, prints the tables and one JSON line. */
export async function replicaSetBench(argv: string[], usage: string): Promise<ReplicaSetRun> {
  const pods = intFlag(argv, '--pods', 100, usage);
  const rounds = intFlag(argv, '--rounds', 5, usage);
  const nodes = intFlag(argv, '--nodes', 10, usage);
  const deadlineMs = intFlag(argv, '--deadline-s', 120, usage) * 1000;
  if (pods > nodes * 110) throw new Error(`--pods ${pods} do not fit on ${nodes} hollow nodes of 110 pods each\n${usage}`);
  const window = Math.max(...slowStartBatches(pods));
  const replaced = Math.max(1, Math.round(pods / 10));
  const say = (l: string) => console.error(l);
  say(`starting a nats-server and a control plane with ${nodes} hollow nodes ...`);
  const env = await startControlPlaneEnv('replicaset', { monitor: true });
  const monitor = env.nats.monitorUrl!;
  let hollow: ChildProcess[] = [];
  const { bus } = env;
  const watch = new PodWatch(bus);
  const run: ReplicaSetRun = { pods, nodes, window, rounds: [] };
  try {
    await bus.nc.flush();
    hollow = await startHollow(env, nodes, say);
    const readyNodes = async () => (await request<ListResult>(bus, API.list, { kind: 'nodes' })).items
      .filter((n) => (n as Node).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (!(await waitUntil(async () => (await readyNodes()) >= nodes, 60_000, 200))) throw new Error(`only ${await readyNodes()} of ${nodes} nodes Ready`);

    const quiet = async (): Promise<number> => {
      const gone = await waitUntil(async () => (await listPods(bus, 'replicaset')).length + (await listPods(bus, 'direct')).length === 0, deadlineMs, 100);
      if (!gone) throw new Error(`the benchmark's pods were not gone after ${deadlineMs} ms`);
      return (await waitForQuietCpu({ deadlineMs: 30_000 })).busy;
    };

    const rsHalf = async (name: string): Promise<Pick<ReplicaSetRound, 'replicasetMs' | 'replicasetMsgsPerPod' | 'replaceMs' | 'replaced'>> => {
      const c0 = await natsCounts(monitor);
      const t0 = performance.now();
      await request(bus, API.apply, {
        object: {
          apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
          spec: { replicas: pods, selector: { matchLabels: { ...RS_LABEL, set: name } }, template: { metadata: { labels: { ...RS_LABEL, set: name } }, spec: SPEC } },
        },
      }, { timeoutMs: 60_000 });
      if (!(await waitUntil(() => watch.count('replicaset') >= pods, deadlineMs))) throw new Error(`the ReplicaSet had ${watch.count('replicaset')} of ${pods} pods Running after ${deadlineMs} ms`);
      const replicasetMs = performance.now() - t0;
      const replicasetMsgsPerPod = msgs(c0, await natsCounts(monitor), pods);
      // Replacement: delete 10 % at once, wait until N Running again (the deleted ones left the count).
      const victims = [...watch.running.entries()].filter(([, p]) => p.labels.bench === 'replicaset').slice(0, replaced).map(([n]) => n);
      const t1 = performance.now();
      await Promise.all(victims.map((n) => request(bus, API.delete, { kind: 'pods', namespace: 'default', name: n }, { timeoutMs: 60_000 })));
      const isBack = () => watch.count('replicaset') >= pods && victims.every((v) => !watch.running.has(v));
      const back = await waitUntil(isBack, deadlineMs);
      const replaceMs = back ? performance.now() - t1 : NaN;
      await request(bus, API.delete, { kind: 'replicasets', namespace: 'default', name }, { timeoutMs: 60_000 });
      return { replicasetMs, replicasetMsgsPerPod, replaceMs, replaced: victims.length };
    };

    const directHalf = async (round: number): Promise<Pick<ReplicaSetRound, 'directMs' | 'directMsgsPerPod'>> => {
      const c0 = await natsCounts(monitor);
      const names = Array.from({ length: pods }, (_, i) => `direct-${round}-${i}`);
      let next = 0;
      const t0 = performance.now();
      const worker = async () => {
        while (next < names.length) {
          const name = names[next++];
          await request(bus, API.apply, { object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: DIRECT_LABEL }, spec: SPEC } }, { timeoutMs: 60_000 });
        }
      };
      await Promise.all(Array.from({ length: Math.min(window, pods) }, worker));
      if (!(await waitUntil(() => watch.count('direct') >= pods, deadlineMs))) throw new Error(`${watch.count('direct')} of ${pods} direct pods Running after ${deadlineMs} ms`);
      const directMs = performance.now() - t0;
      const directMsgsPerPod = msgs(c0, await natsCounts(monitor), pods);
      await Promise.all(names.map((name) => request(bus, API.delete, { kind: 'pods', namespace: 'default', name }, { timeoutMs: 60_000 })));
      return { directMs, directMsgsPerPod };
    };

    // Round 0 warms both halves up (first-use costs) and is left out of the figures.
    say(`warming up with one round, then ${rounds} rounds of ${pods} pods ...`);
    for (let r = 0; r <= rounds; r++) {
      const first: ReplicaSetRound['first'] = r % 2 === 0 ? 'direct' : 'replicaset';
      const busyBefore = { replicaset: 0, direct: 0 };
      let a: Awaited<ReturnType<typeof rsHalf>> | undefined;
      let b: Awaited<ReturnType<typeof directHalf>> | undefined;
      for (const half of first === 'direct' ? ['direct', 'replicaset'] as const : ['replicaset', 'direct'] as const) {
        busyBefore[half] = await quiet();
        if (half === 'replicaset') a = await rsHalf(`bench-rs-${r}`);
        else b = await directHalf(r);
      }
      const round: ReplicaSetRound = { first, ...a!, ...b!, busyBefore };
      if (r > 0) run.rounds.push(round);
      say(`${r === 0 ? 'warm-up' : `round ${r}`}: ReplicaSet ${Math.round(round.replicasetMs)} ms, direct ${Math.round(round.directMs)} ms, `
        + `ratio ${(round.replicasetMs / round.directMs).toFixed(2)}x; ${round.replaced} replaced in ${Math.round(round.replaceMs)} ms`);
    }
    await quiet();
  } finally {
    watch.stop();
    await stopHollow(hollow);
    await env.stop();
  }
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const line of formatReplicaSet(run)) console.log(line);
  console.log(JSON.stringify(run));
  return run;
}
