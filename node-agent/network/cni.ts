/**
 * The node's CNI network: a bridge on the node's pod CIDR (host-local IPAM), with port mappings
 * through portmap. containerd's CRI plugin reads the conflist from its conf_dir and runs the
 * plugins from bin_dir; it adds the loopback interface itself (the `loopback` binary must exist).
 * Plugins: https://www.cni.dev/plugins/current/main/bridge/ , .../ipam/host-local/ , .../meta/portmap/
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../messages/errors';

/** Plugins the conflist and containerd need in the CNI bin dir. */
export const REQUIRED_CNI_PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'] as const;

/** Inputs of the node's CNI config. */
export interface CniConfigOptions {
  /** The node's pod CIDR, e.g. 10.244.1.0/24 (IPv4). The first address is the bridge gateway. */
  podCIDR: string;
  /** Bridge device name (<= 15 chars), e.g. mk0. */
  bridge: string;
  /** host-local's allocation dir: per node, or two nodes on one machine share IPs. */
  dataDir: string;
  /** Network name (default `mk`): also names CNI's result cache entries. */
  name?: string;
  /** The pods' (and the bridge's) MTU; the vxlan pod network gives its device's (default: the kernel's, 1500). */
  mtu?: number;
}

/** Options of `writeCniConfig`. */
export interface WriteCniConfigOptions extends CniConfigOptions {
  /** containerd's CNI conf_dir; other conflists there are removed (CRI loads only the first). */
  confDir: string;
}

/** Parses an IPv4 CIDR; throws ValidationError when malformed. */
export function parseCidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || prefix < 8 || prefix > 30) {
    throw new ValidationError(`pod CIDR "${cidr}" is not an IPv4 CIDR with a prefix of /8 to /30`);
  }
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}

const ipString = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** The gateway (bridge) address of a pod CIDR: its first host address. */
export function gatewayOf(podCIDR: string): string {
  return ipString(parseCidr(podCIDR).base + 1);
}

/**
 * Builds the conflist object: bridge (gateway, masquerade, hairpin for a pod reaching itself
 * through a service) with host-local IPAM on the pod CIDR, then portmap for hostPort.
 * Throws ValidationError for a bad CIDR or bridge name.
 */
export function buildCniConfig(o: CniConfigOptions): Record<string, unknown> {
  const { base, prefix } = parseCidr(o.podCIDR);
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(o.bridge)) throw new ValidationError(`bridge name "${o.bridge}" must be 1-15 characters of [a-zA-Z0-9_.-]`);
  const name = o.name ?? 'mk';
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new ValidationError(`CNI network name "${name}" has characters CNI does not allow`);
  return {
    cniVersion: '0.4.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge: o.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ...(o.mtu ? { mtu: o.mtu } : {}),
        ipam: {
          type: 'host-local',
          dataDir: o.dataDir,
          ranges: [[{ subnet: `${ipString(base)}/${prefix}`, gateway: ipString(base + 1) }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/**
 * Writes the node's conflist into `confDir` (atomically, as 10-<name>.conflist) and removes any
 * other config there, because CRI uses only the first file in name order. Returns its path.
 * Throws ValidationError for bad inputs.
 */
export async function writeCniConfig(o: WriteCniConfigOptions): Promise<string> {
  const config = buildCniConfig(o);
  await mkdir(o.confDir, { recursive: true });
  await mkdir(o.dataDir, { recursive: true });
  const file = path.join(o.confDir, `10-${config.name as string}.conflist`);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`);
  await rename(tmp, file);
  for (const f of await readdir(o.confDir)) {
    const p = path.join(o.confDir, f);
    if (p !== file && /\.(conf|conflist|json)$/.test(f)) await rm(p, { force: true });
  }
  return file;
}

/** Names of the required CNI plugins missing from `binDir` (empty when all are there). */
export function missingCniPlugins(binDir = '/usr/lib/cni'): string[] {
  return REQUIRED_CNI_PLUGINS.filter((p) => !existsSync(path.join(binDir, p)));
}

/**
 * Throws ValidationError naming the missing plugins when `binDir` lacks one that mk needs
 * (Debian's containernetworking-plugins package installs them all in /usr/lib/cni).
 */
export function assertCniPlugins(binDir = '/usr/lib/cni'): void {
  const missing = missingCniPlugins(binDir);
  if (missing.length > 0) {
    throw new ValidationError(`CNI plugins missing from ${binDir}: ${missing.join(', ')} (install containernetworking-plugins)`);
  }
}

/**
 * Removes CNI's cached results of network `name` (libcni keeps them in /var/lib/cni/results as
 * `<name>-<containerId>-<ifname>`). CNI DEL removes its own entry; this is for teardown after a
 * crash. Returns the files removed.
 */
export async function removeCniResultCache(name: string, cacheDir = '/var/lib/cni/results'): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(cacheDir);
  } catch {
    return [];
  }
  // Exact shape, so network `mk` never matches another network called `mk-x`.
  const mine = files.filter((f) => f.startsWith(`${name}-`) && /^[0-9a-f]{64}-[^-]+$/.test(f.slice(name.length + 1)));
  await Promise.all(mine.map((f) => rm(path.join(cacheDir, f), { force: true })));
  return mine;
}
