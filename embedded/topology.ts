/**
 * How many control planes and NATS servers `mk up` runs on this machine (`--control-planes N`,
 * `--nats-servers N`), kept in `<data-dir>/topology.json` so a later `mk up` resumes the same
 * cluster. Several control planes elect a leader on a lease and the others stand by; three NATS
 * servers form a cluster (embedded/nats-cluster.ts) and every client is given all three URLs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readContext, writeContext } from './context';
import type { Credentials } from './credentials';
import { ClusterError } from './errors';
import { natsUrls, writeNatsClusterFiles, type NatsMember } from './nats-cluster';
import { busHost } from './node-network';
import { nodeAgentChild, type ChildName, type ClusterPaths } from './paths';

/** What runs on this machine. */
export interface Topology {
  controlPlanes: number;
  natsServers: number;
}

/** One control plane, one NATS server. */
export const DEFAULT_TOPOLOGY: Topology = { controlPlanes: 1, natsServers: 1 };
/** The most control planes `mk up` runs on one machine. */
export const MAX_CONTROL_PLANES = 3;

/** The file that keeps the topology. */
export function topologyFile(paths: ClusterPaths): string {
  return path.join(paths.dataDir, 'topology.json');
}

/** The topology kept in the data directory, or the default. Throws ClusterError for a bad file. */
export function readTopology(paths: ClusterPaths): Topology {
  const file = topologyFile(paths);
  if (!fs.existsSync(file)) return { ...DEFAULT_TOPOLOGY };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ClusterError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const t = raw as Partial<Topology>;
  const topology = { controlPlanes: t?.controlPlanes ?? 1, natsServers: t?.natsServers ?? 1 };
  checkTopology(topology, file);
  return topology;
}

/** Throws ClusterError naming what is wrong: 1 to 3 control planes, 1 or 3 NATS servers. */
export function checkTopology(t: Topology, where = 'mk up'): void {
  if (!Number.isInteger(t.controlPlanes) || t.controlPlanes < 1 || t.controlPlanes > MAX_CONTROL_PLANES) {
    throw new ClusterError(`${where}: control planes must be 1 to ${MAX_CONTROL_PLANES} (got ${t.controlPlanes})`);
  }
  if (t.natsServers !== 1 && t.natsServers !== 3) {
    throw new ClusterError(`${where}: NATS servers must be 1 or 3 (got ${t.natsServers}): a JetStream cluster needs a majority, and 3 survive the loss of one`);
  }
}

/**
 * The topology for this start: the flags where given, else what the data directory keeps.
 * Refuses to change the number of NATS servers of a cluster that has a store (its data would
 * not follow). Writes the result back. Throws ClusterError.
 */
export function resolveTopology(paths: ClusterPaths, flags: Partial<Topology>): Topology {
  const kept = readTopology(paths);
  const next: Topology = { controlPlanes: flags.controlPlanes ?? kept.controlPlanes, natsServers: flags.natsServers ?? kept.natsServers };
  checkTopology(next, 'mk up');
  if (next.natsServers !== kept.natsServers && hasStore(paths, kept)) {
    throw new ClusterError(
      `the cluster in ${paths.dataDir} keeps its store on ${kept.natsServers} NATS server(s); it cannot move to ${next.natsServers}: `
      + `leave --nats-servers out, or start afresh with \`mk down --purge\``,
    );
  }
  fs.mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(topologyFile(paths), JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  return next;
}

function hasStore(paths: ClusterPaths, t: Topology): boolean {
  const dirs = t.natsServers === 1 ? [paths.natsStore] : [path.join(paths.natsDir, 'store-0')];
  return dirs.some((d) => fs.existsSync(d) && fs.readdirSync(d).length > 0);
}

/**
 * Makes the files a topology needs, after prepareClusterFiles: with 3 NATS servers, each
 * member's config (including the generated nats.conf for users and permissions), listening where
 * the single server would (busHost: loopback, or the nodes' bridge with `--nodes N`), and a
 * context that lists every member there. Returns the members (one: the single server).
 */
export function applyTopology(paths: ClusterPaths, creds: Credentials, t: Topology): NatsMember[] {
  if (t.natsServers === 1) {
    return [{ index: 0, name: 'mk', clientPort: creds.port, routePort: 0, storeDir: paths.natsStore, confFile: paths.natsConf }];
  }
  const host = busHost(creds);
  const members = writeNatsClusterFiles(paths.natsConf, creds.port, t.natsServers, host, creds.advertiseAddress);
  writeContext(paths.dataDir, { ...readContext(paths.dataDir), servers: natsUrls(members, host) });
  return members;
}

/** The supervisor's child name of NATS member `i` and of control plane `i` (0-based). */
export function natsChild(i: number): ChildName {
  return (i === 0 ? 'nats' : `nats-${i}`) as ChildName;
}
export function controlPlaneChild(i: number): ChildName {
  return (i === 0 ? 'control-plane' : `control-plane-${i + 1}`) as ChildName;
}

/**
 * The children a supervisor of topology `t` with `nodes` node agents runs, in start order: the
 * NATS servers, the control planes, then the node agents (embedded/supervise.ts).
 */
export function supervisedChildren(t: Topology, nodes: number): ChildName[] {
  return [
    ...Array.from({ length: t.natsServers }, (_, i) => natsChild(i)),
    ...Array.from({ length: t.controlPlanes }, (_, i) => controlPlaneChild(i)),
    ...Array.from({ length: Math.max(1, nodes) }, (_, i) => nodeAgentChild(i + 1)),
  ];
}
