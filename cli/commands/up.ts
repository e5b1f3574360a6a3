import { ensureGatewayPort } from '../../embedded/gateway/settings';
import * as path from 'node:path';
import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { defaultNodeName } from '../../embedded/context';
import { prepareClusterFiles, readCredentials } from '../../embedded/credentials';
import {
  clusterCidrOf, resolveControlPlaneSettings, settingsFromFlags, writeControlPlaneSettings,
} from '../../embedded/control-plane-settings';
import { clusterPaths } from '../../embedded/paths';
import { startCluster } from '../up-progress';
import { requireNatsServer, supervise } from '../../embedded/supervise';
import { joinHint } from '../../embedded/join';
import type { PodNetworkMode } from '../../messages/node-routes';
import { DEFAULT_NODE_SUBNET, MAX_NODES } from '../../embedded/node-network';
import { resolveTopology } from '../../embedded/topology';
import { checkNodes } from '../../embedded/start';
import { dnsSettingsToKeep, nodeDnsSettings } from '../../embedded/dns-settings';
import { ingressProxyMode } from '../../embedded/ingress-proxy';
import { hostPathRootsOf, parsePoolSize } from '../../embedded/services';
import { ClusterError } from '../../embedded/errors';

/**
 * `mk up`: starts the embedded cluster (nats-server, control plane, node agent under a supervisor)
 * on this machine, waits until it is ready, runs the demo pod and says how to reach it.
 */
