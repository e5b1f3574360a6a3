/**
 * Pod volumes end to end: pod actors on a private containerd in a test network namespace, with
 * the node's PodVolumes. The two-container pod of the Kubernetes docs
 * (https://kubernetes.io/docs/tasks/access-application-cluster/communicate-containers-same-pod-shared-volume/):
 * one container writes into a shared emptyDir, the other reads it; a memory emptyDir is a tmpfs;
 * a configMap volume is read-only and its files change in the running container when the
 * ConfigMap does; deleting the pod unmounts and removes its volumes.
 * Needs root, containerd, runc, the CNI plugins and busybox-static; skipped otherwise.
 */
import { dispatch, start, stop, type Ref } from 'nact';
import pino from 'pino';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigMap } from '../../../messages/config-data';
import type { Pod, PodStatus } from '../../../messages/pod';
import { mountsUnder, removeCgroup } from '../../../node-agent/containerd/cleanup';
import { BUSYBOX_IMAGE } from '../../../node-agent/images/build';
import { execInPod, podCgroupParent, spawnPodActor, type PodActorMessage } from '../../../node-agent/pods';
import { makePod } from '../../../node-agent/pods/fixtures';
import { PodVolumes } from '../../../node-agent/volumes';
import { containerdE2eUnavailable, removeAllPods, startTestContainerd, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping pod volume e2e tests: ${unavailable} (needs root, containerd, runc, CNI plugins, busybox-static)`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(180_000);

suite('pod volumes on a private containerd', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;
  let system: Ref<never>;
  let pod: Pod | undefined;

  beforeAll(async () => {
    ns = await createNetns('mkvol');
    ctrd = await startTestContainerd({ netns: ns });
    system = start();
  });

  afterAll(async () => {
    if (system) stop(system);
    if (ctrd) await removeAllPods(ctrd.cri).catch(() => undefined);
    if (ctrd) await new PodVolumes({ podsRoot: `${ctrd.dataDir}/pods` }).cleanOrphans(new Set()).catch(() => undefined);
    await ctrd?.stop();
    await ns?.destroy();
    if (pod) await removeCgroup(podCgroupParent(pod));
  });

  it('shares an emptyDir between two containers, mounts a tmpfs and a live read-only configMap, and removes them with the pod', async () => {
    const podsRoot = `${ctrd.dataDir}/pods`;
    const volumes = new PodVolumes({ podsRoot });
    let cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'site' }, data: { greeting: 'hello' } };
    const base = makePod({
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'writer', image: BUSYBOX_IMAGE,
          command: ['sh', '-c', 'mkdir -p /pod-data/sub && echo in-sub > /pod-data/sub/f && echo "Hello from the writer container" > /pod-data/index.html && exec sleep 3600'],
          volumeMounts: [{ name: 'shared-data', mountPath: '/pod-data' }, { name: 'ram', mountPath: '/ram' }],
        },
        {
          name: 'reader', image: BUSYBOX_IMAGE, command: ['sleep', '3600'],
          volumeMounts: [
            { name: 'shared-data', mountPath: '/usr/share/data', readOnly: true }, { name: 'site', mountPath: '/etc/site' },
            { name: 'shared-data', mountPath: '/sub', subPath: 'sub' }, { name: 'site', mountPath: '/greeting', subPath: 'greeting' },
          ],
        },
      ] as unknown as Pod['spec']['containers'],
    }, { name: 'two-containers', uid: `uid-vol-${process.pid}` });
    pod = { ...base, spec: { ...base.spec, volumes: [
      { name: 'shared-data', emptyDir: {} },
      { name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
      { name: 'site', configMap: { name: 'site' } },
    ] } as Pod['spec'] };
    const statuses: PodStatus[] = [];
    const terminated: Pod[] = [];
    const ref: Ref<PodActorMessage> = spawnPodActor(system, {
      cri: ctrd.cri, nodeName: 'node-1', hostIP: '192.168.77.1', podLogsRoot: podsRoot, resyncIntervalMs: 300,
      volumes, volumeRefreshMs: 500,
      envObjects: () => ({ configMap: async (n) => (n === 'site' ? cm : undefined), secret: async () => undefined }),
      writeStatus: async (_p, s) => { statuses.push(s); },
      onTerminated: async (p) => { terminated.push(p); },
      log: pino({ level: process.env.MK_TEST_LOG ?? 'silent' }),
    }, pod);
    await until('both containers running', () => {
      const s = statuses[statuses.length - 1];
      return s?.phase === 'Running' && s.containerStatuses?.every((c) => c.state.running) ? s : undefined;
    }, 120_000);
    const exec = async (container: string, cmd: string) => execInPod(ctrd.cri, pod!, container, ['sh', '-c', cmd], 10);

    const read = await until('the reader to see the writer\'s file', async () => {
      const r = await exec('reader', 'cat /usr/share/data/index.html');
      return r.exitCode === 0 ? r.stdout.toString() : undefined;
    });
    expect(read).toBe('Hello from the writer container\n');
    const denied = await exec('reader', 'echo x > /usr/share/data/other');
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr.toString()).toMatch(/Read-only file system/);

    const df = await exec('writer', "grep ' /ram ' /proc/mounts");
    expect(df.stdout.toString()).toMatch(/^tmpfs \/ram tmpfs rw.*size=8192k/);

    expect((await exec('reader', 'cat /etc/site/greeting')).stdout.toString()).toBe('hello');
    // subPaths reach the runtime as bind mounts of the checked directory and file (volume-subpaths).
    expect((await exec('reader', 'cat /sub/f')).stdout.toString()).toBe('in-sub\n');
    expect((await exec('reader', 'cat /greeting')).stdout.toString()).toBe('hello');
    const subpaths = path.join(podsRoot, pod.metadata.uid!, 'volume-subpaths');
    expect((await mountsUnder(subpaths)).sort()).toEqual([path.join(subpaths, 'shared-data', 'reader', '2'), path.join(subpaths, 'site', 'reader', '3')]);
    expect((await exec('reader', 'touch /etc/site/x')).exitCode).not.toBe(0);
    cm = { ...cm, data: { greeting: 'hello again' } };
    await until('the new ConfigMap value in the running container', async () => {
      const r = await exec('reader', 'cat /etc/site/greeting');
      return r.stdout.toString() === 'hello again' ? true : undefined;
    }, 30_000);
    expect(statuses[statuses.length - 1].containerStatuses?.map((c) => c.restartCount)).toEqual([0, 0]);

    const dir = path.join(podsRoot, pod.metadata.uid!, 'volumes');
    expect(await mountsUnder(dir)).toEqual([path.join(dir, 'empty-dir', 'ram')]);
    dispatch(ref, { type: 'pod/sync', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } } });
    await until('deletion to finish', () => (terminated.length > 0 ? true : undefined), 60_000);
    expect(await mountsUnder(dir)).toEqual([]);
    expect(await stat(dir).catch(() => undefined)).toBeUndefined();
    expect(await mountsUnder(subpaths)).toEqual([]);
    expect(await stat(subpaths).catch(() => undefined)).toBeUndefined();
  });
});
