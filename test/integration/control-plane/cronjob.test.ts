/**
 * The CronJob controller against a real nats-server and an in-process control plane, on a clock
 * thirty times faster than real time (MK_CRONJOB_CLOCK_SCALE): a `* * * * *` schedule fires every
 * two seconds. No node runs: the test finishes pods by writing their phase as a node agent would.
 * Shown: one Job per scheduled time, named after it and owned by the CronJob; Forbid starting
 * nothing while a run is active and the run it skipped once it finished; Replace deleting the
 * running Job; history limits; suspend; bad manifests refused with nothing stored.
 */
import {
  CRONJOB_SCHEDULED_TIMESTAMP, isNotFound, isValidation, keyFilter,
  type ApplyResult, type CronJob, type GetResult, type Job,
} from '../../../messages';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { finishPod, hasCondition, jobPods, running } from '../../helpers/job-node';
import { caught } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(90_000);

const SCALE = 30;
const ORIGIN = Date.now();
let f: ControlPlaneFixture;
const saved = { scale: process.env.MK_CRONJOB_CLOCK_SCALE, origin: process.env.MK_CRONJOB_CLOCK_ORIGIN };

beforeAll(async () => {
  process.env.MK_CRONJOB_CLOCK_SCALE = String(SCALE);
  process.env.MK_CRONJOB_CLOCK_ORIGIN = String(ORIGIN);
  f = await startControlPlane('cp-cronjob-test');
});
afterAll(async () => {
  await f?.stop();
  for (const [k, v] of [['MK_CRONJOB_CLOCK_SCALE', saved.scale], ['MK_CRONJOB_CLOCK_ORIGIN', saved.origin]] as const) {
    if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
});

/** Now on the controller's clock. */
const clock = () => ORIGIN + (Date.now() - ORIGIN) * SCALE;
const minuteOf = (job: Job) => Number(job.metadata.name.split('-').pop());

const manifest = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
  spec: {
    schedule: '* * * * *',
    jobTemplate: { spec: { backoffLimit: 0, template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } } },
    ...spec,
  },
});
const apply = async (o: unknown) => (await f.api<ApplyResult>('apply', { object: o })).object as unknown as CronJob;
const getCj = async (name: string) => (await f.api<GetResult>('get', { kind: 'cronjobs', name })).object as unknown as CronJob;

/** The Jobs the CronJob controls, oldest run first. */
async function runs(cj: CronJob): Promise<Job[]> {
  const { items } = await f.store.list<Job>(keyFilter('jobs', 'default'));
  return items.map((i) => i.object).filter((j) => j.metadata.ownerReferences?.some((r) => r.uid === cj.metadata.uid && r.controller))
    .sort((a, b) => minuteOf(a) - minuteOf(b));
}

/** Ends every running pod of `job` in `phase`. */
async function finishJob(job: string, phase: 'Succeeded' | 'Failed'): Promise<void> {
  const pods = await until(`a pod of ${job}`, async () => {
    const ps = (await jobPods(f.store, job)).filter((p) => running(p.object));
    return ps.length ? ps : undefined;
  });
  for (const p of pods) await finishPod(f.store, p.key, phase);
}

it('starts one Job per scheduled time, named after it, owned by the CronJob, and records it in the status', async () => {
  const cj = await apply(manifest('every', { jobTemplate: {
    metadata: { labels: { team: 'a' } },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } },
  } }));
  expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  const jobs = await until('three runs', async () => {
    const js = await runs(cj);
    return js.length >= 3 ? js : undefined;
  }, 30_000);
  const minutes = jobs.map(minuteOf);
  // Each scheduled time once (consecutive minutes, unless a loaded machine delayed a reconcile
  // past the next one: then only the latest starts).
  for (let i = 1; i < minutes.length; i++) expect(minutes[i]).toBeGreaterThan(minutes[i - 1]);
  for (const j of jobs) {
    const m = minuteOf(j);
    expect(j.metadata.name).toBe(`every-${m}`);
    expect(j.metadata.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP]).toBe(new Date(m * 60_000).toISOString().replace('.000Z', 'Z'));
    expect(j.metadata.labels).toMatchObject({ team: 'a' });
    expect(j.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'CronJob', name: 'every', uid: cj.metadata.uid, controller: true })]);
    // Scheduled after the CronJob was created, and no later than now.
    expect(m * 60_000).toBeLessThanOrEqual(clock());
  }
  const st = await until('the status to list the runs', async () => {
    const c = await getCj('every');
    return (c.status?.active?.length ?? 0) >= 3 ? c.status : undefined;
  });
  expect(Date.parse(st!.lastScheduleTime!)).toBeGreaterThanOrEqual(minutes[2] * 60_000);
  await f.api('delete', { kind: 'cronjobs', name: 'every' });
  await until('its Jobs collected with it', async () => ((await runs(cj)).length === 0 ? true : undefined), 30_000);
});

