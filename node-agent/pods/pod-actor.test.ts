import { configurePersistence, dispatch, start, stop, type Ref } from 'nact';
import pino from 'pino';
import { census, disableActorTelemetry, enableActorTelemetry } from '../../common/actor-telemetry';
import { backoffOnCrash } from '../../common/supervision';
import { TimeoutError } from '../../messages/errors';
import type { Pod, PodStatus } from '../../messages/pod';
import { criTimeout, FakeCriRuntime, makePod, MemoryPersistenceEngine, } from './fixtures';
import { spawnPodActor, type PodActorDeps, type PodActorMessage } from './pod-actor';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConfigMap } from '../../messages/config-data';
import { PodVolumes, type Mounter } from '../volumes';

// nact runs messages on setImmediate: keep that real, fake the clock and setTimeout (resync, backoff).
beforeEach(() => { jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'], now: 1_700_000_000_000 }); });
afterEach(() => { jest.useRealTimers(); });

/** Lets queued actor work run: event-loop turns, no wall-clock time. */
const settle = async (turns = 30): Promise<void> => { for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r)); };

/** Advances the fake clock in steps until `cond` holds, failing after `maxMs` of fake time. */
async function advanceUntil(what: string, cond: () => boolean, maxMs = 60_000, stepMs = 250): Promise<void> {
  for (let t = 0; ; t += stepMs) {
    await settle();
    if (cond()) return;
    if (t > maxMs) throw new Error(`timed out (fake ${maxMs} ms) waiting for ${what}`);
    jest.advanceTimersByTime(stepMs);
  }
}

interface Harness { deps: PodActorDeps; statuses: PodStatus[]; terminated: Pod[]; crashes: unknown[]; last(): PodStatus | undefined }

function harness(cri: FakeCriRuntime, extra: Partial<PodActorDeps> = {}): Harness {
  const statuses: PodStatus[] = [];
  const terminated: Pod[] = [];
  const crashes: unknown[] = [];
  const deps: PodActorDeps = {
    cri, nodeName: 'node-1', hostIP: '192.168.1.10', podLogsRoot: '/logs', resyncIntervalMs: 1000,
    writeStatus: async (_pod, s) => { statuses.push(s); },
    onTerminated: async (p) => { terminated.push(p); },
    log: pino({ level: process.env.POD_TEST_LOG ?? 'silent' }),
    onCrash: (_msg, err, ctx) => { crashes.push(err); return (ctx as unknown as { stop: symbol }).stop; },
    ...extra,
  };
  return { deps, statuses, terminated, crashes, last: () => statuses[statuses.length - 1] };
}

const app = (h: Harness) => h.last()?.containerStatuses?.[0];

