import * as fs from 'node:fs';
import { Flags } from '@oclif/core';
import { metricsFlags, metricsOption, MkCommand } from '../base-command';
import { defaultNodeName, tryReadContext } from '../../embedded/context';
import { ClusterError } from '../../embedded/errors';
import { parsePoolSize, runNodeAgentService } from '../../embedded/services';
import { parseDuration } from '../../messages/duration';
import { parseExtendedResources } from '../../messages/extended-resources';
import type { PodNetworkMode } from '../../messages/node-routes';

/**
 * `mk node-agent`: runs this machine's node agent until SIGTERM/SIGINT (stop leaves pods running
 * for the next start to adopt; `mk down` asks for a teardown first). Credentials of the
 * `node-<name>` role when `mk up` made them, else the context's own. `mk up` starts it.
 *
 * With `--join nats://HOST:PORT --token T --ca-cert-hash sha256:H` it first joins another
 * machine's cluster (embedded/join-client.ts), writing this machine's context, CA and node key to
 * the data directory; later starts with the same data directory need no flags but --data-dir.
 */
export default class NodeAgent extends MkCommand {
  static override summary = 'Run the node agent in the foreground, or join another machine\'s cluster (--join)';
  static override examples = [
    '<%= config.bin %> node-agent --join nats://10.0.0.1:4222 --token abcdef.0123456789abcdef --ca-cert-hash sha256:<hex>',
    '<%= config.bin %> node-agent --extended-resource example.com/dongle=4',
  ];
  static override flags = {
    'node-name': Flags.string({ description: 'this node\'s name (default: the context\'s; with --join, the host name)' }),
    'containerd-socket': Flags.string({ description: 'use this containerd instead of starting one' }),
    join: Flags.string({ description: 'join the cluster whose bus is at this nats://HOST:PORT (mk token create --print-join-command)', dependsOn: ['token', 'ca-cert-hash'] }),
    token: Flags.string({ description: 'the join token (abcdef.0123456789abcdef) for --join', dependsOn: ['join'] }),
    'ca-cert-hash': Flags.string({ description: 'sha256:<hex> of the cluster CA\'s public key: --join trusts only that CA', dependsOn: ['join'] }),
    // No default: oclif checks dependsOn of a flag that has one even when it is not given.
    'join-only': Flags.boolean({ description: 'join, then exit without running the agent', dependsOn: ['join'] }),
    'node-ip': Flags.string({ description: 'the node\'s InternalIP (default: the first non-loopback IPv4 address)' }),
    'cluster-domain': Flags.string({ description: 'the domain of the cluster DNS the node serves (default: $MK_CLUSTER_DOMAIN, else cluster.local)' }),
    'dns-upstream': Flags.string({
      description: 'a resolver, IP[:PORT], for names outside the cluster domain, or none to refuse them (repeatable; default: $MK_DNS_UPSTREAM, else the nameservers of /etc/resolv.conf)',
      multiple: true,
    }),
    'node-dir': Flags.string({ description: 'the node\'s own data directory (default: <data-dir>/node)' }),
    'cgroup-root': Flags.string({ description: 'the node\'s own cgroup above /kubepods (default: none)' }),
    'images-dir': Flags.string({ description: 'where the built-in images are built and cached (default: <node-dir>/images)' }),
    'stats-interval': Flags.string({ description: 'between usage reports for mk top: 5s, 500ms (default: $MK_STATS_INTERVAL, else 5s)' }),
    'extended-resource': Flags.string({
      description: 'advertise an extended resource in the node\'s capacity: NAME=COUNT, such as example.com/dongle=4 (repeatable)',
      multiple: true,
    }),
    'pod-network': Flags.string({
      description: 'the pod network\'s backend, the same on every node of the cluster: host-gw or vxlan (default host-gw)', options: ['host-gw', 'vxlan'],
    }),
    'gpu-dev-root': Flags.string({ description: 'where the GPU device nodes nvidiaN, nvidiactl are (default: $MK_GPU_DEV_ROOT, else /dev)' }),
    'ingress-port': Flags.integer({ description: 'serve the ingress proxy (HTTP) on this port (default: none; mk up uses 80)', min: 1, max: 65535 }),
    'ingress-proxy': Flags.string({
      description: 'what serves the ingress: nginx (a child process), builtin (in-process) or auto (nginx when installed) (default: $MK_INGRESS_PROXY, else auto)',
      options: ['nginx', 'builtin', 'auto'],
    }),
    'host-path-root': Flags.string({
      description: 'a directory pods\' hostPath volumes may use, checked after resolving symlinks (repeatable; '
        + 'default: $MK_HOST_PATH_ROOTS, colon-separated, else none: every hostPath volume is refused)',
      multiple: true,
    }),
    'function-pool-size': Flags.string({
      description: 'warm generic containers kept per function runtime, 0 to 16 (0: none; default: $MK_FUNCTION_POOL_SIZE, else 2)',
    }),
    'service-proxy': Flags.boolean({ description: 'program iptables for Services (default: on unless MK_SERVICE_PROXY=off)', allowNo: true }),
    ...metricsFlags,
  };

