/**
 * When a schedule trigger fires, as a pure function of its source, its creation time, the last
 * scheduled time its status records, and now.
 *
 * Why a restart neither misses nor doubles a firing: a firing is named by its scheduled time, and
 * only times strictly after status.lastScheduleTime are due. The engine records the newest due
 * time once the firings are handed on; a crash before that repeats them on the next pass under
 * the same scheduled times (the delivery's dedup id), never skips them.
 *
 * Catch-up differs from a CronJob's on purpose: a CronJob starts only the most recent missed run
 * (https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#cron-job-limitations);
 * a trigger fires every missed time still within startingDeadlineSeconds, oldest first, at most
 * CRON_MAX_MISSED of them (the latest), with a TooManyMissedFirings warning beyond. Times older
 * than the deadline are skipped with a MissedSchedule warning and recorded as dealt with.
 */
import { CRON_MAX_MISSED, cronProblem, cronTimesBetween, nextCronTime, parseCron, rfc3339In, timeZoneProblem } from '../../messages/cron';
import { parseDuration } from '../../messages/duration';
import type { ScheduleSource } from '../../messages/trigger';

/** An event to record on the trigger. */
export interface ScheduleEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

/** What a schedule trigger does now. */
export interface ScheduleDecision {
  /** The scheduled times to fire now, oldest first (epoch ms). */
  fire: number[];
  /**
   * The scheduled time status.lastScheduleTime should hold once `fire` is handed on: the newest
   * time fired or skipped. Undefined: unchanged.
   */
  lastScheduleTime?: number;
  /**
   * Scheduled times skipped, as later than startingDeadlineSeconds or beyond the catch-up cap: exact
   * up to CRON_MAX_MISSED, a lower bound past it (the events say "more than").
   */
  skipped: number;
  /** The next scheduled time after now, to wake up for; undefined when none will come (after: done, or a date that never comes). */
  nextAt?: number;
  events: ScheduleEvent[];
}

/** What the schedule is read against: epoch ms on the engine's clock. */
export interface ScheduleClock {
  /** The trigger's creationTimestamp. */
  created: number;
  /** status.lastScheduleTime, if the trigger has one. */
  lastScheduleTime?: number;
  now: number;
}

const count = (n: number): string => (n > CRON_MAX_MISSED ? `more than ${CRON_MAX_MISSED}` : String(n));

/** Decides which firings of `source` are due at `clock.now`. Never throws: a bad source is a Warning and fires nothing. */
export function scheduleDecision(source: ScheduleSource, clock: ScheduleClock): ScheduleDecision {
  const events: ScheduleEvent[] = [];
  const deadlineMs = source.startingDeadlineSeconds !== undefined ? source.startingDeadlineSeconds * 1000 : undefined;
  const { created, lastScheduleTime: last, now } = clock;

  if (source.after !== undefined) {
    let delay: number;
    try {
      delay = parseDuration(source.after, 'after');
    } catch (err) {
      return { fire: [], skipped: 0, events: [{ type: 'Warning', reason: 'UnparseableSchedule', message: (err as Error).message }] };
    }
    const at = created + delay;
    if (last !== undefined) return { fire: [], skipped: 0, events };
    if (now < at) return { fire: [], skipped: 0, nextAt: at, events };
    if (deadlineMs !== undefined && at + deadlineMs < now) {
      events.push({
        type: 'Warning', reason: 'MissedSchedule',
        message: `Missed the firing at ${rfc3339In(at)}: more than startingDeadlineSeconds (${source.startingDeadlineSeconds}) late`,
      });
      return { fire: [], lastScheduleTime: at, skipped: 1, events };
    }
    return { fire: [at], lastScheduleTime: at, skipped: 0, events };
  }

  const cron = source.cron ?? '';
  const problem = cronProblem(cron) ?? (source.timeZone !== undefined ? timeZoneProblem(source.timeZone) : null);
  if (problem) {
    return { fire: [], skipped: 0, events: [{ type: 'Warning', reason: 'UnparseableSchedule', message: `unparseable schedule "${cron}": ${problem}` }] };
  }
  const sched = parseCron(cron);
  const tz = source.timeZone;
  const nextAt = nextCronTime(sched, now, tz);
  const earliest = last ?? created;
  if (earliest >= now) return { fire: [], skipped: 0, ...(nextAt !== undefined ? { nextAt } : {}), events };

  // Times before `lower` are past the deadline; cron times are whole minutes, so `lower - 1` as an
  // exclusive bound keeps a time exactly at the deadline.
  const lower = deadlineMs !== undefined ? Math.max(earliest, now - deadlineMs - 1) : earliest;
  const late = lower > earliest ? cronTimesBetween(sched, earliest, lower, tz, CRON_MAX_MISSED) : { latest: [], count: 0 };
  const due = cronTimesBetween(sched, lower, now, tz, CRON_MAX_MISSED);
  let skipped = late.count;
  if (late.count > 0) {
    events.push({
      type: 'Warning', reason: 'MissedSchedule',
      message: `Missed ${count(late.count)} firing(s), the last at ${rfc3339In(late.latest.at(-1) ?? lower, tz)}: `
        + `more than startingDeadlineSeconds (${source.startingDeadlineSeconds}) late`,
    });
  }
  if (due.count > CRON_MAX_MISSED) {
    skipped = Math.min(CRON_MAX_MISSED + 1, skipped + 1);
    events.push({
      type: 'Warning', reason: 'TooManyMissedFirings',
      message: `more than ${CRON_MAX_MISSED} missed firings: firing the latest ${CRON_MAX_MISSED} and skipping the older ones. `
        + 'Set or decrease .spec.source.schedule.startingDeadlineSeconds or check clock skew',
    });
  }
  const newest = due.latest.at(-1) ?? late.latest.at(-1);
  return {
    fire: due.latest,
    ...(newest !== undefined ? { lastScheduleTime: newest } : {}),
    skipped,
    ...(nextAt !== undefined ? { nextAt } : {}),
    events,
  };
}
