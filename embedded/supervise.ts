/**
 * `mk up --foreground`: the supervisor process. It owns run/up.pid, starts nats-server, then
 * `mk control-plane`, then `mk node-agent` as children, and stops them in reverse on SIGTERM,
 * SIGINT or SIGHUP. With several nodes it first sets up their network (embedded/node-network.ts),
 * runs one node agent per node in the node's namespace, builds the built-in images once for all
 * of them, and keeps this namespace's routes to every node's pods.
 */
import { ensureGatewayPort } from './gateway/settings';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { missingCniPlugins } from '../node-agent/network/cni';
import { stopLeftoverNginx } from '../node-agent/ingress/nginx';
import { ClusterError } from './errors';
import { nodeDnsArgs, type Credentials } from './credentials';
import { startHostRoutes, type HostRoutes } from './host-routes';
import { CHILDREN, nodeAgentChild, type ChildName, type ClusterPaths } from './paths';
import { livePid, removePid, terminate, writePid } from './processes';
import { Supervisor, type ChildSpec } from './supervisor';
import { requestTeardown } from './teardown';
import { busHost, netnsPath, planNodeNetwork, setupNodeNetwork, teardownNodeNetwork, type NodeNetwork } from './node-network';
import { applyTopology, controlPlaneChild, natsChild, readTopology, type Topology } from './topology';
import { clusterCidrOf, controlPlaneSettingsArgs, readControlPlaneSettings } from './control-plane-settings';
import { endpointUrl, metricsArgs, NODE_METRICS_PORT, resolveMetricsEndpoints } from './metrics-endpoints';
import { dashboardArgs } from './dashboard';

/** What the supervisor needs to know. */
export interface SuperviseOptions {
  paths: ClusterPaths;
  creds: Credentials;
  /** `bin/run.js` of this installation (children are `node run.js <command>`). */
  runJs: string;
  natsServer: string;
  log?: (line: string) => void;
  /** What to run (default: what the data directory keeps, embedded/topology.ts; the nodes: embedded/node-network.ts). */
  topology?: Topology;
}

/** Where every node of `mk up` serves its ingress proxy (HTTP). */
export const INGRESS_PORT = 80;

/** Stop deadlines: the node agent may be stopping containers; nats-server is quick. */
const STOP_TIMEOUT_MS: Record<string, number> = { 'node-agent': 30_000, 'control-plane': 15_000, gateway: 10_000, nats: 10_000 };

/**
 * Runs the supervisor until a signal stops it; resolves after every child has exited and the pid
 * file is gone. Returns 'already-running' (and does nothing) when another supervisor holds the pid file.
 */
