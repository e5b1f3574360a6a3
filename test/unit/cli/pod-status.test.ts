import { podColumns } from '../../../messages/printing/pod-status';
import type { ContainerState, ContainerStatus, Pod, PodStatus } from '../../../messages';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();

function cs(name: string, state: ContainerState, extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name, image: 'busybox', ready: false, restartCount: 0, state, lastState: {}, ...extra };
}

function pod(status: PodStatus, opts: { init?: string[]; containers?: string[]; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', ...(opts.deleting ? { deletionTimestamp: ago(0) } : {}) },
    spec: {
      containers: (opts.containers ?? ['c']).map((name) => ({ name, image: 'busybox' })),
      ...(opts.init ? { initContainers: opts.init.map((name) => ({ name, image: 'busybox' })) } : {}),
    },
    status,
  };
}

const running = (name = 'c', ready = true): ContainerStatus => cs(name, { running: { startedAt: ago(60_000) } }, { ready });

describe('podColumns: STATUS like kubectl get pods', () => {
  it.each<[string, Pod, string, string]>([
    ['no status yet', pod({}), 'Pending', '0/1'],
    ['pending phase, nothing started', pod({ phase: 'Pending' }), 'Pending', '0/1'],
    ['container being created', pod({ phase: 'Pending', containerStatuses: [cs('c', { waiting: { reason: 'ContainerCreating' } })] }), 'ContainerCreating', '0/1'],
    ['running and ready', pod({ phase: 'Running', containerStatuses: [running()] }), 'Running', '1/1'],
    ['running, not ready', pod({ phase: 'Running', containerStatuses: [running('c', false)] }), 'Running', '0/1'],
    ['two containers, one ready', pod({ phase: 'Running', containerStatuses: [running('a'), running('b', false)] }, { containers: ['a', 'b'] }), 'Running', '1/2'],
    ['crash loop', pod({ phase: 'Running', containerStatuses: [cs('c', { waiting: { reason: 'CrashLoopBackOff' } })] }), 'CrashLoopBackOff', '0/1'],
    ['image pull error', pod({ phase: 'Pending', containerStatuses: [cs('c', { waiting: { reason: 'ErrImagePull' } })] }), 'ErrImagePull', '0/1'],
    ['image pull backoff', pod({ phase: 'Pending', containerStatuses: [cs('c', { waiting: { reason: 'ImagePullBackOff' } })] }), 'ImagePullBackOff', '0/1'],
    ['completed', pod({ phase: 'Succeeded', containerStatuses: [cs('c', { terminated: { exitCode: 0, reason: 'Completed' } })] }), 'Completed', '0/1'],
    ['error', pod({ phase: 'Failed', containerStatuses: [cs('c', { terminated: { exitCode: 1, reason: 'Error' } })] }), 'Error', '0/1'],
    ['oom killed', pod({ phase: 'Running', containerStatuses: [cs('c', { terminated: { exitCode: 137, reason: 'OOMKilled' } })] }), 'OOMKilled', '0/1'],
    ['terminated without reason: exit code', pod({ phase: 'Failed', containerStatuses: [cs('c', { terminated: { exitCode: 3 } })] }), 'ExitCode:3', '0/1'],
    ['terminated without reason: signal', pod({ phase: 'Failed', containerStatuses: [cs('c', { terminated: { exitCode: 137, signal: 9 } })] }), 'Signal:9', '0/1'],
    ['evicted (pod reason wins over phase)', pod({ phase: 'Failed', reason: 'Evicted' }), 'Evicted', '0/1'],
    ['first init container running', pod({ phase: 'Pending', initContainerStatuses: [cs('i1', { running: {} }), cs('i2', { waiting: { reason: 'PodInitializing' } })] }, { init: ['i1', 'i2'] }), 'Init:0/2', '0/1'],
    ['second init container waiting to start', pod({ phase: 'Pending', initContainerStatuses: [cs('i1', { terminated: { exitCode: 0, reason: 'Completed' } }), cs('i2', { waiting: { reason: 'PodInitializing' } })] }, { init: ['i1', 'i2'] }), 'Init:1/2', '0/1'],
    ['init container crash loop', pod({ phase: 'Pending', initContainerStatuses: [cs('i1', { waiting: { reason: 'CrashLoopBackOff' } })] }, { init: ['i1'] }), 'Init:CrashLoopBackOff', '0/1'],
    ['init container failed with reason', pod({ phase: 'Failed', initContainerStatuses: [cs('i1', { terminated: { exitCode: 1, reason: 'Error' } })] }, { init: ['i1'] }), 'Init:Error', '0/1'],
    ['init container failed without reason', pod({ phase: 'Failed', initContainerStatuses: [cs('i1', { terminated: { exitCode: 2 } })] }, { init: ['i1'] }), 'Init:ExitCode:2', '0/1'],
    ['init container killed by a signal', pod({ phase: 'Failed', initContainerStatuses: [cs('i1', { terminated: { exitCode: 137, signal: 9 } })] }, { init: ['i1'] }), 'Init:Signal:9', '0/1'],
    ['init done, app containers initializing', pod({
      phase: 'Pending',
      initContainerStatuses: [cs('i1', { terminated: { exitCode: 0, reason: 'Completed' } })],
      containerStatuses: [cs('c', { waiting: { reason: 'PodInitializing' } })],
    }, { init: ['i1'] }), 'PodInitializing', '0/1'],
    ['init done and app running', pod({
      phase: 'Running',
      initContainerStatuses: [cs('i1', { terminated: { exitCode: 0, reason: 'Completed' } })],
      containerStatuses: [running()],
    }, { init: ['i1'] }), 'Running', '1/1'],
    ['terminating', pod({ phase: 'Running', containerStatuses: [running()] }, { deleting: true }), 'Terminating', '1/1'],
    ['deleted after completion stays Completed', pod({ phase: 'Succeeded', containerStatuses: [cs('c', { terminated: { exitCode: 0, reason: 'Completed' } })] }, { deleting: true }), 'Completed', '0/1'],
    ['one completed, one running, Ready condition', pod({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [running('a'), cs('b', { terminated: { exitCode: 0, reason: 'Completed' } })],
    }, { containers: ['a', 'b'] }), 'Running', '1/2'],
    ['one completed, one running, not Ready', pod({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [running('a'), cs('b', { terminated: { exitCode: 0, reason: 'Completed' } })],
    }, { containers: ['a', 'b'] }), 'NotReady', '1/2'],
  ])('%s', (_name, p, status, ready) => {
    const c = podColumns(p, NOW);
    expect(c.status).toBe(status);
    expect(c.ready).toBe(ready);
  });
});

