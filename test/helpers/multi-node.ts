/**
 * A multi-node mk cluster for end-to-end tests: `mk up --nodes N` run inside a network namespace
 * the test creates (the "host": nats-server, the control plane and the nodes' bridge live there),
 * with every node agent, its containerd and its pods in a namespace of the node's own, made by
 * `mk up`. Tests of scheduling, drain, node failure and failover start one with
 * startMultiNodeCluster and end it with destroy(), which removes everything: processes (by pid),
 * the nodes' namespaces, links, mounts, the host namespace and the data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planNodeNetwork, type NodeNetwork } from '../../embedded/node-network';
import { cgroupMounts, removeCgroup } from '../../node-agent/containerd/cleanup';
import type { Node, Pod } from '../../messages';
import { clusterPids, unmountUnder } from './cluster';
import { createNetns, runInNetns, type TestNetns } from './netns';
import type { RunResult } from './run';
import { waitFor } from './wait';

export { canRunE2e } from './cluster';
export { waitFor } from './wait';

// The repository root, from the sources (test/helpers) or the build (dist/test/helpers).
const ROOT = ((d) => (path.basename(d) === 'dist' ? path.dirname(d) : d))(path.join(__dirname, '..', '..'));
const BIN = path.join(ROOT, 'bin', 'run.js');

/** One node of the cluster, as `mk up --nodes N` laid it out. */
export interface TestNode {
  name: string;
  /** Its network namespace (under /var/run/netns). */
  netns: string;
  /** Its InternalIP on the nodes' bridge. */
  address: string;
  /** Its data directory (containerd's socket is `<dataDir>/containerd/containerd.sock`). */
  dataDir: string;
  /** Its own cgroup: its pods live under `<cgroupRoot>/kubepods`. */
  cgroupRoot: string;
  /** The supervisor's name for its agent: `node-agent`, `node-agent-2`, ... (pid file, log file). */
  child: string;
  /** The host's end of its veth, on the nodes' bridge. */
  hostVeth: string;
}

/** What exists on the machine that a cluster could leave behind (see hostState). */
export interface HostState {
  /** The cluster's network namespaces (named after its data dir). */
  netns: string[];
  /** Links in the host namespace. */
  links: string[];
  /** Mounts under the data directory. */
  mounts: string[];
  /** Processes whose command line mentions the data directory. */
  processes: string[];
  /** The nodes' own cgroups (their pods' parents) that exist, in any hierarchy. */
  cgroups: string[];
}

