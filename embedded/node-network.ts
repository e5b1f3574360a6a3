/**
 * The network of `mk up --nodes N` (N > 1), like kind's: every node agent (and its containerd and
 * pods) lives in a network namespace of its own, joined to the machine by a veth pair on one
 * bridge in the namespace `mk up` runs in (the "host"). With the default subnet:
 *
 *   host   bridge mkbr<id>  172.30.0.1/24    nats-server listens here (and only here)
 *   node 1 netns mk-<id>-1, eth0 172.30.0.11   pods 10.244.0.0/24 (CIDRs come from the control plane)
 *   node 2 netns mk-<id>-2, eth0 172.30.0.12   pods 10.244.1.0/24
 *   ...
 *
 * `<id>` is a hash of the data directory, so two clusters never share a name. The host reaches
 * every node's pods through routes via the node addresses (kept by the supervisor, see
 * node-agent/network/routes.ts), and every node routes the others' pod CIDRs the same way.
 * Setting up is idempotent (a resumed cluster finds what is there); tearing down removes the
 * namespaces (after killing what still runs in them), the veths and the bridge, and with the
 * bridge every route through it. Commands get argument arrays, never a shell.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { dns1123LabelError } from '../messages';
import { removeCgroup } from '../node-agent/containerd/cleanup';
import { purgeContainerd } from '../node-agent/containerd/process';
import { parseCidr } from '../node-agent/network/cni';
import { ClusterError } from './errors';
import type { ClusterPaths } from './paths';

const run = promisify(execFile);

/** The nodes' subnet unless `--node-subnet` says otherwise. */
export const DEFAULT_NODE_SUBNET = '172.30.0.0/24';
/** The most nodes one `mk up` starts. */
export const MAX_NODES = 50;
/** Node i (from 1) has the subnet's address `NODE_OFFSET + i`; the host has the first. */
const NODE_OFFSET = 10;

/** One node of the topology. */
export interface NetworkNode {
  /** 1-based. */
  index: number;
  name: string;
  /** Network namespace name (under /var/run/netns). */
  netns: string;
  /** The node's address on the bridge: its InternalIP. */
  address: string;
  /** The veth end in the host namespace (the node's end is `eth0`). */
  hostVeth: string;
  /** The node agent's data directory (containerd, CNI state, pod logs). */
  dataDir: string;
  /** The node's own cgroup, above its pods' `/kubepods` (named like its namespace). */
  cgroupRoot: string;
}

/** The whole network of a multi-node cluster. */
export interface NodeNetwork {
  subnet: string;
  prefix: number;
  bridge: string;
  /** The host's address on the bridge (nats-server listens here). */
  hostAddress: string;
  /** Shared by the nodes: the built-in images are built once, then imported by each node. */
  imagesDir: string;
  nodes: NetworkNode[];
}

const ipString = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/**
 * The names of the nodes of a cluster whose first node is `first`: `first`, `first-2`, ... (the
 * first is shortened so every name stays a DNS-1123 label).
 */
export function nodeNames(first: string, count: number): string[] {
  const base = first.slice(0, 60).replace(/-+$/, '');
  return Array.from({ length: count }, (_, i) => (i === 0 ? first : `${base}-${i + 1}`));
}

/** Throws ClusterError unless `count` is a whole number of nodes mk up can start. */
export function checkNodeCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) throw new ClusterError(`--nodes must be a whole number from 1 to ${MAX_NODES}, not ${count}`);
}

/** The host address of a nodes' subnet (its first address). Throws ClusterError for a bad subnet. */
export function hostAddressOf(subnet: string): string {
  return ipString(subnetOf(subnet).base + 1);
}

function subnetOf(subnet: string): { base: number; prefix: number } {
  try {
    return parseCidr(subnet);
  } catch {
    throw new ClusterError(`--node-subnet "${subnet}" is not an IPv4 CIDR with a prefix of /8 to /30 (e.g. ${DEFAULT_NODE_SUBNET})`);
  }
}

