/**
 * The pod lifecycle's use of the GPU allocator, on the fake CRI runtime: created containers carry
 * their devices and annotation, a second pod gets the other GPU, and a container that cannot get
 * its GPUs waits with UnexpectedAdmissionError (no CreateContainer, no crash loop).
 */
import pino from 'pino';
import type { Container, Pod } from '../../messages/pod';
import { executeActions } from '../pods/execute';
import { FakeCriRuntime, makePod } from '../pods/fixtures';
import { ANNOTATION_GPU_DEVICES, GpuAllocator } from './allocation';
import type { GpuInventory } from './discovery';

const inventory: GpuInventory = {
  gpus: [0, 1].map((index) => ({ index, hostPath: `/fake/dev/nvidia${index}`, containerPath: `/dev/nvidia${index}` })),
  controlDevices: [{ hostPath: '/fake/dev/nvidiactl', containerPath: '/dev/nvidiactl' }],
  libraries: [],
  binaries: [],
};

const gpuApp: Container = { name: 'app', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '1' } } };
const run = { type: 'runContainer', sandboxId: 'sb-1', sandboxAttempt: 0, container: 'app', attempt: 0, restartCount: 0, image: 'busybox', init: false } as const;

async function start(cri: FakeCriRuntime, pod: Pod, gpu?: GpuAllocator) {
  const { podSandboxId } = await cri.runPodSandbox({ config: { metadata: { name: pod.metadata.name, uid: pod.metadata.uid!, namespace: 'default' } } });
  return executeActions([{ ...run, sandboxId: podSandboxId }], {
    cri, pod, sandbox: { podLogsRoot: '/l' }, log: pino({ level: 'silent' }), now: () => 0, ...(gpu ? { gpu } : {}),
  });
}

describe('GPU containers through executeActions', () => {
  it('creates each container with its own GPU and waits when none is left', async () => {
    const cri = new FakeCriRuntime();
    const gpu = new GpuAllocator(inventory, cri);
    const pods = ['a', 'b', 'c'].map((n) => makePod({ containers: [gpuApp] }, { name: n, uid: `u-${n}` }));
    for (const p of pods.slice(0, 2)) expect((await start(cri, p, gpu)).failures).toEqual({});
    const configs = [...cri.containers.values()].map((c) => c.config);
    expect(configs.map((c) => c.annotations?.[ANNOTATION_GPU_DEVICES])).toEqual(['0', '1']);
    expect(configs[1]!.devices).toEqual([
      { hostPath: '/fake/dev/nvidia1', containerPath: '/dev/nvidia1', permissions: 'rw' },
      { hostPath: '/fake/dev/nvidiactl', containerPath: '/dev/nvidiactl', permissions: 'rw' },
    ]);
    expect(configs[1]!.envs).toContainEqual({ key: 'NVIDIA_VISIBLE_DEVICES', value: '1' });
    const third = await start(cri, pods[2]!, gpu);
    expect(third.failures.containers?.app).toEqual({ reason: 'UnexpectedAdmissionError', message: 'container app asks for 1 nvidia.com/gpu; 0 of the node\'s 2 are free' });
    expect(third.events).toEqual([]);
    expect(cri.containers.size).toBe(2);
  });

  it('waits with UnexpectedAdmissionError on a node without GPUs', async () => {
    const cri = new FakeCriRuntime();
    const out = await start(cri, makePod({ containers: [gpuApp] }, { name: 'a', uid: 'u-a' }));
    expect(out.failures.containers?.app).toEqual({ reason: 'UnexpectedAdmissionError', message: 'container app asks for 1 nvidia.com/gpu but the node has no GPUs' });
    expect(cri.calls).not.toContain('createContainer');
  });
});
