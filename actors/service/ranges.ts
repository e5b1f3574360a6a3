/**
 * The ranges Services draw from: the service CIDR their cluster IPs come from
 * (--service-cluster-ip-range, 10.96.0.0/12 by default) and the node port range
 * (--service-node-port-range, 30000-32767), with where a dynamic allocation starts looking. As
 * Kubernetes does since v1.27 (KEP-3070 for IPs, KEP-3668 for node ports), a range is split into a
 * lower band that dynamic allocation uses last, so that addresses and ports users choose by hand
 * rarely collide with ones handed out. Pure: no I/O.
 */
import { ValidationError } from '../../messages';
import { parseIpv4Cidr, type Ipv4Net } from '../node/cidr';

/** An IPv4 address as an unsigned 32-bit number; undefined when it is not one. */
export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** The dotted quad of an unsigned 32-bit number. */
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * A range of numbers (addresses or ports) allocation draws from: `first` to `first + size - 1`,
 * the first `lowerBand` of them kept for choices made by hand while any other is free.
 */
export interface AllocRange { first: number; size: number; lowerBand: number }

/**
 * Parses the service CIDR: an IPv4 network of at least 8 addresses (a /29; the network and
 * broadcast addresses are never handed out), at most a /12 apart from the mask. Throws
 * ValidationError naming `what`.
 */
export function parseServiceCidr(text: string, what: string): Ipv4Net {
  const net = parseIpv4Cidr(text, what);
  if (net.prefix > 29) throw new ValidationError(`${what}: "${text}" is too small for services: use a prefix of at most /29`);
  if (net.prefix < 8) throw new ValidationError(`${what}: "${text}" is too large: use a prefix of at least /8`);
  return net;
}

/** Parses a node port range `first-last` (1 to 65535, first <= last). Throws ValidationError naming `what`. */
export function parsePortRange(text: string, what: string): { first: number; last: number } {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  const first = m ? Number(m[1]) : NaN;
  const last = m ? Number(m[2]) : NaN;
  if (!m || first < 1 || last > 65535 || first > last) {
    throw new ValidationError(`${what}: "${text}" is not a port range such as 30000-32767 (first-last, within 1-65535)`);
  }
  return { first, last };
}

/** The cluster IPs of the service CIDR: every address but the network's and the broadcast. */
export function clusterIpRange(cidr: string): AllocRange {
  const net = parseServiceCidr(cidr, 'service cluster IP range');
  const size = 2 ** (32 - net.prefix) - 2;
  // KEP-3070: min(max(16, size/16), 256) addresses at the bottom.
  return { first: net.base + 1, size, lowerBand: Math.min(Math.max(16, Math.floor(size / 16)), 256, Math.floor(size / 2)) };
}

/** The node ports of a `first-last` range. */
export function nodePortRange(text: string): AllocRange {
  const { first, last } = parsePortRange(text, 'service node port range');
  const size = last - first + 1;
  // KEP-3668: min(max(16, size/32), 128) ports at the bottom.
  return { first, size, lowerBand: Math.min(Math.max(16, Math.floor(size / 32)), 128, Math.floor(size / 2)) };
}

/** Whether `n` lies in `r`. */
export function inRange(r: AllocRange, n: number): boolean {
  return n >= r.first && n < r.first + r.size;
}

/**
 * The order a dynamic allocation tries the numbers of `r` in: from a random point of the upper
 * band to its end, then from the start of the range (the lower band, then the rest of the upper
 * one), so every number comes once. `random` is for tests.
 */
export function* candidates(r: AllocRange, random: () => number = Math.random): Generator<number> {
  const upper = r.size - r.lowerBand;
  const start = upper > 0 ? r.lowerBand + Math.floor(random() * upper) : 0;
  for (let i = start; i < r.size; i++) yield r.first + i;
  for (let i = 0; i < start; i++) yield r.first + i;
}