describe('pod actor', () => {
  let system: Ref<never>;
  afterEach(() => { stop(system); });

  it('runs a fresh pod to Running and writes status only when it changes', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    const h = harness(cri);
    const events: string[] = [];
    spawnPodActor(system, { ...h.deps, recordEvent: (_p, type, reason, message) => { events.push(`${type} ${reason} ${message}`); } }, makePod());
    await advanceUntil('Running', () => h.last()?.phase === 'Running');
    expect(events.filter((e) => /Created|Started/.test(e))).toEqual(['Normal Created Created container app', 'Normal Started Started container app']);
    expect(h.last()).toMatchObject({ podIP: '10.244.0.2', hostIP: '192.168.1.10', containerStatuses: [{ name: 'app', ready: true, restartCount: 0 }] });
    const writes = h.statuses.length;
    jest.advanceTimersByTime(5000);
    await settle(100);
    expect(h.statuses.length).toBe(writes);
    expect(cri.idsOf('app')).toHaveLength(1);
  });

  it('marks the container ready when its readiness probe passes, and restarts it when its liveness probe fails', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    let readyOk = false;
    let aliveOk = true;
    const events: string[] = [];
    const h = harness(cri, {
      recordEvent: (_p, type, reason, message) => { events.push(`${type} ${reason} ${message}`); },
      runProbe: async (t) => {
        const ok = t.probe.exec?.command[0] === 'ready' ? readyOk : aliveOk;
        return { outcome: ok ? 'success' : 'failure', message: ok ? '' : 'exit status 1' };
      },
    });
    const pod = makePod({
      containers: [{
        name: 'app', image: 'busybox',
        readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 },
        livenessProbe: { exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 2 },
      }],
    });
    spawnPodActor(system, h.deps, pod);
    await advanceUntil('Running', () => h.last()?.phase === 'Running');
    expect(app(h)).toMatchObject({ ready: false, started: true });
    expect(h.last()?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    // Failing probes record events but write no status while the result stays.
    await advanceUntil('a readiness failure event', () => events.some((e) => e === 'Warning Unhealthy Readiness probe failed: exit status 1'));
    const writes = h.statuses.length;
    jest.advanceTimersByTime(3000);
    await settle(100);
    expect(h.statuses.length).toBe(writes);
    readyOk = true;
    await advanceUntil('ready', () => app(h)?.ready === true && h.last()?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    aliveOk = false;
    await advanceUntil('a restart', () => (app(h)?.restartCount ?? 0) >= 1, 120_000);
    expect(events).toContain('Warning Unhealthy Liveness probe failed: exit status 1');
    expect(events).toContain('Normal Killing Container app failed liveness probe, will be restarted');
    expect(app(h)?.lastState.terminated?.exitCode).toBe(143);
  });

  it('runs the preStop hook before stopping a container that failed its liveness probe', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    let aliveOk = true;
    const h = harness(cri, { runProbe: async () => ({ outcome: aliveOk ? 'success' : 'failure', message: aliveOk ? '' : 'exit status 1' }) });
    const pod = makePod({
      terminationGracePeriodSeconds: 9,
      containers: [{
        name: 'app', image: 'busybox',
        livenessProbe: { exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 1 },
        lifecycle: { preStop: { exec: { command: ['drain'] } } },
      }],
    });
    spawnPodActor(system, h.deps, pod);
    await advanceUntil('Running', () => h.last()?.phase === 'Running');
    // Probes go through runProbe here: every ExecSync is the hook's.
    expect(cri.calls).not.toContain('execSync');
    aliveOk = false;
    await advanceUntil('a restart', () => (app(h)?.restartCount ?? 0) >= 1, 120_000);
    const hook = cri.calls.indexOf('execSync');
    expect(hook).toBeGreaterThan(0);
    expect(cri.calls.indexOf('stopContainer', hook)).toBeGreaterThan(hook);
    expect(cri.calls.slice(0, hook)).not.toContain('stopContainer');
  });

  it('writes its status again when the stored one changed after its write, and not for a view that lags', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    const h = harness(cri);
    const pod = makePod();
    const ref = spawnPodActor(system, h.deps, pod);
    await advanceUntil('Running', () => h.last()?.phase === 'Running' && h.last()?.containerStatuses?.[0]?.ready === true);
    const mine = h.last()!;
    const view = (status: PodStatus | undefined) => dispatch(ref, { type: 'pod/sync', pod: { ...pod, status } });
    // A view that has not caught up with the write (an older status) causes no write.
    let writes = h.statuses.length;
    view(h.statuses[0]);
    jest.advanceTimersByTime(2000);
    await settle(100);
    expect(h.statuses.length).toBe(writes);
    // The view shows the write (with the scheduler's PodScheduled kept instead): still nothing to write.
    const stored = { ...mine, conditions: mine.conditions!.map((c) => (c.type === 'PodScheduled' ? { ...c, lastTransitionTime: '2020-01-01T00:00:00Z' } : c)) };
    view(stored);
    jest.advanceTimersByTime(2000);
    await settle(100);
    expect(h.statuses.length).toBe(writes);
    // The control plane marks the pod not ready (its node was Unknown): the true status is written again.
    view({
      ...stored,
      conditions: stored.conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const, reason: 'NodeNotReady', message: 'Node is not ready' } : c)),
      containerStatuses: stored.containerStatuses!.map((c) => ({ ...c, ready: false })),
    });
    await advanceUntil('the status written again', () => h.statuses.length > writes);
    expect(h.last()?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(h.last()?.containerStatuses?.[0]).toMatchObject({ ready: true, containerID: mine.containerStatuses![0].containerID });
    // Once the view shows it, quiet again.
    writes = h.statuses.length;
    view(h.last());
    jest.advanceTimersByTime(5000);
    await settle(100);
    expect(h.statuses.length).toBe(writes);
    expect(cri.idsOf('app')).toHaveLength(1);
  });

  it('with views that carry status (an earlier version\'s), takes a write its view never showed as overwritten after 30 s', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    const h = harness(cri);
    const pod: Pod = { ...makePod(), status: { phase: 'Pending' } };
    const ref = spawnPodActor(system, h.deps, pod);
    await advanceUntil('Running', () => h.last()?.phase === 'Running' && h.last()?.containerStatuses?.[0]?.ready === true);
    const writes = h.statuses.length;
    // The view skips the write and shows a later status someone else stored.
    const other = { ...h.last()!, conditions: h.last()!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const } : c)) };
    dispatch(ref, { type: 'pod/sync', pod: { ...pod, status: other } });
    jest.advanceTimersByTime(20_000);
    await settle(100);
    expect(h.statuses.length).toBe(writes);
    await advanceUntil('the status written again', () => h.statuses.length > writes, 20_000, 1000);
    expect(h.last()?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('with views without status, writes nothing for a view and its true status again at once for a NodeNotReady mark', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    const h = harness(cri);
    const pod = makePod();
    expect(pod.status).toBeUndefined();
    const ref = spawnPodActor(system, h.deps, pod);
    await advanceUntil('Running', () => h.last()?.phase === 'Running' && h.last()?.containerStatuses?.[0]?.ready === true);
    const writes = h.statuses.length;
    dispatch(ref, { type: 'pod/sync', pod: { ...pod, metadata: { ...pod.metadata, labels: { a: 'b' } } } });
    jest.advanceTimersByTime(40_000);
    await settle(100);
    expect(h.statuses.length).toBe(writes);
    const mine = h.last()!;
    const marked: PodStatus = {
      ...mine,
      conditions: mine.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const, reason: 'NodeNotReady', message: 'Node is not ready' } : c)),
    };
    dispatch(ref, { type: 'pod/sync', pod: { ...pod, status: marked } });
    await advanceUntil('the status written again', () => h.statuses.length > writes, 2000);
    expect(h.last()?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(h.last()?.startTime).toBe(mine.startTime);
  });

  it('keeps its status across an agent restart when the view carries none: nothing written, nothing restarted', async () => {
    const engine = new MemoryPersistenceEngine();
    system = start(configurePersistence(engine));
    const cri = new FakeCriRuntime();
    const h1 = harness(cri, { persistent: true });
    spawnPodActor(system, h1.deps, makePod());
    await advanceUntil('Running', () => h1.last()?.phase === 'Running' && app(h1)?.ready === true);
    const mine = h1.last()!;
    stop(system);
    expect(engine.journal.get('pod-backoff-uid-1')?.filter((e) => (e.data as { type?: string }).type === 'status-written').length)
      .toBe(h1.statuses.length);

    jest.advanceTimersByTime(60_000);
    system = start(configurePersistence(engine));
    const h2 = harness(cri, { persistent: true });
    spawnPodActor(system, h2.deps, makePod());
    await advanceUntil('a few resyncs', () => cri.calls.filter((c) => c === 'listContainers').length > 6, 10_000);
    jest.advanceTimersByTime(5000);
    await settle(100);
    expect(h2.statuses).toEqual([]);
    expect(cri.idsOf('app')).toHaveLength(1);
    // The container dies: the status written keeps the start time and transition times it had.
    cri.exit('app', 1);
    await advanceUntil('the exit reported', () => app(h2)?.restartCount === 1);
    expect(h2.last()?.startTime).toBe(mine.startTime);
    expect(h2.last()?.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime)
      .toBe(mine.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime);
  });

  it('crash-loops with backoff: restartCount grows, CrashLoopBackOff 10 s then 20 s', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    cri.exitOnStart.set('app', 1);
    const reasons: string[] = [];
    const h = harness(cri, { recordEvent: (_p, type, reason, message) => { if (reason === 'BackOff') reasons.push(`${type} ${message}`); } });
    spawnPodActor(system, h.deps, makePod());
    await advanceUntil('first back-off', () => app(h)?.state.waiting?.reason === 'CrashLoopBackOff');
    expect(app(h)?.state.waiting?.message).toBe('back-off 10s restarting failed container=app pod=web_default(uid-1)');
    expect(app(h)).toMatchObject({ restartCount: 0, lastState: { terminated: { exitCode: 1, reason: 'Error' } } });
    const t0 = Date.now();
    await advanceUntil('second back-off', () => app(h)?.restartCount === 1 && app(h)?.state.waiting?.message?.startsWith('back-off 20s') === true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(9_000);
    // One BackOff per entry into CrashLoopBackOff, kubelet's wording.
    expect(reasons).toEqual(Array(2).fill('Warning Back-off restarting failed container app in pod web_default(uid-1)'));
    expect(h.last()?.phase).toBe('Running');
    expect(h.crashes).toEqual([]);
  });

  it('shows a pull failure as ErrImagePull, then ImagePullBackOff, without crashing', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    const h = harness(cri);
    spawnPodActor(system, h.deps, makePod({ containers: [{ name: 'app', image: 'registry.local/missing:1' }] }));
    await advanceUntil('ErrImagePull', () => app(h)?.state.waiting?.reason === 'ErrImagePull');
    await advanceUntil('ImagePullBackOff', () => app(h)?.state.waiting?.reason === 'ImagePullBackOff');
    expect(h.last()?.phase).toBe('Pending');
    expect(h.crashes).toEqual([]);
  });

  it('deletes gracefully: stop with the grace period, remove everything, then onTerminated', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    const stops = jest.spyOn(cri, 'stopContainer');
    const h = harness(cri);
    const pod = makePod({ terminationGracePeriodSeconds: 7 });
    const ref = spawnPodActor(system, h.deps, pod);
    await advanceUntil('Running', () => h.last()?.phase === 'Running');
    dispatch(ref, { type: 'pod/sync', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString() } } });
    await advanceUntil('terminated', () => h.terminated.length === 1);
    expect(stops.mock.calls[0][0]).toEqual({ containerId: expect.any(String), timeout: 7 });
    expect(cri.sandboxes.size + cri.containers.size).toBe(0);
  });

  it('a new actor for the same pod adopts its containers and restarts none; pod/stop leaves them running', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    const h1 = harness(cri);
    const ref: Ref<PodActorMessage> = spawnPodActor(system, h1.deps, makePod());
    await advanceUntil('Running', () => h1.last()?.phase === 'Running');
    dispatch(ref, { type: 'pod/stop' });
    await settle();
    stop(system);
    const ids = cri.idsOf('app');
    const creates = cri.calls.filter((c) => c === 'createContainer').length;
    system = start();
    const h2 = harness(cri);
    spawnPodActor(system, h2.deps, { ...makePod(), status: h1.last() });
    jest.advanceTimersByTime(3000);
    await settle(200);
    expect(cri.idsOf('app')).toEqual(ids);
    expect(cri.calls.filter((c) => c === 'createContainer').length).toBe(creates);
    expect(cri.containers.get(ids[0])?.state).toBe('CONTAINER_RUNNING');
    expect(h2.statuses).toEqual([]);
  });

  it('throws a CRI timeout to its supervisor', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    cri.fault = (m) => (m === 'listContainers' ? criTimeout(m) : undefined);
    const h = harness(cri);
    spawnPodActor(system, h.deps, makePod());
    await advanceUntil('a crash', () => h.crashes.length > 0);
    expect(h.crashes[0]).toBeInstanceOf(TimeoutError);
    expect(h.statuses).toEqual([]);
  });

  it('keeps the backoff across an agent restart through nact persistence', async () => {
    const engine = new MemoryPersistenceEngine();
    system = start(configurePersistence(engine));
    const cri = new FakeCriRuntime();
    cri.exitOnStart.set('app', 1);
    const h1 = harness(cri, { persistent: true });
    spawnPodActor(system, h1.deps, makePod());
    await advanceUntil('second back-off', () => app(h1)?.restartCount === 1 && app(h1)?.state.waiting?.reason === 'CrashLoopBackOff');
    const exitedAt = Date.now();
    stop(system);
    expect(engine.journal.get('pod-backoff-uid-1')?.filter((e) => (e.data as { type?: string }).type !== 'status-written')).toHaveLength(2);

    system = start(configurePersistence(engine));
    const h2 = harness(cri, { persistent: true });
    spawnPodActor(system, h2.deps, { ...makePod(), status: h1.last() });
    // A fresh backoff would restart after 10 s; the recovered one waits 20 s.
    const creates = (): number => cri.calls.filter((c) => c === 'createContainer').length;
    await advanceUntil('15 s later', () => Date.now() - exitedAt >= 15_000);
    expect(creates()).toBe(2);
    await advanceUntil('third start', () => creates() === 3);
    expect(Date.now() - exitedAt).toBeGreaterThanOrEqual(19_000);
  });
});

