import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { ConfigMap } from '../../messages/config-data';
import type { Pod } from '../../messages/pod';
import { PodVolumes, type Mounter, type Volume, type VolumeMount } from '../volumes';
import { executeActions, type ExecuteContext } from './execute';
import { FakeCriRuntime, makePod } from './fixtures';
import type { PodAction } from './types';

const log = pino({ level: 'silent' });
const noMounts: Mounter = { isMountPoint: async () => true, mountTmpfs: async () => undefined, unmountUnder: async () => undefined };

describe('executeActions and pod volumes', () => {
  let root: string;
  let volumes: PodVolumes;
  const cms = new Map<string, ConfigMap>();
  const events: string[] = [];
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'mk-exec-vol-'));
    volumes = new PodVolumes({ podsRoot: root, mounter: noMounts });
    cms.clear();
    events.length = 0;
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  const withVolumes = (volumeList: Volume[], mounts: VolumeMount[]): Pod => {
    const pod = makePod({ containers: [{ name: 'app', image: 'busybox', env: [{ name: 'POD', value: 'web' }], volumeMounts: mounts } as Pod['spec']['containers'][0]] });
    return { ...pod, spec: { ...pod.spec, volumes: volumeList } as Pod['spec'] };
  };

  async function run(pod: Pod, withManager = true) {
    const cri = new FakeCriRuntime();
    cri.images.add('busybox');
    const { podSandboxId } = await cri.runPodSandbox({ config: { metadata: { name: 'web', uid: 'uid-1', namespace: 'default', attempt: 0 }, logDirectory: root, labels: {} } as never });
    const action: PodAction = { type: 'runContainer', sandboxId: podSandboxId, sandboxAttempt: 0, container: 'app', attempt: 0, restartCount: 0, image: 'busybox', init: false };
    const ctx: ExecuteContext = {
      cri, pod, sandbox: { podLogsRoot: root }, log, now: Date.now,
      event: (type, reason, message) => events.push(`${type} ${reason} ${message}`),
      env: { objects: { configMap: async (n) => cms.get(n), secret: async () => undefined } },
      ...(withManager ? { volumes } : {}),
    };
    const out = await executeActions([action], ctx);
    return { out, cri, config: [...cri.containers.values()][0]?.config };
  }

  it('sets up the volumes and mounts them into the container', async () => {
    cms.set('cfg', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { mode: 'fast' } });
    const pod = withVolumes(
      [{ name: 'scratch', emptyDir: {} }, { name: 'config', configMap: { name: 'cfg' } }],
      [{ name: 'scratch', mountPath: '/cache', subPathExpr: '$(POD)' }, { name: 'config', mountPath: '/etc/app' }],
    );
    const { out, config } = await run(pod);
    expect(out.failures).toEqual({});
    const base = path.join(root, 'uid-1', 'volumes');
    expect(config.mounts).toEqual([
      { containerPath: '/cache', hostPath: path.join(base, 'empty-dir', 'scratch', 'web'), readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/etc/app', hostPath: path.join(base, 'configmap', 'config'), readonly: true, propagation: 'PROPAGATION_PRIVATE' },
    ]);
    expect(await readFile(path.join(base, 'configmap', 'config', 'mode'), 'utf8')).toBe('fast');
  });

  it('keeps the container in ContainerCreating with a FailedMount event, without back-off, while a volume cannot be set up', async () => {
    const pod = withVolumes([{ name: 'config', configMap: { name: 'cfg' } }], [{ name: 'config', mountPath: '/etc/app' }]);
    const { out, cri } = await run(pod);
    const message = 'MountVolume.SetUp failed for volume "config" : configmap "cfg" not found';
    expect(out.failures.containers?.app).toEqual({ reason: 'ContainerCreating', message, volumes: true });
    expect(out.events).toEqual([]);
    expect(events.filter((e) => e.startsWith('Warning'))).toEqual([`Warning FailedMount ${message}`]);
    expect(cri.calls).not.toContain('createContainer');
  });

  it('keeps a persistentVolumeClaim volume it cannot read waiting, naming the volume and the claim', async () => {
    const pod = withVolumes([{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }], [{ name: 'data', mountPath: '/data' }]);
    const { out } = await run(pod);
    expect(out.failures.containers?.app?.message).toBe('MountVolume.SetUp failed for volume "data" : cannot read persistentvolumeclaim "c": this node has no access to the control plane\'s claims');
  });

  it('makes a subPath leaving its volume CreateContainerConfigError, and a node without volumes a waiting reason', async () => {
    const pod = withVolumes([{ name: 'scratch', emptyDir: {} }], [{ name: 'scratch', mountPath: '/x', subPath: '../../etc' }]);
    const { out } = await run(pod);
    expect(out.failures.containers?.app).toEqual({ reason: 'CreateContainerConfigError', message: expect.stringContaining("must not contain '..'") as unknown as string });
    const file = path.join(root, 'file');
    await writeFile(file, 'x');
    const under = new PodVolumes({ podsRoot: root, mounter: noMounts, hostPathRoots: [root] });
    volumes = under;
    const underFile = await run(withVolumes([{ name: 'f', hostPath: { path: file, type: 'File' } }], [{ name: 'f', mountPath: '/x', subPath: 'a' }]));
    expect(underFile.out.failures.containers?.app).toEqual({
      reason: 'CreateContainerConfigError', message: expect.stringMatching(/container app: subPath "a" of volume "f" cannot be made or resolved in the volume: .*ENOTDIR/) as unknown as string,
    });
    const plain = withVolumes([{ name: 'scratch', emptyDir: {} }], []);
    const none = await run(plain, false);
    expect(none.out.failures.containers?.app?.message).toMatch(/Unable to attach or mount volumes: this node keeps no pod volumes/);
  });
});
