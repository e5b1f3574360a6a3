/**
 * The vxlan pod network, in the design of flannel's vxlan backend
 * (https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan): for nodes
 * that share no L2 segment, each node has one vxlan device (VXLAN_DEVICE, VNI 1, UDP 8472, no
 * learning, its underlay address the node's InternalIP) whose own address is its pod CIDR's
 * network address as a /32. For every other vxlan node the device gets, all static:
 *
 *   neighbor  <peer VTEP IP> lladdr <peer VTEP MAC> nud permanent    (no ARP across the tunnel)
 *   fdb       <peer VTEP MAC> dst <peer InternalIP> self permanent   (which node a MAC lives on)
 *   route     <peer pod CIDR> via <peer VTEP IP> dev mk.vxlan onlink proto 77
 *
 * A packet to a pod on node B is routed to B's VTEP IP on the device, which takes B's MAC from the
 * neighbor entry, wraps the frame in UDP and sends it to the InternalIP the FDB names for that
 * MAC. Everything on the device is mk's (it made the device), and its routes carry ROUTE_PROTO, so
 * a restarted agent finds exactly its own entries and teardown removes them with the device.
 * The pure functions here say what should be; the others list and change it with `ip` and `bridge`.
 */
import { POD_NETWORK_MODES, isUnicastMac, type PodNetworkMode } from '../../messages';
import { ValidationError } from '../../messages';
import { parseCidr } from './cni';
import { hostExec, type Exec } from './exec';

/** The vxlan device of the pod network. */
export const VXLAN_DEVICE = 'mk.vxlan';
/** The VXLAN network identifier (flannel's default). */
export const VXLAN_VNI = 1;
/** The UDP port of the tunnel: Linux's historic default, which flannel uses too (not IANA's 4789). */
export const VXLAN_PORT = 8472;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers: the device's MTU is its parent's less this. */
export const VXLAN_OVERHEAD = 50;

/** One neighbor (ARP) entry on the device: the VTEP at `ip` has `mac`. */
export interface VxlanNeighbor { ip: string; mac: string }
/** One forwarding entry on the device: frames to `mac` go in a UDP packet to `dst`. */
export interface VxlanFdb { mac: string; dst: string }

/** The static entries of the device. */
export interface VxlanEntries { neighbors: VxlanNeighbor[]; fdb: VxlanFdb[] }

/** What must change on the device: entries to add (or replace) and to remove. */
export interface VxlanPlan {
  neighbors: { replace: VxlanNeighbor[]; remove: VxlanNeighbor[] };
  fdb: { replace: VxlanFdb[]; remove: VxlanFdb[] };
}

/** A peer of the overlay, as its NodeRoute says. */
export interface VxlanPeer { podCIDR: string; internalIP: string; vtepMAC: string }

/** Parses a pod network mode; throws ValidationError naming `what` and the choices. */
export function parsePodNetworkMode(text: string, what = '--pod-network'): PodNetworkMode {
  if ((POD_NETWORK_MODES as readonly string[]).includes(text)) return text as PodNetworkMode;
  throw new ValidationError(`${what}: "${text}" is not a pod network; use ${POD_NETWORK_MODES.join(' or ')}`);
}

const ipString = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** The VTEP address of a node: its pod CIDR's network address (10.244.3.0 for 10.244.3.0/24). */
export function vtepAddress(podCIDR: string): string {
  return ipString(parseCidr(podCIDR).base);
}

/**
 * The MAC address mk gives the device of the node at `localIP`: locally administered, unicast,
 * `0e:6b` then the four bytes of the address. Fixed by the address, so a device made again (after
 * a restart, or removed by someone) keeps the MAC that the other nodes already know.
 */
