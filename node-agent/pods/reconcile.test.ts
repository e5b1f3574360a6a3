import { applyBackoffEvent, DEFAULT_CRASH_LOOP_POLICY, emptyBackoff, type BackoffState } from './backoff';
import { containerObs, makePod, observed, sandboxObs } from './fixtures';
import { reconcilePod, type ReconcileInput } from './reconcile';
import type { ObservedContainer } from './types';

const S = 1e9; // ns per second
const T0 = 2_000_000; // epoch ms used as "now" in most cases

function run(o: Partial<ReconcileInput> & Pick<ReconcileInput, 'pod'>): ReturnType<typeof reconcilePod> {
  return reconcilePod({ uid: 'uid-1', observed: observed(), backoff: emptyBackoff(), now: T0, hostIP: '192.168.1.10', ...o });
}
const apply = (b: BackoffState, r: ReturnType<typeof reconcilePod>): BackoffState =>
  r.events.reduce((s, e) => applyBackoffEvent(s, e, DEFAULT_CRASH_LOOP_POLICY), b);

describe('reconcilePod: a fresh pod', () => {
  const pod = makePod({
    initContainers: [{ name: 'init-a', image: 'busybox' }, { name: 'init-b', image: 'busybox' }],
    containers: [{ name: 'app', image: 'registry.local/app:1' }, { name: 'side', image: 'busybox' }],
  });
  const done = (name: string, attempt = 0): ObservedContainer =>
    containerObs({ name, attempt, state: 'CONTAINER_EXITED', exitCode: 0, finishedAt: 1001 * S, reason: 'Completed' });

  it('creates the sandbox first', () => {
    const r = run({ pod });
    expect(r.actions).toEqual([{ type: 'runPodSandbox', attempt: 0 }]);
    expect(r.status.phase).toBe('Pending');
    expect(r.status.containerStatuses?.map((s) => s.state.waiting?.reason)).toEqual(['PodInitializing', 'PodInitializing']);
    expect(r.status.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('False');
  });

  it('runs init containers one at a time, in order', () => {
    const r1 = run({ pod, observed: observed({ sandboxes: [sandboxObs()] }) });
    expect(r1.actions).toEqual([{ type: 'runContainer', sandboxId: 'sb-1', sandboxAttempt: 0, container: 'init-a', attempt: 0, restartCount: 0, image: 'busybox', init: true }]);
    const r2 = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [containerObs({ name: 'init-a' })] }) });
    expect(r2.actions).toEqual([]);
    expect(r2.requeueAfterMs).toBe(1000);
    const r3 = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [done('init-a')] }) });
    expect(r3.actions.map((a) => a.type === 'runContainer' && a.container)).toEqual(['init-b']);
    expect(r3.status.phase).toBe('Pending');
  });

  it('then pulls the missing image and starts every app container in order', () => {
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [done('init-a'), done('init-b')] }) });
    expect(r.actions.map((a) => [a.type, 'container' in a ? a.container : 'image' in a ? a.image : ''])).toEqual([
      ['pullImage', 'registry.local/app:1'], ['runContainer', 'app'], ['runContainer', 'side'],
    ]);
    expect(r.status.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    expect(r.status.containerStatuses?.map((s) => s.state.waiting?.reason)).toEqual(['ContainerCreating', 'ContainerCreating']);
  });
});

