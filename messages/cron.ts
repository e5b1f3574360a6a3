/**
 * Cron schedules as a CronJob's spec.schedule writes them: five fields (minute, hour, day of
 * month, month, day of week) with `*`, ranges `a-b`, steps `/n`, lists `a,b`, the names of months
 * (jan..dec) and days (sun..sat), and the macros @yearly @annually @monthly @weekly @daily
 * @midnight @hourly. As in Kubernetes, when both day fields are restricted (neither starts with
 * `*`), a day matches when either does. Times are computed in an IANA time zone (Intl): a wall
 * time that a daylight-saving jump skips does not happen that day; one that happens twice (the
 * clocks go back) fires twice. Pure logic, no I/O.
 */

/** One field's allowed values and the names it accepts. */
interface FieldSpec { name: string; min: number; max: number; names?: readonly string[] }

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** The macros and the five fields each stands for. */
export const CRON_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A parsed schedule: the allowed values of each field. */
export interface CronSchedule {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  /** Whether the day-of-month / day-of-week field is unrestricted (`*`, `?`). */
  daysStar: boolean;
  weekdaysStar: boolean;
}

/** A schedule that cannot be parsed; the message names the problem. */
export class CronSyntaxError extends Error {}

function value(s: string, f: FieldSpec, expr: string): number {
  const named = f.names?.indexOf(s.toLowerCase()) ?? -1;
  if (named >= 0) return named + f.min;
  if (!/^\d+$/.test(s)) throw new CronSyntaxError(`invalid ${f.name} "${s}" in "${expr}"`);
  const n = Number(s);
  if (n < f.min || n > f.max) throw new CronSyntaxError(`${f.name} ${n} is out of range ${f.min}-${f.max} in "${expr}"`);
  return n;
}

