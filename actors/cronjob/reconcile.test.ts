import { CRONJOB_SCHEDULED_TIMESTAMP, type CronJob, type Job } from '../../messages';
import { reconcileCronJob } from './reconcile';

const T = (iso: string) => Date.parse(iso);
const CREATED = '2026-01-01T10:00:00Z';

function cronJob(spec: Partial<CronJob['spec']> = {}, status: CronJob['status'] = {}): CronJob {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob',
    metadata: { name: 'cj', namespace: 'default', uid: 'cj-uid', creationTimestamp: CREATED },
    spec: {
      schedule: '* * * * *',
      jobTemplate: {
        metadata: { labels: { app: 'x' }, annotations: { note: 'n' } },
        spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } },
      },
      ...spec,
    },
    status,
  };
}

/** A Job of the CronJob scheduled at `iso`; finished when `end` says so. */
function run(iso: string, end?: 'Complete' | 'Failed', extra: Partial<Job['metadata']> = {}): Job {
  const t = T(iso);
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: `cj-${t / 60_000}`, namespace: 'default', uid: `u-${t}`, creationTimestamp: iso,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: 'cj-uid', controller: true }], ...extra,
    },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } },
    status: {
      startTime: iso,
      ...(end ? { completionTime: new Date(t + 5000).toISOString(), conditions: [{ type: end, status: 'True' }] } : {}),
    },
  };
}