/** A running multi-node cluster. */
export interface MultiNodeCluster {
  dataDir: string;
  /** The host namespace `mk up` runs in. */
  host: TestNetns;
  nodes: TestNode[];
  topology: NodeNetwork;
  /** What `mk up` printed. */
  upOutput: string;
  /** Runs `mk ARGS` (the built CLI) in the host namespace with the cluster's data dir. */
  mk(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Starts `mk ARGS` in the host namespace without waiting (for `-w` and `-f`). */
  spawnMk(args: string[]): ChildProcess;
  /** Runs a command in the host namespace. */
  run(cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** Runs a command in a node's namespace. */
  runOnNode(node: string, cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** The live pid of a node's agent (from its pid file), or undefined. */
  nodeAgentPid(node: string): number | undefined;
  /** The live pid of a supervised child (`nats-1`, `control-plane-2`, ...: its pid file), or undefined. */
  childPid(child: string): number | undefined;
  /**
   * Cuts a node off the network (its veth's host end goes down): it loses the bus, the other nodes
   * and the host, while its processes and pods keep running, as a partitioned machine would.
   */
  disconnectNode(node: string): Promise<void>;
  /** Puts a node disconnected by disconnectNode back on the network. */
  reconnectNode(node: string): Promise<void>;
  /** A pod as `mk get pod -o json` returns it. */
  getPod(name: string, namespace?: string): Promise<Pod>;
  /** Waits until the pod is in `phase` (default deadline 90 s). */
  waitPodPhase(name: string, phase: string, ms?: number): Promise<Pod>;
  /** Every node, as `mk get nodes -o json` lists them. */
  getNodes(): Promise<Node[]>;
  /** Waits until every node of the cluster is Ready. */
  waitNodesReady(ms?: number): Promise<Node[]>;
  /** What of this cluster exists on the machine now. */
  hostState(): Promise<HostState>;
  /** `mk down`, then removes whatever is left, the host namespace and the data directory. Idempotent. */
  destroy(): Promise<void>;
}

/** Options of startMultiNodeCluster. */
export interface MultiNodeOptions {
  /** How many nodes (default 3). */
  nodes?: number;
  /** The first node's name (default `node`): the others are `<name>-2`, `<name>-3`, ... */
  nodeName?: string;
  /** Apply the demo pod as `mk up` does (default false). */
  demo?: boolean;
  /** Seconds `mk up` may wait (default 240). */
  timeoutS?: number;
  /** More `mk up` flags (e.g. `--control-planes 2 --nats-servers 3`). */
  upArgs?: string[];
  /** More environment for `mk` and what it starts (e.g. `MK_LEASE_SECONDS`). */
  env?: NodeJS.ProcessEnv;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/**
 * Starts `mk up --nodes N --no-demo` in a fresh namespace and waits until it reports every node
 * Ready. Throws (after cleaning up) with the logs when it does not come up.
 */
export async function startMultiNodeCluster(opts: MultiNodeOptions = {}): Promise<MultiNodeCluster> {
  const count = opts.nodes ?? 3;
  const nodeName = opts.nodeName ?? 'node';
  const host = await createNetns('mkmn');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-mn-'));
  const env = { ...process.env, MK_HOME: dataDir, MK_LOG_LEVEL: 'debug', MK_DNS_UPSTREAM: 'none',
    // Tests that need a runtime image build it when a pod names it: no background builds on two cores.
    MK_WARM_RUNTIME_IMAGES: 'off', ...opts.env };
  const topology = planNodeNetwork({ dataDir, subnet: '172.30.0.0/24', firstNode: nodeName, count });
  const nodes: TestNode[] = topology.nodes.map((n) => ({
    name: n.name, netns: n.netns, address: n.address, dataDir: n.dataDir, cgroupRoot: n.cgroupRoot, hostVeth: n.hostVeth, child: n.index === 1 ? 'node-agent' : `node-agent-${n.index}`,
  }));
  const node = (name: string): TestNode => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name} in this cluster (${nodes.map((x) => x.name).join(', ')})`);
    return n;
  };
  const mk = (args: string[], o?: { stdin?: string; timeoutMs?: number }) =>
    runInNetns(host.path, [process.execPath, BIN, ...args], o?.timeoutMs ?? 120_000, { env, stdin: o?.stdin });
  let destroyed = false;
  const cluster: MultiNodeCluster = {
    dataDir,
    host,
    nodes,
    topology,
    upOutput: '',
    mk,
    spawnMk: (args) => spawn('nsenter', [`--net=${host.path}`, '--', process.execPath, BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    run: (cmd, o) => runInNetns(host.path, cmd, o?.timeoutMs ?? 30_000, { env }),
    runOnNode: (name, cmd, o) => runInNetns(`/var/run/netns/${node(name).netns}`, cmd, o?.timeoutMs ?? 30_000, { env }),
    nodeAgentPid: (name) => cluster.childPid(node(name).child),
    childPid(child) {
      try {
        const pid = Number.parseInt(fs.readFileSync(path.join(dataDir, 'run', `${child}.pid`), 'utf8'), 10);
        return Number.isInteger(pid) && alive(pid) ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    async disconnectNode(name) {
      const r = await runInNetns(host.path, ['ip', 'link', 'set', node(name).hostVeth, 'down'], 10_000);
      if (r.code !== 0) throw new Error(`disconnecting ${name}: ${r.stderr}`);
    },
    async reconnectNode(name) {
      const r = await runInNetns(host.path, ['ip', 'link', 'set', node(name).hostVeth, 'up'], 10_000);
      if (r.code !== 0) throw new Error(`reconnecting ${name}: ${r.stderr}`);
    },
    async getPod(name, namespace = 'default') {
      const r = await mk(['get', 'pod', name, '-n', namespace, '-o', 'json']);
      if (r.code !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as Pod;
    },
    waitPodPhase: (name, phase, ms = 90_000) => waitFor(`pod ${name} ${phase}`, async () => {
      const p = await cluster.getPod(name);
      return p.status?.phase === phase ? p : null;
    }, ms),
    async getNodes() {
      const r = await mk(['get', 'nodes', '-o', 'json']);
      if (r.code !== 0) throw new Error(r.stderr);
      return (JSON.parse(r.stdout) as { items: Node[] }).items;
    },
    waitNodesReady: (ms = 120_000) => waitFor(`${count} nodes Ready`, async () => {
      const items = await cluster.getNodes();
      const ready = items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return nodes.every((n) => ready.some((r) => r.metadata.name === n.name)) ? items : null;
    }, ms),
    async hostState() {
      const id = topology.bridge.slice('mkbr'.length);
      const netns = fs.existsSync('/var/run/netns') ? fs.readdirSync('/var/run/netns').filter((n) => n.startsWith(`mk-${id}-`)) : [];
      const links = await linksIn(host.path);
      const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m === dataDir || m.startsWith(`${dataDir}/`));
      const cgroups = (await cgroupMounts()).flatMap((m) => nodes.map((n) => path.join(m, n.cgroupRoot))).filter((d) => fs.existsSync(d));
      return { netns: netns.sort(), links, mounts, processes: clusterPids(dataDir).map((p) => `${p.pid} ${p.cmd}`), cgroups };
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await mk(['down'], { timeoutMs: 180_000 }).catch(() => undefined);
      keepLogs(dataDir);
      for (const p of clusterPids(dataDir)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
      // What a failed `mk down` left: the nodes' namespaces (and what runs there) and the bridge.
      for (const n of nodes) {
        const r = await runInNetns(host.path, ['ip', 'netns', 'pids', n.netns], 10_000).catch(() => undefined);
        for (const pid of (r?.stdout ?? '').split('\n').map(Number).filter((p) => p > 0)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
        if (fs.existsSync(`/var/run/netns/${n.netns}`)) await runInNetns(host.path, ['ip', 'netns', 'delete', n.netns], 10_000).catch(() => undefined);
      }
      unmountUnder(dataDir);
      for (const n of nodes) await removeCgroup(n.cgroupRoot).catch(() => undefined);
      await host.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const up = await mk(['up', '--nodes', String(count), '--node-name', nodeName, ...(opts.demo ? [] : ['--no-demo']), '--timeout', String(opts.timeoutS ?? 240), ...(opts.upArgs ?? [])],
    { timeoutMs: ((opts.timeoutS ?? 240) + 60) * 1000 });
  if (up.code !== 0) {
    const logs = ['up', 'nats', 'nats-1', 'nats-2', 'control-plane', 'control-plane-2', ...nodes.map((n) => n.child)].map((n) => {
      const f = path.join(dataDir, 'logs', `${n}.log`);
      return fs.existsSync(f) ? `--- ${n}.log\n${fs.readFileSync(f, 'utf8').slice(-3000)}` : '';
    }).join('\n');
    await cluster.destroy();
    throw new Error(`mk up --nodes ${count} failed (${up.code}):\n${up.stdout}\n${up.stderr}\n${logs}`);
  }
  cluster.upOutput = up.stdout;
  return cluster;
}

/** The links of the namespace at `nsPath` (names only), for before/after comparisons. */
export async function linksIn(nsPath: string): Promise<string[]> {
  const r = await runInNetns(nsPath, ['ip', '-o', 'link', 'show'], 10_000);
  return r.stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => !!n).sort();
}

/**
 * With MK_TEST_LOGS_DIR set, copies the cluster's logs (`<data-dir>/logs`) there, into a folder
 * named after the data directory, before it is removed: for reading a failed run afterwards.
 */
export function keepLogs(dataDir: string): void {
  const into = process.env.MK_TEST_LOGS_DIR;
  const logs = path.join(dataDir, 'logs');
  if (!into || !fs.existsSync(logs)) return;
  fs.cpSync(logs, path.join(into, path.basename(dataDir)), { recursive: true });
}
