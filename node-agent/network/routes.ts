/**
 * Routes to the other nodes' pods (host-gw, as flannel's backend of that name): for every other
 * node, its pod CIDR via its InternalIP, read from the control plane's NODE_ROUTES_BUCKET and kept
 * up to date as nodes come and go. The routes are marked with their own protocol number
 * (ROUTE_PROTO), so mk finds exactly its own again after a restart and removes exactly those,
 * never a route someone else made. Needs the nodes on one L2 segment (one bridge, one switch):
 * the kernel refuses a gateway it cannot reach directly. Nodes on different subnets use the vxlan
 * backend instead (mode `vxlan`, vxlan.ts): the same sync then routes each pod CIDR onlink through
 * the node's vxlan device and keeps the device's neighbor and FDB entries.
 *
 * Pods see each other's own addresses across nodes, as Kubernetes' network model asks
 * (https://kubernetes.io/docs/concepts/services-networking/#the-kubernetes-network-model): the CNI
 * bridge plugin masquerades whatever leaves the node's pod CIDR, so the chain MASQ_CHAIN, jumped to
 * first from nat POSTROUTING, accepts (ends nat POSTROUTING for) traffic from this node's pods to another node's.
 */
import * as os from 'node:os';
import { startInformer, type Informer, type ObjectStore } from '../../bus';
import type { NodeRoute, PodNetworkMode } from '../../messages';
import { parseCidr } from './cni';
import { hostExec, type Exec } from './exec';
import {
  applyVxlanPlan, desiredVxlanEntries, emptyVxlanPlan, ensureVxlanDevice, listVxlanEntries, planVxlan, removeVxlanDevice,
  setVtepAddress, vtepAddress, VXLAN_DEVICE,
} from './vxlan';

/** The routing protocol number mk's routes carry (`ip route ... proto 77`); 77 is "M". */
export const ROUTE_PROTO = 77;

/**
 * One route: pods in `dst` via the node at `via` (host-gw), or, `onlink`, via the VTEP address
 * `via` on the vxlan device (VXLAN_DEVICE).
 */
export interface PodRoute { dst: string; via: string; onlink?: boolean }

/** What the routes of a node must be, and what must change to get there. */
export interface RoutePlan { replace: PodRoute[]; remove: string[] }

/**
 * The routes a node wants: every other node's pod CIDR via its address, skipping its own CIDR,
 * nodes that live at one of its own addresses (two agents sharing one network namespace already
 * reach each other's bridges directly) and entries that are not valid IPv4. Sorted by dst.
 */
export function desiredRoutes(entries: NodeRoute[], self: { name?: string; podCIDR?: string; addresses: string[] }): PodRoute[] {
  const own = new Set(self.addresses);
  const out = new Map<string, PodRoute>();
  for (const e of entries) {
    if (e.name === self.name || e.podCIDR === self.podCIDR || own.has(e.internalIP)) continue;
    if (!validCidr(e.podCIDR) || !/^\d{1,3}(\.\d{1,3}){3}$/.test(e.internalIP)) continue;
    out.set(e.podCIDR, { dst: e.podCIDR, via: e.internalIP });
  }
  return [...out.values()].sort((a, b) => a.dst.localeCompare(b.dst));
}

/** The changes that turn the `current` routes (those of ROUTE_PROTO) into the `desired` ones. */
export function planRoutes(current: PodRoute[], desired: PodRoute[]): RoutePlan {
  const have = new Map(current.map((r) => [r.dst, r]));
  const want = new Set(desired.map((r) => r.dst));
  return {
    replace: desired.filter((r) => { const h = have.get(r.dst); return h?.via !== r.via || !!h.onlink !== !!r.onlink; }),
    remove: current.filter((r) => !want.has(r.dst)).map((r) => r.dst),
  };
}

function validCidr(cidr: string): boolean {
  try {
    parseCidr(cidr);
    return true;
  } catch {
    return false;
  }
}

/** IPv4 addresses of this network namespace. */
export function localAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((a) => a ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address);
}