describe('CronJob decisions', () => {
  it('nothing is due before the first scheduled time: requeue just after it', () => {
    const d = reconcileCronJob(cronJob(), [], T('2026-01-01T10:00:30Z'), T(CREATED));
    expect(d.create).toBeUndefined();
    expect(d.requeueAfterMs).toBe(30_000 + 100);
  });

  it('a far scheduled time is looked at again within the hour (a timer cannot wait for months)', () => {
    const d = reconcileCronJob(cronJob({ schedule: '@yearly' }), [], T('2026-01-01T10:00:30Z'), T(CREATED));
    expect(d.requeueAfterMs).toBe(3_600_000);
  });

  it('at a scheduled time: a Job named after it, owned by the CronJob, with the scheduled-timestamp annotation', () => {
    const d = reconcileCronJob(cronJob({ timeZone: 'Europe/Paris' }), [], T('2026-01-01T10:01:00.050Z'), T(CREATED));
    const job = d.create!;
    expect(job.metadata.name).toBe(`cj-${T('2026-01-01T10:01:00Z') / 60_000}`);
    expect(job.metadata.annotations).toEqual({ note: 'n', [CRONJOB_SCHEDULED_TIMESTAMP]: '2026-01-01T11:01:00+01:00' });
    expect(job.metadata.labels).toEqual({ app: 'x' });
    expect(job.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: 'cj-uid', controller: true, blockOwnerDeletion: true }]);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(d.status.lastScheduleTime).toBe('2026-01-01T10:01:00Z');
    expect(d.status.active?.map((r) => r.name)).toEqual([job.metadata.name]);
    expect(d.requeueAfterMs).toBe(60_000 - 50 + 100);
  });

  it('the same run is not started again once recorded, nor when its Job exists without the status (a crash between)', () => {
    const now = T('2026-01-01T10:01:20Z');
    const recorded = reconcileCronJob(cronJob({}, { lastScheduleTime: '2026-01-01T10:01:00Z' }), [run('2026-01-01T10:01:00Z')], now, T(CREATED));
    expect(recorded.create).toBeUndefined();
    const repaired = reconcileCronJob(cronJob(), [run('2026-01-01T10:01:00Z')], now, T(CREATED));
    expect(repaired.create).toBeUndefined();
    expect(repaired.status.lastScheduleTime).toBe('2026-01-01T10:01:00Z');
    expect(repaired.status.active?.map((r) => r.name)).toEqual([run('2026-01-01T10:01:00Z').metadata.name]);
  });

  it('missed runs: only the most recent starts', () => {
    const d = reconcileCronJob(cronJob({}, { lastScheduleTime: '2026-01-01T10:01:00Z' }), [], T('2026-01-01T10:07:30Z'), T(CREATED));
    expect(d.create?.metadata.name).toBe(`cj-${T('2026-01-01T10:07:00Z') / 60_000}`);
    expect(d.events).toEqual([]);
  });

  it('startingDeadlineSeconds: a run later than its deadline is skipped, one within it starts', () => {
    const cj = cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 60 }, { lastScheduleTime: '2026-01-01T10:00:00Z' });
    const late = reconcileCronJob(cj, [], T('2026-01-01T11:02:00Z'), T(CREATED));
    expect(late.create).toBeUndefined();
    expect(late.requeueAfterMs).toBe(T('2026-01-01T12:00:00Z') - T('2026-01-01T11:02:00Z') + 100);
    const inTime = reconcileCronJob(cj, [], T('2026-01-01T11:00:50Z'), T(CREATED));
    expect(inTime.create?.metadata.name).toBe(`cj-${T('2026-01-01T11:00:00Z') / 60_000}`);
  });

  it('more than 100 missed runs: a TooManyMissedTimes warning, and the most recent still starts', () => {
    const d = reconcileCronJob(cronJob({}, { lastScheduleTime: '2026-01-01T10:00:00Z' }), [], T('2026-01-03T10:00:30Z'), T(CREATED));
    expect(d.events.map((e) => e.reason)).toEqual(['TooManyMissedTimes']);
    expect(d.create?.metadata.name).toBe(`cj-${T('2026-01-03T10:00:00Z') / 60_000}`);
    const few = reconcileCronJob(cronJob({}, { lastScheduleTime: '2026-01-01T10:00:00Z' }), [], T('2026-01-01T11:40:30Z'), T(CREATED));
    expect(few.events).toEqual([]);
  });

  it('Forbid skips a run while one is active; Allow starts it beside', () => {
    const status = { lastScheduleTime: '2026-01-01T10:01:00Z' };
    const running = [run('2026-01-01T10:01:00Z')];
    const forbid = reconcileCronJob(cronJob({ concurrencyPolicy: 'Forbid' }, status), running, T('2026-01-01T10:02:01Z'), T(CREATED));
    expect(forbid.create).toBeUndefined();
    expect(forbid.events.map((e) => e.reason)).toEqual(['JobAlreadyActive']);
    expect(forbid.status.lastScheduleTime).toBe('2026-01-01T10:01:00Z');
    const allow = reconcileCronJob(cronJob({ concurrencyPolicy: 'Allow' }, status), running, T('2026-01-01T10:02:01Z'), T(CREATED));
    expect(allow.create).toBeDefined();
    expect(allow.status.active).toHaveLength(2);
    // Once the earlier one finished, Forbid starts the run it skipped (no deadline).
    const after = reconcileCronJob(cronJob({ concurrencyPolicy: 'Forbid' }, status), [run('2026-01-01T10:01:00Z', 'Complete')], T('2026-01-01T10:02:30Z'), T(CREATED));
    expect(after.create?.metadata.name).toBe(`cj-${T('2026-01-01T10:02:00Z') / 60_000}`);
  });

  it('Replace deletes the active Jobs and starts the new one', () => {
    const d = reconcileCronJob(cronJob({ concurrencyPolicy: 'Replace' }, { lastScheduleTime: '2026-01-01T10:01:00Z' }),
      [run('2026-01-01T10:01:00Z')], T('2026-01-01T10:02:01Z'), T(CREATED));
    expect(d.replaceJobs).toEqual([run('2026-01-01T10:01:00Z').metadata.name]);
    expect(d.deleteJobs).toEqual([]);
    expect(d.create).toBeDefined();
    expect(d.status.active?.map((r) => r.name)).toEqual([d.create!.metadata.name]);
  });

  it('history limits delete the oldest finished Jobs beyond 3 succeeded and 1 failed', () => {
    const jobs = [
      run('2026-01-01T10:01:00Z', 'Complete'), run('2026-01-01T10:02:00Z', 'Failed'), run('2026-01-01T10:03:00Z', 'Complete'),
      run('2026-01-01T10:04:00Z', 'Complete'), run('2026-01-01T10:05:00Z', 'Failed'), run('2026-01-01T10:06:00Z', 'Complete'),
    ];
    const d = reconcileCronJob(cronJob({}, { lastScheduleTime: '2026-01-01T10:06:00Z' }), jobs, T('2026-01-01T10:06:30Z'), T(CREATED));
    expect(d.deleteJobs.sort()).toEqual([jobs[0], jobs[1]].map((j) => j.metadata.name).sort());
    expect(d.status.lastSuccessfulTime).toBe('2026-01-01T10:06:05Z');
    expect(d.status.active).toBeUndefined();
    const none = reconcileCronJob(cronJob({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 0 }, {}), jobs, T('2026-01-01T10:06:30Z'), T(CREATED));
    expect(none.deleteJobs).toHaveLength(6);
  });

  it('a Job that finishes leaves the active list with a SawCompletedJob event', () => {
    const j = run('2026-01-01T10:01:00Z', 'Failed');
    const d = reconcileCronJob(cronJob({}, { lastScheduleTime: '2026-01-01T10:01:00Z', active: [{ kind: 'Job', name: j.metadata.name }] }),
      [j], T('2026-01-01T10:01:30Z'), T(CREATED));
    expect(d.status.active).toBeUndefined();
    expect(d.events).toEqual([expect.objectContaining({ reason: 'SawCompletedJob', message: expect.stringContaining('Failed') })]);
    expect(d.status.lastSuccessfulTime).toBeUndefined();
  });

  it('suspend starts nothing and sets no timer; history is still kept', () => {
    const jobs = [run('2026-01-01T10:01:00Z', 'Failed'), run('2026-01-01T10:02:00Z', 'Failed')];
    const d = reconcileCronJob(cronJob({ suspend: true }), jobs, T('2026-01-01T10:05:00Z'), T(CREATED));
    expect(d.create).toBeUndefined();
    expect(d.requeueAfterMs).toBeUndefined();
    expect(d.deleteJobs).toEqual([jobs[0].metadata.name]);
  });
});
