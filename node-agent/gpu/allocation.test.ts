import type * as cri from '../cri/types';
import { makePod } from '../pods/fixtures';
import {
  ANNOTATION_GPU_DEVICES, chooseGpus, GpuAllocator, gpuContainerConfig, gpuCount, GpuUnavailableError, heldGpus,
  parseGpuAnnotation, previousGpus,
} from './allocation';
import type { GpuInventory } from './discovery';

const inventory: GpuInventory = {
  gpus: [0, 1, 2].map((index) => ({ index, hostPath: `/fake/dev/nvidia${index}`, containerPath: `/dev/nvidia${index}` })),
  controlDevices: [{ hostPath: '/fake/dev/nvidiactl', containerPath: '/dev/nvidiactl' }],
  libraries: ['/usr/lib/x86_64-linux-gnu/libcuda.so.1', '/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1'],
  binaries: ['/usr/bin/nvidia-smi'],
};

let createdAt = 0;
function container(id: string, podUid: string, name: string, gpus: string | undefined, state: cri.ContainerState = 'CONTAINER_RUNNING'): cri.Container {
  return {
    id, podSandboxId: `sb-${podUid}`, metadata: null, image: null, imageRef: '', state, createdAt: ++createdAt,
    labels: { 'mk.io/pod-uid': podUid, 'mk.io/container-name': name },
    annotations: gpus === undefined ? {} : { [ANNOTATION_GPU_DEVICES]: gpus },
  };
}

const gpuContainer = (n: string | undefined) => ({
  name: 'main', image: 'busybox', ...(n === undefined ? {} : { resources: { limits: { 'nvidia.com/gpu': n } } }),
});

describe('GPU allocation', () => {
  it('reads the count from limits, else requests', () => {
    expect(gpuCount(gpuContainer('2'))).toBe(2);
    expect(gpuCount(gpuContainer(undefined))).toBe(0);
    expect(gpuCount({ name: 'a', image: 'b', resources: { requests: { 'nvidia.com/gpu': '1' } } })).toBe(1);
  });

  it('parses annotations, skipping junk', () => {
    expect(parseGpuAnnotation('0, 3,x,')).toEqual([0, 3]);
    expect(parseGpuAnnotation(undefined)).toEqual([]);
  });

  it('rebuilds what is held from live containers only', () => {
    const held = heldGpus([
      container('a', 'p1', 'main', '0'), container('b', 'p2', 'main', '1,2', 'CONTAINER_EXITED'),
      container('c', 'p3', 'main', '2', 'CONTAINER_CREATED'), container('d', 'p4', 'main', undefined),
    ]);
    expect([...held.keys()].sort()).toEqual([0, 2]);
    expect(held.get(2)).toEqual({ podUid: 'p3', container: 'main', containerId: 'c' });
  });

  it('chooses the lowest free, or the preferred ones when all are free', () => {
    expect(chooseGpus([0, 1, 2], new Set([0]), 1)).toEqual([1]);
    expect(chooseGpus([0, 1, 2], new Set([0]), 1, [2])).toEqual([2]);
    expect(chooseGpus([0, 1, 2], new Set([2]), 1, [2])).toEqual([0]);
    expect(chooseGpus([0, 1, 2], new Set([0, 1]), 2)).toBeUndefined();
  });

  it('keeps a restarted container on the GPUs its earlier instance had', () => {
    const cs = [container('old', 'p1', 'main', '1', 'CONTAINER_EXITED'), container('x', 'p9', 'other', '0')];
    expect(previousGpus(cs, 'p1', 'main')).toEqual([1]);
    expect(previousGpus(cs, 'p2', 'main')).toEqual([]);
  });

  it('gives different GPUs to containers and rebuilds the same picture in a new allocator', async () => {
    const live: cri.Container[] = [];
    const runtime = { listContainers: async () => ({ containers: live }) };
    const alloc = new GpuAllocator(inventory, runtime);
    const p1 = makePod({}, { name: 'a', uid: 'u1' });
    const p2 = makePod({}, { name: 'b', uid: 'u2' });
    const l1 = (await alloc.allocate(p1, gpuContainer('1')))!;
    live.push(container('c1', 'u1', 'main', gpuContainerConfig(inventory, l1.devices).annotations[ANNOTATION_GPU_DEVICES]));
    l1.release();
    const l2 = (await alloc.allocate(p2, gpuContainer('2')))!;
    expect(l1.devices.map((d) => d.index)).toEqual([0]);
    expect(l2.devices.map((d) => d.index)).toEqual([1, 2]);
    live.push(container('c2', 'u2', 'main', '1,2'));
    l2.release();
    // A new allocator (a restarted node agent) sees every GPU held.
    const again = new GpuAllocator(inventory, runtime);
    await expect(again.allocate(makePod({}, { name: 'c', uid: 'u3' }), gpuContainer('1'))).rejects.toThrow(
      new GpuUnavailableError('container main asks for 1 nvidia.com/gpu; 0 of the node\'s 3 are free'),
    );
    await expect(again.allocate(p1, gpuContainer('4'))).rejects.toThrow('asks for 4 nvidia.com/gpu but the node has 3');
    expect(await again.allocate(p1, gpuContainer(undefined))).toBeUndefined();
  });

  it('serializes allocations until the container exists', async () => {
    const live: cri.Container[] = [];
    const alloc = new GpuAllocator(inventory, { listContainers: async () => ({ containers: live }) });
    const first = (await alloc.allocate(makePod({}, { name: 'a', uid: 'u1' }), gpuContainer('1')))!;
    const second = alloc.allocate(makePod({}, { name: 'b', uid: 'u2' }), gpuContainer('1'));
    live.push(container('c1', 'u1', 'main', '0'));
    first.release();
    expect((await second)!.devices.map((d) => d.index)).toEqual([1]);
  });

  it('builds devices, read-only driver mounts and env', () => {
    const withUuid = [{ ...inventory.gpus[1]!, uuid: 'GPU-bbbb' }];
    const cfg = gpuContainerConfig(inventory, withUuid);
    expect(cfg.devices).toEqual([
      { hostPath: '/fake/dev/nvidia1', containerPath: '/dev/nvidia1', permissions: 'rw' },
      { hostPath: '/fake/dev/nvidiactl', containerPath: '/dev/nvidiactl', permissions: 'rw' },
    ]);
    expect(cfg.mounts).toContainEqual({ hostPath: '/usr/bin/nvidia-smi', containerPath: '/usr/bin/nvidia-smi', readonly: true });
    expect(cfg.mounts).toHaveLength(3);
    expect(cfg.envs).toEqual([
      { key: 'NVIDIA_VISIBLE_DEVICES', value: 'GPU-bbbb' },
      { key: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility' },
      { key: 'LD_LIBRARY_PATH', value: '/usr/lib/x86_64-linux-gnu' },
    ]);
    expect(cfg.annotations).toEqual({ [ANNOTATION_GPU_DEVICES]: '1' });
    expect(gpuContainerConfig(inventory, inventory.gpus.slice(0, 2), ['LD_LIBRARY_PATH']).envs).toEqual([
      { key: 'NVIDIA_VISIBLE_DEVICES', value: '0,1' },
      { key: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility' },
    ]);
  });
});