describe('podColumns: RESTARTS', () => {
  it('is a plain 0 without restarts', () => {
    expect(podColumns(pod({ phase: 'Running', containerStatuses: [running()] }), NOW).restarts).toBe('0');
  });

  it('sums restarts and says how long ago the last one finished', () => {
    const p = pod({
      phase: 'Running',
      containerStatuses: [
        cs('a', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 4, lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * 60_000) } } }),
        cs('b', { running: {} }, { ready: true, restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(90_000) } } }),
      ],
    }, { containers: ['a', 'b'] });
    expect(podColumns(p, NOW).restarts).toBe('5 (90s ago)');
  });

  it('counts init container restarts while initializing', () => {
    const p = pod({
      phase: 'Pending',
      initContainerStatuses: [cs('i1', { waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * 60_000 + 2000) } } })],
    }, { init: ['i1'] });
    expect(podColumns(p, NOW)).toEqual({ ready: '0/1', status: 'Init:CrashLoopBackOff', restarts: '3 (3m2s ago)' });
  });

  it('shows the count alone when no finish time is known', () => {
    const p = pod({ phase: 'Running', containerStatuses: [cs('c', { running: {} }, { ready: true, restartCount: 2 })] });
    expect(podColumns(p, NOW).restarts).toBe('2');
  });
});
