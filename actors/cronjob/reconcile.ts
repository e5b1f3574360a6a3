/**
 * The CronJob controller's decisions, as a pure function of the CronJob, the Jobs it controls and
 * the time: which run is due, whether it is too late, what the concurrency policy says, which
 * finished Jobs the history limits drop, the status, and when to look again. The semantics follow
 * Kubernetes' CronJob controller (https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/).
 *
 * Why a run is never started twice, even across a control-plane SIGKILL: the Job of a run is
 * named after its scheduled time (`<cronjob>-<minutes since the epoch>`), so a second create of
 * the same run is refused by the store (AlreadyExists). The shell creates the Job first and
 * writes the status after; a crash in between leaves a Job whose run the next reconcile finds by
 * name and records in lastScheduleTime. The active list is read from the Jobs themselves (every
 * unfinished Job the CronJob controls), so it needs no status write to be right.
 */
import {
  CRON_MAX_MISSED, CRONJOB_SCHEDULED_TIMESTAMP, cronJobRunName, cronRequeueAfterMs, cronTimesBetween, jobCondition, jobFromCronJob,
  nextCronTime, objectReference, parseCron, rfc3339In,
  type CronJob, type CronJobStatus, type CronSchedule, type Job, type KubeObject, type ObjectReference,
} from '../../messages';
import { decideConcurrency } from '../concurrency-policy';

/** An event to record on the CronJob. */
export interface CronEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

/**
 * What to do for one CronJob; the shell does it in this order: the Replace deletions, the
 * creation, the status, the history deletions. A finished Job of a run goes only after the status
 * records the run, so a crash in between cannot make a later reconcile start that run again.
 */
export interface CronJobDecision {
  /** Names of running Jobs to delete before the new run starts (Replace). */
  replaceJobs: string[];
  /** Names of finished Jobs beyond the history limits, to delete once the status is written. */
  deleteJobs: string[];
  /** The Job of the run that is due, to create. */
  create?: Job;
  /** The status as it should be once the creation is done (written when it differs). */
  status: CronJobStatus;
  events: CronEvent[];
  /** Milliseconds (on the controller's clock) until the next scheduled time, plus a margin. */
  requeueAfterMs?: number;
}

/** The terminal condition of a Job, if it finished. */
export function jobFinished(job: Job): 'Complete' | 'Failed' | undefined {
  if (jobCondition(job, 'Complete')) return 'Complete';
  if (jobCondition(job, 'Failed')) return 'Failed';
  return undefined;
}

const ms = (s: string | undefined): number | undefined => (s ? Date.parse(s) : undefined);
const iso = (t: number): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** When a finished Job started (its start, else its creation), for ordering the history. */
const started = (j: Job): number => ms(j.status?.startTime) ?? ms(j.metadata.creationTimestamp) ?? 0;

/**
 * The most recent scheduled time in (earliest, now], and how many there were (counted up to
 * CRON_MAX_MISSED + 1). Undefined when none is due.
 */
export function mostRecentSchedule(
  sched: CronSchedule, earliest: number, now: number, timeZone?: string,
): { time: number; missed: number } | undefined {
  const { latest, count } = cronTimesBetween(sched, earliest, now, timeZone, CRON_MAX_MISSED);
  const time = latest.at(-1);
  return time === undefined ? undefined : { time, missed: count };
}

/**
 * Decides for `cj` at `now` (epoch ms on the controller's clock). `jobs` are the Jobs it controls
 * (owner reference with its uid). `created` is its creationTimestamp on the same clock.
 */
