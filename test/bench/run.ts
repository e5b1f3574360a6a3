/**
 * `npm run bench -- <name> [flags]` (as root): the benchmarks. Each starts a cluster with `mk up`
 * in a network namespace of its own, runs its measuring part inside that namespace, prints what it
 * found and removes the cluster (processes, mounts, namespace, data directory).
 *
 *   pod-startup [--pods N] [--rounds R]   apply -> Running through mk against the same sandboxes
 *                                         and containers made by calling CRI directly: N pods one
 *                                         after another and N at once, R rounds (defaults 20, 5).
 *   volumes [--pods N] [--rounds R]       apply -> Running of a pod with an emptyDir, a ConfigMap
 *                                         and a claim (default class) mounted against the same pod
 *                                         with none, N pods one after another per half, R rounds
 *                                         alternating (defaults 10, 5; root).
 *   trace [--pods N] [--save DIR]         one pod at a time from apply to Running, every hop and
 *                                         write timed, median over N pods (default 20); --save
 *                                         keeps the raw records (bus messages, logs) in DIR.
 *   trace --from DIR                      reads records saved with --save again (no cluster).
 *   cli [--rounds N] [--compare BIN]      mk get/describe against `node -e 0` in the same run
 *                                         (a nats-server and a control plane; no root needed).
 *   api [--objects N] [--rounds R] [--lists L]
 *                                         create, get, update, list and watch delivery through
 *                                         mk.api against raw KV on the same server (no root).
 *   scheduling [--nodes 100,1000] [--pods N] [--window W] [--cpu-prof DIR]
 *                                         pods bound per second with hollow nodes (a fake runtime
 *                                         behind the real node api), control plane memory per pod.
 *   failover [--rounds R] [--lease-seconds S] [--replicas N] [--nodes N] [--rate P] [--isolate]
 *                                         SIGKILL and SIGTERM of the leading control plane, R
 *                                         rounds each, while pods are applied: time to the lease
 *                                         taken and to the next pod bound (no root; --isolate:
 *                                         root, a pid namespace per control plane).
 *   telemetry [--rounds R] [--actors N] [--rate M] [--seconds S] [--objects K] [--no-api]
 *             [--pod-startup [--pods P]]  actor telemetry on against off in the same run: CPU and
 *                                         memory of a process with N actors receiving 0, M and 5 M
 *                                         messages a second; the api's latency and control plane
 *                                         CPU per apply (no root); with --pod-startup (root), P pods
 *                                         apply -> Running in clusters started with it on and off.
 *   dashboard [--rounds R] [--changes N] [--gap-ms G]
 *                                         a pod status written to the store until the dashboard's
 *                                         page in headless Chromium shows it, against a NATS
 *                                         subscriber of the watch subject (no root).
 *   replicaset [--pods N] [--rounds R] [--nodes K]
 *                                         a ReplicaSet scaled 0 -> N against N pods applied
 *                                         directly, until Running on hollow nodes, R rounds
 *                                         alternating; and 10 % of its pods replaced (no root).
 *   probes [--pods N] [--seconds S] [--rounds R]
 *                                         the node agent's prober for N containers (httpGet and
 *                                         tcpSocket against local servers): CPU and memory of
 *                                         a process with probes against the same without (no root).
 *   hpa [--rounds R] [--sync D] [--stats-period D] [--down-window D] [--nodes K] [--pods-per-node P]
 *                                         load start -> an HPA's Deployment scaled up and its new
 *                                         pods Running, load end -> scaled down, with hollow nodes
 *                                         whose stats the benchmark publishes (no root).
 *   proxy-sync [--services S] [--endpoints E] [--rounds R]
 *                                         the service proxy's first sync of S x E endpoints, then
 *                                         one endpoint changed (partial) against a full resync,
 *                                         R rounds alternating, real iptables in a namespace (root).
 *   service [--rounds R] [--seconds S] [--connections C]
 *                                         HTTP requests per second and latency through a
 *                                         ClusterIP and a NodePort against the pod's IP, keep-alive
 *                                         and new connections, R rounds alternating (root).
 *   ingress [--rounds R] [--seconds S] [--connections C]
 *                                         HTTP requests per second and latency through the node's
 *                                         ingress proxy against the pod's IP (and nginx when
 *                                         installed), R rounds alternating (root).
 *   functions [--samples N] [--rounds R] [--seconds S] [--only cold|warm|rps|scale]
 *                                         functions through the gateway: cold starts (pool hit and
 *                                         miss, python3 and node; the miss against raw CRI pod start
 *                                         plus the interpreter's start), warm latency and requests
 *                                         per second against direct calls to the instances, and
 *                                         0 -> 20 instances (defaults 100, 5, 10; root).
 *   workflows [--runs N] [--steps S] [--rounds R] [--samples M] [--waiting K] [--only overhead|throughput|resume]
 *                                         the workflow engine against the same functions called by a
 *                                         hand-written loop through the same gateway: overhead per
 *                                         state transition of an S-Task chain (M runs over R rounds),
 *                                         transitions per second with N runs at once (Pass and Task
 *                                         chains), and the time to resume K waiting runs after a
 *                                         SIGKILL of the control plane (defaults 50, 10, 5, 100, 20;
 *                                         no root: function instances on a fake node, no containerd).
 *   functions-inner ...                   (internal) its measuring part in a cluster's namespace.
 *   ingress-proxy-child ...               (internal) the ingress proxy in the node's namespace.
 *   ingress-nginx-child ...               (internal) mk's nginx ingress in the node's namespace.
 *   hollow-nodes --first I --count N      (internal) runs hollow nodes until SIGTERM.
 *   telemetry-actors ...                  (internal) the measured process of `telemetry`.
 *   telemetry-pods-inner ...              (internal) `telemetry --pod-startup`'s measuring part.
 *   probe-targets, probes-child ...       (internal) the servers probed and the measured process of `probes`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startCluster, type TestCluster } from '../helpers/cluster';
import { apiBench } from './api';
import { cliBench } from './cli';
import { runFailoverBench } from './failover';
import { runHollowNodes } from './hollow-node';
import { podStartupInner, type PodStartupResult } from './pod-startup';
import { formatPodStartup } from './report';
import { schedulingBench } from './scheduling';
import { loadRecords, readTrace, traceInner, traceClusterEnv, type TraceResult } from './trace';
import { formatTrace } from './trace-report';
import { intFlag as readIntFlag } from './flags';
import { telemetryActorsChild, telemetryBench, telemetryPodsInner } from './telemetry';
import type { PodsHalf } from './telemetry-report';
import { dashboardBench } from './dashboard';
import { replicaSetBench } from './replicaset';
import { probesBench, probesChild, probeTargets } from './probes';
import { hpaBench } from './hpa';
import { proxySyncBench } from './proxy-sync';
import { serviceBench } from './service';
import { ingressBench, ingressNginxChild, ingressProxyChild } from './ingress';
import { volumesCommand, volumesInner, type VolumesResult } from './volumes';
import { formatVolumes } from './volumes-report';
import { functionsBench, functionsInner, PARTS, type Part } from './functions';
import { workflowsBench } from './workflows';

const USAGE = 'usage: npm run bench -- pod-startup [--pods N] [--rounds R] | volumes [--pods N] [--rounds R] | trace [--pods N] [--save DIR] | trace --from DIR | cli [--rounds N] [--compare BIN] | api [--objects N] [--rounds R] [--lists L] | scheduling [--nodes N,M] [--pods N] [--window W] [--cpu-prof DIR] | failover [--rounds R] [--lease-seconds S] [--replicas N] [--nodes N] [--rate P] [--isolate] | telemetry [--rounds R] [--actors N] [--rate M] [--seconds S] [--objects K] [--no-api] [--pod-startup [--pods P]] | dashboard [--rounds R] [--changes N] [--gap-ms G] | replicaset [--pods N] [--rounds R] [--nodes K] | probes [--pods N] [--seconds S] [--rounds R] | hpa [--rounds R] [--sync 15s] [--stats-period 5s] [--down-window 300s] [--nodes K] [--pods-per-node P] | proxy-sync [--services S] [--endpoints E] [--rounds R] | service [--rounds R] [--seconds S] [--connections C] | ingress [--rounds R] [--seconds S] [--connections C] [--nginx-workers N|auto] | functions [--samples N] [--rounds R] [--seconds S] [--only cold|warm|rps|scale] | workflows [--runs N] [--steps S] [--rounds R] [--samples M] [--waiting K] [--only overhead|throughput|resume]';
/** The measuring part may take this long before it is stopped. */
const INNER_TIMEOUT_MS = 45 * 60_000;