/** The pod network unless `--cluster-cidr` says otherwise (actors/settings.ts). */
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';

/**
 * Plans the topology of `count` nodes for the cluster in `dataDir`. Pure. Throws ClusterError when
 * the subnet is malformed or too small, the count is out of range, or it overlaps the pod network
 * (`clusterCidr`, default DEFAULT_CLUSTER_CIDR).
 */
export function planNodeNetwork(o: { dataDir: string; subnet: string; firstNode: string; count: number; clusterCidr?: string }): NodeNetwork {
  checkNodeCount(o.count);
  const { base, prefix } = subnetOf(o.subnet);
  const size = 2 ** (32 - prefix);
  if (NODE_OFFSET + o.count >= size - 1) throw new ClusterError(`--node-subnet ${o.subnet} is too small for ${o.count} nodes`);
  const clusterCidr = o.clusterCidr ?? DEFAULT_CLUSTER_CIDR;
  const cluster = parseCidr(clusterCidr);
  const overlaps = base < cluster.base + 2 ** (32 - cluster.prefix) && cluster.base < base + size;
  if (overlaps) throw new ClusterError(`--node-subnet ${o.subnet} overlaps the pod network ${clusterCidr}; pick another`);
  const id = createHash('sha256').update(path.resolve(o.dataDir)).digest('hex').slice(0, 6);
  const names = nodeNames(o.firstNode, o.count);
  for (const n of names) {
    const bad = dns1123LabelError(n);
    if (bad) throw new ClusterError(`invalid node name "${n}": ${bad}`);
  }
  return {
    subnet: `${ipString(base)}/${prefix}`,
    prefix,
    bridge: `mkbr${id}`,
    hostAddress: ipString(base + 1),
    imagesDir: path.join(path.resolve(o.dataDir), 'images'),
    nodes: names.map((name, i) => ({
      index: i + 1,
      name,
      netns: `mk-${id}-${i + 1}`,
      address: ipString(base + NODE_OFFSET + i + 1),
      hostVeth: `mkv${id}n${i + 1}`,
      dataDir: path.join(path.resolve(o.dataDir), 'nodes', name),
      cgroupRoot: `/mk-${id}-${i + 1}`,
    })),
  };
}

/** /var/run/netns/<name>: what `nsenter --net=` takes. */
export function netnsPath(netns: string): string {
  return `/var/run/netns/${netns}`;
}

