/**
 * `mk up` in the user's terminal: starts the supervisor (embedded/), then follows the cluster
 * coming up — bus, control plane, node images, node Ready, the demo pod — and prints how to use
 * it. Fails with the log to read when a step misses the deadline or the supervisor dies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode, openClient, type Client } from './client';
import { CliError } from './errors';
import { readManifests, validateAll } from './manifest-reader';
import { podColumns, podIP, resourceName } from '../messages';
import { launchCluster } from '../embedded/start';
import type { PodNetworkMode } from '../messages';
import type { SettingsText } from '../embedded/control-plane-settings';
import type { Credentials } from '../embedded/credentials';
import { busHost, clusterNodeNames } from '../embedded/node-network';
import { endpointUrl, readMetricsEndpoints } from '../embedded/metrics-endpoints';
import { nodeAgentChild, type ChildName, type ClusterPaths } from '../embedded/paths';
import { readTopology, supervisedChildren, type Topology } from '../embedded/topology';
import { isAlive, livePid } from '../embedded/processes';
import { readContext } from '../embedded/context';
import { nodeNetworkOf, IMAGES_BUILD_REPORT, tcpAnswers, type ImagesBuildReport } from '../embedded/supervise';
import { nodeSubject, resolveKind, type Node, type Pod } from '../messages';

/** Options of `mk up`. */
export interface StartOptions {
  dataDir: string;
  port?: number;
  nodeName?: string;
  /** `--advertise-address`: see LaunchOptions. */
  advertiseAddress?: string;
  /** `--nodes N` (first start only). */
  nodes?: number;
  /** `--node-subnet` (first start only). */
  nodeSubnet?: string;
  /** `--pod-network` (first start only). */
  podNetwork?: PodNetworkMode;
  timeoutMs: number;
  /** The demo manifest. */
  demoFile: string;
  /** Apply the demo and wait for it (false for `--no-demo`). */
  demo: boolean;
  runJs: string;
  print: (line: string) => void;
  /** `--control-planes` and `--nats-servers` as given. */
  topology?: Partial<Topology>;
  /** The control planes' node lifecycle and pod CIDR flags as given (see LaunchOptions). */
  settings?: SettingsText;
}

/** Starts the cluster, or reports that it runs. Throws CliError when it does not become ready. */
export async function startCluster(opts: StartOptions): Promise<'started' | 'already-running'> {
  const launched = await launchCluster(opts);
  const paths = launched.paths;
  if (launched.state === 'already-running') {
    opts.print(`mk is already running (supervisor pid ${launched.pid}, data dir ${paths.dataDir}); \`mk down\` stops it.`);
    const kept = readTopology(paths);
    const asked = { ...kept, ...opts.topology };
    if (asked.controlPlanes !== kept.controlPlanes || asked.natsServers !== kept.natsServers) {
      opts.print(`It runs ${kept.controlPlanes} control plane(s) and ${kept.natsServers} NATS server(s); `
        + '--control-planes and --nats-servers apply when it starts: `mk down`, then `mk up` with them.');
    }
    if (Object.keys(opts.settings ?? {}).length > 0) {
      opts.print('The control planes\' settings (--node-monitor-grace-period, --cluster-cidr, ...) apply when it starts: '
        + '`mk down`, then `mk up` with them.');
    }
    return 'already-running';
  }
  const creds = launched.creds;
  const waiter = new Waiter(paths, launched.pid, Date.now() + opts.timeoutMs, opts.timeoutMs);
  const client = await waiter.step('bus', paths.log('nats'), async () => openClient(paths.dataDir, { timeoutMs: 2000, name: 'mk-up' }));
  // Every server the clients are given (`--nats-servers 3`: all three), as the context lists them.
  opts.print(` ✓ bus up (${busUrls(paths, creds).join(',')})`);
  try {
    await follow(client, creds, waiter, opts);
  } finally {
    await client.close();
  }
  return 'started';
}

