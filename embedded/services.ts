/**
 * The long-running processes of a cluster, as `mk up`'s supervisor runs them: the control plane
 * and the node agent, each connected with its own role's credentials from the data directory and
 * served until SIGTERM or SIGINT. The actor code is loaded only here, so the CLI's short commands
 * never pay for it.
 */
import { dns1123LabelError } from '../messages';
import { connectBus } from '../bus';
import { busAuth, readContext } from './context';
import { serveJoin } from './join';
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
  const bus = { ...busAuth(ctx), ...(pass ? { user: CONTROL_PLANE_USER, pass } : {}), name: 'mk-control-plane' };
  const cp = await runControlPlane({ bus, dataDir: paths.controlPlaneData });
  // A mk up cluster takes joining machines (embedded/join.ts): it owns the nats-server config.
  const joinBus = pass ? await connectBus({ ...bus, name: 'mk-control-plane-join', checkJetStream: false }) : undefined;
  const join = joinBus ? serveJoin(joinBus, { dataDir: paths.dataDir, log }) : undefined;
  return serveUntilSignal(async () => {
    await join?.stop();
    await joinBus?.close();
    await cp.stop();
  }, log);
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
  if (ctx.nkeyFile && nodeName !== ctx.nodeName) {
    throw new ClusterError(`this machine joined as node ${ctx.nodeName}: its credentials act only for that node, not for "${nodeName}"`);
  }
  const pass = readCredentials(paths)?.users[nodeUser(nodeName)];
  const { runNodeAgent } = await import('../node-agent/index.js');
  const agent = await runNodeAgent({
    bus: { ...busAuth(ctx), ...(pass ? { user: nodeUser(nodeName), pass } : {}), name: `mk-node-${nodeName}` },
    nodeName,
    dataDir: paths.nodeData,
    ...(opts.containerdSocket ? { containerdSocket: opts.containerdSocket } : {}),
  });
  return serveUntilSignal(() => agent.stop(), log);
}