  /** Serves until a signal; exit 0 after a clean stop, 1 when a join is refused. */
  async run(): Promise<void> {
    const { flags } = await this.parse(NodeAgent);
    const dataDir = this.dataDir(flags['data-dir']);
    const statsIntervalMs = flags['stats-interval'] === undefined ? undefined : parseDuration(flags['stats-interval'], '--stats-interval');
    if (statsIntervalMs !== undefined && statsIntervalMs < 100) throw new ClusterError(`--stats-interval: "${flags['stats-interval']}" is too short (at least 100ms)`);
    let extendedResources: Record<string, number> | undefined;
    try {
      extendedResources = flags['extended-resource'] ? parseExtendedResources(flags['extended-resource']) : undefined;
    } catch (err) {
      throw new ClusterError((err as Error).message);
    }
    const gpuDevRoot = flags['gpu-dev-root'];
    if (gpuDevRoot !== undefined && !fs.statSync(gpuDevRoot, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ClusterError(`--gpu-dev-root: "${gpuDevRoot}" is not a directory`);
    }
    let functionPoolSize: number | undefined;
    try {
      // The environment's is checked here too: a bad one is the operator's to fix before anything starts.
      const given = flags['function-pool-size'];
      const size = parsePoolSize(given ?? process.env.MK_FUNCTION_POOL_SIZE, given !== undefined ? '--function-pool-size' : 'MK_FUNCTION_POOL_SIZE');
      functionPoolSize = given !== undefined ? size : undefined;
    } catch (err) {
      throw new ClusterError((err as Error).message);
    }
    let nodeName = flags['node-name'];
    if (flags.join) {
      nodeName ??= defaultNodeName();
      const ctx = tryReadContext(dataDir);
      if (ctx && !(ctx.nkeyFile && ctx.nodeName === nodeName)) {
        throw new ClusterError(`${dataDir} already holds the context of a cluster (node ${ctx.nodeName}); join with another --data-dir`);
      }
      if (!ctx) {
        const { joinCluster } = await import('../../embedded/join-client.js');
        await joinCluster({ url: flags.join, token: flags.token!, caCertHash: flags['ca-cert-hash']!, nodeName, dataDir });
        this.err(`node ${nodeName} joined the cluster at ${flags.join}; its context is ${dataDir}/config.json`);
      }
      if (flags['join-only']) return;
    }
    const code = await runNodeAgentService(dataDir, {
      ...(nodeName ? { nodeName } : {}),
      ...(flags['containerd-socket'] ? { containerdSocket: flags['containerd-socket'] } : {}),
      ...(flags['node-ip'] ? { nodeIP: flags['node-ip'] } : {}),
      dns: {
        ...(flags['cluster-domain'] !== undefined ? { clusterDomain: flags['cluster-domain'] } : {}),
        ...(flags['dns-upstream'] ? { dnsUpstreams: flags['dns-upstream'] } : {}),
      },
      ...(flags['node-dir'] ? { nodeDataDir: flags['node-dir'] } : {}),
      ...(flags['images-dir'] ? { imagesDir: flags['images-dir'] } : {}),
      ...(flags['cgroup-root'] ? { cgroupRoot: flags['cgroup-root'] } : {}),
      ...(statsIntervalMs ? { statsIntervalMs } : {}),
      ...(extendedResources ? { extendedResources } : {}),
      ...(flags['gpu-dev-root'] ? { gpuDevRoot: flags['gpu-dev-root'] } : {}),
      ...(flags['ingress-port'] !== undefined ? { ingressPort: flags['ingress-port'] } : {}),
      ...(flags['ingress-proxy'] ? { ingressProxy: flags['ingress-proxy'] } : {}),
      ...(flags['pod-network'] ? { podNetwork: flags['pod-network'] as PodNetworkMode } : {}),
      ...(flags['service-proxy'] !== undefined ? { serviceProxy: flags['service-proxy'] } : {}),
      ...(flags['host-path-root'] ? { hostPathRoots: flags['host-path-root'] } : {}),
      ...(functionPoolSize !== undefined ? { functionPoolSize } : {}),
      ...metricsOption(flags),
    }, (l) => this.err(`node-agent: ${l}`));
    this.exit(code);
  }
}
