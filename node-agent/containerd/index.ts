/** A private containerd per node: its config, its process, its supervision, and cleaning up after it. */
export { detectSnapshotter, renderContainerdConfig, writeRegistryMirrors, type ContainerdConfigOptions, type Snapshotter } from './config';
export {
  containerdPaths, prepareContainerd, purgeContainerd, spawnContainerd, startContainerd, stopChild,
  type ContainerdProcess, type PreparedContainerd, type SpawnedContainerd, type SpawnOptions,
  type StartContainerdOptions, type StopOptions,
} from './process';
export {
  CONTAINERD_RESTART_BACKOFF, superviseContainerd,
  type ContainerdHealth, type ContainerdState, type SupervisedContainerd, type SuperviseContainerdOptions,
} from './supervisor';
export {
  findContainerdByConfig, isAlive, ownedFromPidFile, processIdentity, readPidFile, runsConfig, socketListening, watchProcess,
  writePidFile, type ProcessIdentity,
} from './pid';
export {
  assertCgroupControllers, CGROUP_ROOT, cgroupDir, detectCgroups, parseCgroupMounts,
  type CgroupHost, type CgroupMount, type CgroupVersion,
} from './cgroups';
export { cgroupMounts, deleteRuncContainers, killPids, removeCgroup, mountsUnder, pidAlive, shimPidsFor, shimSocketPath, unmountUnder } from './cleanup';
