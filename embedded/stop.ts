/**
 * `mk down`: asks the node agent to tear down what it made (pod sandboxes, the CNI bridge, its
 * containerd) over mk.node.<node>.teardown, then SIGTERMs the supervisor (which stops its children
 * in reverse order), waits, and SIGKILLs whatever is left by pid file. Data stays unless `purge`.
 */
import * as fs from 'node:fs';
import { tryReadContext } from './context';
import { readCredentials } from './credentials';
import { ClusterError } from './errors';
import { clusterPaths, nodeAgentChild, type ClusterPaths } from './paths';
import { livePid, removePid, strayProcesses, terminate } from './processes';
import { nodeNetworkOf, killLeftovers, knownChildren } from './supervise';
import { requestTeardown } from './teardown';
import { clusterNodeNames, teardownNodeNetwork } from './node-network';

/** Options of `mk down`. */
export interface StopOptions {
  dataDir: string;
  purge: boolean;
  /** Deadline for the node's teardown. */
  teardownTimeoutMs: number;
  print: (line: string) => void;
  warn: (line: string) => void;
}

/** How long the supervisor gets to stop its children (their own deadlines add up to 55 s). */
const SUPERVISOR_STOP_MS = 70_000;

/** Stops the cluster (if it runs) and, with `purge`, removes the data directory. */
export async function stopCluster(opts: StopOptions): Promise<'stopped' | 'not-running'> {
  const paths = clusterPaths(opts.dataDir);
  const supervisor = livePid(paths.upPid, paths.dataDir);
  const leftovers = knownChildren(paths).filter((c) => livePid(paths.pid(c), paths.dataDir) !== undefined);
  if (supervisor === undefined && leftovers.length === 0) {
    removePid(paths.upPid);
    opts.print(`mk is not running (data dir ${paths.dataDir}).`);
    await removeTopology(paths, opts);
    warnStrays(paths, opts.warn);
    if (opts.purge) purge(paths, opts.print);
    return 'not-running';
  }

  await teardownNode(paths, opts);
  if (supervisor !== undefined) {
    opts.print(`Stopping the supervisor (pid ${supervisor})...`);
    const how = await terminate(supervisor, SUPERVISOR_STOP_MS);
    if (how === 'killed') opts.warn(`Warning: the supervisor did not stop within ${SUPERVISOR_STOP_MS / 1000} s and was killed`);
  }
  await killLeftovers(paths, (l) => opts.print(l));
  removePid(paths.upPid);
  await removeTopology(paths, opts);
  warnStrays(paths, opts.warn);
  if (opts.purge) {
    purge(paths, opts.print);
  } else {
    opts.print(`mk stopped. Data kept in ${paths.dataDir}: \`mk up\` resumes the cluster, \`mk down --purge\` deletes it.`);
  }
  return 'stopped';
}

async function teardownNode(paths: ClusterPaths, opts: StopOptions): Promise<void> {
  const creds = readCredentials(paths);
  const names = creds ? clusterNodeNames(creds) : [tryReadContext(paths.dataDir)?.nodeName ?? ''];
  await Promise.all(names.map(async (nodeName, i) => {
    const child = nodeAgentChild(i + 1);
    if (livePid(paths.pid(child), paths.dataDir) === undefined) {
      opts.warn(`Warning: the node agent of ${nodeName || 'the node'} is not running; its pods and network are not torn down by it`
        + (names.length > 1 ? ' (what runs in its network namespace is killed with it)' : ' (they are adopted by the next `mk up`)'));
      return;
    }
    try {
      if (!nodeName) throw new ClusterError(`no context in ${paths.dataDir}`);
      opts.print(`Tearing down node ${nodeName} (pods, network, containerd)...`);
      await requestTeardown(paths.dataDir, nodeName, opts.teardownTimeoutMs);
      opts.print(` ✓ node ${nodeName} torn down`);
    } catch (err) {
      opts.warn(`Warning: node ${nodeName} teardown failed: ${(err as Error).message}; stopping the processes anyway (see ${paths.log(child)})`);
    }
  }));
}

/** With several nodes: removes their network namespaces, veths and bridge (after the processes are gone). */
async function removeTopology(paths: ClusterPaths, opts: StopOptions): Promise<void> {
  const creds = readCredentials(paths);
  const topo = creds ? nodeNetworkOf(paths, creds) : undefined;
  if (!topo) return;
  try {
    await teardownNodeNetwork(topo, (l) => opts.print(l));
  } catch (err) {
    opts.warn(`Warning: ${(err as Error).message}`);
  }
}

/**
 * Processes that still use the data directory after the supervisor and its children are gone: a
 * containerd (and its pods) a killed node agent left; the next `mk up` adopts them.
 */
function warnStrays(paths: ClusterPaths, warn: (line: string) => void): void {
  const strays = strayProcesses(paths.dataDir);
  if (strays.length === 0) return;
  warn(`Warning: processes from an earlier run still use ${paths.dataDir}: ${strays.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}. `
    + '`mk up` adopts them; a `mk down` after it removes them.');
}

function purge(paths: ClusterPaths, print: (line: string) => void): void {
  const strays = strayProcesses(paths.dataDir);
  if (strays.length > 0) throw new ClusterError(`not deleting ${paths.dataDir}: processes still use it (run \`mk up\`, then \`mk down --purge\`)`);
  // Only a directory that looks like ours is removed, so a mistyped --data-dir cannot wipe a home.
  const ours = [paths.config, paths.credentials, paths.natsDir, paths.runDir].some((p) => fs.existsSync(p));
  if (!fs.existsSync(paths.dataDir)) {
    print(`Nothing to purge: ${paths.dataDir} does not exist.`);
    return;
  }
  if (!ours) throw new ClusterError(`${paths.dataDir} does not look like an mk data directory (no config.json, nats/ or run/); not deleting it`);
  try {
    fs.rmSync(paths.dataDir, { recursive: true, force: true });
  } catch (err) {
    throw new ClusterError(`could not delete ${paths.dataDir}: ${(err as Error).message} (is something still mounted under it?)`);
  }
  print(`Deleted ${paths.dataDir}.`);
}
