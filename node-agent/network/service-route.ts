/**
 * A route for the service CIDR on a node that has none. Cluster IPs live on no interface: a packet
 * to one is routed first and DNATed to an endpoint by the service proxy's nat rules. A node with
 * a default route (every ordinary machine) routes it out and the DNAT happens on the way; a node
 * without one (an isolated machine, the e2e tests' nodes) refuses the connect with "Network is
 * unreachable" before any rule sees it, so neither the node's own processes reach cluster IPs nor
 * does a service without endpoints answer "Connection refused" (its REJECT sits after the route
 * lookup).
 *
 * Such a node gets `<service CIDR> dev SERVICE_DEVICE proto ROUTE_PROTO`: SERVICE_DEVICE is a
 * device of its own with no address and nothing behind it (a dummy, or an empty bridge where the
 * kernel has no dummy driver), as kube-proxy's IPVS mode keeps kube-ipvs0. Not the pod bridge: a
 * pod's packet that the node routes back out of the interface it came in on makes the kernel send
 * the pod an ICMP redirect ("the cluster IP is on your link"), which the pod obeys (it then asks
 * ARP for the cluster IP and waits), and which spends the per-host ICMP allowance, so the REJECT's
 * "port unreachable" right after it is never sent: the connect timed out instead of being refused.
 * A node whose routes already cover the range is left as it is.
 */
import { ValidationError } from '../../messages/errors';
import { parseCidr } from './cni';
import { hostExec, type Exec } from './exec';
import { ROUTE_PROTO } from './routes';

/** The service CIDR when the node is not told (the control plane's default). */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

/** The device the service CIDR is routed to (it carries no address; packets that reach it are dropped). */
export const SERVICE_DEVICE = 'mk-services';

const ipString = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/**
 * The range `serviceCIDR` names, as `ip` prints it (host bits cleared), and its first address.
 * Throws ValidationError for anything but an IPv4 CIDR of /8 to /30.
 */
export function serviceRouteTarget(serviceCIDR: string): { dst: string; probe: string } {
  let parsed: { base: number; prefix: number };
  try {
    parsed = parseCidr(serviceCIDR);
  } catch {
    throw new ValidationError(`service CIDR "${serviceCIDR}" is not an IPv4 CIDR with a prefix of /8 to /30`);
  }
  return { dst: `${ipString(parsed.base)}/${parsed.prefix}`, probe: ipString(parsed.base + 1) };
}

/**
 * What ensureServiceRoute found: `added` (it made the route), `present` (mk's route was there
 * already, as after a restart), `covered` (another route leads there, or someone keeps a route for
 * exactly that range: left as it is).
 */
export type ServiceRouteState = 'added' | 'present' | 'covered';

const parseJson = <T>(text: string): T => JSON.parse(text.trim() || '[]') as T;

/**
 * Makes SERVICE_DEVICE (up) and the route to it when no route covers the range's first address.
 * Throws ValidationError for a malformed CIDR and `ip`'s error when the device or route cannot
 * be made.
 */
export async function ensureServiceRoute(serviceCIDR: string, exec: Exec = hostExec): Promise<ServiceRouteState> {
  const { dst, probe } = serviceRouteTarget(serviceCIDR);
  const via = await exec('ip', ['-j', '-4', 'route', 'get', probe])
    .then((out) => parseJson<{ dev?: string }[]>(out)[0]?.dev ?? '', () => undefined);
  if (via === SERVICE_DEVICE) return 'present';
  if (via !== undefined) return 'covered';
  await exec('ip', ['link', 'add', SERVICE_DEVICE, 'type', 'dummy']).catch(async (e: Error) => {
    if (/File exists/.test(e.message)) return;
    // No dummy driver (some minimal kernels): a bridge without ports drops what it is sent, too.
    if (!/Unknown device type|not supported/i.test(e.message)) throw e;
    await exec('ip', ['link', 'add', SERVICE_DEVICE, 'type', 'bridge']).catch((e2: Error) => { if (!/File exists/.test(e2.message)) throw e2; });
  });
  await exec('ip', ['link', 'set', 'dev', SERVICE_DEVICE, 'up']);
  try {
    await exec('ip', ['route', 'add', dst, 'dev', SERVICE_DEVICE, 'proto', String(ROUTE_PROTO)]);
  } catch (e) {
    // A route for exactly this range that leads nowhere (blackhole, unreachable): someone's choice.
    if (/File exists/.test((e as Error).message)) return 'covered';
    throw e;
  }
  return 'added';
}

/** Removes SERVICE_DEVICE and with it the route to it; nothing when it is not there. */
export async function removeServiceRoute(exec: Exec = hostExec): Promise<boolean> {
  return exec('ip', ['link', 'del', 'dev', SERVICE_DEVICE]).then(() => true, (e: Error) => {
    if (/Cannot find device|does not exist/.test(e.message)) return false;
    throw e;
  });
}

/** Options of keepServiceRoute. */
export interface KeepServiceRouteOptions {
  serviceCIDR: string;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** After a failed try (default 5 s). */
  retryMs?: number;
  /** Between checks that bring back a route someone removed (default 30 s). */
  resyncMs?: number;
  exec?: Exec;
}

/**
 * ensureServiceRoute now, again `retryMs` after a failure and every `resyncMs` after a success.
 * Logs each route it makes, and each new failure or finding once. Throws ValidationError at once for a malformed
 * CIDR. stop() ends the checks; the route stays (teardown removes it: removeServiceRoute).
 */
export function keepServiceRoute(o: KeepServiceRouteOptions): { stop(): void } {
  serviceRouteTarget(o.serviceCIDR);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let last = '';
  const attempt = (): void => {
    ensureServiceRoute(o.serviceCIDR, o.exec).then((state) => {
      if (state === 'added') o.log.info({ serviceCIDR: o.serviceCIDR, dev: SERVICE_DEVICE }, 'no route led to the cluster IPs: routed them to their own device');
      else if (state === 'covered' && last !== state) o.log.info({ serviceCIDR: o.serviceCIDR }, 'the node\'s routes lead to the cluster IPs: no route of mk\'s needed');
      last = state;
      return o.resyncMs ?? 30_000;
    }, (err: Error) => {
      if (err.message !== last) o.log.warn({ serviceCIDR: o.serviceCIDR, err: err.message }, 'no route to the cluster IPs yet; trying again');
      last = err.message;
      return o.retryMs ?? 5_000;
    }).then((ms) => {
      if (stopped) return;
      timer = setTimeout(attempt, ms);
      timer.unref();
    }, () => undefined);
  };
  attempt();
  return { stop: () => { stopped = true; clearTimeout(timer); } };
}