describe('reconcilePod: a running pod', () => {
  const pod = makePod();
  const running = observed({ sandboxes: [sandboxObs()], containers: [containerObs({ name: 'app' })] });

  it('takes no action (adoption after an agent restart) and reports Running', () => {
    const r = run({ pod, observed: running });
    expect(r.actions).toEqual([]);
    expect(r.events).toEqual([]);
    expect(r.status).toMatchObject({
      phase: 'Running', hostIP: '192.168.1.10', podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }], qosClass: 'BestEffort',
      containerStatuses: [{ name: 'app', ready: true, started: true, restartCount: 0, containerID: 'containerd://app-0', state: { running: { startedAt: '1970-01-01T00:16:40Z' } }, lastState: {} }],
    });
    expect(r.status.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['PodScheduled=True', 'Initialized=True', 'ContainersReady=True', 'Ready=True']);
  });

  it('never starts a container found created: it is removed and replaced at the next attempt, whatever the restart policy', () => {
    for (const restartPolicy of ['Always', 'OnFailure', 'Never'] as const) {
      const created = containerObs({ name: 'app', state: 'CONTAINER_CREATED', startedAt: 0 });
      const r = run({ pod: makePod({ restartPolicy }), observed: observed({ sandboxes: [sandboxObs()], containers: [created] }) });
      expect(r.actions).toEqual([
        { type: 'removeContainer', containerId: 'app-0', container: 'app' },
        { type: 'runContainer', sandboxId: 'sb-1', sandboxAttempt: 0, container: 'app', attempt: 1, restartCount: 0, image: 'busybox', init: false },
      ]);
      expect(r.events).toEqual([]);
      expect(r.status.phase).toBe('Pending');
      expect(r.status.containerStatuses?.[0]).toMatchObject({ restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} });
    }
  });

  it('stops a container in unknown state before removing and replacing it', () => {
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [containerObs({ name: 'app', state: 'CONTAINER_UNKNOWN' })] }) });
    expect(r.actions).toEqual([
      { type: 'stopContainer', containerId: 'app-0', container: 'app', timeoutSeconds: 0 },
      { type: 'removeContainer', containerId: 'app-0', container: 'app' },
      expect.objectContaining({ type: 'runContainer', container: 'app', attempt: 1 }),
    ]);
  });

  it('waits while the runtime still refuses to let go of a created container', () => {
    const created = containerObs({ name: 'app', state: 'CONTAINER_CREATED', startedAt: 0 });
    const failures = { containers: { app: { reason: 'RunContainerError', message: 'CRI StartContainer: deadline exceeded' } } };
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [created] }), failures });
    expect(r.actions).toEqual([]);
    expect(r.requeueAfterMs).toBe(1000);
    expect(r.status.containerStatuses?.[0].state.waiting).toEqual({ reason: 'RunContainerError', message: 'CRI StartContainer: deadline exceeded' });
  });

  it('keeps a created container while its replacement must wait out a crash-loop backoff', () => {
    const crashed = containerObs({ name: 'app', attempt: 0, state: 'CONTAINER_EXITED', exitCode: 1, finishedAt: 1000 * S });
    const created = containerObs({ name: 'app', attempt: 1, state: 'CONTAINER_CREATED', startedAt: 0 });
    const backoff = applyBackoffEvent(emptyBackoff(), { type: 'container-exited', container: 'app', containerId: 'app-0', finishedAt: T0, ranMs: 1000 }, DEFAULT_CRASH_LOOP_POLICY);
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [crashed, created] }), backoff, now: T0 + 1000 });
    expect(r.actions).toEqual([]);
    expect(r.status.containerStatuses?.[0].state.waiting?.reason).toBe('CrashLoopBackOff');
    const due = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [crashed, created] }), backoff, now: T0 + 10_000 });
    expect(due.actions).toEqual([
      { type: 'removeContainer', containerId: 'app-1', container: 'app' },
      expect.objectContaining({ type: 'runContainer', attempt: 2 }),
    ]);
  });

  it('restarts a container whose image changed, without backoff', () => {
    const changed = makePod({ containers: [{ name: 'app', image: 'busybox:1.36' }] });
    const r = run({ pod: changed, observed: { ...running, images: { 'busybox:1.36': { present: true } } } });
    expect(r.actions).toEqual([
      { type: 'stopContainer', containerId: 'app-0', container: 'app', timeoutSeconds: 30 },
      { type: 'runContainer', sandboxId: 'sb-1', sandboxAttempt: 0, container: 'app', attempt: 1, restartCount: 1, image: 'busybox:1.36', init: false },
    ]);
  });

  it('re-creates a dead sandbox, then starts every container again in it', () => {
    const dead = observed({ sandboxes: [sandboxObs({ state: 'SANDBOX_NOTREADY' })], containers: [containerObs({ name: 'app', state: 'CONTAINER_EXITED', exitCode: 137, finishedAt: 1001 * S })] });
    expect(run({ pod, observed: dead }).actions).toEqual([{ type: 'runPodSandbox', attempt: 1 }]);
    const fresh = { ...dead, sandboxes: [...dead.sandboxes, sandboxObs({ id: 'sb-2', attempt: 1, createdAt: 2e18 })] };
    const r = run({ pod, observed: fresh });
    expect(r.actions).toEqual([{ type: 'runContainer', sandboxId: 'sb-2', sandboxAttempt: 1, container: 'app', attempt: 1, restartCount: 1, image: 'busybox', init: false }]);
  });

  it('keeps only the newest and the last exited instance of a container', () => {
    const exited = (attempt: number): ObservedContainer => containerObs({ name: 'app', attempt, state: 'CONTAINER_EXITED', exitCode: 1, finishedAt: (1000 + attempt) * S });
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [exited(0), exited(1), exited(2), containerObs({ name: 'app', attempt: 3 })] }) });
    expect(r.actions).toEqual([
      { type: 'removeContainer', containerId: 'app-0', container: 'app' },
      { type: 'removeContainer', containerId: 'app-1', container: 'app' },
    ]);
    expect(r.status.containerStatuses?.[0]).toMatchObject({ restartCount: 3, lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'containerd://app-2' } } });
  });
});