describe('pod actor: a CRI call cut short by its deadline', () => {
  let system: Ref<never>;
  afterEach(() => { stop(system); });

  /** Supervised the way the node agent supervises pod actors, crashes recorded. */
  function supervised(cri: FakeCriRuntime): Harness {
    const policy = backoffOnCrash({ type: 'pod/resync' }, () => undefined);
    const h = harness(cri);
    h.deps.onCrash = (msg, err, ctx) => { h.crashes.push(err); return policy(msg, err as Error, ctx as never); };
    return h;
  }
  const running = (h: Harness): boolean => h.last()?.phase === 'Running' && app(h)?.state.running !== undefined;
  const attemptOf = (cri: FakeCriRuntime, id: string): number | undefined => cri.containers.get(id)?.config.metadata.attempt;
  const everCrashLooped = (h: Harness): boolean => h.statuses.some((s) => s.containerStatuses?.[0].state.waiting?.reason === 'CrashLoopBackOff');

  it('StartContainer times out and the runtime then fails the start (StartError, 128): a new container at attempt 1 runs', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    // containerd keeps working on the start for 5 s after the caller gave up, then fails it.
    cri.stuckStarts.set('app', { forMs: 5_000, outcome: 'failed' });
    const h = supervised(cri);
    spawnPodActor(system, h.deps, makePod());
    await advanceUntil('Running', () => running(h), 30_000);
    // The abandoned instance was removed once its replacement ran: it never ran the program, so
    // it leaves no logs and no last state behind.
    const [second] = cri.idsOf('app');
    expect(cri.idsOf('app')).toHaveLength(1);
    expect(attemptOf(cri, second)).toBe(1);
    expect(cri.containers.get(second)?.state).toBe('CONTAINER_RUNNING');
    // Never started twice: no "already in starting state". While the runtime was still busy with
    // the first start it refused to remove it; the replacement waited for that start to end.
    expect(cri.startCalls).toHaveLength(2);
    expect(cri.startCalls[1]).toBe(second);
    expect(cri.startCalls[0]).not.toBe(second);
    expect(cri.calls.filter((c) => c === 'removeContainer').length).toBeGreaterThan(0);
    // The user's program ran once: no restart counted, no termination to show.
    expect(app(h)).toMatchObject({ ready: true, restartCount: 0, containerID: `containerd://${second}`, lastState: {} });
    // The runtime's deadline is not the program crashing: no crash-loop backoff, no actor crash.
    expect(everCrashLooped(h)).toBe(false);
    expect(h.crashes).toEqual([]);
  });

  it('knows its own start timed out, whatever message the runtime records on the abandoned container', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    // A message no pattern knows: only the actor's own timed-out call tells it the runtime gave up.
    cri.stuckStarts.set('app', { forMs: 2_000, outcome: 'failed', message: 'failed to create containerd task: ttrpc: closed: unknown' });
    const h = supervised(cri);
    spawnPodActor(system, h.deps, makePod({ restartPolicy: 'Never' }));
    await advanceUntil('Running', () => running(h), 30_000);
    expect(cri.idsOf('app').map((id) => attemptOf(cri, id))).toEqual([1]);
    expect(app(h)).toMatchObject({ restartCount: 0, lastState: {} });
    expect(h.statuses.map((s) => s.phase)).not.toContain('Failed');
    expect(everCrashLooped(h)).toBe(false);
    expect(h.crashes).toEqual([]);
  });

  it('the runtime never got the start (the container stays CREATED): it is removed and attempt 1 created', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    cri.stuckStarts.set('app', { forMs: 3_000, outcome: 'dropped' });
    const h = supervised(cri);
    spawnPodActor(system, h.deps, makePod());
    await advanceUntil('Running', () => running(h), 30_000);
    const ids = cri.idsOf('app');
    expect(ids).toHaveLength(1);
    expect(attemptOf(cri, ids[0])).toBe(1);
    expect(cri.startCalls).toHaveLength(2);
    expect(new Set(cri.startCalls).size).toBe(2);
    expect(app(h)).toMatchObject({ ready: true, restartCount: 0, containerID: `containerd://${ids[0]}`, lastState: {} });
    expect(everCrashLooped(h)).toBe(false);
    expect(h.crashes).toEqual([]);
  });

  it('the start finishes after all: the running container is adopted, nothing is re-created', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    cri.stuckStarts.set('app', { forMs: 3_000, outcome: 'running' });
    const h = supervised(cri);
    spawnPodActor(system, h.deps, makePod());
    await advanceUntil('Running', () => running(h), 30_000);
    expect(cri.idsOf('app')).toHaveLength(1);
    expect(cri.startCalls).toHaveLength(1);
    expect(app(h)).toMatchObject({ ready: true, restartCount: 0 });
    expect(h.crashes).toEqual([]);
  });

  it('CreateContainer times out after creating: the orphan is removed and attempt 1 created', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    cri.lostCreates.add('app');
    const h = supervised(cri);
    spawnPodActor(system, h.deps, makePod());
    await advanceUntil('Running', () => running(h), 30_000);
    const ids = cri.idsOf('app');
    expect(ids.map((id) => attemptOf(cri, id))).toEqual([1]);
    expect(cri.calls.filter((c) => c === 'createContainer')).toHaveLength(2);
    expect(app(h)).toMatchObject({ ready: true, restartCount: 0 });
    expect(everCrashLooped(h)).toBe(false);
    expect(h.crashes).toEqual([]);
  });
});

