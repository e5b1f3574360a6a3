/**
 * The host's cgroup hierarchy, detected rather than assumed. mk has runc use the cgroupfs driver
 * with plain cgroup parents (`/kubepods/...`), which works on both versions:
 * - v1: one hierarchy per controller, `/sys/fs/cgroup/<controller>/<path>` (hosts without systemd,
 *   and hybrid hosts, whose extra v2 mount at `/sys/fs/cgroup/unified` holds no controllers);
 * - v2: the unified hierarchy, `/sys/fs/cgroup/<path>` with `cgroup.controllers` at its root (a
 *   stock systemd host such as Debian 12).
 * See https://docs.kernel.org/admin-guide/cgroup-v2.html and, for v1, the kernel's
 * Documentation/admin-guide/cgroup-v1/cgroups.rst.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../../messages/errors';
import { unescapeMountPath } from './mountinfo';

/** Where the cgroup filesystems are mounted on Linux hosts. */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/** 1: per-controller hierarchies; 2: the unified hierarchy. */
export type CgroupVersion = 1 | 2;

/** What `detectCgroups` found. */
export interface CgroupHost {
  version: CgroupVersion;
  /** The directory the hierarchies are under (`/sys/fs/cgroup`). */
  root: string;
  /**
   * Controllers mk's cgroups can use: v2 from the root's cgroup.controllers; v1 the names of the
   * mounted hierarchies (a named one, such as systemd's, appears by its directory name).
   */
  controllers: string[];
}

/** A cgroup filesystem in a mount table. */
export interface CgroupMount {
  /** Mount point. */
  path: string;
  version: CgroupVersion;
  /** v1: the hierarchy's controllers (or `name=...` for a named one); v2: empty (listed in cgroup.controllers). */
  controllers: string[];
}

// The controllers whose limits pods carry: without them a container's resources cannot be set.
const NEEDED = ['cpu', 'memory'];

/**
 * The cgroup filesystems in a mountinfo text (the format of `/proc/self/mountinfo`: mount point in
 * field 5; after ` - `, the filesystem type, the source and the super options). Never throws; lines
 * it cannot read are skipped.
 */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  return mountinfo.split('\n').filter(Boolean).flatMap((line): CgroupMount[] => {
    const [pre, post] = line.split(' - ');
    const [fstype, , superOptions = ''] = (post ?? '').split(' ');
    const mountPoint = pre.split(' ')[4];
    if (!mountPoint || (fstype !== 'cgroup' && fstype !== 'cgroup2')) return [];
    if (fstype === 'cgroup2') return [{ path: unescapeMountPath(mountPoint), version: 2, controllers: [] }];
    // v1 super options: rw/ro and generic flags, then the controllers or name=<hierarchy>.
    const generic = new Set(['rw', 'ro', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'favordynmods']);
    const controllers = superOptions.split(',').filter((o) => o && !generic.has(o) && !o.startsWith('release_agent='));
    return [{ path: unescapeMountPath(mountPoint), version: 1, controllers }];
  });
}

/**
 * Detects the cgroup version under `root`: 2 when root is the unified hierarchy (it has
 * cgroup.controllers), 1 when it holds per-controller hierarchies (directories with a `tasks`
 * file, which only v1 has; comounted ones are named like `cpu,cpuacct`). Throws ValidationError
 * when it finds neither (no cgroup filesystem mounted there: runc could not place a container).
 */
export function detectCgroups(root = CGROUP_ROOT): CgroupHost {
  const unified = path.join(root, 'cgroup.controllers');
  if (existsSync(unified)) {
    return { version: 2, root, controllers: readFileSync(unified, 'utf8').split(/\s+/).filter(Boolean) };
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(root);
  } catch {
    // Not even the directory: reported below.
  }
  const controllers = entries
    .filter((e) => existsSync(path.join(root, e, 'tasks')))
    .flatMap((e) => e.split(','));
  if (controllers.length === 0) {
    throw new ValidationError(`no cgroup filesystem under ${root}: neither a v2 hierarchy (${unified}) nor v1 controller hierarchies (${root}/<controller>/tasks) are mounted`);
  }
  return { version: 1, root, controllers: [...new Set(controllers)].sort() };
}

/**
 * Throws ValidationError, naming what is missing, unless the host's cgroups have the controllers
 * pod resources need (cpu and memory).
 */
export function assertCgroupControllers(host: CgroupHost, needed: string[] = NEEDED): void {
  const missing = needed.filter((c) => !host.controllers.includes(c));
  if (missing.length > 0) {
    throw new ValidationError(`cgroup v${host.version} under ${host.root} lacks the ${missing.join(' and ')} controller${missing.length > 1 ? 's' : ''} that pod resources need (available: ${host.controllers.join(', ') || 'none'})`);
  }
}

/**
 * The directory of the cgroup at `relPath` (`/kubepods/pod<uid>/<container id>`) that holds
 * `controller`'s files: `<root>/<relPath>` on v2, `<root>/<controller>/<relPath>` on v1. The path
 * is taken from the hierarchy's root (`..` cannot climb above it).
 */
export function cgroupDir(host: Pick<CgroupHost, 'version' | 'root'>, controller: string, relPath: string): string {
  const rel = path.posix.normalize(`/${relPath}`);
  return host.version === 2 ? path.join(host.root, rel) : path.join(host.root, controller, rel);
}
