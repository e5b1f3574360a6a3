/**
 * Teardown after a crash: containerd killed with SIGKILL while a pod runs must still leave
 * nothing behind once the harness stops it (no shim, no container process, no mount, no dir).
 */
import { existsSync } from 'node:fs';
import { mountsUnder, pidAlive, shimPidsFor, shimSocketPath } from '../../../node-agent/containerd/cleanup';
import { BUSYBOX_IMAGE } from '../../../node-agent/images/build';
import { cgroupLeftIn } from '../../helpers/cgroups';
import { containerdE2eUnavailable, startTestContainerd } from '../../helpers/containerd';
import { createNetns } from '../../helpers/netns';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping cleanup e2e test: ${unavailable}`);
const maybe = unavailable ? it.skip : it;

jest.setTimeout(120_000);

maybe('purges shims, containers and mounts after containerd is killed', async () => {
  const ns = await createNetns('mkcrash');
  try {
    const ctrd = await startTestContainerd({ netns: ns });
    try {
      const sandboxConfig = { metadata: { name: 'crash', uid: 'uid-crash', namespace: 'default' }, logDirectory: `${ctrd.dataDir}/pods/crash`, linux: { cgroupParent: ctrd.cgroupParent } };
      const { podSandboxId } = await ctrd.cri.runPodSandbox({ config: sandboxConfig });
      const { containerId } = await ctrd.cri.createContainer({
        podSandboxId, sandboxConfig,
        config: { metadata: { name: 'sleep' }, image: { image: BUSYBOX_IMAGE }, command: ['sleep', '3600'], logPath: 'sleep.log' },
      });
      await ctrd.cri.startContainer({ containerId });
      const info = (await ctrd.cri.containerStatus({ containerId, verbose: true })).info;
      const containerPid = (JSON.parse(info.info ?? '{}') as { pid?: number }).pid ?? 0;
      expect(containerPid).toBeGreaterThan(0);
      const shims = await shimPidsFor(ctrd.socketPath);
      expect(shims.length).toBeGreaterThan(0);
      expect(existsSync(shimSocketPath(ctrd.socketPath, 'k8s.io', podSandboxId))).toBe(true);
      expect(await cgroupLeftIn(ctrd.cgroupParent)).not.toEqual([]);

      process.kill(ctrd.pid, 'SIGKILL');
      await ctrd.process.exited;
      await ctrd.stop();

      for (const pid of [...shims, containerPid]) expect(await pidAlive(pid)).toBe(false);
      expect(existsSync(shimSocketPath(ctrd.socketPath, 'k8s.io', podSandboxId))).toBe(false);
      expect(await mountsUnder(ctrd.dataDir)).toEqual([]);
      expect(existsSync(ctrd.dataDir)).toBe(false);
      expect(await cgroupLeftIn(ctrd.cgroupParent)).toEqual([]);
    } finally {
      await ctrd.stop();
    }
  } finally {
    await ns.destroy();
  }
});