async function follow(client: Client, creds: Credentials, waiter: Waiter, opts: StartOptions): Promise<void> {
  const { api } = client;
  const paths = waiter.paths;
  const seen = new Set<string>();
  const names = clusterNodeNames(creds);
  const many = names.length > 1;
  const progress = names.map((name) => client.bus.nc.subscribe(nodeSubject(name, 'progress'), {
    callback: (_err, msg) => {
      try {
        const p = decode<{ image?: string; step?: string; done?: boolean }>(msg.data);
        const line = `   ${many ? `${name}: ` : ''}image ${p?.image ?? '?'}: ${p?.done ? 'ready' : p?.step ?? ''}`;
        if (!seen.has(line)) opts.print(line);
        seen.add(line);
      } catch {
        // progress is best effort
      }
    },
  }));
  try {
    await waiter.step('control plane', paths.log('control-plane'), () => api.ping(2000));
    opts.print(' ✓ control plane ready');
    const nodeKind = resolveKind('nodes')!;
    // Nodes come up together; each is reported as it gets Ready, with the time it took.
    await Promise.all(names.map(async (name, i) => {
      await waiter.step(`node ${name} Ready`, paths.log(nodeAgentChild(i + 1)), async () => {
        const node = (await api.get(nodeKind, undefined, name)) as Node;
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status !== 'True') throw new Error(`node ${name} is ${ready ? `NotReady (${ready.reason ?? ready.status})` : 'not reporting'}`);
        // After a crash the stored status may still say Ready: only a heartbeat from this run counts.
        const beat = Date.parse(ready.lastHeartbeatTime ?? '');
        if (beat && beat < waiter.startedAt - 2000) throw new Error(`node ${name} has not sent a heartbeat since mk up started`);
      });
      opts.print(` ✓ node ${name} Ready${many ? ` (${((Date.now() - waiter.startedAt) / 1000).toFixed(1)} s)` : ''}`);
    }));
    if (many) printImagesBuild(opts, nodeNetworkOf(paths, creds)?.imagesDir, waiter.startedAt);
  } finally {
    for (const p of progress) p.unsubscribe();
  }
  const children = supervisedChildren(readTopology(paths), names.length);
  await waiter.step('every process running', paths.upLog, childrenRunning(paths, children));
  opts.print(` ✓ ${children.length} processes running (${children.join(', ')})`);
  if (!opts.demo) {
    printUsage(opts, paths, undefined);
    return;
  }
  const docs = validateAll(await readManifests([opts.demoFile]), 'strict');
  for (const d of docs) {
    const r = await waiter.step('demo apply', paths.log('control-plane'), () => api.apply({ object: d.raw, validate: 'strict' }));
    opts.print(`   ${resourceName(d.kind, d.object.metadata.name)} ${r.result}`);
  }
  const demo = docs.find((d) => d.kind.kind === 'Pod');
  if (!demo) {
    printUsage(opts, paths, undefined);
    return;
  }
  const ns = demo.object.metadata.namespace ?? 'default';
  let last = '';
  const pod = await waiter.step(`pod ${demo.object.metadata.name} Running`, paths.log('node-agent'), async () => {
    const p = (await api.get(demo.kind, ns, demo.object.metadata.name)) as Pod;
    const status = podColumns(p).status;
    if (status !== last) opts.print(`   pod/${p.metadata.name}: ${status}`);
    last = status;
    const ip = podIP(p);
    if (p.status?.phase !== 'Running' || !ip) throw new Error(`pod ${p.metadata.name} is ${status}`);
    // A resumed cluster shows the status from before `mk down` until the node has re-created the
    // pod, so Running is only believed once the pod answers on its IP.
    const port = p.spec.containers[0]?.ports?.[0]?.containerPort;
    if (port && !(await tcpAnswers(ip, port))) throw new Error(`pod ${p.metadata.name} does not answer on ${ip}:${port} yet`);
    return p;
  });
  opts.print(` ✓ pod ${pod.metadata.name} Running (${podIP(pod)})`);
  printUsage(opts, paths, pod);
}

/** The bus URLs as the context holds them; the first server's when it cannot be read. */
function busUrls(paths: ClusterPaths, creds: Credentials): string[] {
  try {
    return readContext(paths.dataDir).servers;
  } catch {
    return [`nats://${busHost(creds)}:${creds.port}`];
  }
}

