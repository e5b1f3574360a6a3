import { JOB_COMPLETION_INDEX, JOB_TRACKING_FINALIZER, type Job, type JobStatus, type Pod, type PodPhase } from '../../messages';
import { defaultJob } from './kind';
import { newPod, reconcileJob, type OwnedPod } from './reconcile';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function job(spec: Partial<Job['spec']> = {}, status?: JobStatus): Job {
  const j = defaultJob({
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } }, ...spec },
  });
  return status ? { ...j, status } : j;
}

let n = 0;
/** A pod of `j` in `phase`, tracked unless said otherwise. */
function pod(j: Job, phase: PodPhase, o: { index?: number; tracked?: boolean; deleting?: boolean; finishedAt?: string; ready?: boolean } = {}): OwnedPod {
  const p: Pod = newPod(j, o.index, `p${n++}`);
  p.metadata.uid = `uid-${p.metadata.name}`;
  if (o.tracked === false) delete p.metadata.finalizers;
  if (o.deleting) p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  p.status = { phase };
  if (o.ready) p.status.conditions = [{ type: 'Ready', status: 'True' }];
  if (o.finishedAt) {
    p.status.containerStatuses = [{ name: 'c', image: 'busybox', ready: false, restartCount: 0, lastState: {}, state: { terminated: { exitCode: 1, finishedAt: o.finishedAt } } }];
  }
  return { key: `pods.default.${p.metadata.name}`, pod: p };
}

/** Applies a decision's status to the job, and its finalizer removals to the pods (what the shell does). */
function step(j: Job, pods: OwnedPod[], now = T0): { job: Job; pods: OwnedPod[]; d: ReturnType<typeof reconcileJob> } {
  const d = reconcileJob(j, pods, now, { backoffBaseMs: 10_000 });
  const next = pods.map((o) => (d.removeFinalizers.includes(o.key)
    ? { ...o, pod: { ...o.pod, metadata: { ...o.pod.metadata, finalizers: undefined } } } : o));
  return { job: { ...j, status: d.status }, pods: next, d };
}

describe('defaultJob', () => {
  it("fills in Kubernetes' defaults and the generated selector", () => {
    const j = job();
    expect(j.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
    expect(j.spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } });
    expect(j.spec.template.metadata?.labels?.['controller-uid']).toBe('job-uid');
  });
  it('leaves completions null for a work queue (parallelism without completions)', () => {
    expect(job({ parallelism: 3 }).spec.completions).toBeNull();
  });
});

