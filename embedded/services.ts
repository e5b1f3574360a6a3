/**
 * The long-running processes of a cluster, as `mk up`'s supervisor runs them: the control plane
 * and the node agent, each connected with its own role's credentials from the data directory and
 * served until SIGTERM or SIGINT. The actor code is loaded only here, so the CLI's short commands
 * never pay for it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dns1123LabelError, inboxPrefix, ValidationError, type PodNetworkMode } from '../messages';
import { connectBus } from '../bus';
import { busAuth, readContext } from './context';
import { nodeDnsSettings, type DnsFlags } from './dns-settings';
import { ingressProxyMode } from './ingress-proxy';
import { serveJoin } from './join';
import { CONTROL_PLANE_USER, GATEWAY_USER, nodeUser, readCredentials } from './credentials';
import { readDashboardPort, startControlPlaneDashboard } from './dashboard';
import { encryptionKeysFile, startWithEncryptionKeys } from './encryption-keys';
import { ClusterError } from './errors';
import { clusterPaths, localPathStorageDir } from './paths';
import { networkCidrsOf, readControlPlaneSettings } from './control-plane-settings';
import { serveUntilSignal } from './serve-until-signal';
import { startMetricsServer, startProcessMetrics, type MetricsServer } from '../common/metrics';

/** The scheduler's settings file in a data directory (optional). */
export const SCHEDULER_CONFIG_FILE = 'scheduler.json';

/**
 * Settings of a control plane replica (`mk control-plane` flags): the scheduler's (they win over
 * the data directory's scheduler.json), the lease time and the replicas of what it makes.
 */
export interface ControlPlaneServiceOptions {
  policy?: string;
  unschedulableFlushSeconds?: number;
  /** The lease time, seconds (default 15). */
  leaseSeconds?: number;
  /** Replicas of the streams and buckets it makes (default: defaultReplicas of the context's servers). */
  replicas?: number;
  /** The dashboard's port (default: the one `mk up` kept in the data directory; none: no dashboard). */
  dashboardPort?: number;
  /** The dashboard's address (default 127.0.0.1). */
  dashboardAddress?: string;
  /** Serve Prometheus metrics on `/metrics` there (port 0: any free port); none without. */
  metrics?: MetricsEndpoint;
}

/** Where a process serves `/metrics`. */
export interface MetricsEndpoint {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
}

/**
 * Starts the process metrics of `role` and, when `endpoint` is given, the `/metrics` server,
 * telling `log` its URL. Throws (naming the address) when it cannot listen.
 */
async function serveMetrics(role: string, name: string, endpoint: MetricsEndpoint | undefined, log: (line: string) => void): Promise<MetricsServer | undefined> {
  startProcessMetrics(role, name);
  if (!endpoint) return undefined;
  const server = await startMetricsServer(endpoint);
  log(`metrics on ${server.url}`);
  return server;
}

/** 3 copies of every stream and bucket on a cluster of 3 or more servers, else 1. */
export function defaultReplicas(servers: readonly string[]): number {
  return servers.length >= 3 ? 3 : 1;
}

/**
 * The node lifecycle and pod CIDR settings as mk control-plane's flags give them (text, checked
 * by actors/settings.ts); they win over the environment.
 */
export interface ControlPlaneSettingsFlags {
  nodeMonitorGracePeriodMs?: string;
  defaultNotReadyTolerationSeconds?: string;
  defaultUnreachableTolerationSeconds?: string;
  clusterCidr?: string;
  nodeCidrMaskSize?: string;
  serviceClusterIpRange?: string;
  serviceNodePortRange?: string;
}

/**
 * Runs a control plane of `dataDir` until a signal; resolves with the exit code. Credentials of
 * the `control-plane` role when `mk up` made them, else the context's own. Secrets are encrypted
 * with the keys of `<dataDir>/encryption-keys.json`, made when missing; throws ClusterError
 * naming that file when it is unreadable or invalid, or when it was missing while the store
 * holds Secrets encrypted with its keys (and then leaves no new file behind). Throws
 * ValidationError for a bad scheduler setting (in scheduler.json or `opts`), or a bad node or
 * pod CIDR setting (in `settings` or the environment, named), before starting.
 */
