import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ValidationError } from '../../messages/errors';
import { assertCgroupControllers, cgroupDir, detectCgroups, parseCgroupMounts } from './cgroups';

/** Writes `files` (relative path -> content) under `root`. */
function tree(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
}

// Mount tables as the kernel writes them: a v1 host without systemd (this project's machines,
// with the empty v2 mount of a hybrid layout), a comounted v1 host, and a stock Debian 12 (v2).
const V1_MOUNTINFO = `22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`;
const COMOUNTED_MOUNTINFO = `30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
31 25 0:27 / /sys/fs/cgroup/with\\040space rw,relatime - cgroup cgroup rw,clone_children,release_agent=/x,pids
`;
const V2_MOUNTINFO = `24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('cgroups', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'mk-cgroups-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('reads the cgroup mounts of v1, comounted v1, hybrid and v2 mount tables', () => {
    expect(parseCgroupMounts(V1_MOUNTINFO)).toEqual([
      { path: '/sys/fs/cgroup/cpu', version: 1, controllers: ['cpu'] },
      { path: '/sys/fs/cgroup/memory', version: 1, controllers: ['memory'] },
      { path: '/sys/fs/cgroup/systemd', version: 1, controllers: ['name=systemd'] },
      { path: '/sys/fs/cgroup/unified', version: 2, controllers: [] },
    ]);
    expect(parseCgroupMounts(COMOUNTED_MOUNTINFO)).toEqual([
      { path: '/sys/fs/cgroup/cpu,cpuacct', version: 1, controllers: ['cpu', 'cpuacct'] },
      { path: '/sys/fs/cgroup/with space', version: 1, controllers: ['pids'] },
    ]);
    expect(parseCgroupMounts(V2_MOUNTINFO)).toEqual([{ path: '/sys/fs/cgroup', version: 2, controllers: [] }]);
    expect(parseCgroupMounts('garbage\n\n1 2 3\n')).toEqual([]);
  });

  it('detects v2 from the unified root and lists its controllers', () => {
    tree(dir, { 'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n', 'cgroup.procs': '', 'system.slice/cgroup.procs': '' });
    const host = detectCgroups(dir);
    expect(host).toEqual({ version: 2, root: dir, controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'] });
    expect(() => assertCgroupControllers(host)).not.toThrow();
  });

  it('detects v1 from per-controller hierarchies, comounted or not, hybrid or not', () => {
    tree(dir, {
      'cpu,cpuacct/tasks': '', 'memory/tasks': '', 'pids/tasks': '', 'systemd/tasks': '',
      // A hybrid host's v2 mount has no controllers and no tasks file: it does not make the host v2.
      'unified/cgroup.controllers': '', 'unified/cgroup.procs': '',
    });
    symlinkSync('cpu,cpuacct', path.join(dir, 'cpu'));
    symlinkSync('cpu,cpuacct', path.join(dir, 'cpuacct'));
    const host = detectCgroups(dir);
    expect(host).toEqual({ version: 1, root: dir, controllers: ['cpu', 'cpuacct', 'memory', 'pids', 'systemd'] });
    expect(() => assertCgroupControllers(host)).not.toThrow();
  });

  it('refuses a root with no cgroup filesystem, and a host without the memory controller', () => {
    expect(() => detectCgroups(dir)).toThrow(ValidationError);
    expect(() => detectCgroups(path.join(dir, 'missing'))).toThrow(/no cgroup filesystem under .*missing/);
    tree(dir, { 'cgroup.controllers': 'cpu io pids\n' });
    expect(() => assertCgroupControllers(detectCgroups(dir))).toThrow('cgroup v2 under ' + dir + ' lacks the memory controller that pod resources need (available: cpu, io, pids)');
    const v1 = path.join(dir, 'v1');
    tree(v1, { 'pids/tasks': '' });
    expect(() => assertCgroupControllers(detectCgroups(v1))).toThrow('lacks the cpu and memory controllers');
  });

  it('places a cgroup in the unified tree on v2 and under the controller on v1, never above the root', () => {
    const rel = '/kubepods/besteffort/poduid-1/abc';
    expect(cgroupDir({ version: 2, root: '/sys/fs/cgroup' }, 'memory', rel)).toBe('/sys/fs/cgroup/kubepods/besteffort/poduid-1/abc');
    expect(cgroupDir({ version: 1, root: '/sys/fs/cgroup' }, 'memory', rel)).toBe('/sys/fs/cgroup/memory/kubepods/besteffort/poduid-1/abc');
    expect(cgroupDir({ version: 1, root: '/sys/fs/cgroup' }, 'cpu', 'kubepods/x')).toBe('/sys/fs/cgroup/cpu/kubepods/x');
    expect(cgroupDir({ version: 2, root: '/sys/fs/cgroup' }, 'cpu', '../../etc/x')).toBe('/sys/fs/cgroup/etc/x');
  });
});