/**
 * The routes the vxlan pod network wants: every other vxlan node's pod CIDR via its VTEP address
 * on the device, with the neighbor and FDB entries behind them. Peers are chosen as desiredRoutes
 * chooses them; one that publishes no VTEP MAC (a host-gw node) is left out and named in `missing`.
 */
export function desiredVxlanRoutes(entries: NodeRoute[], self: { name?: string; podCIDR?: string; addresses: string[] }) {
  const byCidr = new Map(entries.map((e) => [e.podCIDR, e]));
  const peers = desiredRoutes(entries, self).map((r) => byCidr.get(r.dst)!);
  const reachable = peers.filter((p) => p.vtepMAC);
  return {
    routes: reachable.map((p): PodRoute => ({ dst: p.podCIDR, via: vtepAddress(p.podCIDR), onlink: true })),
    entries: desiredVxlanEntries(reachable.map((p) => ({ podCIDR: p.podCIDR, internalIP: p.internalIP, vtepMAC: p.vtepMAC! }))),
    missing: peers.filter((p) => !p.vtepMAC).map((p) => p.name),
  };
}

/** mk's routes in this network namespace (those of ROUTE_PROTO). Throws when `ip` fails. */
export async function listPodRoutes(exec: Exec = hostExec): Promise<PodRoute[]> {
  const stdout = await exec('ip', ['-j', '-4', 'route', 'show', 'proto', String(ROUTE_PROTO)]);
  const rows = JSON.parse(stdout.trim() || '[]') as { dst?: string; gateway?: string; dev?: string }[];
  return rows.filter((r) => r.dst && r.gateway)
    .map((r) => ({ dst: normalizeDst(r.dst!), via: r.gateway!, ...(r.dev === VXLAN_DEVICE ? { onlink: true } : {}) }));
}

/** `ip` prints a /32 without its prefix. */
const normalizeDst = (dst: string): string => (dst.includes('/') ? dst : `${dst}/32`);

/**
 * Applies `plan` with `ip route replace|del ... proto ROUTE_PROTO`. Every change is tried; the
 * failures are thrown together at the end. A host-gw route whose gateway the kernel cannot reach
 * directly is refused with a message that says why (the nodes share no L2 segment) and what to do.
 */
