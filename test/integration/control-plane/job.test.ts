/**
 * The Job controller against a real nats-server and an in-process control plane. No node runs:
 * the test finishes pods by writing their phase as a node agent would (test/helpers/job-node.ts).
 * Shown: completions with parallelism never running more than parallelism pods, a failing Job
 * stopping at its backoff limit, an Indexed Job running each index once, ttlSecondsAfterFinished
 * deleting the Job and its pods, bad manifests refused with nothing stored, and a control plane
 * that restarts on each state a crash in the middle of counting can leave.
 */
import { runControlPlane } from '../../../actors';
import { startInformer, type Informer } from '../../../bus';
import {
  isNotFound, isValidation, JOB_COMPLETION_INDEX, JOB_TRACKING_FINALIZER,
  type ApplyResult, type GetResult, type Job, type Pod,
} from '../../../messages';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { finishPod, hasCondition, jobPods, running } from '../../helpers/job-node';
import { caught } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(60_000);

let f: ControlPlaneFixture;
const saved = process.env.MK_JOB_BACKOFF_BASE_MS;

beforeAll(async () => {
  // The failure backoff starts at 100 ms here instead of 10 s (read when the controller starts).
  process.env.MK_JOB_BACKOFF_BASE_MS = '100';
  f = await startControlPlane('cp-job-test');
});
afterAll(async () => {
  await f?.stop();
  if (saved === undefined) delete process.env.MK_JOB_BACKOFF_BASE_MS; else process.env.MK_JOB_BACKOFF_BASE_MS = saved;
});

const manifest = (name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}) => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
  spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never', ...podSpec } }, ...spec },
});
const apply = async (o: unknown): Promise<Job> => (await f.api<ApplyResult>('apply', { object: o })).object as Job;
const getJob = async (name: string): Promise<Job> => (await f.api<GetResult>('get', { kind: 'jobs', name })).object as Job;

/** Acts as the node: finishes one running pod of `job` in `phase` per call, until `done` says so. */
async function drive(job: string, phase: 'Succeeded' | 'Failed', done: (j: Job) => boolean): Promise<Job> {
  return until(`job ${job} to finish`, async () => {
    const j = await getJob(job);
    if (done(j)) return j;
    const next = (await jobPods(f.store, job)).find((p) => running(p.object));
    if (next) await finishPod(f.store, next.key, phase);
    return undefined;
  }, 40_000, 30);
}

it('completions 5, parallelism 2: completes with five successes, never more than two pods running', async () => {
  const live = new Set<string>();
  let most = 0;
  const watch: Informer = await startInformer(f.store, 'pods.default.>', (ev) => {
    const p = ev.object as Pod | null;
    if (p && p.metadata.name.startsWith('five-') && running(p)) live.add(ev.key); else live.delete(ev.key);
    most = Math.max(most, live.size);
  });
  try {
    await apply(manifest('five', { completions: 5, parallelism: 2 }));
    const j = await drive('five', 'Succeeded', (x) => hasCondition(x, 'Complete'));
    expect(j.status).toMatchObject({ succeeded: 5, failed: 0, active: 0 });
    expect(j.status?.completionTime).toBeDefined();
    expect(j.status?.conditions?.find((c) => c.type === 'Complete')?.reason).toBe('CompletionsReached');
    expect(most).toBe(2);
    const pods = await until('every pod released', async () => {
      const ps = await jobPods(f.store, 'five');
      return ps.every((p) => !p.object.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) ? ps : undefined;
    });
    expect(pods.filter((p) => p.object.status?.phase === 'Succeeded')).toHaveLength(5);
    expect(pods).toHaveLength(5);
    for (const p of pods) expect(p.object.metadata.name).toMatch(/^five-[a-z0-9]{5}$/);
  } finally {
    await watch.stop();
  }
});