/** The values of one field; `star` when it is unrestricted. */
function parseField(text: string, f: FieldSpec): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    if (part === '') throw new CronSyntaxError(`empty list item in ${f.name} "${text}"`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronSyntaxError(`too many slashes in ${f.name} "${part}"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new CronSyntaxError(`invalid step "${stepText}" in ${f.name} "${part}"`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = f.min;
      hi = f.max;
      if (step === 1) star = true;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2) throw new CronSyntaxError(`invalid range "${range}" in ${f.name} "${part}"`);
      lo = value(bounds[0], f, part);
      // "N/step" means from N to the end of the field.
      hi = bounds.length === 2 ? value(bounds[1], f, part) : stepText !== undefined ? f.max : lo;
      if (lo > hi) throw new CronSyntaxError(`range ${range} in ${f.name} "${part}" ends before it starts`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, star };
}

/**
 * Parses a schedule; throws CronSyntaxError naming the problem. `TZ=` and `CRON_TZ=` prefixes
 * are refused (a CronJob's timeZone says the zone).
 */
export function parseCron(schedule: string): CronSchedule {
  const expr = schedule.trim();
  if (/^(CRON_)?TZ=/.test(expr)) {
    throw new CronSyntaxError('cannot use TZ or CRON_TZ in schedule, use the timeZone field instead');
  }
  let text = expr;
  if (expr.startsWith('@')) {
    const m = CRON_MACROS[expr.toLowerCase()];
    if (!m) throw new CronSyntaxError(`unknown macro "${expr}" (known: ${Object.keys(CRON_MACROS).join(' ')})`);
    text = m;
  }
  const parts = text.split(/\s+/).filter((p) => p !== '');
  if (parts.length !== 5) {
    throw new CronSyntaxError(`expected exactly 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}: "${expr}"`);
  }
  const [mi, h, dom, mon, dow] = parts.map((p, i) => parseField(p, FIELDS[i]));
  return {
    minutes: mi.values, hours: h.values, days: dom.values, months: mon.values, weekdays: dow.values,
    daysStar: dom.star, weekdaysStar: dow.star,
  };
}

/** Null when the schedule parses, else the problem. */
export function cronProblem(schedule: string): string | null {
  try {
    parseCron(schedule);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Null when `timeZone` is an IANA zone Intl knows, else the problem. */
export function timeZoneProblem(timeZone: string): string | null {
  if (timeZone === '') return 'must be an IANA time zone name such as "Europe/Paris", not empty';
  if (timeZone.toLowerCase() === 'local') return 'must be an explicit IANA time zone name such as "Europe/Paris", not "Local"';
  try {
    formatter(timeZone);
    return null;
  } catch {
    return `unknown time zone "${timeZone}" (an IANA name such as "Europe/Paris" or "UTC")`;
  }
}

const MINUTE = 60_000;

/**
 * The wall-clock time in `timeZone` at instant `t`, written as if it were UTC (milliseconds, to
 * the second): calendar arithmetic on it ignores daylight-saving jumps.
 */
export function wallClock(t: number, timeZone: string | undefined): number {
  const s = Math.floor(t / 1000) * 1000;
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return s;
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(s))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/** The instants whose wall-clock time in `timeZone` is `wall` (none in a skipped hour, two in a repeated one). */
function instantsOf(wall: number, timeZone: string | undefined): number[] {
  const offsets = new Set([-86_400_000, 0, 86_400_000].map((d) => wallClock(wall + d, timeZone) - (wall + d)));
  return [...offsets].map((o) => wall - o).filter((t) => wallClock(t, timeZone) === wall).sort((a, b) => a - b);
}

/** Whether the zone's offset is the same a day before and a day after `t` (no jump near it). */
function steady(t: number, timeZone: string | undefined): boolean {
  const off = (x: number) => wallClock(x, timeZone) - Math.floor(x / 1000) * 1000;
  return off(t - 86_400_000) === off(t + 86_400_000);
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.days.has(d.getUTCDate());
  const dow = s.weekdays.has(d.getUTCDay());
  return s.daysStar || s.weekdaysStar ? dom && dow : dom || dow;
}

/** The first wall-clock minute at or after `from` (a wall time) that the schedule names; undefined if none in 5 years. */
function nextWall(s: CronSchedule, from: number): number | undefined {
  const d = new Date(Math.ceil(from / MINUTE) * MINUTE);
  const limit = d.getUTCFullYear() + 5;
  while (d.getUTCFullYear() <= limit) {
    if (!s.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(s, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
    } else if (!s.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
    } else if (!s.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
    } else {
      return d.getTime();
    }
  }
  return undefined;
}

/**
 * The first instant strictly after `after` (epoch ms) at which the schedule fires in `timeZone`
 * (UTC when undefined); undefined when it never does within five years (`0 0 30 2 *`).
 */
export function nextCronTime(s: CronSchedule, after: number, timeZone?: string): number | undefined {
  // Wall times go back when the clocks do: start the search a few hours before, then take the
  // earliest instant after `after` among the matches of the next few hours.
  const start = steady(after, timeZone) ? wallClock(after, timeZone) : wallClock(after, timeZone) - 3 * 3_600_000;
  let best: number | undefined;
  let w = nextWall(s, start);
  while (w !== undefined) {
    for (const t of instantsOf(w, timeZone)) if (t > after && (best === undefined || t < best)) best = t;
    if (best !== undefined && (steady(best, timeZone) || w > wallClock(best, timeZone) + 3 * 3_600_000)) break;
    w = nextWall(s, w + MINUTE);
  }
  return best;
}

/** `t` as RFC 3339 in `timeZone` with its offset there (`2026-03-29T02:30:00+02:00`; `Z` in UTC). */
export function rfc3339In(t: number, timeZone?: string): string {
  const wall = wallClock(t, timeZone);
  const off = Math.round((wall - Math.floor(t / 1000) * 1000) / MINUTE);
  const base = new Date(wall).toISOString().slice(0, 19);
  if (off === 0) return `${base}Z`;
  const a = Math.abs(off);
  return `${base}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** More missed scheduled times than this are not all caught up (Kubernetes' CronJob warns past 100). */
export const CRON_MAX_MISSED = 100;
/** How far past a scheduled time a controller looks again (Kubernetes' margin). */
export const CRON_REQUEUE_MARGIN_MS = 100;
/**
 * The longest wait before a controller looks again: a schedule far away (yearly) is looked at
 * hourly, since a timer cannot wait longer than about 24.8 days.
 */
export const CRON_MAX_REQUEUE_MS = 3_600_000;

/** The wait (ms) from `now` until just after `at`, at most CRON_MAX_REQUEUE_MS. */
export function cronRequeueAfterMs(at: number, now: number): number {
  return Math.min(CRON_MAX_REQUEUE_MS, Math.max(0, at - now) + CRON_REQUEUE_MARGIN_MS);
}

/** The scheduled times of a window: the latest ones, and how many there were. */
export interface CronTimes {
  /** The latest `limit` scheduled times of the window, oldest first. */
  latest: number[];
  /** How many there were, counted up to `limit + 1` (more than `limit` reads as `limit + 1`). */
  count: number;
}

/**
 * The scheduled times in (after, until]: the latest `limit` of them and their count (up to
 * limit + 1). When there are more than `limit`, the latest are found by looking back from `until`
 * in wider and wider windows instead of walking every one (a minutely schedule missed for a year).
 * https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/cronjob/utils.go (mostRecentScheduleTime)
 */
export function cronTimesBetween(s: CronSchedule, after: number, until: number, timeZone: string | undefined, limit: number): CronTimes {
  const walk = (from: number, keep: number, stopAt: number): { times: number[]; seen: number } => {
    const times: number[] = [];
    let seen = 0;
    let t = nextCronTime(s, from, timeZone);
    while (t !== undefined && t <= until && seen < stopAt) {
      times.push(t);
      if (times.length > keep) times.shift();
      seen++;
      t = nextCronTime(s, t, timeZone);
    }
    return { times, seen };
  };
  const first = walk(after, limit + 1, limit + 1);
  if (first.seen <= limit) return { latest: first.times, count: first.seen };
  for (const window of [3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000, 6 * 367 * 86_400_000, Infinity]) {
    const from = Math.max(after, until - window);
    const back = walk(from, limit, Infinity);
    if (back.times.length >= limit || from === after) return { latest: back.times, count: limit + 1 };
  }
  /* c8 ignore next */
  return { latest: first.times.slice(-limit), count: limit + 1 };
}