export async function runControlPlaneService(
  dataDir: string, log: (line: string) => void, opts: ControlPlaneServiceOptions = {}, settings: ControlPlaneSettingsFlags = {},
): Promise<number> {
  const { parseSettingsFlags, resolveSettings, runControlPlane, schedulerConfig } = await import('../actors/index.js');
  // Checked whole (the mask against the cluster CIDR too) before anything is read or started.
  const given = parseSettingsFlags(settings);
  resolveSettings(given);
  const paths = clusterPaths(dataDir);
  const ctx = readContext(paths.dataDir);
  const pass = readCredentials(paths)?.users[CONTROL_PLANE_USER];
  const file = path.join(paths.dataDir, SCHEDULER_CONFIG_FILE);
  const scheduler = schedulerConfig(readJsonIfPresent(file), file, { policy: opts.policy, unschedulableFlushSeconds: opts.unschedulableFlushSeconds });
  const bus = {
    ...busAuth(ctx), ...(pass ? { user: CONTROL_PLANE_USER, pass } : {}), name: 'mk-control-plane',
    replicas: opts.replicas ?? defaultReplicas(ctx.servers),
    // Started together with its servers: a fresh cluster's JetStream is waited for, not an exit.
    waitForJetStream: true,
  };
  const metrics = await serveMetrics('control-plane', os.hostname(), opts.metrics, log);
  const cp = await startWithEncryptionKeys(encryptionKeysFile(paths), log, (keys) => runControlPlane({
    bus, dataDir: paths.controlPlaneData, scheduler, settings: given, ...(opts.leaseSeconds !== undefined ? { leaseSeconds: opts.leaseSeconds } : {}),
    encryptionKeys: keys,
    // The volumes of the default class live in the data directory: `mk down --purge` removes them.
    defaultStorageClass: { nodePath: localPathStorageDir(paths) },
  })).catch(async (err: unknown) => { await metrics?.close(); throw err; });
  // A mk up cluster takes joining machines (embedded/join.ts): it owns the nats-server config.
  const joinBus = pass ? await connectBus({ ...bus, name: 'mk-control-plane-join', checkJetStream: false }) : undefined;
  const join = joinBus ? serveJoin(joinBus, { dataDir: paths.dataDir, log }) : undefined;
  // The dashboard reads as its own identities; the control plane's connection only mints tokens.
  const dashboardPort = opts.dashboardPort ?? readDashboardPort(paths);
  const creds = readCredentials(paths);
  const dashboard = joinBus && creds && dashboardPort !== undefined ? await startControlPlaneDashboard({
    port: dashboardPort, ...(opts.dashboardAddress ? { address: opts.dashboardAddress } : {}), bus: joinBus,
    connect: { servers: ctx.servers, ...(ctx.caFile ? { caFile: ctx.caFile } : {}) }, creds, server: `control-plane ${process.pid}`, log,
  }) : undefined;
  return serveUntilSignal(async () => {
    await dashboard?.stop();
    await join?.stop();
    await joinBus?.close();
    await cp.stop();
    await metrics?.close();
  }, log);
}

/** Options of runNodeAgentService. */
export interface NodeAgentServiceOptions {
  /** Default: the context's node name. */
  nodeName?: string;
  /** Use this containerd instead of starting one. */
  containerdSocket?: string;
  /** The node's InternalIP (`mk up --nodes N` gives each node its bridge address). */
  nodeIP?: string;
  /** Cluster DNS: domain and upstreams (default: $MK_CLUSTER_DOMAIN, $MK_DNS_UPSTREAM; dns-settings.ts). */
  dns?: DnsFlags;
  /** The node's own data directory (default `<dataDir>/node`). */
  nodeDataDir?: string;
  /** Where the built-in images are built and cached (shared by the nodes of `mk up --nodes N`). */
  imagesDir?: string;
  /** The node's own cgroup above `/kubepods` (each node of `mk up --nodes N` has one). */
  cgroupRoot?: string;
  /** Between usage reports (default: MK_STATS_INTERVAL, else 5 s). */
  statsIntervalMs?: number;
  /** Serve Prometheus metrics on `/metrics` there (port 0: any free port); none without. */
  metrics?: MetricsEndpoint;
  /** Extended resources the node advertises (`example.com/dongle`: 4). */
  extendedResources?: Record<string, number>;
  /** Where the GPU device nodes are (default: $MK_GPU_DEV_ROOT, else /dev). */
  gpuDevRoot?: string;
  /** Serve the ingress proxy on this port; none without. */
  ingressPort?: number;
  /** The pod network's backend (default host-gw); the same on every node of the cluster. */
  podNetwork?: PodNetworkMode;
  /** `--ingress-proxy`: nginx, builtin or auto (default: $MK_INGRESS_PROXY, else auto). */
  ingressProxy?: string;
  /** Program iptables for Services (default: unless MK_SERVICE_PROXY=off). */
  serviceProxy?: boolean;
  /** `--host-path-root`: where pods' hostPath volumes may be (default: $MK_HOST_PATH_ROOTS, colon-separated; else none). */
  hostPathRoots?: string[];
  /** `--function-pool-size`: warm containers per function runtime (default: $MK_FUNCTION_POOL_SIZE, else 2). */
  functionPoolSize?: number;
}

