/**
 * Starting an embedded cluster: prepare the data directory (credentials, nats config, context),
 * check the machine, and start the supervisor detached (`mk up --foreground`, its own process
 * group, output to logs/up.log). Following the cluster as it comes up is the CLI's business.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { defaultNodeName } from './context';
import { ClusterError } from './errors';
import { prepareClusterFiles, type Credentials } from './credentials';
import { clusterPaths, type ClusterPaths } from './paths';
import { livePid, writePid } from './processes';
import { killLeftovers, portOpen, requireNatsServer, requireNodeRuntime } from './supervise';
import { applyTopology, resolveTopology, type Topology } from './topology';

/** Options of launchCluster. */
export interface LaunchOptions {
  dataDir: string;
  port?: number;
  nodeName?: string;
  /** An IP of this machine other machines reach the bus on (the bus then listens on every address). */
  advertiseAddress?: string;
  /** `bin/run.js` of this installation (the supervisor is `node run.js up --foreground`). */
  runJs: string;
  print: (line: string) => void;
  /** `--control-planes` and `--nats-servers` as given (the rest from the data directory). */
  topology?: Partial<Topology>;
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
  if (running !== undefined) return { state: 'already-running', paths, pid: running };
  requireNatsServer();
  requireNodeRuntime();
  for (const d of [paths.dataDir, paths.logsDir, paths.runDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  const topology = resolveTopology(paths, opts.topology ?? {});
  const creds = prepareClusterFiles(paths, {
    port: opts.port, nodeName: opts.nodeName ?? defaultNodeName(), ...(opts.advertiseAddress ? { advertiseAddress: opts.advertiseAddress } : {}),
  });
  const members = applyTopology(paths, creds, topology);
  await killLeftovers(paths, (l) => opts.print(l));
  for (const port of members.flatMap((m) => [m.clientPort, m.routePort]).filter((p) => p > 0)) {
    if (await portOpen(port)) {
      throw new ClusterError(`port ${port} on 127.0.0.1 is already in use (another nats-server?); pick another with --port`);
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
  const extra = [
    topology.natsServers > 1 ? `${topology.natsServers} NATS servers` : '',
    topology.controlPlanes > 1 ? `${topology.controlPlanes} control planes` : '',
  ].filter(Boolean).join(', ');
  opts.print(`Starting mk in ${paths.dataDir} (node ${creds.nodeName}, bus nats://127.0.0.1:${creds.port}${extra ? `, ${extra}` : ''}), supervisor pid ${child.pid}`);
  return { state: 'started', paths, creds, pid: child.pid };
}
