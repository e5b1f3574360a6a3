/**
 * The pod invariants judge made-up worlds: a healthy one passes, and each way a world can be
 * wrong is reported under its invariant (so a chaos round that passes did look).
 */
import type { Pod } from '../../messages';
import type { Container, PodSandbox } from '../../node-agent/cri/types';
import type { SeenContainer } from '../helpers/chaos-observer';
import type { WorldSnapshot } from './kind';
import { attemptsRunTwice, checkPods, checkPodsCleaned, type PodRecord } from './pod-invariants';

const UID_A = 'aaaaaaaa-0000-0000-0000-000000000001';
const UID_B = 'bbbbbbbb-0000-0000-0000-000000000002';

function fakePod(name: string, uid: string, o: { phase?: 'Pending' | 'Running'; restartCount?: number; deleting?: boolean; labels?: Record<string, string> } = {}): Pod {
  const phase = o.phase ?? 'Running';
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', uid, labels: o.labels, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: 'n1', containers: [{ name: 'main', image: 'busybox', command: ['sleep', '86400'] }] },
    status: {
      phase,
      containerStatuses: [{
        name: 'main', image: 'busybox', ready: phase === 'Running', restartCount: o.restartCount ?? 0, lastState: {},
        state: phase === 'Running' ? { running: { startedAt: '2026-01-01T00:00:00Z' } } : { waiting: { reason: 'ContainerCreating' } },
      }],
    },
  } as Pod;
}

const labels = (uid: string, name: string) => ({ 'mk.io/pod-uid': uid, 'mk.io/pod-name': name, 'mk.io/pod-namespace': 'default', 'mk.io/container-name': 'main' });

function fakeSandbox(id: string, uid: string, name: string): PodSandbox {
  return { id, metadata: { name, uid, namespace: 'default', attempt: 0 }, state: 'SANDBOX_READY', createdAt: 1, labels: labels(uid, name), annotations: {}, runtimeHandler: '' };
}

function fakeContainer(id: string, uid: string, name: string, attempt = 0): Container {
  return {
    id, podSandboxId: `sb-${uid}`, metadata: { name: 'main', attempt }, image: null, imageRef: '', state: 'CONTAINER_RUNNING',
    createdAt: 1, labels: labels(uid, name), annotations: {},
  };
}

function fakeSeen(id: string, uid: string, attempt: number, states: SeenContainer['states'], startedAtMs = 0): SeenContainer {
  return {
    id, podUid: uid, pod: 'default/x', name: 'main', attempt, sandboxId: `sb-${uid}`, states, firstSeenMs: 0, lastSeenMs: 0,
    ...(states.includes('CONTAINER_EXITED') ? { exit: { exitCode: 137, reason: 'Error', startedAtMs, finishedAtMs: startedAtMs + 1 } } : {}),
  };
}

function fakeWorld(pods: Pod[], cri: { sandboxes?: PodSandbox[]; containers?: Container[] } = {}, seen: SeenContainer[] = []): WorldSnapshot {
  return {
    atMs: 0, objects: new Map([['pods', pods]]), cri: { atMs: 0, sandboxes: cri.sandboxes ?? [], containers: cri.containers ?? [] },
    seenContainers: seen, seenSandboxes: [],
  };
}

const alive: PodRecord = { name: 'a', namespace: 'default', burst: 0, uid: UID_A, appliedAtMs: 1 };
const deleted: PodRecord = { name: 'b', namespace: 'default', burst: 0, uid: UID_B, appliedAtMs: 1, deleteRequestedAtMs: 2, deleteConfirmed: true };
const healthy = () => fakeWorld([fakePod('a', UID_A)], { sandboxes: [fakeSandbox('sa', UID_A, 'a')], containers: [fakeContainer('ca', UID_A, 'a')] }, [fakeSeen('ca', UID_A, 0, ['CONTAINER_RUNNING'])]);
const invariants = (vs: { invariant: string }[]) => vs.map((v) => v.invariant).sort();