describe('reconcilePod: restarts', () => {
  const exitedAt = (attempt: number, finishedMs: number, ranMs = 1000): ObservedContainer => containerObs({
    name: 'app', attempt, state: 'CONTAINER_EXITED', exitCode: 1, reason: 'Error',
    startedAt: (finishedMs - ranMs) * 1e6, finishedAt: finishedMs * 1e6, createdAt: (finishedMs - ranMs) * 1e6,
  });

  it('backs off 10 s, 20 s, 40 s ... capped at 300 s, and shows CrashLoopBackOff meanwhile', () => {
    const pod = makePod({ restartPolicy: 'Always' });
    let backoff = emptyBackoff();
    let t = T0;
    const delays: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const obs = observed({ sandboxes: [sandboxObs()], containers: [exitedAt(attempt, t)] });
      const r = run({ pod, observed: obs, backoff, now: t + 1 });
      backoff = apply(backoff, r);
      expect(r.actions).toEqual([]);
      const s = r.status.containerStatuses?.[0];
      const delay = (r.requeueAfterMs ?? 0) + 1;
      delays.push(delay / 1000);
      expect(s?.state.waiting).toEqual({ reason: 'CrashLoopBackOff', message: `back-off ${delay >= 60_000 ? `${Math.floor(delay / 60_000)}m${(delay % 60_000) / 1000}s` : `${delay / 1000}s`} restarting failed container=app pod=web_default(uid-1)` });
      expect(s?.lastState.terminated?.exitCode).toBe(1);
      expect(s?.restartCount).toBe(attempt);
      expect(r.status.phase).toBe('Running');
      // Re-observing the same exit does not count it twice.
      expect(run({ pod, observed: obs, backoff, now: t + 2 }).events).toEqual([]);
      const due = run({ pod, observed: obs, backoff, now: t + delay });
      expect(due.actions).toEqual([expect.objectContaining({ type: 'runContainer', attempt: attempt + 1 })]);
      t += delay + 1000;
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it('resets the backoff after the container ran 10 minutes', () => {
    const pod = makePod();
    let backoff = emptyBackoff();
    for (const [attempt, t] of [[0, T0], [1, T0 + 20_000], [2, T0 + 60_000]]) {
      backoff = apply(backoff, run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [exitedAt(attempt, t)] }), backoff, now: t }));
    }
    expect(backoff.entries['container:app'].delayMs).toBe(40_000);
    const t = T0 + 60_000 + 700_000;
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [exitedAt(3, t, 650_000)] }), backoff, now: t });
    expect(r.requeueAfterMs).toBe(10_000);
  });

  it('Never: a failed container leaves the pod Failed with its exit code, and the sandbox is stopped', () => {
    const pod = makePod({ restartPolicy: 'Never' });
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [exitedAt(0, T0)] }), now: T0 + 60_000 });
    expect(r.actions).toEqual([{ type: 'stopPodSandbox', sandboxId: 'sb-1' }]);
    expect(r.status.phase).toBe('Failed');
    expect(r.status.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    // With the sandbox stopped nothing is re-created.
    const after = run({ pod, observed: observed({ sandboxes: [sandboxObs({ state: 'SANDBOX_NOTREADY' })], containers: [exitedAt(0, T0)] }), previous: r.status });
    expect(after.actions).toEqual([]);
    expect(after.status.phase).toBe('Failed');
    expect(after.status.podIP).toBe('10.244.0.5');
  });

  it('Never and OnFailure: exit 0 makes the pod Succeeded', () => {
    for (const restartPolicy of ['Never', 'OnFailure'] as const) {
      const ok = containerObs({ name: 'app', state: 'CONTAINER_EXITED', exitCode: 0, reason: 'Completed', finishedAt: 1001 * S });
      const r = run({ pod: makePod({ restartPolicy }), observed: observed({ sandboxes: [sandboxObs()], containers: [ok] }) });
      expect(r.status.phase).toBe('Succeeded');
      expect(r.status.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(r.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
      expect(r.actions).toEqual([{ type: 'stopPodSandbox', sandboxId: 'sb-1' }]);
    }
  });

  it('OnFailure: a failed container is restarted with backoff', () => {
    const r = run({ pod: makePod({ restartPolicy: 'OnFailure' }), observed: observed({ sandboxes: [sandboxObs()], containers: [exitedAt(0, T0)] }), now: T0 + 11_000 });
    expect(r.actions).toEqual([expect.objectContaining({ type: 'runContainer', container: 'app', attempt: 1 })]);
  });

  it('Never: a failed init container fails the pod and starts no app container', () => {
    const pod = makePod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'busybox' }] });
    const failed = containerObs({ name: 'init', state: 'CONTAINER_EXITED', exitCode: 2, finishedAt: 1001 * S });
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [failed] }) });
    expect(r.status.phase).toBe('Failed');
    expect(r.actions).toEqual([{ type: 'stopPodSandbox', sandboxId: 'sb-1' }]);
  });
});

