/**
 * The long-running processes of a cluster, as `mk up`'s supervisor runs them: the control plane
 * and the node agent, each connected with its own role's credentials from the data directory and
 * served until SIGTERM or SIGINT. The actor code is loaded only here, so the CLI's short commands
 * never pay for it.
 */
import { dns1123LabelError } from '../messages';
import { readContext } from './context';
import { CONTROL_PLANE_USER, nodeUser, readCredentials } from './credentials';
import { ClusterError } from './errors';
import { clusterPaths } from './paths';
import { serveUntilSignal } from './serve-until-signal';

/**
 * Runs the control plane of `dataDir` until a signal; resolves with the exit code. Credentials of
 * the `control-plane` role when `mk up` made them, else the context's own.
 */
export async function runControlPlaneService(dataDir: string, log: (line: string) => void): Promise<number> {
  const paths = clusterPaths(dataDir);
  const ctx = readContext(paths.dataDir);
  const pass = readCredentials(paths)?.users[CONTROL_PLANE_USER];
  const { runControlPlane } = await import('../actors/index.js');
  const cp = await runControlPlane({
    bus: { servers: ctx.servers, user: pass ? CONTROL_PLANE_USER : ctx.user, pass: pass ?? ctx.pass, name: 'mk-control-plane' },
    dataDir: paths.controlPlaneData,
  });
  return serveUntilSignal(() => cp.stop(), log);
}

/** Options of runNodeAgentService. */
export interface NodeAgentServiceOptions {
  /** Default: the context's node name. */
  nodeName?: string;
  /** Use this containerd instead of starting one. */
  containerdSocket?: string;
  /** The node's InternalIP (`mk up --nodes N` gives each node its bridge address). */
  nodeIP?: string;
  /** The node's own data directory (default `<dataDir>/node`). */
  nodeDataDir?: string;
  /** Where the built-in images are built and cached (shared by the nodes of `mk up --nodes N`). */
  imagesDir?: string;
  /** The node's own cgroup above `/kubepods` (each node of `mk up --nodes N` has one). */
  cgroupRoot?: string;
}

/**
 * Runs the node agent of `dataDir` until a signal (stopping leaves pods running for the next
 * agent to adopt); resolves with the exit code. Credentials of the `node-<name>` role when
 * `mk up` made them, else the context's own. Throws ClusterError for an invalid node name.
 */
export async function runNodeAgentService(dataDir: string, opts: NodeAgentServiceOptions, log: (line: string) => void): Promise<number> {
  const paths = clusterPaths(dataDir);
  const ctx = readContext(paths.dataDir);
  const nodeName = opts.nodeName ?? ctx.nodeName;
  const bad = dns1123LabelError(nodeName);
  if (bad) throw new ClusterError(`invalid node name "${nodeName}": ${bad}`);
  const pass = readCredentials(paths)?.users[nodeUser(nodeName)];
  const { runNodeAgent } = await import('../node-agent/index.js');
  const agent = await runNodeAgent({
    bus: { servers: ctx.servers, user: pass ? nodeUser(nodeName) : ctx.user, pass: pass ?? ctx.pass, name: `mk-node-${nodeName}` },
    nodeName,
    dataDir: opts.nodeDataDir ?? paths.nodeData,
    ...(opts.containerdSocket ? { containerdSocket: opts.containerdSocket } : {}),
    ...(opts.nodeIP ? { nodeIP: opts.nodeIP } : {}),
    ...(opts.imagesDir ? { imagesDir: opts.imagesDir } : {}),
    ...(opts.cgroupRoot ? { cgroupRoot: opts.cgroupRoot } : {}),
  });
  return serveUntilSignal(() => agent.stop(), log);
}