async function ip(args: string[], netns?: string): Promise<void> {
  const [cmd, argv] = netns ? ['nsenter', [`--net=${netnsPath(netns)}`, '--', 'ip', ...args]] : ['ip', args];
  try {
    await run(cmd, argv, { timeout: 15_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new ClusterError(`${netns ? `in ${netns}: ` : ''}ip ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

async function linkExists(name: string, netns?: string): Promise<boolean> {
  return ip(['link', 'show', name], netns).then(() => true, () => false);
}

/** An interface's IPv4 address, as `ip -j -4 addr` lists it. */
export interface LinkAddress { link: string; address: string; prefix: number }

/**
 * The addresses of other links whose network overlaps the nodes' subnet (another cluster, a VPN,
 * a LAN): sharing it would make the nodes unreachable or misroute the machine's own traffic.
 */
export function subnetConflicts(t: Pick<NodeNetwork, 'subnet' | 'bridge'>, addresses: LinkAddress[]): LinkAddress[] {
  const mine = parseCidr(t.subnet);
  const mineSize = 2 ** (32 - mine.prefix);
  return addresses.filter((a) => {
    if (a.link === t.bridge) return false;
    const theirs = parseCidr(`${a.address}/${Math.max(8, Math.min(30, a.prefix))}`);
    const theirSize = 2 ** (32 - theirs.prefix);
    return theirs.base < mine.base + mineSize && mine.base < theirs.base + theirSize;
  });
}

async function hostAddresses(): Promise<LinkAddress[]> {
  const { stdout } = await run('ip', ['-j', '-4', 'addr', 'show'], { timeout: 10_000 });
  const links = JSON.parse(stdout.trim() || '[]') as { ifname: string; addr_info?: { local?: string; prefixlen?: number }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.local && a.prefixlen !== undefined)
    .map((a) => ({ link: l.ifname, address: a.local!, prefix: a.prefixlen! })));
}

/** Throws ClusterError when another link of this namespace has an address in the nodes' subnet. */
export async function assertSubnetFree(t: Pick<NodeNetwork, 'subnet' | 'bridge'>): Promise<void> {
  const conflicts = subnetConflicts(t, await hostAddresses());
  if (conflicts.length > 0) {
    const c = conflicts[0];
    throw new ClusterError(`the node subnet ${t.subnet} overlaps ${c.address}/${c.prefix} on ${c.link}; `
      + 'pick another with --node-subnet (on the first mk up of a data directory)');
  }
}

/**
 * Makes the bridge, the namespaces and the veths, and gives each its address; what is already
 * there is kept. Throws ClusterError naming the step that failed (not root, no `ip`, a name taken,
 * the subnet already used by another link here).
 */
export async function setupNodeNetwork(t: NodeNetwork, log: (line: string) => void = () => undefined): Promise<void> {
  await assertSubnetFree(t);
  if (!(await linkExists(t.bridge))) {
    await ip(['link', 'add', t.bridge, 'type', 'bridge']);
    log(`made bridge ${t.bridge}`);
  }
  await ip(['addr', 'replace', `${t.hostAddress}/${t.prefix}`, 'dev', t.bridge]);
  await ip(['link', 'set', t.bridge, 'up']);
  for (const n of t.nodes) {
    if (!existsSync(netnsPath(n.netns))) {
      await ip(['netns', 'add', n.netns]);
      log(`made network namespace ${n.netns} for node ${n.name}`);
    }
    if (!(await linkExists('eth0', n.netns))) {
      // A host end without its peer is left from a namespace deleted under it.
      if (await linkExists(n.hostVeth)) await ip(['link', 'del', n.hostVeth]);
      const peer = `${n.hostVeth}p`;
      await ip(['link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', peer]);
      await ip(['link', 'set', peer, 'netns', n.netns]);
      await ip(['link', 'set', peer, 'name', 'eth0'], n.netns);
    }
    await ip(['addr', 'replace', `${n.address}/${t.prefix}`, 'dev', 'eth0'], n.netns);
    await ip(['link', 'set', 'eth0', 'up'], n.netns);
    await ip(['link', 'set', 'lo', 'up'], n.netns);
    await ip(['link', 'set', n.hostVeth, 'master', t.bridge, 'up']);
    // The node forwards between its eth0 and its pods' bridge (CNI's bridge plugin does it too,
    // but only once a first pod exists; host-to-pod traffic must not wait for that).
    await run('nsenter', [`--net=${netnsPath(n.netns)}`, '--', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], { timeout: 10_000 })
      .catch((e: Error) => log(`could not enable forwarding in ${n.netns}: ${e.message}`));
  }
}

async function waitGone(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Pids of the processes in a network namespace (none when it does not exist). */
export async function netnsPids(netns: string): Promise<number[]> {
  if (!existsSync(netnsPath(netns))) return [];
  const out = await run('ip', ['netns', 'pids', netns], { timeout: 10_000 }).then((r) => r.stdout, () => '');
  return out.split('\n').map((l) => Number.parseInt(l, 10)).filter((p) => Number.isInteger(p) && p > 0);
}

/**
 * Removes the topology: SIGKILLs what still runs in the nodes' namespaces (they are mk's: a
 * containerd or shim a failed teardown left), deletes the namespaces, the host veth ends and the
 * bridge (its routes go with it). Every step runs; failures are thrown together at the end.
 */
export async function teardownNodeNetwork(t: NodeNetwork, log: (line: string) => void = () => undefined): Promise<void> {
  const failures: string[] = [];
  for (const n of t.nodes) {
    const pids = await netnsPids(n.netns);
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (pids.length > 0) {
      log(`killed ${pids.length} leftover process(es) in ${n.netns}: ${pids.join(', ')}`);
      // A containerd killed without its teardown leaves its containers (their shims are gone, they
      // are not), their rootfs and shm mounts and the shims' sockets.
      await waitGone(pids, 5_000);
      const ctrDir = path.join(n.dataDir, 'containerd');
      await purgeContainerd({ dataDir: ctrDir, socketPath: path.join(ctrDir, 'containerd.sock') }).catch((e: Error) => failures.push(e.message));
    }
    if (existsSync(netnsPath(n.netns))) await ip(['netns', 'del', n.netns]).catch((e: Error) => failures.push(e.message));
    // The node's cgroups, once its pods are gone (a cgroup that still holds a process stays).
    const left = await removeCgroup(n.cgroupRoot).catch((e: Error) => [e.message]);
    if (left.length > 0) failures.push(`${left.length} cgroup(s) of ${n.name} still in use (${left[0]}, ...)`);
    // Deleting the namespace takes the veth's host end with it, a moment later: gone meanwhile is fine.
    if (await linkExists(n.hostVeth)) await ip(['link', 'del', n.hostVeth]).catch((e: Error) => { if (!/Cannot find device/.test(e.message)) failures.push(e.message); });
  }
  if (await linkExists(t.bridge)) await ip(['link', 'del', t.bridge]).catch((e: Error) => { if (!/Cannot find device/.test(e.message)) failures.push(e.message); });
  if (failures.length > 0) throw new ClusterError(`the nodes' network was not fully removed: ${failures.join('; ')}`);
  log(`removed the nodes' network (bridge ${t.bridge}, ${t.nodes.length} namespaces)`);
}

/** What credentials.json says of a cluster's nodes (the fields of Credentials this module reads). */
export interface NodesShape {
  nodeName: string;
  nodes?: number;
  nodeSubnet?: string;
}

/**
 * The node count and subnet of a cluster: as asked on its first start, as it was afterwards.
 * Throws ClusterError, before anything is written, when a later start asks for another.
 */
export function clusterNodes(paths: ClusterPaths, existing: NodesShape | undefined, opts: { nodes?: number; nodeSubnet?: string }): Omit<NodesShape, 'nodeName'> {
  if (opts.nodes !== undefined) checkNodeCount(opts.nodes);
  const had = existing ? existing.nodes ?? 1 : undefined;
  if (had !== undefined && opts.nodes !== undefined && opts.nodes !== had) {
    throw new ClusterError(`the cluster in ${paths.dataDir} has ${had} node${had === 1 ? '' : 's'}; it cannot be started with --nodes ${opts.nodes} `
      + `(run \`mk up\` without --nodes to resume it, or \`mk down --purge\` first to start a new one)`);
  }
  const nodes = had ?? opts.nodes ?? 1;
  if (nodes === 1) {
    if (opts.nodeSubnet !== undefined) throw new ClusterError('--node-subnet needs --nodes 2 or more (a single node runs in this machine\'s own network)');
    return {};
  }
  const subnet = existing?.nodeSubnet ?? opts.nodeSubnet ?? DEFAULT_NODE_SUBNET;
  if (existing && opts.nodeSubnet !== undefined && opts.nodeSubnet !== subnet) {
    throw new ClusterError(`the cluster in ${paths.dataDir} uses node subnet ${subnet}; --node-subnet cannot change it`);
  }
  hostAddressOf(subnet);
  return { nodes, nodeSubnet: subnet };
}

/** The names of the cluster's nodes: its node name, then `<name>-2`, `<name>-3`, ... */
export function clusterNodeNames(creds: NodesShape): string[] {
  return nodeNames(creds.nodeName, creds.nodes ?? 1);
}

/** Where nats-server listens: loopback, or for several nodes the host's address on their bridge. */
export function busHost(creds: Omit<NodesShape, 'nodeName'>): string {
  return (creds.nodes ?? 1) > 1 ? hostAddressOf(creds.nodeSubnet ?? DEFAULT_NODE_SUBNET) : '127.0.0.1';
}