it('a failing Job stops at its backoff limit: Failed, BackoffLimitExceeded, backoffLimit + 1 failures', async () => {
  await apply(manifest('fails', { backoffLimit: 2 }));
  const j = await drive('fails', 'Failed', (x) => hasCondition(x, 'Failed'));
  expect(j.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
  expect(j.status).toMatchObject({ failed: 3, succeeded: 0, active: 0 });
  expect(j.status?.completionTime).toBeUndefined();
  // No pod after the last failure.
  expect(await jobPods(f.store, 'fails')).toHaveLength(3);
});

it('Indexed: each index runs once, with its index in env and annotation, and completedIndexes says so', async () => {
  await apply(manifest('idx', { completions: 4, parallelism: 2, completionMode: 'Indexed' }));
  const j = await drive('idx', 'Succeeded', (x) => hasCondition(x, 'Complete'));
  expect(j.status).toMatchObject({ succeeded: 4, completedIndexes: '0-3' });
  const pods = await jobPods(f.store, 'idx');
  const indexes = pods.map((p) => p.object.metadata.annotations?.[JOB_COMPLETION_INDEX]).sort();
  expect(indexes).toEqual(['0', '1', '2', '3']);
  for (const p of pods) {
    const i = p.object.metadata.annotations![JOB_COMPLETION_INDEX];
    expect(p.object.metadata.name).toMatch(new RegExp(`^idx-${i}-[a-z0-9]{5}$`));
    expect(p.object.spec.containers[0].env).toContainEqual({ name: 'JOB_COMPLETION_INDEX', value: i });
  }
});

it('ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
  // The Job may be gone again before a poll sees it Complete (a slow poll is longer than its
  // 1 s TTL), so completion is read from a watch, which sees every revision.
  let completed = false;
  const watch: Informer = await startInformer(f.store, 'jobs.default.brief', (ev) => {
    const j = ev.object as Job | null;
    if (j && hasCondition(j, 'Complete')) completed = true;
  });
  try {
    await apply(manifest('brief', { ttlSecondsAfterFinished: 1 }));
    await until('job brief to complete', async () => {
      if (completed) return true;
      const next = (await jobPods(f.store, 'brief')).find((p) => running(p.object));
      if (next) await finishPod(f.store, next.key, 'Succeeded');
      return undefined;
    }, 40_000, 30);
  } finally {
    await watch.stop();
  }
  await until('the job gone', async () => (isNotFound(await caught(getJob('brief'))) ? true : undefined), 20_000);
  await until('its pods gone', async () => ((await jobPods(f.store, 'brief')).length === 0 ? true : undefined), 20_000);
});

it('refuses bad Jobs with a clear error and stores nothing', async () => {
  const cases: [unknown, RegExp][] = [
    [manifest('always', {}, { restartPolicy: 'Always' }), /restartPolicy.*Unsupported value: "Always".*"OnFailure" or "Never"/],
    [manifest('nopolicy', {}, { restartPolicy: undefined }), /restartPolicy.*Unsupported value: "Always"/],
    [manifest('negc', { completions: -1 }), /spec.completions.*greater than or equal to 0/],
    [manifest('negp', { parallelism: -2 }), /spec.parallelism.*greater than or equal to 0/],
    [manifest('extra', { retries: 3 }), /retries/],
    [manifest('idxq', { completionMode: 'Indexed', parallelism: 2 }), /Indexed Job needs completions/],
    [manifest('manual', { manualSelector: true }), /spec.selector.*manualSelector needs a selector/],
    [manifest('mismatch', { manualSelector: true, selector: { matchLabels: { app: 'x' } } }), /`selector` does not match template `labels` \(app=x\)/],
    [manifest('j'.repeat(64)), /at most 63 characters/],
  ];
  for (const [m, msg] of cases) {
    const err = await caught(apply(m));
    expect(isValidation(err)).toBe(true);
    expect((err as Error).message).toMatch(msg);
    const name = (m as { metadata: { name: string } }).metadata.name;
    expect(isNotFound(await caught(getJob(name)))).toBe(true);
  }
});

