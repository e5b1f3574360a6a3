/**
 * The pod actor end to end: a private containerd in a test network namespace, pod actors in a
 * nact system driving it. Covers Running with a pod IP and HTTP, logs, exec, crash-loop backoff,
 * restartPolicy Never, init containers, adoption by a new actor, and graceful deletion.
 * Needs root, containerd, runc, the CNI plugins and busybox-static; skipped otherwise.
 */
import { dispatch, start, stop, type Ref } from 'nact';
import pino from 'pino';
import type { Pod, PodStatus } from '../../../messages/pod';
import type { CriClient } from '../../../node-agent/cri/client';
import { BUSYBOX_IMAGE } from '../../../node-agent/images/build';
import { removeCgroup } from '../../../node-agent/containerd/cleanup';
import {
  execInPod, LABEL_POD_UID, podCgroupParent, readContainerLogs, resolveLogPath, spawnPodActor,
  type PodActorDeps, type PodActorMessage,
} from '../../../node-agent/pods';
import { makePod } from '../../../node-agent/pods/fixtures';
import { containerdE2eUnavailable, startTestContainerd, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping pod actor e2e tests: ${unavailable} (needs root, containerd, runc, CNI plugins, busybox-static)`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(180_000);


/** Counts CRI calls, so a test can wait for "the actor looked N more times" instead of sleeping. */
function counting(cri: CriClient): { cri: CriClient; count(method: string): number } {
  const counts = new Map<string, number>();
  const proxy = new Proxy(cri, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        counts.set(String(prop), (counts.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { cri: proxy, count: (m) => counts.get(m) ?? 0 };
}

interface Run { ref: Ref<PodActorMessage>; statuses: PodStatus[]; terminated: Pod[]; crashes: unknown[]; last(): PodStatus | undefined }

suite('pod actor on a private containerd', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;
  let system: Ref<never>;

  beforeAll(async () => {
    ns = await createNetns('mkpod');
    ctrd = await startTestContainerd({ netns: ns });
    system = start();
  });

  // Pods this suite made: their cgroups (kubepods/<qos>/pod<uid>) outlive containerd.
  const made: Pod[] = [];

  afterAll(async () => {
    if (system) stop(system);
    await ctrd?.stop();
    await ns?.destroy();
    for (const pod of made) await removeCgroup(podCgroupParent(pod));
  });

  function spawn(pod: Pod, extra: Partial<PodActorDeps> = {}, parent: Ref<never> = system): Run {
    const statuses: PodStatus[] = [];
    const terminated: Pod[] = [];
    const crashes: unknown[] = [];
    const deps: PodActorDeps = {
      cri: ctrd.cri, nodeName: 'node-1', hostIP: '192.168.77.1', podLogsRoot: `${ctrd.dataDir}/pods`, resyncIntervalMs: 300,
      writeStatus: async (_p, s) => { statuses.push(s); },
      onTerminated: async (p) => { terminated.push(p); },
      log: pino({ level: process.env.MK_TEST_LOG ?? 'silent' }),
      onCrash: (_m, err, ctx) => { crashes.push(err); return (ctx as unknown as { stop: symbol }).stop; },
      ...extra,
    };
    const ref = spawnPodActor(parent, deps, pod);
    return { ref, statuses, terminated, crashes, last: () => statuses[statuses.length - 1] };
  }

  const e2ePod = (name: string, spec: Partial<Pod['spec']>): Pod => {
    const pod = makePod(spec, { name, uid: `uid-${name}-${process.pid}` });
    made.push(pod);
    return pod;
  };

  async function deleteAndWait(run: Run, pod: Pod): Promise<void> {
    dispatch(run.ref, { type: 'pod/sync', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 2 } } });
    await until('deletion to finish', () => (run.terminated.length > 0 ? true : undefined), 60_000);
    const selector = { labelSelector: { [LABEL_POD_UID]: pod.metadata.uid ?? '' } };
    expect((await ctrd.cri.listPodSandbox({ filter: selector })).items).toEqual([]);
    expect((await ctrd.cri.listContainers({ filter: selector })).containers).toEqual([]);
  }

  it('runs an httpd pod: Running with a pod IP, HTTP, logs, exec; a new actor adopts it; delete removes it', async () => {
    const pod = e2ePod('web', {
      terminationGracePeriodSeconds: 2,
      containers: [{
        name: 'httpd', image: BUSYBOX_IMAGE, ports: [{ containerPort: 8080 }],
        command: ['sh', '-c', 'mkdir -p /www && echo hello-mk > /www/index.html && echo started && exec httpd -f -p 8080 -h /www'],
      }],
    });
    const run = spawn(pod);
    const status = await until('Running with a pod IP', () => {
      const s = run.last();
      return s?.phase === 'Running' && s.podIP && s.containerStatuses?.[0].ready ? s : undefined;
    });
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.containerStatuses?.[0]).toMatchObject({ restartCount: 0, containerID: expect.stringMatching(/^containerd:\/\//) });

    const body = await until('httpd to answer', async () => {
      // No `-T`: Debian's busybox 1.35 wget segfaults with it; the run's own deadline bounds it.
      const r = await ns.run(['/bin/busybox', 'wget', '-qO-', `http://${status.podIP}:8080/`], { timeoutMs: 5000 });
      if (r.code !== 0) throw new Error(`wget exited ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    });
    expect(body.trim()).toBe('hello-mk');

    const logPath = await resolveLogPath(ctrd.cri, pod, undefined, false);
    const logs = await until('the log line', async () => {
      const text = (await readContainerLogs({ logPath })).toString();
      return text.includes('started') ? text : undefined;
    });
    expect(logs).toBe('started\n');
    await expect(resolveLogPath(ctrd.cri, pod, 'httpd', true)).rejects.toThrow('previous terminated container "httpd" in pod "web" not found');

    const ex = await execInPod(ctrd.cri, pod, undefined, ['cat', '/www/index.html'], 10);
    expect(ex).toMatchObject({ exitCode: 0 });
    expect(ex.stdout.toString()).toBe('hello-mk\n');

    // Restart the "agent": a new actor system and actor for the same pod restarts nothing.
    const id = status.containerStatuses?.[0].containerID;
    stop(system);
    system = start();
    const counted = counting(ctrd.cri);
    const run2 = spawn({ ...pod, status }, { cri: counted.cri });
    await until('three reconciles by the new actor', () => (counted.count('listContainers') >= 3 ? true : undefined));
    const list = await ctrd.cri.listContainers({ filter: { labelSelector: { [LABEL_POD_UID]: pod.metadata.uid ?? '' } } });
    expect(list.containers.map((c) => `containerd://${c.id}`)).toEqual([id]);
    expect(list.containers[0].state).toBe('CONTAINER_RUNNING');
    expect(counted.count('createContainer') + counted.count('stopContainer') + counted.count('runPodSandbox')).toBe(0);
    expect(run2.last()?.containerStatuses?.[0].restartCount ?? 0).toBe(0);

    await deleteAndWait(run2, pod);
    expect(run.crashes.concat(run2.crashes)).toEqual([]);
  });

  it('restartPolicy Always with a failing container: restartCount grows with CrashLoopBackOff', async () => {
    const pod = e2ePod('crash', { restartPolicy: 'Always', containers: [{ name: 'fail', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 1'] }] });
    // A short backoff for the test; the default is Kubernetes' 10 s.
    const run = spawn(pod, { backoff: { initialMs: 400, maxMs: 1600 }, resyncIntervalMs: 200 });
    const s = await until('two restarts', () => {
      const l = run.last();
      return (l?.containerStatuses?.[0].restartCount ?? 0) >= 2 ? l : undefined;
    });
    expect(s.phase).toBe('Running');
    const waits = run.statuses.map((x) => x.containerStatuses?.[0].state.waiting).filter((w) => w?.reason === 'CrashLoopBackOff');
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]?.message).toMatch(/^back-off \d+ms restarting failed container=fail pod=crash_default\(uid-crash-\d+\)$/);
    expect(run.statuses.some((x) => x.containerStatuses?.[0].lastState.terminated?.exitCode === 1)).toBe(true);
    await expect(resolveLogPath(ctrd.cri, pod, 'fail', true)).resolves.toMatch(/\/fail\/\d+\.log$/);
    await deleteAndWait(run, pod);
    expect(run.crashes).toEqual([]);
  });

  it('restartPolicy Never with a failing container: Failed with exitCode 1', async () => {
    const pod = e2ePod('never', { restartPolicy: 'Never', containers: [{ name: 'fail', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 1'] }] });
    const run = spawn(pod);
    const s = await until('Failed', () => (run.last()?.phase === 'Failed' ? run.last() : undefined));
    expect(s?.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(s?.containerStatuses?.[0].restartCount).toBe(0);
    await deleteAndWait(run, pod);
  });

  it('runs init containers to completion before the app container', async () => {
    const pod = e2ePod('init', {
      initContainers: [{ name: 'setup', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo init-done'] }],
      containers: [{ name: 'app', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo app-up && exec sleep 3600'] }],
    });
    const run = spawn(pod);
    const s = await until('Running', () => (run.last()?.phase === 'Running' ? run.last() : undefined));
    expect(s?.initContainerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(s?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    const initStarted = Date.parse(s?.initContainerStatuses?.[0].state.terminated?.finishedAt ?? '');
    const appStarted = Date.parse(s?.containerStatuses?.[0].state.running?.startedAt ?? '');
    expect(appStarted).toBeGreaterThanOrEqual(initStarted);
    expect((await readContainerLogs({ logPath: await resolveLogPath(ctrd.cri, pod, 'setup', false) })).toString()).toBe('init-done\n');
    await deleteAndWait(run, pod);
  });
});
