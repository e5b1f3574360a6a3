/**
 * Which GPUs a container gets. A container whose limits ask for N nvidia.com/gpu gets N GPUs no
 * other live container of the node holds. What each container holds is written on it as the
 * annotation mk.io/gpu-devices, so the allocation is read back from the runtime every time
 * (level-triggered): a restarted node agent finds it as it was, with no state of its own.
 */
import type { Container, Pod } from '../../messages/pod';
import type * as cri from '../cri/types';
import { GPU_RESOURCE } from '../node/node-status';
import type { GpuDevice, GpuInventory } from './discovery';

export { GPU_RESOURCE };
/** Annotation on a CRI container: the indices (N of /dev/nvidiaN) of its GPUs, comma-separated. */
export const ANNOTATION_GPU_DEVICES = 'mk.io/gpu-devices';
/** Labels that tell a container's pod and name (cri-spec.ts sets them). */
const LABEL_POD_UID = 'mk.io/pod-uid';
const LABEL_CONTAINER_NAME = 'mk.io/container-name';

/** The GPUs a container asks for: its limit (extended resources are not overcommitted), else its request. */
export function gpuCount(c: Container): number {
  const q = c.resources?.limits?.[GPU_RESOURCE] ?? c.resources?.requests?.[GPU_RESOURCE];
  if (q === undefined) return 0;
  const n = Number(q);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The indices an annotation value names (`0,3`); bad parts are skipped. */
export function parseGpuAnnotation(value: string | undefined): number[] {
  if (!value) return [];
  return value.split(',').map((s) => s.trim()).filter((s) => /^\d+$/.test(s)).map(Number);
}

/** Who holds a GPU: the container's pod uid and name. */
export interface GpuHolder { podUid: string; container: string; containerId: string }

/**
 * The GPUs held by the runtime's containers: every container that is not exited holds what its
 * annotation names.
 */
export function heldGpus(containers: readonly cri.Container[]): Map<number, GpuHolder> {
  const out = new Map<number, GpuHolder>();
  for (const c of containers) {
    if (c.state === 'CONTAINER_EXITED') continue;
    for (const i of parseGpuAnnotation(c.annotations?.[ANNOTATION_GPU_DEVICES])) {
      out.set(i, { podUid: c.labels?.[LABEL_POD_UID] ?? '', container: c.labels?.[LABEL_CONTAINER_NAME] ?? '', containerId: c.id });
    }
  }
  return out;
}

/**
 * The GPUs an earlier instance of the same container held (its newest annotated instance), so a
 * restarted container keeps its devices when they are still free.
 */
export function previousGpus(containers: readonly cri.Container[], podUid: string, container: string): number[] {
  const mine = containers
    .filter((c) => c.labels?.[LABEL_POD_UID] === podUid && c.labels?.[LABEL_CONTAINER_NAME] === container && c.annotations?.[ANNOTATION_GPU_DEVICES])
    .sort((a, b) => b.createdAt - a.createdAt);
  return parseGpuAnnotation(mine[0]?.annotations?.[ANNOTATION_GPU_DEVICES]);
}

/**
 * Picks `n` of the node's GPU indices that are not held: the preferred ones first (when all of
 * them are free), then the lowest free. Undefined when fewer than `n` are free.
 */
export function chooseGpus(all: readonly number[], held: ReadonlySet<number>, n: number, preferred: readonly number[] = []): number[] | undefined {
  const free = all.filter((i) => !held.has(i));
  if (free.length < n) return undefined;
  const keep = preferred.length === n && preferred.every((i) => free.includes(i)) ? [...preferred] : [];
  const rest = free.filter((i) => !keep.includes(i));
  return [...keep, ...rest].slice(0, n).sort((a, b) => a - b);
}

/** Thrown when a container's GPUs cannot be given; the message names how many are free. */
export class GpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

/** GPUs given to one container being created; release once CreateContainer has answered. */
export interface GpuLease {
  devices: GpuDevice[];
  release(): void;
}

/**
 * Gives GPUs to containers. One allocation at a time: each holds the lock from choosing until
 * its container exists in the runtime (lease.release()), so two creations never pick the same GPU.
 */
export class GpuAllocator {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly inventory: GpuInventory, private readonly cri: { listContainers(req?: cri.ListContainersRequest): Promise<cri.ListContainersResponse> }) {}

  /** Allocates `c`'s GPUs for pod `pod`; throws GpuUnavailableError when too few are free. */
  async allocate(pod: Pod, c: Container): Promise<GpuLease | undefined> {
    const n = gpuCount(c);
    if (n === 0) return undefined;
    const total = this.inventory.gpus.length;
    if (n > total) throw new GpuUnavailableError(`container ${c.name} asks for ${n} ${GPU_RESOURCE} but the node has ${total}`);
    let unlock!: () => void;
    const previous = this.tail;
    this.tail = new Promise<void>((r) => { unlock = r; });
    await previous;
    let released = false;
    const release = (): void => { if (!released) { released = true; unlock(); } };
    try {
      const { containers } = await this.cri.listContainers({});
      const held = heldGpus(containers);
      const uid = pod.metadata.uid ?? '';
      const chosen = chooseGpus(this.inventory.gpus.map((g) => g.index), new Set(held.keys()), n, previousGpus(containers, uid, c.name));
      if (!chosen) {
        const free = total - held.size;
        throw new GpuUnavailableError(`container ${c.name} asks for ${n} ${GPU_RESOURCE}; ${free} of the node's ${total} are free`);
      }
      const devices = chosen.map((i) => this.inventory.gpus.find((g) => g.index === i)!);
      return { devices, release };
    } catch (e) {
      release();
      throw e;
    }
  }
}