/** How long a child must have run to count as running (one that fails at its start exits sooner). */
const STEADY_MS = 2000;

/**
 * A check for Waiter.step: resolves once every child of `names` runs (its pid file names a live
 * process of this cluster) and has run for STEADY_MS (the supervisor writes the pid file when it
 * starts the child), so a child the supervisor is restarting, or one that exits right after its
 * start, is not taken for running. Throws naming the children that are not, and their logs.
 */
function childrenRunning(paths: ClusterPaths, names: ChildName[]): () => Promise<void> {
  return async () => {
    const missing: ChildName[] = [];
    const starting: ChildName[] = [];
    for (const name of names) {
      const file = paths.pid(name);
      let startedAt: number | undefined;
      try {
        startedAt = fs.statSync(file).mtimeMs;
      } catch { /* no pid file: not running */ }
      if (startedAt === undefined || livePid(file, paths.dataDir) === undefined) missing.push(name);
      else if (Date.now() - startedAt < STEADY_MS) starting.push(name);
    }
    if (missing.length === 0 && starting.length === 0) return;
    throw new Error([
      missing.length > 0 ? `not running: ${missing.map((n) => `${n} (see ${paths.log(n)})`).join(', ')}` : '',
      starting.length > 0 ? `just started: ${starting.join(', ')}` : '',
    ].filter(Boolean).join('; '));
  };
}

/**
 * With several nodes the supervisor builds the built-in images once, before the first node starts
 * (so before any node is Ready): says what it built and how long it took.
 */
function printImagesBuild(opts: StartOptions, imagesDir: string | undefined, since: number): void {
  if (!imagesDir) return;
  try {
    const r = JSON.parse(fs.readFileSync(path.join(imagesDir, IMAGES_BUILD_REPORT), 'utf8')) as ImagesBuildReport;
    if (Date.parse(r.at) < since - 1000) return;
    opts.print(r.built.length > 0
      ? ` ✓ images built once for every node in ${(r.ms / 1000).toFixed(1)} s (${r.built.join(', ')}); each node imports them`
      : ' ✓ images already built; each node imports them');
  } catch {
    // not written yet: the nodes' own progress says the rest
  }
}

function printUsage(opts: StartOptions, paths: ClusterPaths, pod: Pod | undefined): void {
  opts.print('');
  opts.print(`mk is up. Data in ${paths.dataDir}, logs in ${paths.logsDir}.`);
  if (pod) {
    const port = pod.spec.containers[0]?.ports?.[0]?.containerPort ?? 8080;
    opts.print(`  curl http://${podIP(pod)}:${port}/`);
    opts.print(`  mk get pods`);
    opts.print(`  mk logs ${pod.metadata.name}`);
  } else {
    opts.print('  mk get nodes');
    opts.print(`  mk apply -f ${opts.demoFile}`);
  }
  opts.print('  mk down');
  const metrics = Object.entries(readMetricsEndpoints(paths));
  if (metrics.length > 0) {
    opts.print('Metrics (Prometheus; examples/monitoring has a scrape config and a Grafana dashboard):');
    for (const [name, e] of metrics) opts.print(`  ${name.padEnd(Math.max(...metrics.map(([n]) => n.length)))}  ${endpointUrl(e!)}`);
  }
}


/** Runs wait steps against one deadline, watching the supervisor. */
class Waiter {
  readonly startedAt = Date.now();

  constructor(readonly paths: ClusterPaths, private readonly pid: number, private readonly deadline: number, private readonly timeoutMs: number) {}

  /** Retries `fn` every 500 ms until it resolves; throws CliError naming `logFile` at the deadline. */
  async step<T>(what: string, logFile: string, fn: () => Promise<T>): Promise<T> {
    let lastError: string;
    for (;;) {
      if (!isAlive(this.pid)) throw new CliError(`the supervisor exited while waiting for ${what}; see ${this.paths.upLog} and ${logFile}`);
      try {
        return await fn();
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() >= this.deadline) {
        throw new CliError(`${what}: not done within ${Math.round(this.timeoutMs / 1000)} s (${lastError}).\n`
          + `See ${logFile} (and ${this.paths.upLog}). The supervisor keeps trying; \`mk down\` stops it.`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