describe('reconcilePod: a start the runtime abandoned', () => {
  // What containerd records when the StartContainer call's context was cancelled mid-start.
  const aborted = (o: Partial<ObservedContainer> = {}): ObservedContainer => containerObs({
    name: 'app', state: 'CONTAINER_EXITED', exitCode: 128, reason: 'StartError', startedAt: 0, finishedAt: 1001 * S,
    message: 'failed to create containerd task: failed to create shim task: context canceled', ...o,
  });

  it('is replaced at once by attempt + 1, without backoff, whatever the restart policy, and the pod never looks failed', () => {
    for (const restartPolicy of ['Always', 'OnFailure', 'Never'] as const) {
      const r = run({ pod: makePod({ restartPolicy }), observed: observed({ sandboxes: [sandboxObs()], containers: [aborted()] }) });
      expect(r.actions).toEqual([{ type: 'runContainer', sandboxId: 'sb-1', sandboxAttempt: 0, container: 'app', attempt: 1, restartCount: 0, image: 'busybox', init: false }]);
      expect(r.events).toEqual([]);
      expect(r.status.phase).toBe('Pending');
      expect(r.status.containerStatuses?.[0]).toMatchObject({ restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} });
    }
  });

  it('is no restart of the program: once the new instance runs, restartCount is still 0 and there is no last state', () => {
    const r = run({ pod: makePod(), observed: observed({ sandboxes: [sandboxObs()], containers: [aborted(), containerObs({ name: 'app', attempt: 1, restartCount: 0 })] }) });
    // Nothing to keep of it (no logs, no last state): garbage.
    expect(r.actions).toEqual([{ type: 'removeContainer', containerId: 'app-0', container: 'app' }]);
    expect(r.status.phase).toBe('Running');
    expect(r.status.containerStatuses?.[0]).toMatchObject({
      restartCount: 0, ready: true, containerID: 'containerd://app-1', state: { running: {} }, lastState: {},
    });
  });

  it('keeps counting the program\'s own restarts across abandoned starts', () => {
    // Attempt 0 ran and exited (restart 1 due), attempt 1's start was abandoned: attempt 2 is restart 1.
    const ran = containerObs({ name: 'app', attempt: 0, state: 'CONTAINER_EXITED', exitCode: 1, finishedAt: 1000 * S, createdAt: 900 * S });
    const r = run({ pod: makePod(), observed: observed({ sandboxes: [sandboxObs()], containers: [ran, aborted({ attempt: 1, id: 'app-1', createdAt: 950 * S })] }) });
    expect(r.actions).toEqual([expect.objectContaining({ type: 'runContainer', attempt: 2, restartCount: 1 })]);
  });

  it('an init container abandoned at start is replaced too, under restartPolicy Never', () => {
    const pod = makePod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'busybox' }] });
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()], containers: [aborted({ name: 'init' })] }) });
    expect(r.actions).toEqual([expect.objectContaining({ type: 'runContainer', container: 'init', attempt: 1, init: true })]);
    expect(r.status.phase).toBe('Pending');
  });

  it('a dead sandbox whose containers never ran is re-created under restartPolicy Never', () => {
    const obs = observed({ sandboxes: [sandboxObs({ state: 'SANDBOX_NOTREADY' })], containers: [aborted()] });
    expect(run({ pod: makePod({ restartPolicy: 'Never' }), observed: obs }).actions).toEqual([{ type: 'runPodSandbox', attempt: 1 }]);
  });

  it('a start that failed because of the program (no such executable) is a crash: backoff, as kubelet counts it', () => {
    const failed = aborted({ message: 'failed to create containerd task: failed to create shim task: OCI runtime create failed: exec: "nope": executable file not found in $PATH: unknown' });
    const r = run({ pod: makePod(), observed: observed({ sandboxes: [sandboxObs()], containers: [failed] }), now: 1001 * 1000 + 1 });
    expect(r.actions).toEqual([]);
    expect(r.events).toEqual([expect.objectContaining({ type: 'container-exited', container: 'app', containerId: 'app-0' })]);
    expect(r.status.containerStatuses?.[0]).toMatchObject({ restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 128, reason: 'StartError' } } });
  });
});

