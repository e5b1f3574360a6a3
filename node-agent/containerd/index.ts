/** A private containerd per node: its config, its process, and cleaning up after it. */
export { detectSnapshotter, renderContainerdConfig, writeRegistryMirrors, type ContainerdConfigOptions, type Snapshotter } from './config';
export {
  connectOrStart, purgeContainerd, startContainerd,
  type ContainerdHandle, type ContainerdProcess, type StartContainerdOptions, type StopOptions,
} from './process';
export {
  assertCgroupControllers, CGROUP_ROOT, cgroupDir, detectCgroups, parseCgroupMounts,
  type CgroupHost, type CgroupMount, type CgroupVersion,
} from './cgroups';
export { cgroupMounts, deleteRuncContainers, killPids, removeCgroup, mountsUnder, pidAlive, shimPidsFor, shimSocketPath, unmountUnder } from './cleanup';
