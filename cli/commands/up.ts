import * as path from 'node:path';
import { Flags } from '@oclif/core';
import { MkCommand } from '../base-command';
import { defaultNodeName } from '../../embedded/context';
import { prepareClusterFiles } from '../../embedded/credentials';
import { clusterPaths } from '../../embedded/paths';
import { startCluster } from '../up-progress';
import { requireNatsServer, supervise } from '../../embedded/supervise';
import { DEFAULT_NODE_SUBNET, MAX_NODES } from '../../embedded/topology';

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

With --nodes N (N > 1) every node agent runs in a network namespace of its own with its own
containerd, joined by veths to a bridge in this namespace (by default 172.30.0.1/24, nodes from .11);
pods reach each other across nodes and this machine reaches every pod. The node count is fixed
when the cluster is made: a later mk up resumes it; another --nodes is refused.`;
  static override examples = [
    '<%= config.bin %> up', '<%= config.bin %> up --no-demo --port 4333', '<%= config.bin %> up --foreground', '<%= config.bin %> up --nodes 3',
  ];
  static override flags = {
    port: Flags.integer({ description: 'bus port on 127.0.0.1 (default: the one used before, else 4222)', min: 1, max: 65535 }),
    'node-name': Flags.string({ description: 'name of this node, the first of --nodes N (first run only; default: the host name)' }),
    demo: Flags.boolean({ description: 'apply examples/demo-pod.yaml and wait for it (--no-demo skips it)', default: true, allowNo: true }),
    timeout: Flags.integer({ description: 'seconds to wait for the cluster to be ready', default: 180, min: 1 }),
    foreground: Flags.boolean({ description: 'run the supervisor in this terminal (Ctrl-C stops the cluster)', default: false }),
    nodes: Flags.integer({
      description: 'number of nodes, each in a network namespace of its own on a private bridge (first run only; default 1)', min: 1, max: MAX_NODES,
    }),
    'node-subnet': Flags.string({ description: `the nodes' subnet when --nodes > 1 (first run only; default ${DEFAULT_NODE_SUBNET}, the host takes .1)` }),
  };

  /** Starts (or reports) the cluster; exit 1 when it is not ready by the deadline. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Up);
    const dataDir = this.dataDir(flags['data-dir']);
    const runJs = path.join(this.config.root, 'bin', 'run.js');
    const print = (line: string): void => this.out(`${line}\n`);
    if (!flags.foreground) {
      await startCluster({
        dataDir, port: flags.port, nodeName: flags['node-name'], nodes: flags.nodes, nodeSubnet: flags['node-subnet'], timeoutMs: flags.timeout * 1000, runJs, print,
        demo: flags.demo, demoFile: path.join(this.config.root, 'examples', 'demo-pod.yaml'),
      });
      return;
    }
    const natsServer = requireNatsServer();
    const paths = clusterPaths(dataDir);
    const creds = prepareClusterFiles(paths, {
      port: flags.port, nodeName: flags['node-name'] ?? defaultNodeName(),
      ...(flags.nodes !== undefined ? { nodes: flags.nodes } : {}), ...(flags['node-subnet'] !== undefined ? { nodeSubnet: flags['node-subnet'] } : {}),
    });
    const r = await supervise({ paths, creds, runJs, natsServer });
    if (r === 'already-running') print(`mk is already running in ${dataDir}; \`mk down\` stops it.`);
  }
}
