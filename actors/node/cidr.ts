/**
 * Pod CIDRs for nodes, like kube-controller-manager's range allocator: the cluster CIDR
 * (--cluster-cidr) is cut into equal node ranges of --node-cidr-mask-size bits, and each node
 * gets one. The allocator keeps which ranges are taken in memory, rebuilt from the nodes in the
 * store when the controller starts, so handing one out or taking one back costs O(log n) and
 * never lists the nodes (https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/).
 * IPv4 only. Pure: no I/O.
 */
import { ValidationError } from '../../messages';

/** Kubernetes' limit (cidrset's clusterSubnetMaxDiff): at most 2^16 node ranges in a cluster CIDR. */
export const MAX_NODE_RANGE_BITS = 16;

/** An IPv4 network: its first address as an unsigned 32-bit number and its prefix length. */
export interface Ipv4Net { base: number; prefix: number }

const ipToInt = (ip: string): number | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
};

const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/**
 * Parses an IPv4 CIDR that names a network (no host bits set). Throws ValidationError naming
 * `what` otherwise, with the network address to use when only the host bits are wrong.
 */
export function parseIpv4Cidr(text: string, what: string): Ipv4Net {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  const base = m ? ipToInt(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (base === undefined || !(prefix >= 0 && prefix <= 32)) {
    throw new ValidationError(`${what}: "${text}" is not an IPv4 CIDR such as 10.244.0.0/16 (IPv6 is not supported)`);
  }
  const size = 2 ** (32 - prefix);
  const network = Math.floor(base / size) * size;
  if (network !== base) throw new ValidationError(`${what}: "${text}" has host bits set; did you mean ${intToIp(network)}/${prefix}?`);
  return { base, prefix };
}

/**
 * Checks a node mask size against the cluster's prefix: longer than it, at most 32, and giving at
 * most 2^16 ranges. Throws ValidationError naming `what`.
 */
export function checkNodeMaskSize(mask: number, cluster: Ipv4Net, what: string): void {
  if (!Number.isInteger(mask) || mask < 1 || mask > 32) throw new ValidationError(`${what}: ${mask} must be a whole number from 1 to 32`);
  if (mask <= cluster.prefix) {
    throw new ValidationError(`${what}: ${mask} must be longer than the cluster CIDR's prefix /${cluster.prefix}, so that it holds more than one node range`);
  }
  if (mask - cluster.prefix > MAX_NODE_RANGE_BITS) {
    throw new ValidationError(`${what}: ${mask} cuts a /${cluster.prefix} into 2^${mask - cluster.prefix} node ranges; at most 2^${MAX_NODE_RANGE_BITS} are allowed (use a mask of at most ${cluster.prefix + MAX_NODE_RANGE_BITS})`);
  }
}

/**
 * Which node ranges of a cluster CIDR are taken. A segment tree of free counts finds the first
 * free range at or after a cursor in O(log n); the cursor moves on after each allocation, so a
 * range just released is not handed out again at once (as cidrset's nextCandidate does).
 */
export class CidrAllocator {
  readonly count: number;
  private readonly size: number;
  /** tree[i]: free ranges under node i; leaves at size + index. */
  private readonly tree: Int32Array;
  private cursor = 0;
  private readonly cluster: Ipv4Net;

  /** Throws ValidationError for a bad cluster CIDR or mask size. */
  constructor(readonly clusterCidr: string, readonly maskSize: number) {
    this.cluster = parseIpv4Cidr(clusterCidr, 'cluster CIDR');
    checkNodeMaskSize(maskSize, this.cluster, 'node CIDR mask size');
    this.count = 2 ** (maskSize - this.cluster.prefix);
    let size = 1;
    while (size < this.count) size *= 2;
    this.size = size;
    this.tree = new Int32Array(2 * size);
    for (let i = 0; i < this.count; i++) this.tree[size + i] = 1;
    for (let i = size - 1; i >= 1; i--) this.tree[i] = this.tree[2 * i] + this.tree[2 * i + 1];
  }

  /** Ranges not taken. */
  get free(): number {
    return this.tree[1];
  }

  /** The CIDR of range `index`. */
  cidrAt(index: number): string {
    return `${intToIp(this.cluster.base + index * 2 ** (32 - this.maskSize))}/${this.maskSize}`;
  }

  /** The index of `cidr` among the ranges, or undefined when it is not one of them. */
  indexOf(cidr: string): number | undefined {
    const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr);
    const ip = m ? ipToInt(m[1]) : undefined;
    if (ip === undefined || Number(m![2]) !== this.maskSize) return undefined;
    const step = 2 ** (32 - this.maskSize);
    const off = ip - this.cluster.base;
    if (off < 0 || off % step !== 0 || off / step >= this.count) return undefined;
    return off / step;
  }

  /** Marks `cidr` taken (a node holds it). False when it is not a range of this cluster CIDR. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.set(i, 0);
    return true;
  }

  /** Gives `cidr` back (its node is gone). Ranges outside this cluster CIDR are ignored. */
  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.set(i, 1);
  }

  /** Whether `cidr` is one of the ranges and taken. */
  isTaken(cidr: string): boolean {
    const i = this.indexOf(cidr);
    return i !== undefined && this.tree[this.size + i] === 0;
  }

  /** Takes the next free range and returns its CIDR, or undefined when every range is taken. */
  allocate(): string | undefined {
    if (this.tree[1] === 0) return undefined;
    const i = this.firstFree(this.cursor) ?? this.firstFree(0)!;
    this.set(i, 0);
    this.cursor = (i + 1) % this.count;
    return this.cidrAt(i);
  }

  private set(index: number, free: 0 | 1): void {
    let n = this.size + index;
    if (this.tree[n] === free) return;
    const d = free - this.tree[n];
    for (; n >= 1; n = Math.floor(n / 2)) this.tree[n] += d;
  }

  /** The first free index at or after `from`, or undefined. */
  private firstFree(from: number): number | undefined {
    const walk = (node: number, lo: number, hi: number): number | undefined => {
      if (hi <= from || this.tree[node] === 0) return undefined;
      if (hi - lo === 1) return lo;
      const mid = (lo + hi) / 2;
      return walk(2 * node, lo, mid) ?? walk(2 * node + 1, mid, hi);
    };
    return walk(1, 0, this.size);
  }
}