describe('reconcilePod: images', () => {
  const pod = makePod({ containers: [{ name: 'app', image: 'registry.local/app:1' }] });
  const obs = observed({ sandboxes: [sandboxObs()], images: {} });

  it('ErrImagePull right after a failed pull, then ImagePullBackOff, then pulls again', () => {
    const first = run({ pod, observed: obs });
    expect(first.actions.map((a) => a.type)).toEqual(['pullImage', 'runContainer']);
    const backoff = applyBackoffEvent(emptyBackoff(), { type: 'image-pull-failed', image: 'registry.local/app:1', at: T0, message: 'not found' }, DEFAULT_CRASH_LOOP_POLICY);
    const failed = run({ pod, observed: obs, backoff, failures: { images: { 'registry.local/app:1': 'not found' } } });
    expect(failed.actions).toEqual([]);
    expect(failed.status.containerStatuses?.[0].state.waiting).toEqual({ reason: 'ErrImagePull', message: 'not found' });
    expect(failed.status.phase).toBe('Pending');
    const waiting = run({ pod, observed: obs, backoff, now: T0 + 5000 });
    expect(waiting.status.containerStatuses?.[0].state.waiting).toEqual({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.local/app:1"' });
    expect(waiting.requeueAfterMs).toBe(5000);
    expect(run({ pod, observed: obs, backoff, now: T0 + 10_000 }).actions.map((a) => a.type)).toEqual(['pullImage', 'runContainer']);
  });

  it('Never pull policy: ErrImageNeverPull', () => {
    const never = makePod({ containers: [{ name: 'app', image: 'registry.local/app:1', imagePullPolicy: 'Never' }] });
    const r = run({ pod: never, observed: obs });
    expect(r.actions).toEqual([]);
    expect(r.status.containerStatuses?.[0].state.waiting?.reason).toBe('ErrImageNeverPull');
  });
});

describe('reconcilePod: deletion', () => {
  const pod = makePod({ terminationGracePeriodSeconds: 5 }, { deletionTimestamp: '2024-01-01T00:00:00Z' });

  it('stops every container with the grace period, then the sandbox, then removes everything', () => {
    const obs = observed({ sandboxes: [sandboxObs()], containers: [containerObs({ name: 'app' }), containerObs({ name: 'old', state: 'CONTAINER_EXITED', attempt: 0, id: 'old-0' })] });
    const r = run({ pod, observed: obs });
    expect(r.actions).toEqual([
      { type: 'stopContainer', containerId: 'app-0', container: 'app', timeoutSeconds: 5 },
      { type: 'stopPodSandbox', sandboxId: 'sb-1' },
      { type: 'removeContainer', containerId: 'app-0', container: 'app' },
      { type: 'removeContainer', containerId: 'old-0', container: 'old' },
      { type: 'removePodSandbox', sandboxId: 'sb-1' },
    ]);
    expect(r.terminated).toBe(false);
  });

  it('honours the deletion grace period and reports terminated once nothing is left', () => {
    const quick = makePod({}, { deletionTimestamp: 'x', deletionGracePeriodSeconds: 0 });
    const r = run({ pod: quick, observed: observed({ containers: [containerObs({ name: 'app' })] }) });
    expect(r.actions[0]).toMatchObject({ type: 'stopContainer', timeoutSeconds: 0 });
    expect(run({ pod, observed: observed() }).terminated).toBe(true);
    expect(run({ pod: null, observed: observed() }).terminated).toBe(true);
  });
});
