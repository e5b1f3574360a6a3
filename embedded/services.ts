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

/** Settings of a control plane replica (`mk control-plane` flags). */
export interface ControlPlaneServiceOptions {
  /** The lease time, seconds (default 15). */
  leaseSeconds?: number;
  /** Replicas of the streams and buckets it makes (default: defaultReplicas of the context's servers). */
  replicas?: number;
}

/** 3 copies of every stream and bucket on a cluster of 3 or more servers, else 1. */
export function defaultReplicas(servers: readonly string[]): number {
  return servers.length >= 3 ? 3 : 1;
}

/**
 * Runs a control plane of `dataDir` until a signal; resolves with the exit code. Credentials of
 * the `control-plane` role when `mk up` made them, else the context's own.
 */
export async function runControlPlaneService(dataDir: string, log: (line: string) => void, opts: ControlPlaneServiceOptions = {}): Promise<number> {
  const paths = clusterPaths(dataDir);
  const ctx = readContext(paths.dataDir);
  const pass = readCredentials(paths)?.users[CONTROL_PLANE_USER];
  const { runControlPlane } = await import('../actors/index.js');
  const cp = await runControlPlane({
    bus: {
      servers: ctx.servers, user: pass ? CONTROL_PLANE_USER : ctx.user, pass: pass ?? ctx.pass, name: 'mk-control-plane',
      replicas: opts.replicas ?? defaultReplicas(ctx.servers),
    },
    dataDir: paths.controlPlaneData,
    ...(opts.leaseSeconds !== undefined ? { leaseSeconds: opts.leaseSeconds } : {}),
  });
  return serveUntilSignal(() => cp.stop(), log);
}

/** Options of runNodeAgentService. */
export interface NodeAgentServiceOptions {
  /** Default: the context's node name. */
  nodeName?: string;
  /** Use this containerd instead of starting one. */
  containerdSocket?: string;
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
    dataDir: paths.nodeData,
    ...(opts.containerdSocket ? { containerdSocket: opts.containerdSocket } : {}),
  });
  return serveUntilSignal(() => agent.stop(), log);
}