export function reconcileCronJob(cj: CronJob, jobs: Job[], now: number, created: number): CronJobDecision {
  const spec = cj.spec;
  const prev = cj.status ?? {};
  const events: CronEvent[] = [];
  const deleteJobs: string[] = [];
  const replaceJobs: string[] = [];
  const wasActive = new Set((prev.active ?? []).map((r) => r.name));

  // Finished Jobs leave the active list; the newest success is lastSuccessfulTime.
  let lastSuccess = ms(prev.lastSuccessfulTime);
  const succeeded: Job[] = [];
  const failed: Job[] = [];
  let active: Job[] = [];
  for (const j of jobs) {
    if (j.metadata.deletionTimestamp) continue;
    const end = jobFinished(j);
    if (!end) {
      active.push(j);
      continue;
    }
    (end === 'Complete' ? succeeded : failed).push(j);
    if (wasActive.has(j.metadata.name)) {
      events.push({ type: 'Normal', reason: 'SawCompletedJob', message: `Saw completed job: ${j.metadata.name}, condition: ${end}` });
    }
    const finishedAt = ms(j.status?.completionTime);
    if (end === 'Complete' && finishedAt !== undefined && (lastSuccess === undefined || finishedAt > lastSuccess)) lastSuccess = finishedAt;
  }

  // History limits: the oldest finished Jobs beyond each limit go.
  const trim = (list: Job[], limit: number) => {
    const sorted = [...list].sort((a, b) => started(a) - started(b) || a.metadata.name.localeCompare(b.metadata.name));
    for (const j of sorted.slice(0, Math.max(0, sorted.length - limit))) deleteJobs.push(j.metadata.name);
  };
  trim(succeeded, spec.successfulJobsHistoryLimit ?? 3);
  trim(failed, spec.failedJobsHistoryLimit ?? 1);

  let lastSchedule = ms(prev.lastScheduleTime);
  const status = (): CronJobStatus => {
    const refs: ObjectReference[] = [...active]
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((j) => objectReference(j as unknown as KubeObject));
    return {
      ...(refs.length ? { active: refs } : {}),
      ...(lastSchedule !== undefined ? { lastScheduleTime: iso(lastSchedule) } : {}),
      ...(lastSuccess !== undefined ? { lastSuccessfulTime: iso(lastSuccess) } : {}),
    };
  };
  const done = (requeueAt?: number): CronJobDecision => ({
    replaceJobs, deleteJobs, status: status(), events,
    ...(requeueAt !== undefined ? { requeueAfterMs: cronRequeueAfterMs(requeueAt, now) } : {}),
  });

  if (cj.metadata.deletionTimestamp || spec.suspend) return done();

  let sched: CronSchedule;
  try {
    sched = parseCron(spec.schedule);
  } catch (err) {
    events.push({ type: 'Warning', reason: 'UnparseableSchedule', message: `unparseable schedule: "${spec.schedule}": ${(err as Error).message}` });
    return done();
  }
  const tz = spec.timeZone;
  const next = nextCronTime(sched, now, tz);

  let earliest = lastSchedule ?? created;
  if (spec.startingDeadlineSeconds !== undefined) earliest = Math.max(earliest, now - spec.startingDeadlineSeconds * 1000);
  const due = earliest <= now ? mostRecentSchedule(sched, earliest, now, tz) : undefined;
  if (!due) return done(next);
  if (due.missed > CRON_MAX_MISSED) {
    events.push({
      type: 'Warning', reason: 'TooManyMissedTimes',
      message: `too many missed start times: more than ${CRON_MAX_MISSED}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
    });
  }
  const scheduled = due.time;
  const when = rfc3339In(scheduled, tz);
  if (spec.startingDeadlineSeconds !== undefined && scheduled + spec.startingDeadlineSeconds * 1000 < now) {
    events.push({ type: 'Warning', reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${when}` });
    return done(next);
  }
  const name = cronJobRunName(cj.metadata.name, scheduled);
  if (lastSchedule === scheduled) return done(next);
  if (jobs.some((j) => j.metadata.name === name)) {
    // Created before a crash that kept the status from being written: recorded now.
    lastSchedule = scheduled;
    return done(next);
  }
  const concurrency = decideConcurrency(spec.concurrencyPolicy, active.length);
  if (concurrency === 'skip') {
    events.push({ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' });
    return done(next);
  }
  if (concurrency === 'replace') {
    for (const j of active) replaceJobs.push(j.metadata.name);
    active = [];
  }
  const job = jobFromCronJob(cj, name, { [CRONJOB_SCHEDULED_TIMESTAMP]: when });
  active.push(job);
  lastSchedule = scheduled;
  return { ...done(next), create: job };
}