it('Forbid starts nothing while a run is active, then the run it skipped once that one finished', async () => {
  const cj = await apply(manifest('forbid', { concurrencyPolicy: 'Forbid' }));
  const [first] = await until('the first run', async () => {
    const js = await runs(cj);
    return js.length ? js : undefined;
  });
  // Three more scheduled times pass while the first run is active.
  const past = (minuteOf(first) + 4) * 60_000;
  await until('three more scheduled times', async () => (clock() > past ? true : undefined), 30_000);
  expect((await runs(cj)).map((j) => j.metadata.name)).toEqual([first.metadata.name]);
  expect((await getCj('forbid')).status?.active?.map((r) => r.name)).toEqual([first.metadata.name]);

  await finishJob(first.metadata.name, 'Succeeded');
  const js = await until('a second run once the first finished', async () => {
    const all = await runs(cj);
    return all.length >= 2 ? all : undefined;
  }, 30_000);
  expect(minuteOf(js[1])).toBeGreaterThan(minuteOf(first) + 3);
  expect(hasCondition(js[0], 'Complete')).toBe(true);
  await f.api('delete', { kind: 'cronjobs', name: 'forbid' });
});

it('Replace deletes the running Job when the next run starts', async () => {
  const cj = await apply(manifest('replace', { concurrencyPolicy: 'Replace' }));
  const seen = new Set<string>();
  const live = await until('three runs, each replacing the one before', async () => {
    const js = (await runs(cj)).filter((j) => !j.metadata.deletionTimestamp);
    for (const j of js) seen.add(j.metadata.name);
    return seen.size >= 3 && js.length === 1 ? js : undefined;
  }, 30_000);
  // The one left is the newest run; every earlier one was deleted.
  expect(live[0].metadata.name).toBe([...seen].sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop())).pop());
  expect((await getCj('replace')).status?.active?.map((r) => r.name)).toEqual([live[0].metadata.name]);
  await f.api('delete', { kind: 'cronjobs', name: 'replace' });
});

it('keeps the newest finished Jobs within the history limits, and suspend stops new runs', async () => {
  const cj = await apply(manifest('hist', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }));
  const seen: string[] = [];
  // The first two runs fail, the next four succeed.
  await until('six runs finished', async () => {
    for (const j of await runs(cj)) {
      if (seen.includes(j.metadata.name) || seen.length >= 6) continue;
      seen.push(j.metadata.name);
      await finishJob(j.metadata.name, seen.length <= 2 ? 'Failed' : 'Succeeded');
    }
    return seen.length >= 6 ? true : undefined;
  }, 60_000, 100);
  await apply(manifest('hist', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1, suspend: true }));
  // Runs started before suspend took effect are finished too.
  const kept = await until('only the history limits left', async () => {
    const all = await runs(cj);
    for (const j of all) {
      if (hasCondition(j, 'Complete') || hasCondition(j, 'Failed')) continue;
      for (const p of await jobPods(f.store, j.metadata.name)) if (running(p.object)) await finishPod(f.store, p.key, 'Succeeded');
    }
    const done = all.filter((j) => hasCondition(j, 'Complete') || hasCondition(j, 'Failed'));
    return done.length === all.length && all.filter((j) => hasCondition(j, 'Complete')).length === 2
      && all.filter((j) => hasCondition(j, 'Failed')).length <= 1 ? all : undefined;
  }, 40_000, 100);
  const failed = kept.filter((j) => hasCondition(j, 'Failed')).map((j) => j.metadata.name);
  expect(failed).toEqual([seen[1]]);
  const succeeded = kept.filter((j) => hasCondition(j, 'Complete'));
  // The two newest successes.
  expect(succeeded.every((j) => minuteOf(j) > Number(seen[3].split('-').pop()))).toBe(true);
  const st = (await getCj('hist')).status;
  expect(st?.lastSuccessfulTime).toBeDefined();
  // Suspended: no new run over two more scheduled times.
  const count = (await runs(cj)).length;
  const past = clock() + 2 * 60_000;
  await until('two more scheduled times', async () => (clock() > past ? true : undefined), 30_000);
  expect((await runs(cj)).length).toBe(count);
  await f.api('delete', { kind: 'cronjobs', name: 'hist' });
});

it('refuses bad schedules, time zones and templates by name, storing nothing', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ schedule: '61 * * * *' }, /spec\.schedule.*minute 61 is out of range 0-59/],
    [{ schedule: '* * * *' }, /spec\.schedule.*expected exactly 5 fields/],
    [{ schedule: 'TZ=Europe/Paris 0 9 * * *' }, /cannot use TZ or CRON_TZ in schedule/],
    [{ schedule: '@every 5m' }, /unknown macro "@every 5m"/],
    [{ timeZone: 'Mars/Olympus' }, /spec\.timeZone.*unknown time zone "Mars\/Olympus"/],
    [{ concurrencyPolicy: 'Sometimes' }, /concurrencyPolicy/],
    [{ jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } }, /restartPolicy.*OnFailure.*Never/],
    [{ startingDeadlineSeconds: -1 }, /startingDeadlineSeconds/],
  ];
  for (const [spec, re] of cases) {
    const err = await caught(apply(manifest('bad', spec)));
    expect(isValidation(err)).toBe(true);
    expect((err as Error).message).toMatch(re);
  }
  const long = await caught(apply(manifest('a'.repeat(53))));
  expect((long as Error).message).toMatch(/at most 52 characters/);
  expect(isNotFound(await caught(getCj('bad')))).toBe(true);
});
