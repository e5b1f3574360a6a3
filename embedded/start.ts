/**
 * Starting an embedded cluster: prepare the data directory (credentials, nats config, context),
 * check the machine, and start the supervisor detached (`mk up --foreground`, its own process
 * group, output to logs/up.log). Following the cluster as it comes up is the CLI's business.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { defaultNodeName } from './context';
import { ClusterError } from './errors';
import { clusterPodNetwork, prepareClusterFiles, readCredentials, type Credentials } from './credentials';
import { clusterPaths, type ClusterPaths } from './paths';
import { livePid, writePid } from './processes';
import { killLeftovers, requireNatsServer, requireNodeRuntime, tcpAnswers } from './supervise';
import { assertSubnetFree, busHost, clusterNodeNames, clusterNodes, DEFAULT_NODE_SUBNET, planNodeNetwork } from './node-network';
import { applyTopology, resolveTopology, type Topology } from './topology';
import { clusterCidrOf, resolveControlPlaneSettings, writeControlPlaneSettings, type SettingsText } from './control-plane-settings';
import { ensureDashboardPort } from './dashboard';
import { ensureGatewayPort } from './gateway/settings';
import type { PodNetworkMode } from '../messages';

/** Options of launchCluster. */
export interface LaunchOptions {
  dataDir: string;
  port?: number;
  nodeName?: string;
  /** An IP of this machine other machines reach the bus on (the bus then listens on every address). */
  advertiseAddress?: string;
  /** `--nodes N`: that many nodes, each in a network namespace of its own (first start only). */
  nodes?: number;
  /** `--node-subnet`: the nodes' addresses (first start only). */
  nodeSubnet?: string;
  /** `--pod-network`: the pod network's backend on every node (first start only; default host-gw). */
  podNetwork?: PodNetworkMode;
  /** `bin/run.js` of this installation (the supervisor is `node run.js up --foreground`). */
  runJs: string;
  print: (line: string) => void;
  /** `--control-planes` and `--nats-servers` as given (the rest from the data directory). */
  topology?: Partial<Topology>;
  /** The control planes' node lifecycle and pod CIDR flags as given (the rest from the data directory). */
  settings?: SettingsText;
  /** `--gateway-port`: the function gateway's HTTP port (kept for later starts; default as before, else 8081). */
  gatewayPort?: number;
}

/** A supervisor just started, or the one that already runs. */
export type Launched =
  | { state: 'started'; paths: ClusterPaths; creds: Credentials; pid: number }
  | { state: 'already-running'; paths: ClusterPaths; pid: number };

/**
 * Starts the supervisor of the cluster in `dataDir`, or finds it running. Throws ClusterError when
 * a program is missing, the port is taken, or the supervisor cannot be spawned.
 */
export async function launchCluster(opts: LaunchOptions): Promise<Launched> {
  const paths = clusterPaths(opts.dataDir);
  const running = livePid(paths.upPid, paths.dataDir);
  if (running !== undefined) {
    // A running cluster keeps its pod network: asking for another is an error, not a silent no-op.
    clusterPodNetwork(paths, readCredentials(paths), opts.podNetwork);
    return { state: 'already-running', paths, pid: running };
  }
  requireNatsServer();
  requireNodeRuntime();
  const settings = resolveControlPlaneSettings(paths, opts.settings ?? {}, readCredentials(paths) !== undefined);
  await checkNodes(paths, { ...opts, clusterCidr: clusterCidrOf(settings) });
  for (const d of [paths.dataDir, paths.logsDir, paths.runDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  const topology = resolveTopology(paths, opts.topology ?? {});
  const creds = prepareClusterFiles(paths, {
    port: opts.port, nodeName: opts.nodeName ?? defaultNodeName(), ...(opts.advertiseAddress ? { advertiseAddress: opts.advertiseAddress } : {}),
    ...(opts.nodes !== undefined ? { nodes: opts.nodes } : {}), ...(opts.nodeSubnet !== undefined ? { nodeSubnet: opts.nodeSubnet } : {}),
    ...(opts.podNetwork !== undefined ? { podNetwork: opts.podNetwork } : {}),
  });
  const members = applyTopology(paths, creds, topology);
  writeControlPlaneSettings(paths, settings);
  const dashboardPort = await ensureDashboardPort(paths);
  const gatewayPort = ensureGatewayPort(paths, opts.gatewayPort);
  if (await tcpAnswers('127.0.0.1', gatewayPort) && livePid(paths.pid('gateway'), paths.dataDir) === undefined) {
    throw new ClusterError(`port ${gatewayPort} on 127.0.0.1 is already in use; pick another for the function gateway with --gateway-port`);
  }
  await killLeftovers(paths, (l) => opts.print(l));
  // NATS servers take clients where the nodes reach them (loopback, or their bridge); a cluster's routes stay on loopback.
  const host = busHost(creds);
  const ports = members.flatMap((m) => [{ host, port: m.clientPort }, { host: '127.0.0.1', port: m.routePort }]).filter((p) => p.port > 0);
  for (const p of ports) {
    if (await tcpAnswers(p.host, p.port)) {
      throw new ClusterError(`port ${p.port} on ${p.host} is already in use (another nats-server?); pick another with --port`);
    }
  }

  const out = fs.openSync(paths.upLog, 'a');
  const child = spawn(process.execPath, [opts.runJs, 'up', '--foreground', '--data-dir', paths.dataDir], {
    detached: true, stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  child.unref();
  if (!child.pid) throw new ClusterError(`could not start the supervisor; see ${paths.upLog}`);
  writePid(paths.upPid, child.pid);
  const names = clusterNodeNames(creds);
  const extra = [
    topology.natsServers > 1 ? `${topology.natsServers} NATS servers` : '',
    topology.controlPlanes > 1 ? `${topology.controlPlanes} control planes` : '',
  ].filter(Boolean).join(', ');
  opts.print(`Starting mk in ${paths.dataDir} (node${names.length > 1 ? 's' : ''} ${names.join(', ')}, `
    + `bus nats://${host}:${members.map((m) => m.clientPort).join(',')}${extra ? `, ${extra}` : ''}), supervisor pid ${child.pid}`);
  opts.print(`Dashboard http://127.0.0.1:${dashboardPort}/ (read-only; \`mk dashboard --open\` opens a write session)`);
  opts.print(`Functions http://127.0.0.1:${gatewayPort}/function/<ns>/<name>`);
  return { state: 'started', paths, creds, pid: child.pid };
}

/**
 * Refuses, before anything is written, a node count or subnet the cluster cannot take: another
 * count than the cluster has, a malformed or too small subnet, one that a link here already uses,
 * or several nodes without root. Any number of NATS servers goes with any number of nodes: they
 * all listen on the nodes' bridge. Throws ClusterError.
 */
export async function checkNodes(
  paths: ClusterPaths, opts: Pick<LaunchOptions, 'nodes' | 'nodeSubnet' | 'nodeName' | 'topology'> & { clusterCidr?: string },
): Promise<void> {
  const existing = readCredentials(paths);
  const want = clusterNodes(paths, existing, opts);
  if ((want.nodes ?? 1) <= 1) return;
  if (process.getuid?.() !== 0) throw new ClusterError('mk up --nodes N needs root: it makes a network namespace, a veth and a cgroup per node');
  const firstNode = existing?.nodeName ?? opts.nodeName ?? defaultNodeName();
  await assertSubnetFree(planNodeNetwork({
    dataDir: paths.dataDir, subnet: want.nodeSubnet ?? DEFAULT_NODE_SUBNET, firstNode, count: want.nodes!, clusterCidr: opts.clusterCidr,
  }));
}