export default class Up extends MkCommand {
  static override summary = 'Start a one-machine cluster (or resume the one in the data directory)';
  static override description = `Generates credentials, a nats-server config and the CLI context on first run, then starts a
supervisor (mk up --foreground, detached; log in <data-dir>/logs/up.log) that runs nats-server,
mk control-plane and mk node-agent and restarts them if they crash. State lives in the data
directory, so mk down then mk up resumes the cluster with its objects.

--control-planes 2 runs two control planes: one leads (mk get leases -n mk-system), the other
takes over within the lease time (15 s) if it dies. --nats-servers 3 runs three nats-servers
forming a cluster that keeps every stream and bucket on all three, so one may die. Both are kept
in <data-dir>/topology.json for the next mk up.

With --nodes N (N > 1) every node agent runs in a network namespace of its own with its own
containerd, joined by veths to a bridge in this namespace (by default 172.30.0.1/24, nodes from .11);
pods reach each other across nodes and this machine reaches every pod. The node count is fixed
when the cluster is made: a later mk up resumes it; another --nodes is refused. The NATS servers
(one, or three with --nats-servers 3) take clients on the bridge address, and every node agent is
given all of them, so it moves to another server when one dies.

--node-monitor-grace-period, --default-not-ready-toleration-seconds,
--default-unreachable-toleration-seconds, --cluster-cidr and --node-cidr-mask-size go to every
control plane. They are kept in <data-dir>/control-plane-settings.json: a later mk up without
them resumes them, one with them changes what it names (--cluster-cidr and --node-cidr-mask-size
only on the first start: the nodes' pod CIDRs are cut from them). --service-cluster-ip-range and
--service-node-port-range are kept the same way.

Every control plane and node agent serves Prometheus metrics on /metrics; mk up prints the URLs.
The ports are kept in <data-dir>/metrics.json (and prometheus-targets.json, for Prometheus' file
service discovery), so a later mk up keeps them. See docs/metrics.md and examples/monitoring.`;
  static override examples = [
    '<%= config.bin %> up', '<%= config.bin %> up --no-demo --port 4333', '<%= config.bin %> up --foreground',
    '<%= config.bin %> up --control-planes 2 --nats-servers 3', '<%= config.bin %> up --nodes 3',
    '<%= config.bin %> up --nodes 3 --control-planes 2 --nats-servers 3', '<%= config.bin %> up --node-monitor-grace-period 20s',
  ];
  static override flags = {
    port: Flags.integer({ description: 'bus port on 127.0.0.1 (default: the one used before, else 4222)', min: 1, max: 65535 }),
    'node-name': Flags.string({ description: 'name of this node, the first of --nodes N (first run only; default: the host name)' }),
    demo: Flags.boolean({ description: 'apply examples/demo-pod.yaml and wait for it (--no-demo skips it)', default: true, allowNo: true }),
    timeout: Flags.integer({ description: 'seconds to wait for the cluster to be ready', default: 180, min: 1 }),
    foreground: Flags.boolean({ description: 'run the supervisor in this terminal (Ctrl-C stops the cluster)', default: false }),
    'advertise-address': Flags.string({ description: 'an IPv4 address of this machine other machines join on: the bus then listens on every address (default: loopback only)' }),
    'control-planes': Flags.integer({
      description: 'control planes to run (1 to 3): one leads, the others stand by (default: as before, else 1)', min: 1, max: 3,
    }),
    'nats-servers': Flags.integer({
      description: 'NATS servers to run: 1, or 3 forming a cluster with every stream kept on all three (default: as before, else 1)',
      min: 1, max: 3,
    }),
    nodes: Flags.integer({
      description: 'number of nodes, each in a network namespace of its own on a private bridge (first run only; default 1)', min: 1, max: MAX_NODES,
    }),
    'pod-network': Flags.string({
      description: 'the pod network between nodes: host-gw (routes via the nodes\' addresses; they share one L2 segment) or vxlan (an overlay for nodes on different subnets) (first run only; default host-gw)',
      options: ['host-gw', 'vxlan'],
    }),
    'gateway-port': Flags.integer({
      min: 1, max: 65535, description: 'the function gateway\'s HTTP port on 127.0.0.1 (kept for later starts; default: as before, else 8081)',
    }),
    'node-subnet': Flags.string({ description: `the nodes' subnet when --nodes > 1 (first run only; default ${DEFAULT_NODE_SUBNET}, the host takes .1)` }),
    'node-monitor-grace-period': Flags.string({
      description: 'how long a node may stop heartbeating before it is marked Unknown and tainted unreachable, e.g. 40s (default: as before, else 40s)',
    }),
    'default-not-ready-toleration-seconds': Flags.string({
      description: 'tolerationSeconds of the not-ready:NoExecute toleration every pod gets by default (default: as before, else 300)',
    }),
    'default-unreachable-toleration-seconds': Flags.string({
      description: 'tolerationSeconds of the unreachable:NoExecute toleration every pod gets by default (default: as before, else 300)',
    }),
    'cluster-domain': Flags.string({ description: 'the cluster DNS domain the nodes serve (kept for later starts; default: $MK_CLUSTER_DOMAIN, else as before, else cluster.local)' }),
    'dns-upstream': Flags.string({
      description: 'resolver IP[:PORT] the nodes forward names outside the cluster to, or none (repeatable, kept for later starts; default: $MK_DNS_UPSTREAM, else as before, else each node\'s /etc/resolv.conf)',
      multiple: true,
    }),
    'cluster-cidr': Flags.string({ description: 'the IPv4 range nodes\' pod CIDRs are cut from (first run only; default 10.244.0.0/16)' }),
    'node-cidr-mask-size': Flags.string({
      description: 'the prefix length of each node\'s pod CIDR, longer than the cluster CIDR\'s (first run only; default 24)',
    }),
    'service-cluster-ip-range': Flags.string({ description: 'the IPv4 range Services\' cluster IPs are allocated from (default: as before, else 10.96.0.0/12)' }),
    'service-node-port-range': Flags.string({ description: 'the ports Services\' node ports are allocated from (default: as before, else 30000-32767)' }),
    'host-path-root': Flags.string({
      description: 'a directory pods\' hostPath volumes may use on this machine\'s nodes, checked after resolving symlinks (repeatable; this run; '
        + 'default: $MK_HOST_PATH_ROOTS, colon-separated, else none: every hostPath volume is refused)',
      multiple: true,
    }),
    'function-pool-size': Flags.string({
      description: 'warm generic containers each node keeps per function runtime, 0 to 16 (0: none; this run; default: $MK_FUNCTION_POOL_SIZE, else 2)',
    }),
    'ingress-proxy': Flags.string({
      description: 'what serves each node\'s ingress on port 80: nginx (a child of the node agent), builtin (in-process) or auto (nginx when installed) (this run; default: $MK_INGRESS_PROXY, else auto)',
      options: ['nginx', 'builtin', 'auto'],
    }),
  };

