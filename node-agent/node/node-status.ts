/**
 * What a node reports about itself, computed from measurements of the machine: capacity and
 * allocatable resources, and the pressure conditions. Pure functions; node-agent/node/measure.ts
 * takes the measurements.
 *
 * Allocatable follows the kubelet's formula
 * (https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/):
 * capacity minus what is reserved for the system minus the hard eviction threshold.
 *   - cpu, pods and nvidia.com/gpu: allocatable = capacity (nothing reserved).
 *   - memory: capacity - 256Mi (the node agent, containerd, the OS) - 100Mi (memory.available).
 *   - ephemeral-storage: capacity - 10% (nodefs.available), of the file system holding the
 *     node's data directory (containerd's images and containers, pod logs).
 * The pressure conditions use the kubelet's default hard eviction thresholds
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/):
 *   - MemoryPressure: memory.available < 100Mi (MemAvailable of /proc/meminfo).
 *   - DiskPressure: nodefs.available < 10%, or nodefs.inodesFree < 5%.
 *   - PIDPressure: pid.available < 10% of kernel.pid_max (tasks counted in /proc/loadavg).
 */
import { formatMemory, type NodeCondition, type ResourceMap } from '../../messages';

/** What the node measured of its machine. Sizes in bytes. */
export interface NodeMeasurements {
  cpus: number;
  memoryBytes: number;
  memoryAvailableBytes: number;
  /** The file system of the node's data directory; 0 when it could not be read. */
  fsBytes: number;
  fsAvailableBytes: number;
  fsInodes: number;
  fsInodesFree: number;
  /** kernel.pid_max, and the tasks (processes and threads) that exist now. */
  pidMax: number;
  pidsInUse: number;
  /** NVIDIA GPUs found: the device nodes /dev/nvidiaN (node-agent/gpu/discovery.ts). */
  gpus: number;
}

/** Memory kept back from allocatable for the node agent, containerd and the OS (system-reserved). */
export const SYSTEM_RESERVED_MEMORY = 256 * 2 ** 20;
/** memory.available below this is MemoryPressure, and it is kept out of allocatable. */
export const EVICTION_MEMORY_AVAILABLE = 100 * 2 ** 20;
/** nodefs.available below this fraction is DiskPressure, and it is kept out of allocatable. */
export const EVICTION_NODEFS_AVAILABLE = 0.1;
/** nodefs.inodesFree below this fraction is DiskPressure. */
export const EVICTION_NODEFS_INODES_FREE = 0.05;
/** pid.available below this fraction of pid_max is PIDPressure. */
export const EVICTION_PID_AVAILABLE = 0.1;
/** The most pods a node runs (the kubelet's default maxPods). */
export const MAX_PODS = 110;
/** The extended resource name of NVIDIA GPUs (the NVIDIA device plugin's). */
export const GPU_RESOURCE = 'nvidia.com/gpu';

const MiB = 2 ** 20;
/** Rounds down to whole MiB so that quantities print as `NNNMi`/`NGi`. */
const roundMi = (b: number): number => Math.max(0, b - (b % MiB));

/** Capacity and allocatable for the Node's status, from the measurements. */
export function resourcesFrom(m: NodeMeasurements): { capacity: ResourceMap; allocatable: ResourceMap } {
  const capacity: ResourceMap = { cpu: String(m.cpus), memory: formatMemory(roundMi(m.memoryBytes)), pods: String(MAX_PODS) };
  const allocatable: ResourceMap = {
    cpu: String(m.cpus),
    memory: formatMemory(roundMi(m.memoryBytes - SYSTEM_RESERVED_MEMORY - EVICTION_MEMORY_AVAILABLE)),
    pods: String(MAX_PODS),
  };
  if (m.fsBytes > 0) {
    capacity['ephemeral-storage'] = formatMemory(roundMi(m.fsBytes));
    allocatable['ephemeral-storage'] = formatMemory(roundMi(m.fsBytes * (1 - EVICTION_NODEFS_AVAILABLE)));
  }
  if (m.gpus > 0) {
    capacity[GPU_RESOURCE] = String(m.gpus);
    allocatable[GPU_RESOURCE] = String(m.gpus);
  }
  return { capacity, allocatable };
}

/** A pressure condition as the node reports it; the control plane stamps the times. */
export type PressureCondition = Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>;

const mi = (b: number): string => `${Math.floor(b / MiB)}Mi`;
const pct = (f: number): string => `${Math.round(f * 1000) / 10}%`;

/**
 * MemoryPressure, DiskPressure and PIDPressure from the measurements, with the kubelet's reasons.
 * A measurement that could not be taken (0) never reports pressure.
 */
export function pressureConditions(m: NodeMeasurements): PressureCondition[] {
  const memLow = m.memoryBytes > 0 && m.memoryAvailableBytes < EVICTION_MEMORY_AVAILABLE;
  const fsFree = m.fsBytes > 0 ? m.fsAvailableBytes / m.fsBytes : 1;
  const inodesFree = m.fsInodes > 0 ? m.fsInodesFree / m.fsInodes : 1;
  const diskLow = fsFree < EVICTION_NODEFS_AVAILABLE || inodesFree < EVICTION_NODEFS_INODES_FREE;
  const pidFree = m.pidMax > 0 ? (m.pidMax - m.pidsInUse) / m.pidMax : 1;
  const pidLow = pidFree < EVICTION_PID_AVAILABLE;
  return [
    memLow
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: `memory.available ${mi(m.memoryAvailableBytes)} is below 100Mi` }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'node has sufficient memory available' },
    diskLow
      ? {
        type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure',
        message: `nodefs.available ${pct(fsFree)} (threshold 10%), nodefs.inodesFree ${pct(inodesFree)} (threshold 5%)`,
      }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'node has no disk pressure' },
    pidLow
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: `pid.available ${pct(pidFree)} of pid_max is below 10%` }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'node has sufficient PID available' },
  ];
}
