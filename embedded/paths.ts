/**
 * The layout of an embedded cluster's data directory (`mk up`). Everything mk up creates lives
 * under it, so `mk down --purge` removes exactly that.
 *
 *   config.json            the CLI context (servers, admin user, password, node name), 0600
 *   credentials.json       every role's NATS password and the port, 0600
 *   encryption-keys.json   the keys Secrets are encrypted with in the store
 *                          (embedded/encryption-keys.ts), 0600
 *   nats/nats.conf         the generated nats-server config, 0600
 *   nats/store/            JetStream's store: all cluster state (survives `mk down`)
 *   control-plane/         the control plane's data dir
 *   node/                  the node agent's data dir (containerd root and state, CNI, images)
 *   nodes/<name>/          with --nodes N > 1: each node agent's data dir instead of node/
 *   images/                with --nodes N > 1: the built-in image archives, built once for all
 *   logs/<name>.log        up.log (the supervisor), nats.log, control-plane.log, node-agent.log
 *                          (node-agent-2.log, ... for the other nodes of --nodes N)
 *   run/<name>.pid         up.pid (the supervisor) and one per child
 *   tls/                   ca.crt, ca.key, server.crt, server.key, server-chain.crt (embedded/tls.ts)
 *   tokens.json            join tokens, secrets hashed (embedded/tokens.ts), 0600
 *   joined-nodes.json      the public nkeys of nodes that joined from other machines, 0600
 *   topology.json          control planes and NATS servers to run (embedded/topology.ts)
 *   control-plane-settings.json   the control planes' node lifecycle and pod CIDR flags
 *                          (embedded/control-plane-settings.ts), 0600
 *   metrics.json           where each process serves /metrics (embedded/metrics-endpoints.ts)
 *   prometheus-targets.json  the same, for Prometheus' file_sd_configs
 */
import * as path from 'node:path';

/** Names of the supervised children: the first three in start order, then the extra members of `mk up --nats-servers 3 --control-planes N`. */
export const CHILDREN = ['nats', 'control-plane', 'node-agent', 'gateway', 'nats-1', 'nats-2', 'control-plane-2', 'control-plane-3'] as const;
/** One of CHILDREN, or the node agent of the i-th node (from 2) of `mk up --nodes N`. */
export type ChildName = (typeof CHILDREN)[number] | `node-agent-${number}`;

/** The supervised child that runs node `index` (1-based) of the cluster. */
export function nodeAgentChild(index: number): ChildName {
  return index === 1 ? 'node-agent' : `node-agent-${index}`;
}

/** Every path of a data directory. */
export interface ClusterPaths {
  dataDir: string;
  config: string;
  credentials: string;
  natsDir: string;
  natsConf: string;
  natsStore: string;
  controlPlaneData: string;
  nodeData: string;
  logsDir: string;
  runDir: string;
  upLog: string;
  upPid: string;
  log(name: ChildName): string;
  pid(name: ChildName): string;
}

/** The paths of the data directory `dataDir` (absolute). */
export function clusterPaths(dataDir: string): ClusterPaths {
  const d = path.resolve(dataDir);
  const logsDir = path.join(d, 'logs');
  const runDir = path.join(d, 'run');
  return {
    dataDir: d,
    config: path.join(d, 'config.json'),
    credentials: path.join(d, 'credentials.json'),
    natsDir: path.join(d, 'nats'),
    natsConf: path.join(d, 'nats', 'nats.conf'),
    natsStore: path.join(d, 'nats', 'store'),
    controlPlaneData: path.join(d, 'control-plane'),
    nodeData: path.join(d, 'node'),
    logsDir,
    runDir,
    upLog: path.join(logsDir, 'up.log'),
    upPid: path.join(runDir, 'up.pid'),
    log: (name) => path.join(logsDir, `${name}.log`),
    pid: (name) => path.join(runDir, `${name}.pid`),
  };
}

/**
 * Where the default local-path StorageClass of a cluster keeps its volumes on every node:
 * `<data dir>/storage` of the machine that ran `mk up` (a joined machine makes the same path).
 */
export function localPathStorageDir(paths: ClusterPaths): string {
  return path.join(paths.dataDir, 'storage');
}
