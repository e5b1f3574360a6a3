import type { ContainerStatus } from '../../messages/pod';
import { containerObs, makePod, sandboxObs } from './fixtures';
import { buildPodStatus, podPhase, rfc3339FromNs, sameStatus } from './status';

const running = (name: string): ContainerStatus => ({ name, image: 'i', ready: true, restartCount: 0, state: { running: {} }, lastState: {} });
const terminated = (name: string, exitCode: number): ContainerStatus => ({ name, image: 'i', ready: false, restartCount: 0, state: { terminated: { exitCode } }, lastState: {} });
const waiting = (name: string, lastExit?: number): ContainerStatus => ({
  name, image: 'i', ready: false, restartCount: 0, state: { waiting: { reason: 'X' } },
  lastState: lastExit === undefined ? {} : { terminated: { exitCode: lastExit } },
});

describe('podPhase (kubelet getPhase)', () => {
  it.each([
    ['Always', [], [running('a')], 'Running'],
    ['Always', [], [waiting('a')], 'Pending'],
    ['Always', [], [waiting('a', 1)], 'Running'],
    ['Always', [], [terminated('a', 0)], 'Running'],
    ['Never', [], [terminated('a', 1)], 'Failed'],
    ['Never', [], [terminated('a', 0), terminated('b', 0)], 'Succeeded'],
    ['Never', [], [terminated('a', 1), running('b')], 'Running'],
    ['OnFailure', [], [terminated('a', 0)], 'Succeeded'],
    ['OnFailure', [], [terminated('a', 1)], 'Running'],
    ['Always', [running('i')], [waiting('a')], 'Pending'],
    ['Always', [waiting('i', 1)], [waiting('a')], 'Pending'],
    ['Never', [terminated('i', 1)], [waiting('a')], 'Failed'],
  ] as const)('%s init=%j app=%j -> %s', (policy, init, app, phase) => {
    expect(podPhase(policy, [...init], [...app])).toBe(phase);
  });

  it('a deleted pod with nothing running is final', () => {
    expect(podPhase('Always', [], [terminated('a', 0)], true)).toBe('Succeeded');
    expect(podPhase('Always', [], [terminated('a', 137)], true)).toBe('Failed');
  });
});

describe('buildPodStatus', () => {
  const pod = makePod();
  const base = { pod, init: [], initialized: true, sandbox: sandboxObs(), hostIP: '1.2.3.4' };

  it('keeps lastTransitionTime and startTime while nothing changes', () => {
    const first = buildPodStatus({ ...base, app: [{ spec: pod.spec.containers[0], latest: containerObs({ name: 'app' }) }], now: 1_000_000 });
    const again = buildPodStatus({ ...base, app: [{ spec: pod.spec.containers[0], latest: containerObs({ name: 'app' }) }], now: 9_000_000, previous: first });
    expect(sameStatus(first, again)).toBe(true);
    const exited = buildPodStatus({
      ...base, now: 9_000_000, previous: first,
      app: [{ spec: pod.spec.containers[0], latest: containerObs({ name: 'app', state: 'CONTAINER_EXITED', exitCode: 1, finishedAt: 2e9 }), waiting: { reason: 'CrashLoopBackOff' } }],
    });
    const ready = exited.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toEqual({ type: 'Ready', status: 'False', lastTransitionTime: '1970-01-01T02:30:00Z', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
    expect(exited.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime).toBe('1970-01-01T00:16:40Z');
    expect(exited.startTime).toBe(first.startTime);
    expect(exited.containerStatuses?.[0].lastState.terminated?.exitCode).toBe(1);
  });

  it('a readiness probe keeps the container and the pod not ready until it passes; a startup probe not started', () => {
    const spec = { ...pod.spec.containers[0], readinessProbe: { tcpSocket: { port: 80 } }, startupProbe: { tcpSocket: { port: 80 } } };
    const latest = containerObs({ name: 'app' });
    const cond = (s: ReturnType<typeof buildPodStatus>, t: string) => s.conditions?.find((c) => c.type === t)?.status;
    const unprobed = buildPodStatus({ ...base, app: [{ spec, latest }], now: 1_000_000 });
    expect(unprobed.containerStatuses?.[0]).toMatchObject({ ready: false, started: false });
    expect([cond(unprobed, 'ContainersReady'), cond(unprobed, 'Ready'), unprobed.phase]).toEqual(['False', 'False', 'Running']);
    const startedOnly = buildPodStatus({ ...base, app: [{ spec, latest, probe: { started: true, ready: false } }], now: 1_000_000 });
    expect(startedOnly.containerStatuses?.[0]).toMatchObject({ ready: false, started: true });
    const ready = buildPodStatus({ ...base, app: [{ spec, latest, probe: { started: true, ready: true } }], now: 1_000_000 });
    expect(ready.containerStatuses?.[0]).toMatchObject({ ready: true, started: true });
    expect([cond(ready, 'ContainersReady'), cond(ready, 'Ready')]).toEqual(['True', 'True']);
  });

  it('formats CRI nanoseconds as RFC 3339 seconds', () => {
    expect(rfc3339FromNs(1_700_000_000_123_456_000)).toBe('2023-11-14T22:13:20Z');
  });
});