export async function applyRoutes(plan: RoutePlan, exec: Exec = hostExec): Promise<void> {
  const failures: string[] = [];
  for (const r of plan.replace) {
    const args = r.onlink
      ? ['route', 'replace', r.dst, 'via', r.via, 'dev', VXLAN_DEVICE, 'onlink', 'proto', String(ROUTE_PROTO)]
      : ['route', 'replace', r.dst, 'via', r.via, 'proto', String(ROUTE_PROTO)];
    await exec('ip', args).catch((e: Error) => {
      const unreachable = !r.onlink && /invalid gateway|unreachable/i.test(e.message);
      failures.push(`route ${r.dst} via ${r.via}: ${e.message}${unreachable
        ? ` (host-gw needs every node on one L2 segment and ${r.via} is not on any of this node's; run the cluster with --pod-network vxlan)`
        : ''}`);
    });
  }
  for (const dst of plan.remove) {
    await exec('ip', ['route', 'del', dst, 'proto', String(ROUTE_PROTO)]).catch((e: Error) => failures.push(`removing route ${dst}: ${e.message}`));
  }
  if (failures.length > 0) throw new Error(failures.join('; '));
}

/** The nat chain that exempts pod-to-pod traffic between nodes from the CNI plugin's masquerade. */
export const MASQ_CHAIN = 'MK-POD-NETWORK';

/** The iptables-restore input that makes MASQ_CHAIN hold one ACCEPT per other node's pod CIDR. */
export function masqueradeExceptions(podCIDR: string, routes: PodRoute[]): string {
  return [
    '*nat',
    `:${MASQ_CHAIN} - [0:0]`,
    ...routes.map((r) => `-A ${MASQ_CHAIN} -s ${podCIDR} -d ${r.dst} -m comment --comment "mk: pod to pod across nodes keeps its source" -j ACCEPT`),
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Writes MASQ_CHAIN atomically (iptables-restore --noflush replaces only that chain) and makes sure
 * nat POSTROUTING jumps to it first. Throws with iptables' message on failure.
 */
export async function applyMasqueradeExceptions(podCIDR: string, routes: PodRoute[], exec: Exec = hostExec): Promise<void> {
  await exec('iptables-restore', ['--noflush', '-w', '5'], masqueradeExceptions(podCIDR, routes))
    .catch((e: Error) => { throw new Error(`iptables-restore failed: ${e.message}`); });
  const has = await exec('iptables', ['-w', '5', '-t', 'nat', '-C', 'POSTROUTING', '-j', MASQ_CHAIN]).then(() => true, () => false);
  if (!has) await exec('iptables', ['-w', '5', '-t', 'nat', '-I', 'POSTROUTING', '1', '-j', MASQ_CHAIN]);
}

/** Removes MASQ_CHAIN and the jump to it, when they exist. */
export async function removeMasqueradeExceptions(exec: Exec = hostExec): Promise<void> {
  const ipt = (args: string[]) => exec('iptables', ['-w', '5', '-t', 'nat', ...args]).then(() => true, () => false);
  while (await ipt(['-D', 'POSTROUTING', '-j', MASQ_CHAIN])) { /* every copy */ }
  if (await ipt(['-F', MASQ_CHAIN])) await ipt(['-X', MASQ_CHAIN]);
}

/**
 * Removes every route of ROUTE_PROTO, the masquerade exceptions and the vxlan device (with its
 * neighbor and FDB entries) in this network namespace (teardown).
 */
export async function removePodRoutes(exec: Exec = hostExec): Promise<void> {
  await removeMasqueradeExceptions(exec);
  await applyRoutes(planRoutes(await listPodRoutes(exec), []), exec);
  await removeVxlanDevice(exec);
}

/** Options of startRouteSync. */
export interface RouteSyncOptions {
  /** NODE_ROUTES_BUCKET, opened read-only. */
  routes: ObjectStore;
  /** This node's name; undefined on a machine that is no node (the host of `mk up --nodes N`). */
  nodeName?: string;
  /** This node's pod CIDR, when it has one yet. */
  podCIDR?: () => string | undefined;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Between full passes that repair routes someone removed (default 30 s). */
  resyncMs?: number;
  /** The backend (default host-gw). A host-gw pass removes a vxlan device left by an earlier run. */
  mode?: PodNetworkMode;
  /** With mode vxlan: the node's InternalIP, the underlay address of its vxlan device. */
  localIP?: string;
  /** Runs `ip`, `bridge` and `iptables` (default: in this process's network namespace). */
  exec?: Exec;
  /** The IPv4 addresses of the namespace the routes are made in (default localAddresses()). */
  addresses?: () => string[];
}

/** A running route sync. */
export interface RouteSync {
  /** Brings the routes in line now (also run on every change of the bucket). */
  sync(): Promise<void>;
  /** Stops watching; the routes stay (a restarted agent keeps them, teardown removes them). */
  stop(): Promise<void>;
}

/**
 * Watches the node routes and keeps this namespace's routes to match: a pass lists the routes of
 * ROUTE_PROTO, compares them with what the entries ask for and changes only the difference.
 * Passes never overlap. Throws what the first listing of the bucket throws.
 */
export async function startRouteSync(opts: RouteSyncOptions): Promise<RouteSync> {
  const entries = new Map<string, NodeRoute>();
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  /** The exceptions last written (own CIDR and routes), so an unchanged set is not written again. */
  let masq = '';
  const exec = opts.exec ?? hostExec;
  const mode = opts.mode ?? 'host-gw';
  const addresses = opts.addresses ?? localAddresses;
  /** The peers last reported as unreachable over vxlan, so the warning is not repeated every pass. */
  let missingLogged = '';
  let firstPass = true;
  /** vxlan: the device, its address and its entries; returns the routes wanted. */
  const vxlanPass = async (all: NodeRoute[], podCIDR: string | undefined): Promise<PodRoute[]> => {
    const localIP = opts.localIP ?? all.find((e) => e.name === opts.nodeName)?.internalIP;
    if (!localIP) throw new Error('the vxlan pod network needs the node\'s InternalIP; it is not known yet');
    await ensureVxlanDevice(localIP, exec);
    if (podCIDR) await setVtepAddress(vtepAddress(podCIDR), exec);
    const want = desiredVxlanRoutes(all, { name: opts.nodeName, podCIDR, addresses: addresses() });
    const missing = want.missing.join(',');
    if (missing && missing !== missingLogged) {
      opts.log.warn({ node: opts.nodeName, peers: want.missing }, 'nodes without a VTEP (not in vxlan mode) are not reachable over the vxlan pod network');
    }
    missingLogged = missing;
    const plan = planVxlan(await listVxlanEntries(exec), want.entries);
    if (!emptyVxlanPlan(plan)) {
      try {
        await applyVxlanPlan(plan, exec);
        opts.log.info({ node: opts.nodeName, ...plan }, 'vxlan neighbors and forwarding entries updated');
      } catch (err) {
        opts.log.warn({ node: opts.nodeName, err: String(err) }, 'vxlan entries not all updated; retrying on the next pass');
      }
    }
    return want.routes;
  };
  const pass = async (): Promise<void> => {
    if (stopped) return;
    const all = [...entries.values()];
    // The node's own entry says its CIDR as soon as the control plane published it.
    const podCIDR = all.find((e) => e.name === opts.nodeName)?.podCIDR ?? opts.podCIDR?.();
    // Only a node's own namespace may hold its device (the host of `mk up --nodes N` never does).
    if (mode === 'host-gw' && firstPass && opts.nodeName && await removeVxlanDevice(exec)) {
      opts.log.info({ node: opts.nodeName }, 'vxlan device of an earlier run removed: this node runs host-gw');
    }
    firstPass = false;
    const want = mode === 'vxlan'
      ? await vxlanPass(all, podCIDR)
      : desiredRoutes(all, { name: opts.nodeName, podCIDR, addresses: addresses() });
    // Only a node with pods and other nodes to reach has exceptions to make (never the host).
    const wantMasq = podCIDR && want.length > 0 ? masqueradeExceptions(podCIDR, want) : '';
    if (wantMasq !== masq && (wantMasq || masq)) {
      try {
        if (podCIDR) await applyMasqueradeExceptions(podCIDR, wantMasq ? want : [], exec);
        masq = wantMasq;
      } catch (err) {
        opts.log.warn({ node: opts.nodeName, err: String(err) }, 'masquerade exceptions not updated; retrying on the next pass');
      }
    }
    const plan = planRoutes(await listPodRoutes(exec), want);
    if (plan.replace.length === 0 && plan.remove.length === 0) return;
    try {
      await applyRoutes(plan, exec);
      opts.log.info({ node: opts.nodeName, replaced: plan.replace, removed: plan.remove }, 'pod routes updated');
    } catch (err) {
      opts.log.warn({ node: opts.nodeName, err: String(err) }, 'pod routes not all updated; retrying on the next pass');
    }
  };
  const sync = (): Promise<void> => {
    running = running.then(pass).catch((err) => opts.log.warn({ node: opts.nodeName, err: String(err) }, 'pod route pass failed'));
    return running;
  };
  // The first listing arrives entry by entry: passes wait for all of it, so a restarted agent never
  // removes a route that a later entry of the same listing asks for.
  let listed = false;
  const informer: Informer = await startInformer<NodeRoute>(opts.routes, '>', (ev) => {
    if (ev.object) entries.set(ev.key, ev.object); else entries.delete(ev.key);
    if (listed) void sync();
  });
  listed = true;
  const timer = setInterval(() => { void sync(); }, opts.resyncMs ?? 30_000);
  timer.unref();
  await sync();
  return {
    sync,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await informer.stop();
      await running;
    },
  };
}
