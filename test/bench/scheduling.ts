/**
 * `npm run bench -- scheduling [--nodes 100,1000] [--pods 10000] [--window 100]`: how fast the
 * control plane binds pods, and what it holds per pod. For each node count, a fresh nats-server and
 * control plane (control-plane-env.ts), that many hollow nodes (hollow-node.ts: real registration,
 * heartbeats and views, a fake runtime) in processes of their own, 250 nodes each; then the pods
 * are applied, `--window` requests in flight, and a subscriber of `mk.watch.pods` notes when each
 * one is bound (spec.nodeName set) and Running. Measured: pods bound per second from the first
 * apply to the last binding seen, the applies' own rate beside it (a binding rate at the apply rate
 * means the api, not the scheduler, set the pace), the time to Running through the hollow nodes,
 * and the control plane's resident memory (/proc/<pid>/status) before the first pod and after the
 * last is Running, and from nats-server's monitoring port the messages per pod (in total, per
 * connection, and JetStream api requests). `--cpu-prof DIR` runs the control plane under
 * `node --cpu-prof`, a profile per node count under DIR/nodes-<n>. No root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decode, request, type Bus } from '../../bus';
import { API, type ListResult, type Node, type Pod, type WatchEvent } from '../../messages';
import { startControlPlaneEnv, type ControlPlaneEnv } from './control-plane-env';
import { waitForQuietCpu } from './quiet';
import {
  formatScheduling, procCpuTicks, procStatusKb, summarizePods, type PodTimes, type SchedulingRun,
} from './scheduling-report';
import { intFlag } from './flags';

const NODES_PER_PROCESS = 250;
const LABEL = { bench: 'scheduling' };
/** CPU clock ticks per second (USER_HZ): 100 on Linux. */
const TICKS = 100;

/** The benchmark pod: small requests, so 110 fit a hollow node by count before by size. */
function schedPod(name: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: LABEL },
    spec: { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

const readProc = (pid: number, file: 'status' | 'stat'): string => fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
const cpuSeconds = (pids: number[]): number => pids.reduce((a, p) => a + procCpuTicks(readProc(p, 'stat')), 0) / TICKS;

/** Waits until `cond` holds, polling every `everyMs`; false when `ms` passed first. */
async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Starts hollow node processes for nodes 0..n-1 on `env.connect`; resolves once each printed `ready`. Throws (after stopping them) otherwise. */
export async function startHollow(env: Pick<ControlPlaneEnv, 'connect'>, nodes: number, say: (l: string) => void): Promise<ChildProcess[]> {
  const procs: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let first = 0; first < nodes; first += NODES_PER_PROCESS) {
    const count = Math.min(NODES_PER_PROCESS, nodes - first);
    const child = spawn(process.execPath, [path.join(__dirname, 'run.js'), 'hollow-nodes', '--first', String(first), '--count', String(count)], {
      env: { ...process.env, MK_BENCH_SERVERS: env.connect.servers.join(','), MK_BENCH_USER: env.connect.user, MK_BENCH_PASS: env.connect.pass },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(child);
    let err = '';
    child.stderr?.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-2000); });
    ready.push(new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (b: Buffer) => { if (b.toString().includes('ready')) resolve(); });
      child.once('exit', (code) => reject(new Error(`hollow nodes ${first}..${first + count - 1} exited (${code}): ${err}`)));
    }));
  }
  const deadline = new Promise<never>((_, reject) => { setTimeout(() => reject(new Error(`hollow nodes not ready after ${60 + nodes / 5} s`)), (60 + nodes / 5) * 1000).unref(); });
  try {
    await Promise.race([Promise.all(ready), deadline]);
  } catch (e) {
    await stopHollow(procs);
    throw e;
  }
  say(`${nodes} hollow nodes registered in ${procs.length} process(es)`);
  return procs;
}

/** Stops hollow node processes by pid (SIGTERM, SIGKILL after 10 s). */
export async function stopHollow(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map(async (c) => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }));
}