describe('checkPods', () => {
  it('finds nothing wrong in a healthy world', () => {
    expect(checkPods([alive, deleted], healthy())).toEqual([]);
  });

  it('reports a pod that is gone or came back under another uid as lost, for good', () => {
    const gone = checkPods([alive], fakeWorld([]));
    expect(gone).toEqual([expect.objectContaining({ invariant: 'lost', subject: 'pod default/a', permanent: true })]);
    const replaced = checkPods([alive], fakeWorld([fakePod('a', UID_B)]));
    expect(replaced[0]).toMatchObject({ invariant: 'lost', permanent: true });
    expect(replaced[0].detail).toContain(UID_B);
  });

  it('reports a pod that is not Running, with its status, as something that may still mend', () => {
    const vs = checkPods([alive], fakeWorld([fakePod('a', UID_A, { phase: 'Pending' })]));
    expect(vs).toEqual([expect.objectContaining({ invariant: 'running', permanent: false })]);
    expect(vs[0].detail).toMatch(/phase Pending; main: waiting ContainerCreating/);
  });

  it('reports a deleted pod still in the store, or still on the node', () => {
    const inStore = fakeWorld([fakePod('b', UID_B, { deleting: true })]);
    expect(invariants(checkPods([deleted], inStore))).toEqual(['gone']);
    const onNode = fakeWorld([], { sandboxes: [fakeSandbox('sb', UID_B, 'b')], containers: [fakeContainer('cb', UID_B, 'b')] });
    expect(invariants(checkPods([deleted], onNode))).toEqual(['gone', 'gone']);
  });

  it('reports sandboxes and containers of pods the store does not have as leaks', () => {
    const w = healthy();
    w.cri!.sandboxes.push(fakeSandbox('stray', 'cccccccc-0000', 'z'));
    w.cri!.containers.push(fakeContainer('strayc', 'cccccccc-0000', 'z'));
    expect(invariants(checkPods([alive], w))).toEqual(['leak', 'leak']);
  });

  it('reports a container attempt that ran as two containers, but not one that was only created', () => {
    const twice = [fakeSeen('c1', UID_A, 0, ['CONTAINER_RUNNING']), fakeSeen('c2', UID_A, 0, ['CONTAINER_RUNNING'])];
    expect(attemptsRunTwice(twice)).toEqual([expect.objectContaining({ invariant: 'attempt-twice', permanent: true })]);
    const createdOnly = [fakeSeen('c1', UID_A, 0, ['CONTAINER_RUNNING']), fakeSeen('c2', UID_A, 0, ['CONTAINER_CREATED'])];
    expect(attemptsRunTwice(createdOnly)).toEqual([]);
    // Exited without ever starting (a failed start) did not run either.
    expect(attemptsRunTwice([fakeSeen('c1', UID_A, 0, ['CONTAINER_RUNNING']), fakeSeen('c2', UID_A, 0, ['CONTAINER_EXITED'], 0)])).toEqual([]);
    expect(attemptsRunTwice([fakeSeen('c1', UID_A, 0, ['CONTAINER_RUNNING']), fakeSeen('c2', UID_A, 0, ['CONTAINER_EXITED'], 5)])).toHaveLength(1);
  });

  it('reports restarts of a container that never exited, and exits of one that never ends', () => {
    const counted = fakeWorld([fakePod('a', UID_A, { restartCount: 1 })], {}, [fakeSeen('c1', UID_A, 1, ['CONTAINER_RUNNING'])]);
    expect(invariants(checkPods([alive], counted))).toEqual(['attempt-vs-restarts', 'restart-count']);
    const exited = fakeWorld([fakePod('a', UID_A, { restartCount: 1 })], {}, [
      fakeSeen('c0', UID_A, 0, ['CONTAINER_RUNNING', 'CONTAINER_EXITED'], 5), fakeSeen('c1', UID_A, 1, ['CONTAINER_RUNNING']),
    ]);
    const vs = checkPods([alive], exited);
    expect(invariants(vs)).toEqual(['never-exits']);
    expect(vs[0].detail).toMatch(/attempt 0 .* exited with code 137/);
    // A start that failed took attempt 0 but ran nothing: the replacement at attempt 1 is no restart.
    const failedStart = fakeWorld([fakePod('a', UID_A, { restartCount: 0 })], {}, [
      fakeSeen('c0', UID_A, 0, ['CONTAINER_CREATED', 'CONTAINER_EXITED'], 0), fakeSeen('c1', UID_A, 1, ['CONTAINER_RUNNING']),
    ]);
    expect(checkPods([alive], failedStart)).toEqual([]);
    // Counting it as one is a violation: nothing ran and ended.
    const countedFailedStart = fakeWorld([fakePod('a', UID_A, { restartCount: 1 })], {}, [
      fakeSeen('c0', UID_A, 0, ['CONTAINER_CREATED', 'CONTAINER_EXITED'], 0), fakeSeen('c1', UID_A, 1, ['CONTAINER_RUNNING']),
    ]);
    expect(invariants(checkPods([alive], countedFailedStart))).toEqual(['attempt-vs-restarts', 'restart-count']);
  });

  it('reports a restartCount that is not the number of earlier runs', () => {
    const w = fakeWorld([fakePod('a', UID_A, { restartCount: 2 })], {}, [
      fakeSeen('c0', UID_A, 0, ['CONTAINER_RUNNING', 'CONTAINER_EXITED'], 5), fakeSeen('c1', UID_A, 1, ['CONTAINER_RUNNING']),
    ]);
    expect(invariants(checkPods([alive], w))).toContain('attempt-vs-restarts');
  });

  it('says when the api or containerd did not answer instead of judging pods', () => {
    const w: WorldSnapshot = { atMs: 0, apiError: 'cannot reach the bus', criError: 'ECONNREFUSED', seenContainers: [], seenSandboxes: [] };
    expect(checkPods([alive, deleted], w)).toEqual([
      expect.objectContaining({ invariant: 'api', permanent: false }),
      expect.objectContaining({ invariant: 'cri', permanent: false }),
    ]);
  });

  it('skips pods whose apply never went through', () => {
    expect(checkPods([{ name: 'x', namespace: 'default', burst: 0 }], fakeWorld([]))).toEqual([]);
  });
});

describe('checkPodsCleaned', () => {
  const sel = { key: 'chaos-round', value: 't1' };
  it('passes when nothing of the round is left', () => {
    expect(checkPodsCleaned(new Set([UID_A]), sel, fakeWorld([fakePod('other', UID_B)]))).toEqual([]);
  });
  it('reports pods of the round (by uid or label) and their sandboxes and containers', () => {
    const w = fakeWorld([fakePod('a', UID_A, { deleting: true }), fakePod('l', UID_B, { labels: { 'chaos-round': 't1' } })], {
      sandboxes: [fakeSandbox('sa', UID_A, 'a')], containers: [fakeContainer('ca', UID_A, 'a')],
    });
    const vs = checkPodsCleaned(new Set([UID_A]), sel, w);
    expect(vs.map((v) => v.subject)).toEqual(['pod default/a', 'pod default/l', 'pod default/a', 'pod default/a']);
  });
});