describe('reconcileJob', () => {
  it('creates min(parallelism, completions) pods owned by the Job and held by the tracking finalizer', () => {
    const j = job({ completions: 5, parallelism: 2 });
    const d = reconcileJob(j, [], T0);
    expect(d.create).toHaveLength(2);
    const p = d.create[0];
    expect(p.metadata.name).toMatch(/^pi-[a-z0-9]{5}$/);
    expect(p.metadata.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
    expect(p.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true, blockOwnerDeletion: true }]);
    expect(p.metadata.labels?.['batch.kubernetes.io/job-name']).toBe('pi');
    expect(d.status.startTime).toBe('2026-01-01T00:00:00Z');
    expect(d.status.active).toBe(0);
  });

  it('keeps parallelism active and never creates past the remaining completions', () => {
    const j = job({ completions: 3, parallelism: 2 }, { succeeded: 2 });
    expect(reconcileJob(j, [], T0).create).toHaveLength(1);
    expect(reconcileJob(j, [pod(j, 'Running')], T0).create).toHaveLength(0);
  });

  it('counts a finished pod in two steps: recorded, then counted once its finalizer is gone', () => {
    let j = job({ completions: 2, parallelism: 2 });
    let pods = [pod(j, 'Succeeded'), pod(j, 'Running')];
    let s = step(j, pods);
    expect(s.d.status.uncountedTerminatedPods?.succeeded).toEqual([pods[0].pod.metadata.uid]);
    expect(s.d.status.succeeded).toBe(0);
    expect(s.d.removeFinalizers).toEqual([pods[0].key]);
    expect(s.d.create).toHaveLength(0); // the recorded success leaves one completion to the running pod
    // A crash before the finalizer went: the same decision again, nothing counted twice.
    const again = reconcileJob(s.job, pods, T0);
    expect(again.status.uncountedTerminatedPods?.succeeded).toEqual([pods[0].pod.metadata.uid]);
    expect(again.status.succeeded).toBe(0);
    ({ job: j, pods } = s);
    s = step(j, pods);
    expect(s.d.status.succeeded).toBe(1);
    expect(s.d.status.uncountedTerminatedPods?.succeeded).toEqual([]);
    // And again: the pod without its finalizer is never counted again.
    expect(step(s.job, s.pods).d.status.succeeded).toBe(1);
  });

  it('counts a recorded pod that is gone (its finalizer went before a crash)', () => {
    const j = job({ completions: 1 }, { succeeded: 0, uncountedTerminatedPods: { succeeded: ['gone-uid'], failed: [] } });
    const d = reconcileJob(j, [], T0);
    expect(d.status.succeeded).toBe(1);
    expect(d.status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(d.status.completionTime).toBe('2026-01-01T00:00:00Z');
  });

  it('completes only once every finished pod is counted', () => {
    const j = job({ completions: 1 });
    const s = step(j, [pod(j, 'Succeeded')]);
    expect(s.d.status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet']);
    const s2 = step(s.job, s.pods);
    expect(s2.d.status.conditions?.map((c) => `${c.type}=${c.status}:${c.reason}`)).toEqual(['SuccessCriteriaMet=True:CompletionsReached', 'Complete=True:CompletionsReached']);
    expect(s2.d.status.succeeded).toBe(1);
  });

  it('fails with BackoffLimitExceeded after backoffLimit+1 failures and deletes the active pods', () => {
    const j = job({ completions: 3, parallelism: 2, backoffLimit: 1 }, { failed: 1 });
    const running = pod(j, 'Running');
    const s = step(j, [pod(j, 'Failed'), running]);
    expect(s.d.status.conditions?.[0]).toMatchObject({ type: 'FailureTarget', reason: 'BackoffLimitExceeded' });
    expect(s.d.deletePods).toEqual([running.key]);
    expect(s.d.create).toHaveLength(0);
    // The deleted pod terminates: counted as failed, then the Job is Failed.
    const pods = s.pods.map((o) => (o.key === running.key ? { ...o, pod: { ...o.pod, metadata: { ...o.pod.metadata, deletionTimestamp: '2026-01-01T00:00:01Z' } } } : o));
    const s2 = step(s.job, pods);
    const s3 = step(s2.job, s2.pods);
    expect(s3.d.status.failed).toBe(3);
    expect(s3.d.status.conditions?.find((c) => c.type === 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    expect(s3.d.status.completionTime).toBeUndefined();
  });

  it('waits the failure backoff (10 s doubling) before a replacement', () => {
    const j = job({ completions: 1 }, { failed: 2 });
    const failed = pod(j, 'Failed', { tracked: false, finishedAt: '2026-01-01T00:00:00Z' });
    const early = reconcileJob(j, [failed], T0 + 5_000, { backoffBaseMs: 10_000 });
    expect(early.create).toHaveLength(0);
    expect(early.requeueAfterMs).toBe(15_000);
    expect(reconcileJob(j, [failed], T0 + 20_000, { backoffBaseMs: 10_000 }).create).toHaveLength(1);
  });

  it('caps the backoff at 6 min, and a success since the failures resets it', () => {
    const j = job({ completions: 5, backoffLimit: 20 }, { failed: 12, succeeded: 1 });
    const failed = pod(j, 'Failed', { tracked: false, finishedAt: '2026-01-01T00:00:00Z' });
    expect(reconcileJob(j, [failed], T0 + 1_000).requeueAfterMs).toBe(359_000);
    const okLater = pod(j, 'Succeeded', { tracked: false, finishedAt: '2026-01-01T00:00:05Z' });
    expect(reconcileJob(j, [failed, okLater], T0 + 6_000).create).toHaveLength(1);
    // One failure after that success: 10 s again.
    const again = pod(j, 'Failed', { tracked: false, finishedAt: '2026-01-01T00:00:10Z' });
    expect(reconcileJob(j, [failed, okLater, again], T0 + 12_000).requeueAfterMs).toBe(8_000);
  });

  it('fails with DeadlineExceeded once activeDeadlineSeconds passed, and requeues for the deadline before', () => {
    const j = job({ activeDeadlineSeconds: 10 }, { startTime: '2026-01-01T00:00:00Z' });
    const running = pod(j, 'Running');
    expect(reconcileJob(j, [running], T0 + 4_000).requeueAfterMs).toBe(6_000);
    const d = reconcileJob(j, [running], T0 + 10_000);
    expect(d.status.conditions?.[0]).toMatchObject({ type: 'FailureTarget', reason: 'DeadlineExceeded' });
    expect(d.deletePods).toEqual([running.key]);
  });

  it('Indexed: one pod per pending index, with its index in env, label and annotation, each index completed once', () => {
    const j = job({ completions: 3, parallelism: 2, completionMode: 'Indexed' });
    const d = reconcileJob(j, [], T0, { suffix: () => 'abcde' });
    expect(d.create.map((p) => p.metadata.name)).toEqual(['pi-0-abcde', 'pi-1-abcde']);
    expect(d.create[1].metadata.annotations?.[JOB_COMPLETION_INDEX]).toBe('1');
    expect(d.create[1].spec.containers[0].env).toEqual([{ name: 'JOB_COMPLETION_INDEX', value: '1' }]);
    // Index 0 succeeded, index 1 runs: index 2 is next, index 0 is not made again.
    const s = step(j, [pod(j, 'Succeeded', { index: 0 }), pod(j, 'Running', { index: 1 })]);
    expect(s.d.create.map((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX])).toEqual(['2']);
    const s2 = step(s.job, s.pods);
    expect(s2.d.status.completedIndexes).toBe('0');
  });

  it('Indexed: the index is kept when the pod is recorded, so a pod gone before it is counted is not run again', () => {
    const j = job({ completions: 2, parallelism: 1, completionMode: 'Indexed' });
    const done = pod(j, 'Succeeded', { index: 0 });
    const s = step(j, [done]);
    expect(s.d.status.completedIndexes).toBe('0');
    expect(s.d.status.succeeded).toBe(0);
    // The pod went (its finalizer was removed) before the next reconcile counted it.
    const d = reconcileJob(s.job, [], T0, { suffix: () => 'abcde' });
    expect(d.status).toMatchObject({ succeeded: 1, completedIndexes: '0' });
    expect(d.create.map((p) => p.metadata.name)).toEqual(['pi-1-abcde']);
  });

  it('work queue: completes once one pod succeeded and none runs, creating no more after a success', () => {
    const j = job({ parallelism: 2 }, { succeeded: 1 });
    const running = pod(j, 'Running');
    const s = step(j, [pod(j, 'Succeeded', { tracked: false }), running]);
    expect(s.d.create).toHaveLength(0);
    expect(s.d.status.conditions).toBeUndefined();
    const done = reconcileJob(j, [pod(j, 'Succeeded', { tracked: false }), pod(j, 'Succeeded', { tracked: false })], T0);
    expect(done.status.conditions?.some((c) => c.type === 'Complete')).toBe(true);
  });

  it('suspend deletes active pods without counting them, and resume restarts the clock', () => {
    const j = job({ completions: 2, suspend: true }, { startTime: '2025-12-31T00:00:00Z' });
    const running = pod(j, 'Running');
    const s = step(j, [running]);
    expect(s.d.deletePods).toEqual([running.key]);
    expect(s.d.status.conditions?.[0]).toMatchObject({ type: 'Suspended', status: 'True', reason: 'JobSuspended' });
    const terminating = { ...running, pod: { ...running.pod, metadata: { ...running.pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } } };
    const s2 = step(s.job, [terminating]);
    expect(s2.d.removeFinalizers).toEqual([running.key]);
    expect(s2.d.status.failed).toBe(0);
    expect(s2.d.status.uncountedTerminatedPods?.failed).toEqual([]);
    const resumed = reconcileJob({ ...s2.job, spec: { ...s2.job.spec, suspend: false } }, [], T0 + 1_000);
    expect(resumed.status.conditions?.[0]).toMatchObject({ type: 'Suspended', status: 'False', reason: 'JobResumed' });
    expect(resumed.status.startTime).toBe('2026-01-01T00:00:01Z');
    expect(resumed.create).toHaveLength(1);
  });

  it('deletes a finished Job ttlSecondsAfterFinished after its completion', () => {
    const j = job({ ttlSecondsAfterFinished: 5 }, {
      completionTime: '2026-01-01T00:00:00Z',
      conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    });
    const early = reconcileJob(j, [], T0 + 2_000);
    expect(early.deleteJob).toBe(false);
    expect(early.requeueAfterMs).toBe(3_000);
    expect(reconcileJob(j, [], T0 + 5_000).deleteJob).toBe(true);
  });

  it('counts ready pods and lowers the active pods when parallelism went down', () => {
    const j = job({ completions: 10, parallelism: 1 });
    const a = pod(j, 'Running', { ready: true });
    const b = pod(j, 'Running');
    const d = reconcileJob(j, [a, b], T0);
    expect(d.deletePods).toEqual([b.key]);
    expect(d.status.ready).toBe(1);
    expect(d.status.active).toBe(1);
  });

  it('counts container restarts of OnFailure pods toward backoffLimit', () => {
    const j = job({ backoffLimit: 2, template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' } } });
    const p = pod(j, 'Running');
    const restarted = (n: number): OwnedPod => ({
      ...p, pod: { ...p.pod, status: { phase: 'Running', containerStatuses: [{ name: 'c', image: 'busybox', ready: false, restartCount: n, state: {}, lastState: {} }] } },
    });
    expect(reconcileJob(j, [restarted(2)], T0).status.conditions).toBeUndefined();
    const d = reconcileJob(j, [restarted(3)], T0);
    expect(d.status.conditions?.[0]).toMatchObject({ type: 'FailureTarget', reason: 'BackoffLimitExceeded' });
    expect(d.deletePods).toEqual([p.key]);
  });
});