describe('pod actor telemetry', () => {
  it('is described as a pod keeping its pod', () => {
    enableActorTelemetry();
    const system = start();
    try {
      const pod = makePod();
      spawnPodActor(system, harness(new FakeCriRuntime()).deps, pod);
      const actor = census().actors.find((a) => a.kind === 'pod');
      expect(actor).toMatchObject({
        system: false, object: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid },
      });
    } finally {
      stop(system);
      disableActorTelemetry();
    }
  });
});

describe('pod actor with volumes', () => {
  // No tmpfs here (configMap and disk emptyDir volumes): nothing to mount, nothing to look up.
  const noMounts: Mounter = { isMountPoint: async () => false, mountTmpfs: async () => undefined, unmountUnder: async () => undefined };
  let system: Ref<never>;
  let root: string;
  // Real timers: the actor does real file I/O here, which fake time would outrun on a busy machine.
  beforeEach(async () => { jest.useRealTimers(); root = await mkdtemp(path.join(tmpdir(), 'mk-actor-vol-')); });
  /** Polls `cond` every 20 ms until it holds; fails naming `what` after `ms`. */
  const eventually = async (what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  afterEach(async () => { stop(system); await rm(root, { recursive: true, force: true }); });

  it('mounts a configMap volume, rewrites its files when the ConfigMap changes without restarting, and removes them with the pod', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    let cm: ConfigMap | undefined;
    const volumes = new PodVolumes({ podsRoot: root, mounter: noMounts });
    const h = harness(cri, {
      volumes, volumeRefreshMs: 200, resyncIntervalMs: 100,
      envObjects: () => ({ configMap: async (n) => (n === 'cfg' ? cm : undefined), secret: async () => undefined }),
    });
    const base = makePod({ containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'config', mountPath: '/etc/app' }] } as Pod['spec']['containers'][0]] });
    const pod: Pod = { ...base, spec: { ...base.spec, volumes: [{ name: 'config', configMap: { name: 'cfg' } }] } as Pod['spec'] };
    const ref = spawnPodActor(system, h.deps, pod);
    await eventually('waiting for the ConfigMap', () => app(h)?.state.waiting?.reason === 'ContainerCreating'
      && /configmap "cfg" not found/.test(app(h)?.state.waiting?.message ?? ''));
    expect(cri.calls).not.toContain('createContainer');
    cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { color: 'blue' } };
    await eventually('Running', () => h.last()?.phase === 'Running');
    const dir = path.join(root, 'uid-1', 'volumes', 'configmap', 'config');
    expect([...cri.containers.values()][0].config.mounts).toEqual([{ containerPath: '/etc/app', hostPath: dir, readonly: true, propagation: 'PROPAGATION_PRIVATE' }]);
    expect(await readFile(path.join(dir, 'color'), 'utf8')).toBe('blue');
    cm = { ...cm, data: { color: 'green' } };
    await eventually('the new file', async () => (await readFile(path.join(dir, 'color'), 'utf8').catch(() => '')) === 'green');
    expect(cri.idsOf('app')).toHaveLength(1);
    expect(app(h)?.restartCount).toBe(0);
    dispatch(ref, { type: 'pod/sync', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString() } } });
    await eventually('terminated', () => h.terminated.length === 1);
    expect(await stat(path.join(root, 'uid-1')).catch(() => undefined)).toBeUndefined();
  });

  it('evicts a pod whose emptyDir outgrows its sizeLimit: containers killed, Failed with reason Evicted, never restarted', async () => {
    system = start();
    const cri = new FakeCriRuntime();
    const events: string[] = [];
    const h = harness(cri, {
      volumes: new PodVolumes({ podsRoot: root, mounter: noMounts }), volumeRefreshMs: 200, resyncIntervalMs: 100,
      recordEvent: (_p, type, reason, message) => { events.push(`${type} ${reason} ${message}`); },
    });
    const base = makePod({ containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] } as Pod['spec']['containers'][0]] });
    const pod: Pod = { ...base, spec: { ...base.spec, volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '64Ki' } }] } as Pod['spec'] };
    spawnPodActor(system, h.deps, pod);
    await eventually('Running', () => h.last()?.phase === 'Running');
    await writeFile(path.join(root, 'uid-1', 'volumes', 'empty-dir', 'scratch', 'big'), Buffer.alloc(256 * 1024, 1));
    const message = 'Usage of EmptyDir volume "scratch" exceeds the limit "64Ki".';
    await eventually('Evicted', () => h.last()?.phase === 'Failed' && h.last()?.reason === 'Evicted');
    expect(h.last()?.message).toBe(message);
    expect(events).toContain(`Warning Evicted ${message}`);
    expect(app(h)?.state.terminated).toBeDefined();
    // Several resyncs later, nothing was started again.
    const writes = h.statuses.length;
    const looks = (): number => cri.calls.filter((c) => c === 'listContainers').length;
    const before = looks();
    await eventually('ten more syncs', () => looks() >= before + 10);
    expect(cri.idsOf('app')).toHaveLength(1);
    expect(h.statuses.length).toBe(writes);
    expect(h.last()?.phase).toBe('Failed');
    // Its scratch space is given back while the pod object stays (a ReplicaSet replaces it without deleting it).
    await eventually('the emptyDir removed', async () => !(await stat(path.join(root, 'uid-1', 'volumes', 'empty-dir')).catch(() => undefined)));
    expect(h.terminated).toEqual([]);
  });
});

