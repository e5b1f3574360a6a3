/**
 * persistentVolumeClaim volumes end to end: pod actors on a private containerd in a test network
 * namespace, with the node's PodVolumes reading a claim bound to a hostPath PersistentVolume. A
 * first pod writes a file into the claim and is deleted; the volume's directory stays, and a
 * second pod, mounting the claim read-only, reads the file and cannot write. A pod whose claim is
 * not Bound yet waits (FailedMount) and starts once it is.
 * Needs root, containerd, runc, the CNI plugins and busybox-static; skipped otherwise.
 */
import { dispatch, start, stop, type Ref } from 'nact';
import pino from 'pino';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../messages/persistent-volume';
import type { Pod, PodStatus } from '../../../messages/pod';
import { removeCgroup } from '../../../node-agent/containerd/cleanup';
import { BUSYBOX_IMAGE } from '../../../node-agent/images/build';
import { execInPod, podCgroupParent, spawnPodActor, type PodActorMessage } from '../../../node-agent/pods';
import { makePod } from '../../../node-agent/pods/fixtures';
import { PodVolumes } from '../../../node-agent/volumes';
import { containerdE2eUnavailable, removeAllPods, startTestContainerd, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping claim volume e2e tests: ${unavailable} (needs root, containerd, runc, CNI plugins, busybox-static)`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(240_000);

suite('persistentVolumeClaim volumes on a private containerd', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;
  let system: Ref<never>;
  let data: string;
  const pods: Pod[] = [];

  beforeAll(async () => {
    ns = await createNetns('mkpvc');
    ctrd = await startTestContainerd({ netns: ns });
    system = start();
    data = await mkdtemp(path.join(tmpdir(), 'mk-pv-e2e-'));
  });

  afterAll(async () => {
    if (system) stop(system);
    if (ctrd) await removeAllPods(ctrd.cri).catch(() => undefined);
    if (ctrd) await new PodVolumes({ podsRoot: `${ctrd.dataDir}/pods` }).cleanOrphans(new Set()).catch(() => undefined);
    await ctrd?.stop();
    await ns?.destroy();
    for (const p of pods) await removeCgroup(podCgroupParent(p));
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('keeps what one pod wrote for the next pod of the claim, and holds a pod until its claim is Bound', async () => {
    const podsRoot = `${ctrd.dataDir}/pods`;
    const volumes = new PodVolumes({ podsRoot, node: { metadata: { name: 'node-1' } } });
    const pv: PersistentVolume = {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-e2e' },
      spec: {
        capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: path.join(data, 'vol'), type: 'DirectoryOrCreate' },
        claimRef: { namespace: 'default', name: 'store', uid: 'claim-uid' },
      },
      status: { phase: 'Bound' },
    };
    let claim: PersistentVolumeClaim = {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'store', namespace: 'default', uid: 'claim-uid' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' },
    };
    const run = (name: string, command: string, readOnly: boolean) => {
      const base = makePod({
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: BUSYBOX_IMAGE, command: ['sh', '-c', command], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] as unknown as Pod['spec']['containers'],
      }, { name, uid: `uid-${name}-${process.pid}` });
      const pod: Pod = { ...base, spec: { ...base.spec, volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'store', ...(readOnly ? { readOnly } : {}) } }] } as Pod['spec'] };
      pods.push(pod);
      const statuses: PodStatus[] = [];
      const events: string[] = [];
      const terminated: Pod[] = [];
      const ref: Ref<PodActorMessage> = spawnPodActor(system, {
        cri: ctrd.cri, nodeName: 'node-1', hostIP: '192.168.77.1', podLogsRoot: podsRoot, resyncIntervalMs: 300, volumes,
        envObjects: () => ({
          configMap: async () => undefined, secret: async () => undefined,
          claim: async (n) => (n === 'store' ? claim : undefined), volume: async (n) => (n === pv.metadata.name ? pv : undefined),
        }),
        writeStatus: async (_p, s) => { statuses.push(s); },
        recordEvent: (_p, _type, reason, message) => { events.push(`${reason}: ${message}`); },
        onTerminated: async (p) => { terminated.push(p); },
        log: pino({ level: process.env.MK_TEST_LOG ?? 'silent' }),
      }, pod);
      const running = () => until(`${name} running`, () => {
        const s = statuses[statuses.length - 1];
        return s?.phase === 'Running' && s.containerStatuses?.every((c) => c.state.running) ? s : undefined;
      }, 120_000);
      const remove = async () => {
        dispatch(ref, { type: 'pod/sync', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } } });
        await until(`${name} deleted`, () => (terminated.length > 0 ? true : undefined), 60_000);
      };
      return { pod, statuses, events, running, remove };
    };

    const writer = run('writer', 'echo kept > /data/hello.txt && exec sleep 3600', false);
    const waiting = await until('the writer to wait for its claim', () => {
      const s = writer.statuses[writer.statuses.length - 1];
      return s?.containerStatuses?.[0]?.state.waiting ? s : undefined;
    }, 60_000);
    expect(waiting.phase).toBe('Pending');
    expect(waiting.containerStatuses?.[0].state.running).toBeUndefined();
    await until('FailedMount for the unbound claim', () => writer.events.find((e) => e.startsWith('FailedMount: MountVolume.SetUp failed for volume "data" : PVC default/store is not bound')));
    claim = { ...claim, spec: { ...claim.spec, volumeName: 'pv-e2e' }, status: { phase: 'Bound' } };
    await writer.running();
    await until('the file on the volume', async () => ((await readFile(path.join(data, 'vol', 'hello.txt'), 'utf8').catch(() => '')) === 'kept\n' ? true : undefined));
    await writer.remove();
    expect(await readFile(path.join(data, 'vol', 'hello.txt'), 'utf8')).toBe('kept\n');

    const reader = run('reader', 'exec sleep 3600', true);
    await reader.running();
    const exec = (cmd: string) => execInPod(ctrd.cri, reader.pod, 'app', ['sh', '-c', cmd], 10);
    expect((await exec('cat /data/hello.txt')).stdout.toString()).toBe('kept\n');
    const denied = await exec('echo x > /data/other');
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr.toString()).toMatch(/Read-only file system/);
    await reader.remove();
    expect(await readFile(path.join(data, 'vol', 'hello.txt'), 'utf8')).toBe('kept\n');
  });
});