/** What a GPU container's config gains. */
export interface GpuContainerConfig {
  devices: cri.Device[];
  mounts: cri.Mount[];
  envs: cri.KeyValue[];
  annotations: Record<string, string>;
}

/**
 * The devices, mounts and environment that give `devices` to a container, as the NVIDIA
 * container toolkit sets them up: the GPUs' device nodes and the control devices (read and
 * write), the driver's libraries and tools read-only at their own paths, NVIDIA_VISIBLE_DEVICES
 * (UUIDs when known, else indices) and NVIDIA_DRIVER_CAPABILITIES=compute,utility. LD_LIBRARY_PATH
 * names the libraries' directories (images without an ldconfig cache of them find them so)
 * unless the container sets it itself (`userEnv`).
 */
export function gpuContainerConfig(inventory: GpuInventory, devices: readonly GpuDevice[], userEnv: readonly string[] = []): GpuContainerConfig {
  const devs: cri.Device[] = [
    ...devices.map((g) => ({ hostPath: g.hostPath, containerPath: g.containerPath, permissions: 'rw' })),
    ...inventory.controlDevices.map((d) => ({ hostPath: d.hostPath, containerPath: d.containerPath, permissions: 'rw' })),
  ];
  const mounts: cri.Mount[] = [...inventory.libraries, ...inventory.binaries].map((p) => ({ hostPath: p, containerPath: p, readonly: true }));
  const visible = devices.map((g) => g.uuid ?? String(g.index)).join(',');
  const envs: cri.KeyValue[] = [
    { key: 'NVIDIA_VISIBLE_DEVICES', value: visible },
    { key: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility' },
  ];
  const libDirs = [...new Set(inventory.libraries.map((p) => p.slice(0, p.lastIndexOf('/'))))];
  if (libDirs.length > 0 && !userEnv.includes('LD_LIBRARY_PATH')) envs.push({ key: 'LD_LIBRARY_PATH', value: libDirs.join(':') });
  return { devices: devs, mounts, envs, annotations: { [ANNOTATION_GPU_DEVICES]: devices.map((g) => g.index).join(',') } };
}