  /** Starts (or reports) the cluster; exit 1 when it is not ready by the deadline. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Up);
    const dataDir = this.dataDir(flags['data-dir']);
    const runJs = path.join(this.config.root, 'bin', 'run.js');
    const print = (line: string): void => this.out(`${line}\n`);
    const topology = {
      ...(flags['control-planes'] !== undefined ? { controlPlanes: flags['control-planes'] } : {}),
      ...(flags['nats-servers'] !== undefined ? { natsServers: flags['nats-servers'] } : {}),
    };
    const settings = settingsFromFlags(flags);
    // The node agents read these from the environment they inherit (embedded/dns-settings.ts); checked here first.
    nodeDnsSettings({ ...(flags['cluster-domain'] !== undefined ? { clusterDomain: flags['cluster-domain'] } : {}), ...(flags['dns-upstream'] ? { dnsUpstreams: flags['dns-upstream'] } : {}) });
    if (flags['cluster-domain'] !== undefined) process.env.MK_CLUSTER_DOMAIN = flags['cluster-domain'];
    if (flags['dns-upstream']) process.env.MK_DNS_UPSTREAM = flags['dns-upstream'].join(',');
    // The node agents read it from the environment they inherit (embedded/ingress-proxy.ts); checked here first.
    ingressProxyMode(flags['ingress-proxy']);
    if (flags['ingress-proxy']) process.env.MK_INGRESS_PROXY = flags['ingress-proxy'];
    // Likewise the hostPath roots (embedded/services.ts), checked here first.
    const hostPathRoots = hostPathRootsOf(flags['host-path-root']);
    if (flags['host-path-root']) process.env.MK_HOST_PATH_ROOTS = hostPathRoots.join(':');
    // Likewise the warm pool's size (node-agent/functions/pool-policy.ts), checked here first.
    try {
      process.env.MK_FUNCTION_POOL_SIZE = String(parsePoolSize(flags['function-pool-size'] ?? process.env.MK_FUNCTION_POOL_SIZE,
        flags['function-pool-size'] !== undefined ? '--function-pool-size' : 'MK_FUNCTION_POOL_SIZE'));
    } catch (err) {
      throw new ClusterError((err as Error).message);
    }
    if (!flags.foreground) {
      await startCluster({
        topology, settings,
        ...(flags['gateway-port'] !== undefined ? { gatewayPort: flags['gateway-port'] } : {}),
        dataDir, port: flags.port, nodeName: flags['node-name'], nodes: flags.nodes, nodeSubnet: flags['node-subnet'], timeoutMs: flags.timeout * 1000, runJs, print,
        demo: flags.demo, demoFile: path.join(this.config.root, 'examples', 'demo-pod.yaml'),
        ...(flags['advertise-address'] ? { advertiseAddress: flags['advertise-address'] } : {}),
        ...(flags['pod-network'] ? { podNetwork: flags['pod-network'] as PodNetworkMode } : {}),
      });
      for (const line of joinHint(dataDir)) print(line);
      return;
    }
    const natsServer = requireNatsServer();
    const paths = clusterPaths(dataDir);
    const cpSettings = resolveControlPlaneSettings(paths, settings, readCredentials(paths) !== undefined);
    await checkNodes(paths, {
      nodes: flags.nodes, nodeSubnet: flags['node-subnet'], nodeName: flags['node-name'], topology, clusterCidr: clusterCidrOf(cpSettings),
    });
    const resolved = resolveTopology(paths, topology);
    const creds = prepareClusterFiles(paths, {
      port: flags.port, nodeName: flags['node-name'] ?? defaultNodeName(),
      ...(flags['advertise-address'] ? { advertiseAddress: flags['advertise-address'] } : {}),
      ...(flags.nodes !== undefined ? { nodes: flags.nodes } : {}), ...(flags['node-subnet'] !== undefined ? { nodeSubnet: flags['node-subnet'] } : {}),
      ...(flags['pod-network'] ? { podNetwork: flags['pod-network'] as PodNetworkMode } : {}),
      ...dnsSettingsToKeep(),
    });
    writeControlPlaneSettings(paths, cpSettings);
    ensureGatewayPort(paths, flags['gateway-port']);
    const r = await supervise({ paths, creds, runJs, natsServer, topology: resolved });
    if (r === 'already-running') print(`mk is already running in ${dataDir}; \`mk down\` stops it.`);
  }
}