describe('pod actor: fast readiness of function instances', () => {
  let system: Ref<never>;
  afterEach(() => { stop(system); });

  const owner = { apiVersion: 'mk.io/v1', kind: 'Function', name: 'add', uid: 'fn-uid', controller: true };
  /** A pod with a slow readiness probe (10 s period): Ready within a second can only come from the fast probing. */
  const probed = (meta: Partial<Pod['metadata']>, spec: Partial<Pod['spec']> = {}): Pod => makePod({
    ...spec,
    containers: [{ name: 'app', image: 'busybox', readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 10 } }],
  }, meta);
  const fnMeta = { labels: { 'mk.io/function': 'add' }, ownerReferences: [owner] };
  /** A loader answering ready from the `readyAt`-th readiness probe on (never when undefined). */
  function loaderHarness(readyAt?: number): { h: Harness; events: string[]; probes: () => number } {
    let probes = 0;
    const events: string[] = [];
    const h = harness(new FakeCriRuntime(), {
      recordEvent: (_p, type, reason, message) => { events.push(`${type} ${reason} ${message}`); },
      runProbe: async () => {
        probes++;
        const ok = readyAt !== undefined && probes >= readyAt;
        return { outcome: ok ? 'success' : 'failure', message: ok ? '' : 'connection refused' };
      },
    });
    return { h, events, probes: () => probes };
  }
  const isReady = (h: Harness): boolean => h.last()?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

  it('turns a function instance Ready as soon as its loader answers, well before the next probe period', async () => {
    system = start();
    const { h, events, probes } = loaderHarness(5);
    spawnPodActor(system, h.deps, probed(fnMeta));
    await advanceUntil('Ready', () => isReady(h), 2000, 20);
    expect(app(h)).toMatchObject({ ready: true });
    expect(events.some((e) => /^Normal LoaderReady Loader of container app ready \d+ ms after it started$/.test(e))).toBe(true);
    // The fast probing ended with the first success.
    const n = probes();
    jest.advanceTimersByTime(2000);
    await settle(100);
    expect(probes()).toBe(n);
  });

  it('leaves the probe timing of other pods alone: the label without a Function owner is not enough', async () => {
    system = start();
    const { h, events, probes } = loaderHarness(2);
    spawnPodActor(system, h.deps, probed({ labels: { 'mk.io/function': 'add' } }));
    await advanceUntil('Running', () => h.last()?.phase === 'Running', 2000, 20);
    for (let i = 0; i < 100; i++) { jest.advanceTimersByTime(20); await settle(5); }
    expect(probes()).toBe(1);
    expect(isReady(h)).toBe(false);
    expect(events.filter((e) => e.includes('LoaderReady'))).toEqual([]);
  });

  it('stops probing fast once the container has exited', async () => {
    system = start();
    const { h, probes } = loaderHarness();
    const cri = h.deps.cri as FakeCriRuntime;
    spawnPodActor(system, h.deps, probed(fnMeta, { restartPolicy: 'Never' }));
    await advanceUntil('fast probes', () => probes() >= 5, 2000, 20);
    cri.exit('app', 0);
    await advanceUntil('Succeeded', () => h.last()?.phase === 'Succeeded', 5000, 20);
    await settle(100);
    const n = probes();
    for (let i = 0; i < 100; i++) { jest.advanceTimersByTime(20); await settle(5); }
    expect(probes()).toBe(n);
  });

  it('stops probing fast when the pod is deleted', async () => {
    system = start();
    const { h, probes } = loaderHarness();
    const pod = probed(fnMeta);
    const ref = spawnPodActor(system, h.deps, pod);
    await advanceUntil('fast probes', () => probes() >= 5, 2000, 20);
    dispatch(ref, { type: 'pod/sync', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString() } } });
    await advanceUntil('terminated', () => h.terminated.length === 1, 5000, 20);
    const n = probes();
    for (let i = 0; i < 100; i++) { jest.advanceTimersByTime(20); await settle(5); }
    expect(probes()).toBe(n);
  });
});
