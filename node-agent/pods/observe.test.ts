import { buildContainerConfig, buildSandboxConfig } from './cri-spec';
import { FakeCriRuntime, makePod } from './fixtures';
import { ObservationCache, observePod } from './observe';

describe('observePod with a cache', () => {
  it('asks only for the lists once the pod has settled, and again for what changed', async () => {
    const cri = new FakeCriRuntime();
    const pod = makePod();
    const sandboxConfig = buildSandboxConfig(pod, { podLogsRoot: '/logs' }, 0);
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    const { containerId } = await cri.createContainer({ podSandboxId, config: buildContainerConfig(pod, pod.spec.containers[0], 0), sandboxConfig });
    await cri.startContainer({ containerId });
    const cache = new ObservationCache();
    const calls = (): string[] => cri.calls.splice(0).sort();
    calls();

    const first = await observePod(cri, 'uid-1', ['busybox'], cache);
    expect(first.sandboxes[0].ip).toMatch(/^10\.244\./);
    expect(first.containers[0]).toMatchObject({ id: containerId, state: 'CONTAINER_RUNNING', restartCount: 0 });
    expect(calls()).toEqual(['containerStatus', 'imageStatus', 'listContainers', 'listPodSandbox', 'podSandboxStatus']);

    // Settled: the same answer from two lists.
    expect(await observePod(cri, 'uid-1', ['busybox'], cache)).toEqual(first);
    expect(calls()).toEqual(['listContainers', 'listPodSandbox']);

    // The container exits: its status is read again, once.
    cri.exit('app', 3);
    const exited = await observePod(cri, 'uid-1', ['busybox'], cache);
    expect(exited.containers[0]).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 3 });
    expect(calls()).toEqual(['containerStatus', 'listContainers', 'listPodSandbox']);
    await observePod(cri, 'uid-1', ['busybox'], cache);
    expect(calls()).toEqual(['listContainers', 'listPodSandbox']);

    // Gone objects leave the cache.
    await cri.removeContainer({ containerId });
    await cri.stopPodSandbox({ podSandboxId });
    await cri.removePodSandbox({ podSandboxId });
    expect(await observePod(cri, 'uid-1', ['busybox'], cache)).toMatchObject({ sandboxes: [], containers: [] });
    expect(cache.containers.size + cache.sandboxNets.size).toBe(0);
  });

  it('looks a missing image up every time', async () => {
    const cri = new FakeCriRuntime();
    const cache = new ObservationCache();
    for (let i = 0; i < 2; i++) expect((await observePod(cri, 'uid-1', ['nope:1'], cache)).images['nope:1']).toEqual({ present: false });
    expect(cri.calls.filter((c) => c === 'imageStatus')).toHaveLength(2);
  });
});
