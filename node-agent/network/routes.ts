/**
 * Routes to the other nodes' pods (host-gw, as flannel's backend of that name): for every other
 * node, its pod CIDR via its InternalIP, read from the control plane's NODE_ROUTES_BUCKET and kept
 * up to date as nodes come and go. The routes are marked with their own protocol number
 * (ROUTE_PROTO), so mk finds exactly its own again after a restart and removes exactly those,
 * never a route someone else made. Needs the nodes on one L2 segment (one bridge, one switch):
 * the kernel refuses a gateway it cannot reach directly.
 *
 * Pods see each other's own addresses across nodes, as Kubernetes' network model asks
 * (https://kubernetes.io/docs/concepts/services-networking/#the-kubernetes-network-model): the CNI
 * bridge plugin masquerades whatever leaves the node's pod CIDR, so the chain MASQ_CHAIN, jumped to
 * first from nat POSTROUTING, accepts (ends nat POSTROUTING for) traffic from this node's pods to another node's.
 */
import { execFile, spawn } from 'node:child_process';
import * as os from 'node:os';
import { promisify } from 'node:util';
import { startInformer, type Informer, type ObjectStore } from '../../bus';
import type { NodeRoute } from '../../messages';
import { parseCidr } from './cni';

const run = promisify(execFile);

/** The routing protocol number mk's routes carry (`ip route ... proto 77`); 77 is "M". */
export const ROUTE_PROTO = 77;

/** One route: pods in `dst` via the node at `via`. */
export interface PodRoute { dst: string; via: string }

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
  const have = new Map(current.map((r) => [r.dst, r.via]));
  const want = new Set(desired.map((r) => r.dst));
  return {
    replace: desired.filter((r) => have.get(r.dst) !== r.via),
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

/** mk's routes in this network namespace (those of ROUTE_PROTO). Throws when `ip` fails. */
export async function listPodRoutes(): Promise<PodRoute[]> {
  const { stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'proto', String(ROUTE_PROTO)], { timeout: 10_000 });
  const rows = JSON.parse(stdout.trim() || '[]') as { dst?: string; gateway?: string }[];
  return rows.filter((r) => r.dst && r.gateway).map((r) => ({ dst: normalizeDst(r.dst!), via: r.gateway! }));
}

/** `ip` prints a /32 without its prefix. */
const normalizeDst = (dst: string): string => (dst.includes('/') ? dst : `${dst}/32`);

/**
 * Applies `plan` with `ip route replace|del ... proto ROUTE_PROTO`. Every change is tried; the
 * failures are thrown together at the end.
 */
export async function applyRoutes(plan: RoutePlan): Promise<void> {
  const failures: string[] = [];
  for (const r of plan.replace) {
    await run('ip', ['route', 'replace', r.dst, 'via', r.via, 'proto', String(ROUTE_PROTO)], { timeout: 10_000 })
      .catch((e: Error & { stderr?: string }) => failures.push(`route ${r.dst} via ${r.via}: ${(e.stderr || e.message).trim()}`));
  }
  for (const dst of plan.remove) {
    await run('ip', ['route', 'del', dst, 'proto', String(ROUTE_PROTO)], { timeout: 10_000 })
      .catch((e: Error & { stderr?: string }) => failures.push(`removing route ${dst}: ${(e.stderr || e.message).trim()}`));
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

function runWithInput(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed (${code}): ${stderr.trim()}`))));
    child.stdin.end(input);
  });
}

/**
 * Writes MASQ_CHAIN atomically (iptables-restore --noflush replaces only that chain) and makes sure
 * nat POSTROUTING jumps to it first. Throws with iptables' message on failure.
 */
export async function applyMasqueradeExceptions(podCIDR: string, routes: PodRoute[]): Promise<void> {
  await runWithInput('iptables-restore', ['--noflush', '-w', '5'], masqueradeExceptions(podCIDR, routes));
  const has = await run('iptables', ['-w', '5', '-t', 'nat', '-C', 'POSTROUTING', '-j', MASQ_CHAIN]).then(() => true, () => false);
  if (!has) await run('iptables', ['-w', '5', '-t', 'nat', '-I', 'POSTROUTING', '1', '-j', MASQ_CHAIN]);
}

/** Removes MASQ_CHAIN and the jump to it, when they exist. */
export async function removeMasqueradeExceptions(): Promise<void> {
  const ipt = (args: string[]) => run('iptables', ['-w', '5', '-t', 'nat', ...args]).then(() => true, () => false);
  while (await ipt(['-D', 'POSTROUTING', '-j', MASQ_CHAIN])) { /* every copy */ }
  if (await ipt(['-F', MASQ_CHAIN])) await ipt(['-X', MASQ_CHAIN]);
}

/** Removes every route of ROUTE_PROTO and the masquerade exceptions in this network namespace (teardown). */
export async function removePodRoutes(): Promise<void> {
  await removeMasqueradeExceptions();
  await applyRoutes(planRoutes(await listPodRoutes(), []));
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
  const pass = async (): Promise<void> => {
    if (stopped) return;
    // The node's own entry says its CIDR as soon as the control plane published it.
    const podCIDR = [...entries.values()].find((e) => e.name === opts.nodeName)?.podCIDR ?? opts.podCIDR?.();
    const want = desiredRoutes([...entries.values()], { name: opts.nodeName, podCIDR, addresses: localAddresses() });
    // Only a node with pods and other nodes to reach has exceptions to make (never the host).
    const wantMasq = podCIDR && want.length > 0 ? masqueradeExceptions(podCIDR, want) : '';
    if (wantMasq !== masq && (wantMasq || masq)) {
      try {
        if (podCIDR) await applyMasqueradeExceptions(podCIDR, wantMasq ? want : []);
        masq = wantMasq;
      } catch (err) {
        opts.log.warn({ node: opts.nodeName, err: String(err) }, 'masquerade exceptions not updated; retrying on the next pass');
      }
    }
    const plan = planRoutes(await listPodRoutes(), want);
    if (plan.replace.length === 0 && plan.remove.length === 0) return;
    try {
      await applyRoutes(plan);
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
