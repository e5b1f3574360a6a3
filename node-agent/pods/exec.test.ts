import { NotFoundError, ValidationError } from '../../messages/errors';
import { buildContainerConfig, buildSandboxConfig } from './cri-spec';
import { ContainerNotRunningError } from './errors';
import { execInPod } from './exec';
import { FakeCriRuntime, makePod } from './fixtures';

describe('execInPod', () => {
  const pod = makePod({ containers: [{ name: 'app', image: 'busybox' }, { name: 'side', image: 'busybox' }] });
  let cri: FakeCriRuntime;
  let appId: string;

  beforeEach(async () => {
    cri = new FakeCriRuntime();
    const sandboxConfig = buildSandboxConfig(pod, { podLogsRoot: '/logs' }, 0);
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    for (const c of pod.spec.containers) {
      const { containerId } = await cri.createContainer({ podSandboxId, sandboxConfig, config: buildContainerConfig(pod, c, 0) });
      await cri.startContainer({ containerId });
      if (c.name === 'app') appId = containerId;
    }
  });

  it('runs in the first container by default', async () => {
    const r = await execInPod(cri, pod, undefined, ['echo', 'hi'], 5);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toBe(`ran echo hi in ${appId}\n`);
  });

  it('says clearly why it cannot run', async () => {
    cri.exit('side', 3);
    await expect(execInPod(cri, pod, 'side', ['true'], 5)).rejects.toThrow(new ContainerNotRunningError('web', 'side', 'it exited with code 3'));
    await expect(execInPod(cri, pod, 'nope', ['true'], 5)).rejects.toThrow(NotFoundError);
    await expect(execInPod(cri, pod, 'app', [], 5)).rejects.toThrow(ValidationError);
  });
});
