/**
 * The e2e helper that reads a container's limits (test/helpers/cgroups.ts) against fake /sys/fs/cgroup
 * trees of both versions, written as runc leaves them for CRI's cpuQuota 50000, cpuPeriod 100000,
 * cpuShares 512 and 64 MiB, and for a container without limits.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cgroupLeftIn, cpuWeightForShares, expectedCpu, readCgroupLimits } from '../helpers/cgroups';

const CTR = '/mk-test-abc/0123abcd';
const MIB64 = 64 * 1024 * 1024;

function tree(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
}

describe('readCgroupLimits', () => {
  let root: string;
  beforeEach(() => { root = mkdtempSync(path.join(os.tmpdir(), 'mk-fake-sys-')); });
  afterEach(() => { rmSync(root, { recursive: true, force: true }); });

  it('reads v1: memory.limit_in_bytes, cpu.cfs_quota_us / cpu.cfs_period_us, cpu.shares (cpu comounted with cpuacct)', async () => {
    tree(root, {
      'memory/tasks': '', 'cpu,cpuacct/tasks': '',
      [`memory${CTR}/memory.limit_in_bytes`]: `${MIB64}\n`,
      [`cpu,cpuacct${CTR}/cpu.cfs_quota_us`]: '50000\n', [`cpu,cpuacct${CTR}/cpu.cfs_period_us`]: '100000\n', [`cpu,cpuacct${CTR}/cpu.shares`]: '512\n',
      'memory/free/memory.limit_in_bytes': '9223372036854771712\n',
      'cpu,cpuacct/free/cpu.cfs_quota_us': '-1\n', 'cpu,cpuacct/free/cpu.cfs_period_us': '100000\n', 'cpu,cpuacct/free/cpu.shares': '2\n',
    });
    symlinkSync('cpu,cpuacct', path.join(root, 'cpu'));
    expect(await readCgroupLimits(CTR, root)).toEqual({ version: 1, memoryLimitBytes: MIB64, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, cpu: { shares: 512 } });
    expect(await readCgroupLimits('/free', root)).toEqual({ version: 1, memoryLimitBytes: undefined, cpuQuotaUs: undefined, cpuPeriodUs: 100_000, cpu: { shares: 2 } });
  });

  it('reads v2: memory.max, cpu.max, cpu.weight in the unified tree', async () => {
    tree(root, {
      'cgroup.controllers': 'cpuset cpu io memory pids\n',
      [`${CTR}/memory.max`]: `${MIB64}\n`, [`${CTR}/cpu.max`]: '50000 100000\n', [`${CTR}/cpu.weight`]: '20\n',
      'free/memory.max': 'max\n', 'free/cpu.max': 'max 100000\n', 'free/cpu.weight': '100\n',
    });
    expect(await readCgroupLimits(CTR, root)).toEqual({ version: 2, memoryLimitBytes: MIB64, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, cpu: { weight: 20 } });
    expect(await readCgroupLimits('/free', root)).toEqual({ version: 2, memoryLimitBytes: undefined, cpuQuotaUs: undefined, cpuPeriodUs: 100_000, cpu: { weight: 100 } });
  });

  it('throws for a cgroup that is not there and for a file it cannot read as a number', async () => {
    tree(root, { 'cgroup.controllers': 'cpu memory\n', 'odd/memory.max': 'lots\n', 'odd/cpu.max': 'max 100000\n', 'odd/cpu.weight': '1\n' });
    await expect(readCgroupLimits('/nope', root)).rejects.toThrow(/ENOENT/);
    await expect(readCgroupLimits('/odd', root)).rejects.toThrow('unexpected memory.max: "lots"');
  });

  it('maps CRI shares to the weight runc 1.1 writes on v2', () => {
    expect([2, 512, 1024, 262144].map(cpuWeightForShares)).toEqual([1, 20, 39, 10000]);
    expect(expectedCpu(1, 512)).toEqual({ shares: 512 });
    expect(expectedCpu(2, 512)).toEqual({ weight: 20 });
  });

  it('finds the hierarchies a cgroup is still in', async () => {
    const mounts = ['memory', 'pids', 'unified'].map((m) => path.join(root, m));
    for (const m of mounts) mkdirSync(m);
    mkdirSync(path.join(root, 'pids', 'mk-test-1', 'x'), { recursive: true });
    expect(await cgroupLeftIn('/mk-test-1', mounts)).toEqual([path.join(root, 'pids')]);
    expect(await cgroupLeftIn('/mk-test-2', mounts)).toEqual([]);
  });
});