/** Reads `--name N` as a positive integer, or `fallback`; the usage follows a bad value's error. */
function intFlag(args: string[], name: string, fallback: number): number {
  return readIntFlag(args, name, fallback, USAGE);
}

/** Reads `--name VALUE`; undefined when absent, throws when required and absent. */
function stringFlag(args: string[], name: string, required: true): string;
function stringFlag(args: string[], name: string, required?: false): string | undefined;
function stringFlag(args: string[], name: string, required = false): string | undefined {
  const i = args.indexOf(name);
  if (i < 0 || !args[i + 1]) {
    if (required) throw new Error(`${name} is required\n${USAGE}`);
    return undefined;
  }
  return args[i + 1];
}

/**
 * Runs this file again inside the cluster's namespace with `args`; its progress (stderr) shows as
 * it goes, its last stdout line (JSON) is returned parsed. Killed by pid after the deadline.
 */
function runInner<T>(c: TestCluster, args: string[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/var/run/netns/${c.netns}`, '--', process.execPath, __filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, INNER_TIMEOUT_MS);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) { reject(new Error(`the measuring part failed (${signal ?? `exit ${code}`})\n${stdout}`)); return; }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T);
      } catch (e) {
        reject(new Error(`the measuring part printed no result: ${String(e)}\n${stdout}`));
      }
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  switch (name) {
    case 'cli':
      await cliBench(rest);
      return;
    case 'api':
      await apiBench(rest);
      return;
    case 'scheduling':
      await schedulingBench(rest);
      return;
    case 'failover':
      await runFailoverBench({
        rounds: intFlag(rest, '--rounds', 5), leaseSeconds: intFlag(rest, '--lease-seconds', 5), replicas: intFlag(rest, '--replicas', 3),
        nodes: intFlag(rest, '--nodes', 10), podsPerSecond: intFlag(rest, '--rate', 5), isolate: rest.includes('--isolate'),
      });
      return;
    case 'telemetry':
      await telemetryBench(rest, __filename, USAGE, async (mode, pods) => {
        console.error(`starting a cluster in a network namespace with MK_ACTOR_TELEMETRY=${mode} ...`);
        const c = await startCluster({ env: { MK_ACTOR_TELEMETRY: mode } });
        try {
          return await runInner<PodsHalf>(c, ['telemetry-pods-inner', '--data-dir', c.dataDir, '--pods', String(pods), '--mode', mode]);
        } finally {
          await c.destroy();
        }
      });
      return;
    case 'telemetry-pods-inner':
      console.log(JSON.stringify(await telemetryPodsInner(stringFlag(rest, '--data-dir', true), intFlag(rest, '--pods', 20), stringFlag(rest, '--mode') === 'off' ? 'off' : 'on')));
      return;
    case 'telemetry-actors': {
      // Connection details come in the environment, as for hollow-nodes.
      const res = await telemetryActorsChild({
        actors: intFlag(rest, '--actors', 10_000), rate: Number(stringFlag(rest, '--rate') ?? 0), seconds: intFlag(rest, '--seconds', 10),
        servers: (process.env.MK_BENCH_SERVERS ?? '').split(','), user: process.env.MK_BENCH_USER ?? '', pass: process.env.MK_BENCH_PASS ?? '',
      });
      console.log(JSON.stringify(res));
      return;
    }
    case 'dashboard':
      await dashboardBench(rest, USAGE);
      return;
    case 'replicaset':
      await replicaSetBench(rest, USAGE);
      return;
    case 'probes':
      await probesBench(rest, __filename, USAGE);
      return;
    case 'hpa':
      await hpaBench(rest, USAGE);
      return;
    case 'proxy-sync':
      await proxySyncBench(rest, USAGE);
      return;
    case 'service':
      await serviceBench(rest, USAGE);
      return;
    case 'ingress':
      await ingressBench(rest, USAGE, __filename);
      return;
    case 'functions':
      await functionsBench(rest, USAGE, runInner);
      return;
    case 'workflows':
      await workflowsBench(rest, USAGE);
      return;
    case 'functions-inner':
      await functionsInner({
        dataDir: stringFlag(rest, '--data-dir', true), gateway: stringFlag(rest, '--gateway', true),
        parts: stringFlag(rest, '--parts', true).split(',').filter((p): p is Part => (PARTS as readonly string[]).includes(p)),
        mode: stringFlag(rest, '--mode') === 'miss' ? 'miss' : 'hit', poolSize: stringFlag(rest, '--pool-size') ?? 'default',
        samples: intFlag(rest, '--samples', 100), rounds: intFlag(rest, '--rounds', 5), seconds: intFlag(rest, '--seconds', 10),
      });
      return;
    case 'ingress-proxy-child':
      await ingressProxyChild(rest);
      return;
    case 'ingress-nginx-child':
      await ingressNginxChild(rest);
      return;
    case 'probe-targets':
      await probeTargets();
      return;
    case 'probes-child':
      await probesChild(rest, USAGE);
      return;
    case 'hollow-nodes':
      // Connection details come in the environment, so the password stays out of the process list.
      await runHollowNodes({
        servers: (process.env.MK_BENCH_SERVERS ?? '').split(','), user: process.env.MK_BENCH_USER ?? '', pass: process.env.MK_BENCH_PASS ?? '',
        first: Number(stringFlag(rest, '--first', true)), count: intFlag(rest, '--count', 1),
      });
      return;
    case 'pod-startup-inner':
      await podStartupInner({ dataDir: stringFlag(rest, '--data-dir', true), pods: intFlag(rest, '--pods', 20), rounds: intFlag(rest, '--rounds', 5) });
      return;
    case 'volumes-inner':
      await volumesInner({ dataDir: stringFlag(rest, '--data-dir', true), pods: intFlag(rest, '--pods', 10), rounds: intFlag(rest, '--rounds', 5) });
      return;
    case 'volumes': {
      const pods = intFlag(rest, '--pods', 10);
      const rounds = intFlag(rest, '--rounds', 5);
      console.error('starting a cluster in a network namespace ...');
      const c = await startCluster();
      try {
        console.error(`measuring ${pods} pods with volumes and ${pods} without, one after another, ${rounds} rounds: ${volumesCommand(pods, rounds)}`);
        const res = await runInner<VolumesResult>(c, ['volumes-inner', '--data-dir', c.dataDir, '--pods', String(pods), '--rounds', String(rounds)]);
        for (const line of formatVolumes(res)) console.log(line);
        console.log(JSON.stringify(res));
      } finally {
        await c.destroy();
      }
      return;
    }
    case 'trace-inner':
      await traceInner({ dataDir: stringFlag(rest, '--data-dir', true), pods: intFlag(rest, '--pods', 20), saveDir: stringFlag(rest, '--save') });
      return;
    case 'pod-startup': {
      const pods = intFlag(rest, '--pods', 20);
      const rounds = intFlag(rest, '--rounds', 5);
      console.error('starting a cluster in a network namespace ...');
      const c = await startCluster();
      try {
        console.error(`measuring ${pods} pods one after another and ${pods} at once, through mk and through CRI, ${rounds} rounds ...`);
        const res = await runInner<PodStartupResult>(c, ['pod-startup-inner', '--data-dir', c.dataDir, '--pods', String(pods), '--rounds', String(rounds)]);
        for (const line of formatPodStartup(res)) console.log(line);
        console.log(JSON.stringify(res));
      } finally {
        await c.destroy();
      }
      return;
    }
    case 'trace': {
      const from = stringFlag(rest, '--from');
      if (from) {
        const res = readTrace(loadRecords(from));
        for (const line of formatTrace(res)) console.log(line);
        console.log(JSON.stringify(res));
        return;
      }
      const pods = intFlag(rest, '--pods', 20);
      const save = stringFlag(rest, '--save');
      console.error('starting a cluster in a network namespace (with the node agent tracing its CRI calls) ...');
      const restore = traceClusterEnv();
      let c: TestCluster;
      try {
        c = await startCluster();
      } finally {
        restore();
      }
      try {
        console.error(`tracing ${pods} pods, one at a time, from apply to Running ...`);
        const res = await runInner<TraceResult>(c, ['trace-inner', '--data-dir', c.dataDir, '--pods', String(pods), ...(save ? ['--save', path.resolve(save)] : [])]);
        for (const line of formatTrace(res)) console.log(line);
        console.log(JSON.stringify(res));
      } finally {
        await c.destroy();
      }
      return;
    }
    default:
      throw new Error(`${USAGE}   (unknown benchmark "${name ?? ''}")`);
  }
}

main(process.argv.slice(2)).catch((err) => { console.error(err instanceof Error ? err.message : err); process.exitCode = 1; });