it('refuses a change to the template of an existing Job, and takes a new parallelism', async () => {
  await apply(manifest('fixed', { completions: 3, parallelism: 1, suspend: true }));
  const err = await caught(apply(manifest('fixed', { completions: 3, parallelism: 1, suspend: true }, { restartPolicy: 'OnFailure' })));
  expect(isValidation(err)).toBe(true);
  expect((err as Error).message).toMatch(/spec.template cannot change/);
  const j = await apply(manifest('fixed', { completions: 3, parallelism: 2, suspend: true }));
  expect(j.spec.parallelism).toBe(2);
  const suspended = await until('suspended', async () => {
    const x = await getJob('fixed');
    return hasCondition(x, 'Suspended') ? x : undefined;
  });
  expect(suspended.status?.active).toBe(0);
  expect(await jobPods(f.store, 'fixed')).toHaveLength(0);
  await apply(manifest('fixed', { completions: 3, parallelism: 2, suspend: false }));
  await until('two pods once resumed', async () => ((await jobPods(f.store, 'fixed')).filter((p) => running(p.object)).length === 2 ? true : undefined));
});

it('counts each finished pod exactly once from every state a crash mid-count leaves', async () => {
  await apply(manifest('steps', { completions: 4, parallelism: 3 }));
  const [a, b, c] = await until('three pods', async () => {
    const ps = await jobPods(f.store, 'steps');
    return ps.length === 3 ? ps : undefined;
  });
  await f.cp.stop();
  // What a crash leaves: a recorded with its finalizer (killed after step 1), b recorded without it
  // (after step 2), c recorded, without it, and gone (after step 2, then the pod was deleted).
  for (const p of [a, b, c]) await finishPod(f.store, p.key, 'Succeeded');
  await f.store.mutate<Job>('jobs.default.steps', (j) => ({
    ...j, status: { ...j.status, uncountedTerminatedPods: { succeeded: [a, b, c].map((p) => p.object.metadata.uid!), failed: [] } },
  }));
  for (const p of [b, c]) await f.store.mutate<Pod>(p.key, (x) => ({ ...x, metadata: { ...x.metadata, finalizers: undefined } }));
  await f.store.delete(c.key);
  f.cp = await runControlPlane({ bus: { servers: f.server.url, name: 'cp-job-test-2' } });
  const j = await drive('steps', 'Succeeded', (x) => hasCondition(x, 'Complete'));
  expect(j.status).toMatchObject({ succeeded: 4, failed: 0, uncountedTerminatedPods: { succeeded: [], failed: [] } });
  // a and b stay, c is gone, and one more pod made the fourth success.
  const left = await jobPods(f.store, 'steps');
  expect(left.map((p) => p.key).sort()).toEqual(expect.arrayContaining([a.key, b.key]));
  expect(left).toHaveLength(3);
  expect(left.every((p) => p.object.status?.phase === 'Succeeded')).toBe(true);
});

it('a Job deleted and made again at once under its name: the old pods go, the new Job runs its own', async () => {
  await apply(manifest('again', { completions: 2, parallelism: 2 }));
  const old = await until('two pods', async () => {
    const ps = await jobPods(f.store, 'again');
    return ps.length === 2 ? ps : undefined;
  });
  await f.api('delete', { kind: 'jobs', name: 'again' });
  const fresh = await apply(manifest('again', { completions: 1 }));
  await until('the old pods gone', async () => {
    const ps = await jobPods(f.store, 'again');
    return ps.some((p) => old.some((o) => o.key === p.key)) ? undefined : true;
  }, 20_000);
  const j = await drive('again', 'Succeeded', (x) => hasCondition(x, 'Complete'));
  expect(j.metadata.uid).toBe(fresh.metadata.uid);
  expect(j.status?.succeeded).toBe(1);
});

it('a restarted control plane releases the pods of a Job that went while none ran', async () => {
  await f.cp.stop();
  const orphan = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'ghost-abcde', namespace: 'default', uid: 'ghost-pod', finalizers: [JOB_TRACKING_FINALIZER],
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'ghost', uid: 'ghost-job', controller: true }],
      deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 0,
    },
    spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' },
    status: { phase: 'Succeeded' },
  };
  await f.store.create('pods.default.ghost-abcde', orphan);
  f.cp = await runControlPlane({ bus: { servers: f.server.url, name: 'cp-job-test-3' } });
  await until('the pod gone', async () => ((await f.store.get('pods.default.ghost-abcde')) ? undefined : true), 20_000);
});