export { parsePoolSize } from '../node-agent/functions/pool-size';

/**
 * The directories hostPath volumes may be in: the flag's, else $MK_HOST_PATH_ROOTS (colon-separated,
 * which `mk up` hands to its node agents), else none. Throws ClusterError for a relative one.
 */
export function hostPathRootsOf(given: string[] | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const from = given !== undefined ? '--host-path-root' : 'MK_HOST_PATH_ROOTS';
  const roots = given ?? (env.MK_HOST_PATH_ROOTS ?? '').split(':').filter(Boolean);
  for (const r of roots) {
    if (!path.isAbsolute(r)) throw new ClusterError(`${from}: "${r}" is not an absolute path`);
    // MK_HOST_PATH_ROOTS, which `mk up` hands its node agents, separates roots with colons.
    if (r.includes(':')) throw new ClusterError(`${from}: "${r}" contains ':', which separates the roots of MK_HOST_PATH_ROOTS`);
  }
  return roots.map((r) => path.resolve(r));
}

/**
 * Runs the node agent of `dataDir` until a signal (stopping leaves pods running for the next
 * agent to adopt); resolves with the exit code. Credentials of the `node-<name>` role when
 * `mk up` made them, else the context's own. Throws ClusterError for an invalid node name.
 */
export async function runNodeAgentService(dataDir: string, opts: NodeAgentServiceOptions, log: (line: string) => void): Promise<number> {
  const gpuDevRoot = opts.gpuDevRoot ?? process.env.MK_GPU_DEV_ROOT;
  if (gpuDevRoot && !fs.statSync(gpuDevRoot, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ClusterError(`GPU device root (MK_GPU_DEV_ROOT) "${gpuDevRoot}" is not a directory`);
  }
  const dns = nodeDnsSettings(opts.dns ?? {});
  const hostPathRoots = hostPathRootsOf(opts.hostPathRoots);
  const ingressProxy = ingressProxyMode(opts.ingressProxy);
  const paths = clusterPaths(dataDir);
  const ctx = readContext(paths.dataDir);
  const nodeName = opts.nodeName ?? ctx.nodeName;
  const bad = dns1123LabelError(nodeName);
  if (bad) throw new ClusterError(`invalid node name "${nodeName}": ${bad}`);
  if (ctx.nkeyFile && nodeName !== ctx.nodeName) {
    throw new ClusterError(`this machine joined as node ${ctx.nodeName}: its credentials act only for that node, not for "${nodeName}"`);
  }
  const pass = readCredentials(paths)?.users[nodeUser(nodeName)];
  // The service proxy tells pod traffic from outside traffic by the cluster CIDR `mk up` keeps;
  // a node without a default route routes the service CIDR it keeps (network/service-route.ts).
  let clusterCIDR: string | undefined;
  let serviceCIDR: string | undefined;
  try {
    ({ clusterCIDR, serviceCIDR } = networkCidrsOf(readControlPlaneSettings(paths)));
  } catch { /* the node's defaults */ }
  const { runNodeAgent } = await import('../node-agent/index.js');
  const metrics = await serveMetrics('node-agent', nodeName, opts.metrics, log);
  const agent = await runNodeAgent({
    bus: { ...busAuth(ctx), ...(pass ? { user: nodeUser(nodeName), pass } : {}), name: `mk-node-${nodeName}`, waitForJetStream: true },
    nodeName,
    dns,
    dataDir: opts.nodeDataDir ?? paths.nodeData,
    ...(opts.containerdSocket ? { containerdSocket: opts.containerdSocket } : {}),
    ...(opts.nodeIP ? { nodeIP: opts.nodeIP } : {}),
    ...(opts.imagesDir ? { imagesDir: opts.imagesDir } : {}),
    ...(opts.cgroupRoot ? { cgroupRoot: opts.cgroupRoot } : {}),
    ...(opts.statsIntervalMs ? { statsIntervalMs: opts.statsIntervalMs } : {}),
    ...(opts.extendedResources ? { extendedResources: opts.extendedResources } : {}),
    ...(gpuDevRoot ? { gpuDevRoot } : {}),
    ...(opts.ingressPort !== undefined ? { ingressPort: opts.ingressPort, ingressProxy } : {}),
    ...(opts.podNetwork ? { podNetwork: opts.podNetwork } : {}),
    ...(opts.serviceProxy !== undefined ? { serviceProxy: opts.serviceProxy } : {}),
    ...(clusterCIDR ? { clusterCIDR } : {}),
    ...(serviceCIDR ? { serviceCIDR } : {}),
    hostPathRoots,
    ...(opts.functionPoolSize !== undefined ? { functionPoolSize: opts.functionPoolSize } : {}),
  });
  return serveUntilSignal(async () => {
    await agent.stop();
    await metrics?.close();
  }, log);
}

/** A JSON file's content, or undefined when there is no such file. Throws ValidationError when it is not JSON. */
function readJsonIfPresent(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ValidationError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Options of runGatewayService. */
export interface GatewayServiceOptions {
  /** The HTTP port (default: the one `mk up` kept, else 8081). */
  port?: number;
  /** The HTTP address (default 127.0.0.1). */
  host?: string;
  metrics?: MetricsEndpoint;
}

/**
 * Runs the function gateway of `dataDir` until a signal (embedded/gateway/gateway.ts); resolves
 * with the exit code. On a bus with users (credentials.json, as `mk up` makes) it connects as the
 * `gateway` identity only: without that credential it throws ClusterError naming it (the context's
 * admin identity has other permissions and inbox, so a gateway on it could not serve). A bus
 * without users (a bare nats-server) is joined with the context's own settings. Throws when the port is taken or the
 * bus cannot be reached.
 */
export async function runGatewayService(dataDir: string, log: (line: string) => void, opts: GatewayServiceOptions = {}): Promise<number> {
  const paths = clusterPaths(dataDir);
  const creds = readCredentials(paths);
  const pass = creds?.users[GATEWAY_USER];
  // A bus with users (mk up's) needs the gateway's own; one without any (a bare nats-server) takes the context's.
  if (creds && !pass) {
    throw new ClusterError(`the "${GATEWAY_USER}" credential is missing from ${paths.credentials}: the gateway connects only as the `
      + `"${GATEWAY_USER}" user (run mk up on ${paths.dataDir} once to add it)`);
  }
  const { startGateway } = await import('./gateway/gateway.js');
  const { readGatewayPort } = await import('./gateway/settings.js');
  const { connectCore } = await import('../bus/core-client.js');
  const { DEFAULT_GATEWAY_PORT } = await import('../messages/index.js');
  const ctx = readContext(paths.dataDir);
  const auth = busAuth(ctx);
  const bus = await connectCore({ ...auth, ...(pass ? { user: GATEWAY_USER, pass, inboxPrefix: inboxPrefix(GATEWAY_USER) } : {}), name: 'mk-gateway' });
  const metrics = await serveMetrics('gateway', os.hostname(), opts.metrics, log);
  const port = opts.port ?? readGatewayPort(paths) ?? DEFAULT_GATEWAY_PORT;
  const gw = await startGateway({ bus, port, host: opts.host, log: (f, m) => log(`${m} ${JSON.stringify(f)}`) })
    .catch(async (err: unknown) => { await metrics?.close(); await bus.close(); throw err; });
  log(`gateway ${gw.id} serving functions on ${gw.url}/function/<namespace>/<name> and mk.fn.invoke.>`);
  return serveUntilSignal(async () => {
    await gw.stop();
    await bus.close();
    await metrics?.close();
  }, log);
}