export function vtepMacFor(localIP: string): string {
  const bytes = localIP.split('.').map(Number);
  if (bytes.length !== 4 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
    throw new ValidationError(`"${localIP}" is not an IPv4 address`);
  }
  return ['0e', '6b', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** The neighbor and FDB entries that reach `peers` (skipping any without a valid MAC). Sorted. */
export function desiredVxlanEntries(peers: VxlanPeer[]): VxlanEntries {
  const ok = peers.filter((p) => isUnicastMac(p.vtepMAC));
  return {
    neighbors: ok.map((p) => ({ ip: vtepAddress(p.podCIDR), mac: p.vtepMAC })).sort((a, b) => a.ip.localeCompare(b.ip)),
    fdb: ok.map((p) => ({ mac: p.vtepMAC, dst: p.internalIP })).sort((a, b) => a.mac.localeCompare(b.mac)),
  };
}

/**
 * The changes that turn the device's `current` entries into the `desired` ones: an entry whose
 * key (neighbor IP, FDB MAC) is wanted with other data is replaced; one whose key is not wanted
 * is removed. A peer that went, or moved, therefore loses exactly its own entries.
 */
export function planVxlan(current: VxlanEntries, desired: VxlanEntries): VxlanPlan {
  const diff = <T>(cur: T[], want: T[], key: (x: T) => string, same: (a: T, b: T) => boolean) => {
    const have = new Map(cur.map((x) => [key(x), x]));
    const keys = new Set(want.map(key));
    return {
      replace: want.filter((w) => { const h = have.get(key(w)); return !h || !same(h, w); }),
      remove: cur.filter((c) => !keys.has(key(c))),
    };
  };
  return {
    neighbors: diff(current.neighbors, desired.neighbors, (n) => n.ip, (a, b) => a.mac === b.mac),
    fdb: diff(current.fdb, desired.fdb, (f) => f.mac, (a, b) => a.dst === b.dst),
  };
}

/** Whether a plan changes nothing. */
export function emptyVxlanPlan(p: VxlanPlan): boolean {
  return p.neighbors.replace.length + p.neighbors.remove.length + p.fdb.replace.length + p.fdb.remove.length === 0;
}

interface LinkJson {
  ifname: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; learning?: boolean; link?: string } };
}

const parseJson = <T>(text: string): T => JSON.parse(text.trim() || '[]') as T;

/** The device as `ip -d` shows it, or undefined when there is none. */
async function showDevice(exec: Exec): Promise<LinkJson | undefined> {
  const links = await exec('ip', ['-j', '-d', 'link', 'show', 'dev', VXLAN_DEVICE]).then(parseJson<LinkJson[]>, (e: Error) => {
    if (/does not exist|Cannot find device/.test(e.message)) return [];
    throw e;
  });
  return links[0];
}

/**
 * The link holding `localIP` and its MTU. Throws ValidationError when no link of this namespace
 * has that address (the node's InternalIP must be one of its own addresses for vxlan).
 */
export async function parentOf(localIP: string, exec: Exec = hostExec): Promise<{ link: string; mtu: number }> {
  const links = parseJson<LinkJson[]>(await exec('ip', ['-j', '-4', 'addr', 'show']));
  const found = links.find((l) => l.addr_info?.some((a) => a.family === 'inet' && a.local === localIP));
  if (!found) {
    throw new ValidationError(`the node's InternalIP ${localIP} is on none of its links; the vxlan pod network sends from that address (set --node-ip to one of the node's own addresses)`);
  }
  return { link: found.ifname, mtu: found.mtu ?? 1500 };
}

/** The device as mk wants it on a node at `localIP`, sent out through `parent`. */
export interface VxlanDevice { mac: string; mtu: number; parent: string; localIP: string }

/**
 * Makes the device (or makes it again when it differs from what mk wants: VNI, port, local
 * address, parent, learning, MAC) and brings it up with the parent's MTU less VXLAN_OVERHEAD.
 * Returns its MAC. Throws with `ip`'s message when the kernel refuses (no vxlan module?).
 */
export async function ensureVxlanDevice(localIP: string, exec: Exec = hostExec): Promise<VxlanDevice> {
  const { link: parent, mtu: parentMtu } = await parentOf(localIP, exec);
  const mac = vtepMacFor(localIP);
  const mtu = parentMtu - VXLAN_OVERHEAD;
  const cur = await showDevice(exec);
  const d = cur?.linkinfo?.info_data;
  const fits = cur?.linkinfo?.info_kind === 'vxlan' && d?.id === VXLAN_VNI && d.local === localIP && d.port === VXLAN_PORT
    && d.learning === false && d.link === parent && cur.address === mac;
  if (cur && !fits) await exec('ip', ['link', 'del', 'dev', VXLAN_DEVICE]);
  if (!fits) {
    await exec('ip', [
      'link', 'add', VXLAN_DEVICE, 'address', mac, 'type', 'vxlan', 'id', String(VXLAN_VNI), 'local', localIP,
      'dstport', String(VXLAN_PORT), 'nolearning', 'dev', parent,
    ]);
  }
  if (!fits || cur?.mtu !== mtu || !cur.flags?.includes('UP')) await exec('ip', ['link', 'set', 'dev', VXLAN_DEVICE, 'mtu', String(mtu), 'up']);
  return { mac, mtu, parent, localIP };
}