export async function supervise(opts: SuperviseOptions): Promise<'stopped' | 'already-running'> {
  const { paths, creds } = opts;
  const log = opts.log ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} supervisor: ${line}\n`));
  const other = livePid(paths.upPid, paths.dataDir);
  if (other !== undefined && other !== process.pid) return 'already-running';
  fs.mkdirSync(paths.logsDir, { recursive: true });
  writePid(paths.upPid, process.pid);
  await killLeftovers(paths, log);

  const env = process.env;
  const node = process.execPath;
  // `mk up --nats-servers 3 --control-planes N`: one child per NATS member and per control plane.
  const topology = opts.topology ?? readTopology(paths);
  const members = applyTopology(paths, creds, topology);
  // The node lifecycle and pod CIDR settings `mk up` kept (embedded/control-plane-settings.ts).
  const settingsArgs = controlPlaneSettingsArgs(readControlPlaneSettings(paths));
  const topo = nodeNetworkOf(paths, creds);
  if (topo) {
    try {
      await setupNodeNetwork(topo, log);
    } catch (err) {
      log(`cannot set up the nodes' network: ${(err as Error).message}`);
      removePid(paths.upPid);
      throw err;
    }
    log(`nodes' network: bridge ${topo.bridge} ${topo.hostAddress}/${topo.prefix}, ${topo.nodes.map((n) => `${n.name} ${n.address} (${n.netns})`).join(', ')}`);
  }
  // Each child's /metrics (embedded/metrics-endpoints.ts): kept in the data directory for the next start.
  const metrics = await resolveMetricsEndpoints(paths, [
    ...Array.from({ length: topology.controlPlanes }, (_, i) => ({ name: controlPlaneChild(i), host: '127.0.0.1' })),
    ...(topo ? topo.nodes.map((n) => ({ name: nodeAgentChild(n.index), host: n.address, port: NODE_METRICS_PORT })) : [{ name: nodeAgentChild(1), host: '127.0.0.1' }]),
  ], log);
  log(`metrics: ${Object.entries(metrics).map(([name, e]) => `${name} ${endpointUrl(e!)}`).join(', ')}`);
  const agent = (name: string, extra: string[] = []): string[] => [
    opts.runJs, 'node-agent', '--data-dir', paths.dataDir, '--node-name', name, ...(creds.podNetwork ? ['--pod-network', creds.podNetwork] : []), ...extra,
    '--ingress-port', String(INGRESS_PORT),
    // The cluster DNS settings mk up keeps: a restarted agent, and the next start, serve the same.
    ...nodeDnsArgs(creds),
  ];
  const nodeSpecs: { name: ChildName; command: string; args: string[]; env: NodeJS.ProcessEnv; before?: () => Promise<void> }[] = topo
    ? topo.nodes.map((n) => ({
      name: nodeAgentChild(n.index), command: 'nsenter', env,
      args: [`--net=${netnsPath(n.netns)}`, '--', node, ...agent(n.name, [
        '--node-ip', n.address, '--node-dir', n.dataDir, '--images-dir', topo.imagesDir, '--cgroup-root', n.cgroupRoot,
        ...metricsArgs(metrics[nodeAgentChild(n.index)]),
      ])],
      // The images are built once, before the first node starts; every node then only imports them.
      ...(n.index === 1 ? { before: () => buildImagesOnce(topo.imagesDir, log) } : {}),
    }))
    : [{ name: 'node-agent', command: node, args: agent(creds.nodeName, metricsArgs(metrics['node-agent'])), env }];
  // Every NATS server listens for clients where the nodes reach it (busHost); a cluster routes on loopback.
  const natsHost = busHost(creds);
  const specs: ChildSpec[] = [
    ...members.map((m, i) => ({
      name: natsChild(i), command: opts.natsServer, args: ['-c', m.confFile], env,
      ready: () => waitForPort(m.clientPort, 20_000, natsHost),
    })),
    ...Array.from({ length: topology.controlPlanes }, (_, i) => ({
      name: controlPlaneChild(i), command: node, args: [
        opts.runJs, 'control-plane', '--data-dir', paths.dataDir, ...settingsArgs, ...metricsArgs(metrics[controlPlaneChild(i)]), ...dashboardArgs(paths, i),
      ], env,
    })),
    // The function gateway (embedded/gateway/): its port is the one `mk up` kept.
    { name: 'gateway' as ChildName, command: node, args: [opts.runJs, 'gateway', '--data-dir', paths.dataDir, '--port', String(ensureGatewayPort(paths))], env },
    ...nodeSpecs,
  ].map((s) => ({
    ...s,
    logFile: paths.log(s.name),
    pidFile: paths.pid(s.name),
    stopTimeoutMs: STOP_TIMEOUT_MS[s.name.replace(/-\d+$/, '')],
  }));
  const sup = new Supervisor(specs, log);
  const hostRoutes: { r?: HostRoutes } = {};

  let stopped!: () => void;
  const done = new Promise<void>((r) => { stopped = r; });
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping`);
    // Ctrl-C on a foreground cluster means "stop it all", as `mk down` does; SIGTERM (from
    // `mk down`, after its own teardown, or from the system) leaves pods for the next start.
    const stopAll = sig === 'SIGINT' && !!sup.pidOf('node-agent');
    const first = stopAll ? teardown(paths, creds, topo, log) : Promise.resolve();
    // With several nodes, "stop it all" also removes their network once the processes are gone.
    const removeNetwork = (): Promise<void> | undefined => (stopAll && topo ? teardownNodeNetwork(topo, log) : undefined);
    void first.then(() => hostRoutes.r?.stop()).then(() => sup.stop()).then(removeNetwork).then(stopped, (err: unknown) => {
      log(`stop failed: ${(err as Error).message}`);
      stopped();
    });
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  log(`supervising ${paths.dataDir} (pid ${process.pid})`);
  if (topo) hostRoutes.r = startHostRoutes(paths, creds, log);
  await sup.start();
  await done;
  for (const s of signals) process.removeListener(s, onSignal);
  removePid(paths.upPid);
  log('stopped');
  return 'stopped';
}

async function teardown(paths: ClusterPaths, creds: Credentials, topo: NodeNetwork | undefined, log: (line: string) => void): Promise<void> {
  await Promise.all((topo?.nodes.map((n) => n.name) ?? [creds.nodeName]).map(async (name) => {
    log(`tearing down node ${name} (pods, network, containerd)`);
    try {
      await requestTeardown(paths.dataDir, name, 120_000);
      log(`node ${name} torn down`);
    } catch (err) {
      log(`node ${name} teardown failed: ${(err as Error).message}; stopping anyway`);
    }
  }));
}

/** The network of a cluster of several nodes; undefined for one node. Throws ClusterError for a bad one. */
export function nodeNetworkOf(paths: ClusterPaths, creds: Credentials): NodeNetwork | undefined {
  if ((creds.nodes ?? 1) <= 1) return undefined;
  // The pod network as `mk up` kept it; a settings file that cannot be read leaves the default, so `mk down` still finds the nodes.
  let clusterCidr: string | undefined;
  try {
    clusterCidr = clusterCidrOf(readControlPlaneSettings(paths));
  } catch { /* the default */ }
  return planNodeNetwork({ dataDir: paths.dataDir, subnet: creds.nodeSubnet!, firstNode: creds.nodeName, count: creds.nodes!, clusterCidr });
}

/** Every child a supervisor of `paths` may have run: CHILDREN and the node agents of other nodes (by their pid files). */
export function knownChildren(paths: ClusterPaths): ChildName[] {
  let extra: ChildName[] = [];
  try {
    extra = fs.readdirSync(paths.runDir).map((f) => /^(node-agent-\d+)\.pid$/.exec(f)?.[1]).filter((n): n is ChildName => !!n);
  } catch { /* no run dir yet */ }
  return [...CHILDREN, ...extra.sort()];
}

/**
 * Builds the built-in image archives into the shared `imagesDir` (each node imports them from
 * there), timing it for the log. Cached archives make it instant after the first start.
 */
async function buildImagesOnce(imagesDir: string, log: (line: string) => void): Promise<void> {
  const t0 = Date.now();
  const { buildBusyboxImage, buildPauseImage } = await import('../node-agent/images/build.js');
  const built = await Promise.all([buildPauseImage(imagesDir), buildBusyboxImage(imagesDir)]);
  const fresh = built.filter((b) => !b.cached).map((b) => b.names[0]);
  const ms = Date.now() - t0;
  log(fresh.length > 0 ? `built ${fresh.join(', ')} once for every node in ${ms} ms (${imagesDir})` : `built-in images already in ${imagesDir}`);
  // For `mk up` to print: what was built this time, and how long it took.
  const report: ImagesBuildReport = { at: new Date().toISOString(), ms, built: fresh };
  fs.writeFileSync(path.join(imagesDir, IMAGES_BUILD_REPORT), `${JSON.stringify(report)}\n`);
}

/** The file in the shared images dir that says what the last start built (ImagesBuildReport). */
export const IMAGES_BUILD_REPORT = 'last-build.json';

/** What the supervisor built for the nodes of `mk up --nodes N` on its last start. */
export interface ImagesBuildReport {
  /** When the build ended (ISO 8601). */
  at: string;
  ms: number;
  /** Images built then (empty: every archive was already there). */
  built: string[];
}

/** Kills children a previous supervisor left behind (it was killed), found by their pid files. */
export async function killLeftovers(paths: ClusterPaths, log: (line: string) => void): Promise<void> {
  for (const name of knownChildren(paths).reverse()) {
    const pid = livePid(paths.pid(name), paths.dataDir);
    if (pid !== undefined) {
      log(`stopping leftover ${name} (pid ${pid})`);
      await terminate(pid, 10_000);
    }
    removePid(paths.pid(name));
  }
  // The nginx of a node's ingress outlives an agent that was killed: stopped here too.
  for (const dir of ingressNginxDirs(paths.dataDir)) await stopLeftoverNginx(dir, { info: (o, m) => log(`${m} (${JSON.stringify(o)})`) });
}

/** The nginx directories of the node ingresses under `dataDir` (a node's data dir, up to 3 deep). */
function ingressNginxDirs(dataDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === 'ingress-nginx') out.push(p);
      else if (depth < 3) walk(p, depth + 1);
    }
  };
  walk(dataDir, 1);
  return out;
}

/** Resolves once something accepts TCP connections on `host`:`port` (default host 127.0.0.1). */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await tcpAnswers(host, port))) {
    if (Date.now() >= deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when 127.0.0.1:`port` accepts a connection. */
export function portOpen(port: number): Promise<boolean> {
  return tcpAnswers('127.0.0.1', port);
}

/** True when host:port accepts a TCP connection within a second. */
export function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Finds nats-server: $MK_NATS_SERVER, else PATH plus the sbin directories Debian installs it to. */
export function findNatsServer(): string | undefined {
  const executable = (p: string): boolean => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (process.env.MK_NATS_SERVER) return executable(process.env.MK_NATS_SERVER) ? process.env.MK_NATS_SERVER : undefined;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, 'nats-server');
    if (executable(p)) return p;
  }
  return undefined;
}

/** findNatsServer, or a ClusterError that says how to get one. */
/**
 * Checks, before anything starts, that the node's runtime is installed: containerd and runc on
 * the PATH and the CNI plugins mk uses. Throws ClusterError naming what is missing and how to get it.
 */
export function requireNodeRuntime(): void {
  const onPath = (bin: string) => (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/bin', '/sbin'])
    .some((d) => { try { fs.accessSync(path.join(d, bin), fs.constants.X_OK); return true; } catch { return false; } });
  const missing = ['containerd', 'runc'].filter((b) => !onPath(b));
  const cni = missingCniPlugins();
  if (cni.length > 0) missing.push(`CNI plugins (${cni.join(', ')} in /usr/lib/cni)`);
  if (missing.length > 0) {
    throw new ClusterError(`missing on this machine: ${missing.join(', ')}: run ./scripts/install.sh (or apt-get install containerd runc containernetworking-plugins)`);
  }
}

export function requireNatsServer(): string {
  const found = findNatsServer();
  if (found) return found;
  const env = process.env.MK_NATS_SERVER;
  throw new ClusterError(env
    ? `MK_NATS_SERVER=${env} is not an executable file`
    : 'nats-server not found in PATH or /usr/sbin: install it (apt-get install nats-server) or set MK_NATS_SERVER');
}
