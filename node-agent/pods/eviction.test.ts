import { emptyBackoff } from './backoff';
import { containerObs, makePod, observed, sandboxObs } from './fixtures';
import { reconcilePod, type ReconcileInput } from './reconcile';

const T0 = 2_000_000;
const run = (o: Partial<ReconcileInput> & Pick<ReconcileInput, 'pod'>) =>
  reconcilePod({ uid: 'uid-1', observed: observed(), backoff: emptyBackoff(), now: T0, hostIP: '192.168.1.10', ...o });
const MESSAGE = 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi".';

describe('reconcilePod: an evicted pod', () => {
  const pod = makePod({ containers: [{ name: 'app', image: 'busybox' }, { name: 'side', image: 'busybox' }] });
  const running = observed({ sandboxes: [sandboxObs()], containers: [containerObs({ name: 'app' }), containerObs({ name: 'side' })] });

  it('kills every container at once and stops the sandbox, reporting Failed with reason Evicted', () => {
    const r = run({ pod, observed: running, evicted: MESSAGE });
    expect(r.actions).toEqual([
      { type: 'stopContainer', containerId: 'app-0', container: 'app', timeoutSeconds: 0 },
      { type: 'stopContainer', containerId: 'side-0', container: 'side', timeoutSeconds: 0 },
      { type: 'stopPodSandbox', sandboxId: 'sb-1' },
    ]);
    expect(r.status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message: MESSAGE });
    expect(r.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(r.terminated).toBe(false);
  });

  it('stays evicted by its stored status: nothing is started again, and deletion still tears it down', () => {
    const stopped = observed({
      sandboxes: [sandboxObs({ state: 'SANDBOX_NOTREADY' })],
      containers: [containerObs({ name: 'app', state: 'CONTAINER_EXITED', exitCode: 137, finishedAt: 2000e9 })],
    });
    const first = run({ pod, observed: running, evicted: MESSAGE });
    const r = run({ pod, observed: stopped, previous: first.status });
    expect(r.actions).toEqual([]);
    expect(r.status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message: MESSAGE });
    const gone = run({ pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }, observed: stopped, previous: first.status });
    expect(gone.actions.map((a) => a.type)).toEqual(['removeContainer', 'removePodSandbox']);
  });

  it('runs a pod whose stored status carries another reason as usual', () => {
    const r = run({ pod, observed: observed({ sandboxes: [sandboxObs()] }), previous: { phase: 'Pending', reason: 'NodeLost' } });
    expect(r.actions.map((a) => a.type)).toEqual(['runContainer', 'runContainer']);
  });
});