/**
 * Gives the device `address`/32 as its only IPv4 address (its VTEP IP), removing any other (an
 * old pod CIDR's). Throws with `ip`'s message on failure.
 */
export async function setVtepAddress(address: string, exec: Exec = hostExec): Promise<void> {
  const links = parseJson<LinkJson[]>(await exec('ip', ['-j', '-4', 'addr', 'show', 'dev', VXLAN_DEVICE]));
  const have = (links[0]?.addr_info ?? []).filter((a) => a.family === 'inet');
  for (const a of have) {
    if (a.local !== address || a.prefixlen !== 32) await exec('ip', ['addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', VXLAN_DEVICE]);
  }
  if (!have.some((a) => a.local === address && a.prefixlen === 32)) await exec('ip', ['addr', 'replace', `${address}/32`, 'dev', VXLAN_DEVICE]);
}

/** The static (permanent) neighbor and FDB entries of the device; none when it does not exist. */
export async function listVxlanEntries(exec: Exec = hostExec): Promise<VxlanEntries> {
  if (!(await showDevice(exec))) return { neighbors: [], fdb: [] };
  const neigh = parseJson<{ dst?: string; lladdr?: string; state?: string[] }[]>(
    await exec('ip', ['-j', '-4', 'neigh', 'show', 'dev', VXLAN_DEVICE, 'nud', 'permanent']),
  );
  const fdb = parseJson<{ mac?: string; dst?: string; state?: string }[]>(await exec('bridge', ['-j', 'fdb', 'show', 'dev', VXLAN_DEVICE]));
  return {
    neighbors: neigh.filter((n) => n.dst && n.lladdr).map((n) => ({ ip: n.dst!, mac: n.lladdr! })),
    fdb: fdb.filter((f) => f.mac && f.dst && f.state === 'permanent' && f.mac !== '00:00:00:00:00:00').map((f) => ({ mac: f.mac!, dst: f.dst! })),
  };
}

/**
 * Applies `plan`: new entries first (neighbors, then FDB), then removals. Every change is tried;
 * the failures are thrown together at the end.
 */
export async function applyVxlanPlan(plan: VxlanPlan, exec: Exec = hostExec): Promise<void> {
  const failures: string[] = [];
  const tryRun = (what: string, cmd: string, args: string[]) => exec(cmd, args).then(() => undefined, (e: Error) => { failures.push(`${what}: ${e.message}`); });
  for (const n of plan.neighbors.replace) {
    await tryRun(`neighbor ${n.ip}`, 'ip', ['neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', VXLAN_DEVICE, 'nud', 'permanent']);
  }
  for (const f of plan.fdb.replace) {
    await tryRun(`fdb ${f.mac}`, 'bridge', ['fdb', 'replace', f.mac, 'dev', VXLAN_DEVICE, 'dst', f.dst, 'self', 'permanent']);
  }
  for (const n of plan.neighbors.remove) await tryRun(`removing neighbor ${n.ip}`, 'ip', ['neigh', 'del', n.ip, 'dev', VXLAN_DEVICE]);
  for (const f of plan.fdb.remove) {
    await tryRun(`removing fdb ${f.mac}`, 'bridge', ['fdb', 'del', f.mac, 'dev', VXLAN_DEVICE, 'dst', f.dst, 'self']);
  }
  if (failures.length > 0) throw new Error(failures.join('; '));
}

/** Removes the device, and with it every neighbor, FDB entry and route on it. No-op when absent. */
export async function removeVxlanDevice(exec: Exec = hostExec): Promise<boolean> {
  if (!(await showDevice(exec))) return false;
  await exec('ip', ['link', 'del', 'dev', VXLAN_DEVICE]).catch((e: Error) => { if (!/Cannot find device/.test(e.message)) throw e; });
  return true;
}