/** Message counts from nats-server's monitoring port: the server's, the JetStream api's, and per connection name. */
export interface NatsCounts { inMsgs: number; outMsgs: number; jsApi: number; byConn: Record<string, { inMsgs: number; outMsgs: number }> }

/** Reads /varz, /jsz and /connz of the server at `url`. */
export async function natsCounts(url: string): Promise<NatsCounts> {
  const get = async <T>(p: string): Promise<T> => (await fetch(`${url}${p}`)).json() as Promise<T>;
  const [varz, jsz, connz] = await Promise.all([
    get<{ in_msgs: number; out_msgs: number }>('/varz'),
    get<{ api?: { total?: number } }>('/jsz'),
    get<{ connections: { name?: string; in_msgs: number; out_msgs: number }[] }>('/connz?limit=4096'),
  ]);
  const byConn: NatsCounts['byConn'] = {};
  for (const c of connz.connections) {
    // Hollow node processes are one group; every other connection by its name.
    const name = (c.name ?? 'unnamed').replace(/^mk-hollow-\d+$/, 'mk-hollow');
    const g = (byConn[name] ??= { inMsgs: 0, outMsgs: 0 });
    g.inMsgs += c.in_msgs;
    g.outMsgs += c.out_msgs;
  }
  return { inMsgs: varz.in_msgs, outMsgs: varz.out_msgs, jsApi: jsz.api?.total ?? 0, byConn };
}

/** Per pod: what `after` counted beyond `before`, divided by `pods`. */
function countsPerPod(before: NatsCounts, after: NatsCounts, pods: number): string {
  const per = (a: number, b: number) => Math.round(((a - b) / pods) * 10) / 10;
  const conns = Object.entries(after.byConn).map(([name, c]) => {
    const b = before.byConn[name] ?? { inMsgs: 0, outMsgs: 0 };
    return `${name} in ${per(c.inMsgs, b.inMsgs)} out ${per(c.outMsgs, b.outMsgs)}`;
  });
  return `messages per pod: server in ${per(after.inMsgs, before.inMsgs)} out ${per(after.outMsgs, before.outMsgs)}, `
    + `JetStream api requests ${per(after.jsApi, before.jsApi)}; by connection (in = it sent, out = it received): ${conns.join('; ')}`;
}

/** Applies `names` with `window` requests in flight; resolves with when the last was answered. */
async function applyAll(bus: Bus, names: string[], window: number, times: Map<string, PodTimes>): Promise<number> {
  let next = 0;
  let lastReply = 0;
  const worker = async () => {
    while (next < names.length) {
      const n = names[next++];
      times.set(n, { createdAt: performance.now() });
      await request(bus, API.apply, { object: schedPod(n) }, { timeoutMs: 60_000 });
      lastReply = Math.max(lastReply, performance.now());
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, names.length) }, worker));
  return lastReply;
}

