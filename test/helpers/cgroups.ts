/**
 * Reading a container's cgroup limits in e2e tests on either cgroup version, so a test asserts
 * what runc really set, not which files a v1 host happens to have. Version detection and paths
 * come from the node agent's own module (node-agent/containerd/cgroups.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { cgroupMounts } from '../../node-agent/containerd/cleanup';
import { CGROUP_ROOT, cgroupDir, detectCgroups, type CgroupVersion } from '../../node-agent/containerd/cgroups';

/** A cgroup's limits as one shape on both versions; `undefined` = no limit. */
export interface CgroupLimits {
  version: CgroupVersion;
  memoryLimitBytes: number | undefined;
  cpuQuotaUs: number | undefined;
  cpuPeriodUs: number;
  /** v1: `{ shares }` from cpu.shares; v2: `{ weight }` from cpu.weight. */
  cpu: { shares: number } | { weight: number };
}

// v1 writes "no limit" as the largest page-aligned value (9223372036854771712), not as -1.
const V1_NO_MEMORY_LIMIT = 2 ** 62;

async function readText(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).trim();
}

/**
 * Reads the memory limit, CFS quota and period, and CPU shares (v1) or weight (v2) of the cgroup
 * at `relPath` (`<cgroup parent>/<container id>` for a container under the cgroupfs driver), on
 * whichever version the host under `root` runs. Throws when the files are not there (no such
 * cgroup) or hold something unexpected.
 */
export async function readCgroupLimits(relPath: string, root = CGROUP_ROOT): Promise<CgroupLimits> {
  const host = detectCgroups(root);
  const file = (controller: string, name: string) => path.join(cgroupDir(host, controller, relPath), name);
  const int = (text: string, what: string): number => {
    if (!/^-?\d+$/.test(text)) throw new Error(`unexpected ${what}: ${JSON.stringify(text)}`);
    return Number(text);
  };
  if (host.version === 2) {
    // memory.max: bytes or "max"; cpu.max: "<quota|max> <period>"; cpu.weight: 1..10000.
    const mem = await readText(file('memory', 'memory.max'));
    const [quota, period] = (await readText(file('cpu', 'cpu.max'))).split(' ');
    return {
      version: 2,
      memoryLimitBytes: mem === 'max' ? undefined : int(mem, 'memory.max'),
      cpuQuotaUs: quota === 'max' ? undefined : int(quota, 'cpu.max quota'),
      cpuPeriodUs: int(period ?? '', 'cpu.max period'),
      cpu: { weight: int(await readText(file('cpu', 'cpu.weight')), 'cpu.weight') },
    };
  }
  const mem = int(await readText(file('memory', 'memory.limit_in_bytes')), 'memory.limit_in_bytes');
  const quota = int(await readText(file('cpu', 'cpu.cfs_quota_us')), 'cpu.cfs_quota_us');
  return {
    version: 1,
    memoryLimitBytes: mem >= V1_NO_MEMORY_LIMIT ? undefined : mem,
    cpuQuotaUs: quota < 0 ? undefined : quota,
    cpuPeriodUs: int(await readText(file('cpu', 'cpu.cfs_period_us')), 'cpu.cfs_period_us'),
    cpu: { shares: int(await readText(file('cpu', 'cpu.shares')), 'cpu.shares') },
  };
}

/**
 * The cpu.weight runc writes on cgroup v2 for CRI's cpu shares: shares 2..262144 mapped linearly
 * onto weight 1..10000, as runc 1.1 (Debian 12's) does (libcontainer/cgroups/utils.go,
 * ConvertCPUSharesToCgroupV2Value).
 */
export function cpuWeightForShares(shares: number): number {
  return shares === 0 ? 0 : 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** What a cgroup whose CRI cpu shares were `shares` should show on `version`. */
export function expectedCpu(version: CgroupVersion, shares: number): CgroupLimits['cpu'] {
  return version === 1 ? { shares } : { weight: cpuWeightForShares(shares) };
}

/**
 * The hierarchies (of `mountPoints`, by default every cgroup mount of this host: v1, v2 or both)
 * in which the cgroup at `relPath` still exists. Teardown must leave it in none.
 */
export async function cgroupLeftIn(relPath: string, mountPoints?: string[]): Promise<string[]> {
  const rel = path.posix.normalize(`/${relPath}`);
  return (mountPoints ?? await cgroupMounts()).filter((m) => existsSync(path.join(m, rel)));
}