/** One run: `nodes` hollow nodes, `pods` pods, on a fresh control plane. */
async function runOnce(nodes: number, pods: number, window: number, deadlineMs: number, say: (l: string) => void, cpuProfDir?: string): Promise<SchedulingRun> {
  say(`${nodes} nodes, ${pods} pods: starting a nats-server and a control plane ...`);
  const env = await startControlPlaneEnv('scheduling', { cpuProfDir, monitor: true });
  const monitor = env.nats.monitorUrl!;
  let hollow: ChildProcess[] = [];
  try {
    const { bus } = env;
    hollow = await startHollow(env, nodes, say);
    const readyNodes = async () => (await request<ListResult>(bus, API.list, { kind: 'nodes' })).items
      .filter((n) => (n as Node).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (!(await waitUntil(async () => (await readyNodes()) >= nodes, 60_000 + nodes * 100, 500))) {
      throw new Error(`only ${await readyNodes()} of ${nodes} nodes Ready`);
    }
    // Registration sets off the node controller (a pod CIDR for each): let it finish first.
    const quiet = await waitForQuietCpu({ deadlineMs: 60_000, busyBelow: 0.25 });
    say(`all ${nodes} nodes Ready; CPU ${Math.round(quiet.busy * 100)} % busy; applying ${pods} pods, ${window} at a time ...`);

    const times = new Map<string, PodTimes>();
    const sub = bus.nc.subscribe(`${API.watchPrefix}.pods.default.>`, {
      callback: (_err, msg) => {
        const at = performance.now();
        const pod = decode<WatchEvent>(msg.data).object as Pod;
        const t = times.get(pod.metadata.name);
        if (!t) return;
        if (t.boundAt === undefined && pod.spec.nodeName) { t.boundAt = at; t.node = pod.spec.nodeName; }
        if (t.runningAt === undefined && pod.status?.phase === 'Running') t.runningAt = at;
      },
    });
    await bus.nc.flush();
    const pids = { controlPlane: [env.cpPid], nats: [env.nats.pid], hollow: hollow.map((c) => c.pid!), client: [process.pid] };
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, v]) => [k, cpuSeconds(v)])) as Record<keyof typeof pids, number>;
    const rssBefore = procStatusKb(readProc(env.cpPid, 'status'), 'VmRSS');
    const counts0 = await natsCounts(monitor);
    const names = Array.from({ length: pods }, (_, i) => `sched-${i}`);
    const lastReply = await applyAll(bus, names, window, times);
    const all = [...times.values()];
    const allBound = await waitUntil(() => all.every((t) => t.boundAt !== undefined), deadlineMs);
    const allRunning = allBound && await waitUntil(() => all.every((t) => t.runningAt !== undefined), deadlineMs);
    sub.unsubscribe();
    say(`  ${countsPerPod(counts0, await natsCounts(monitor), pods)}`);
    const status = readProc(env.cpPid, 'status');
    const cpu = Object.fromEntries(Object.entries(pids).map(([k, v]) => [k, cpuSeconds(v) - cpu0[k as keyof typeof pids]])) as SchedulingRun['cpuSeconds'];
    const { t0, ...s } = summarizePods(all, nodes);
    if (!allBound || !allRunning) say(`deadline passed: ${s.bound} of ${pods} bound, ${s.running} Running`);
    const run: SchedulingRun = {
      nodes, pods, hollowProcesses: hollow.length, window, ...s, createMs: Math.round((lastReply - t0) * 10) / 10,
      rss: { beforeKb: rssBefore, afterKb: procStatusKb(status, 'VmRSS'), peakKb: procStatusKb(status, 'VmHWM') },
      cpuSeconds: cpu, busyBefore: quiet.busy,
    };
    return run;
  } finally {
    await stopHollow(hollow);
    await env.stop();
  }
}

/** Runs the benchmark for every node count asked, prints the table and one JSON line. */
export async function schedulingBench(argv: string[]): Promise<SchedulingRun[]> {
  const i = argv.indexOf('--nodes');
  const nodeCounts = (i >= 0 ? argv[i + 1] ?? '' : '100,1000').split(',').map(Number);
  if (nodeCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--nodes takes positive integers separated by commas (got ${argv[i + 1] ?? 'nothing'})`);
  const pods = intFlag(argv, '--pods', 10_000);
  const window = intFlag(argv, '--window', 100);
  const deadlineMs = intFlag(argv, '--deadline-s', 600) * 1000;
  const p = argv.indexOf('--cpu-prof');
  const cpuProfDir = p >= 0 ? argv[p + 1] : undefined;
  if (p >= 0 && (!cpuProfDir || cpuProfDir.startsWith('--'))) throw new Error('--cpu-prof takes a directory for the control plane\'s CPU profiles');
  const say = (l: string) => console.error(l);
  const runs: SchedulingRun[] = [];
  for (const n of nodeCounts) {
    const r = await runOnce(n, pods, window, deadlineMs, say, cpuProfDir && path.join(cpuProfDir, `nodes-${n}`));
    say(`  ${n} nodes: ${r.bound} of ${pods} bound in ${r.boundMs} ms, control plane RSS ${Math.round(r.rss.beforeKb / 1024)} -> ${Math.round(r.rss.afterKb / 1024)} MB`);
    runs.push(r);
  }
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const line of formatScheduling(runs)) console.log(line);
  console.log(JSON.stringify(runs));
  return runs;
}
