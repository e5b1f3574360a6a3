import { cronProblem, cronRequeueAfterMs, cronTimesBetween, nextCronTime, parseCron, rfc3339In, timeZoneProblem } from './cron';

const at = (iso: string) => Date.parse(iso);
const next = (schedule: string, after: string, tz?: string) => {
  const t = nextCronTime(parseCron(schedule), at(after), tz);
  return t === undefined ? undefined : new Date(t).toISOString();
};
/** The next `n` times after `after`. */
const times = (schedule: string, after: string, n: number, tz?: string) => {
  const s = parseCron(schedule);
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < n; i++) {
    t = nextCronTime(s, t, tz)!;
    out.push(new Date(t).toISOString());
  }
  return out;
};

describe('cron schedules', () => {
  it('every minute: the next whole minute strictly after', () => {
    expect(next('* * * * *', '2026-01-01T10:00:00Z')).toBe('2026-01-01T10:01:00.000Z');
    expect(next('* * * * *', '2026-01-01T10:00:30.500Z')).toBe('2026-01-01T10:01:00.000Z');
  });

  it('steps, ranges and lists', () => {
    expect(times('*/15 * * * *', '2026-01-01T10:00:00Z', 3)).toEqual(['2026-01-01T10:15:00.000Z', '2026-01-01T10:30:00.000Z', '2026-01-01T10:45:00.000Z']);
    expect(times('5,10 1-2 * * *', '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-01-01T01:05:00.000Z', '2026-01-01T01:10:00.000Z', '2026-01-01T02:05:00.000Z', '2026-01-01T02:10:00.000Z', '2026-01-02T01:05:00.000Z',
    ]);
    expect(times('0 8-18/5 * * *', '2026-01-01T00:00:00Z', 3)).toEqual(['2026-01-01T08:00:00.000Z', '2026-01-01T13:00:00.000Z', '2026-01-01T18:00:00.000Z']);
    // "N/step": from N to the end of the field.
    expect(times('50/5 * * * *', '2026-01-01T00:00:00Z', 3)).toEqual(['2026-01-01T00:50:00.000Z', '2026-01-01T00:55:00.000Z', '2026-01-01T01:50:00.000Z']);
  });

  it('names of months and days, in any case', () => {
    // 2026-01-01 is a Thursday.
    expect(next('0 9 * * MON-fri', '2026-01-02T10:00:00Z')).toBe('2026-01-05T09:00:00.000Z');
    expect(next('0 0 1 mar,Jun *', '2026-01-01T00:00:00Z')).toBe('2026-03-01T00:00:00.000Z');
  });

  it('day of month and day of week: either matches when both are restricted, both when one is *', () => {
    // The 13th, or any Friday: Friday 2026-01-02 comes first.
    expect(next('0 0 13 * 5', '2026-01-01T00:00:00Z')).toBe('2026-01-02T00:00:00.000Z');
    // Fridays only (day of month is *).
    expect(next('0 0 * * 5', '2026-01-03T00:00:00Z')).toBe('2026-01-09T00:00:00.000Z');
    // A */2 day of month is a restriction: the 3rd (odd day) or a Friday.
    expect(next('0 0 */2 * 5', '2026-01-02T00:00:00Z')).toBe('2026-01-03T00:00:00.000Z');
  });

  it('macros', () => {
    expect(next('@yearly', '2026-05-05T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('@annually', '2026-05-05T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('@monthly', '2026-05-05T00:00:00Z')).toBe('2026-06-01T00:00:00.000Z');
    expect(next('@weekly', '2026-01-01T00:00:00Z')).toBe('2026-01-04T00:00:00.000Z');
    expect(next('@daily', '2026-01-01T00:00:00Z')).toBe('2026-01-02T00:00:00.000Z');
    expect(next('@midnight', '2026-01-01T12:00:00Z')).toBe('2026-01-02T00:00:00.000Z');
    expect(next('@hourly', '2026-01-01T12:30:00Z')).toBe('2026-01-01T13:00:00.000Z');
  });

  it('leap days and dates that never come', () => {
    expect(next('0 0 29 2 *', '2026-01-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('0 0 30 2 *', '2026-01-01T00:00:00Z')).toBeUndefined();
  });

  it('in a time zone: wall-clock times there', () => {
    expect(next('30 9 * * *', '2026-01-01T00:00:00Z', 'Asia/Kolkata')).toBe('2026-01-01T04:00:00.000Z');
    expect(next('0 9 * * *', '2026-07-01T00:00:00Z', 'Europe/Paris')).toBe('2026-07-01T07:00:00.000Z');
    expect(next('0 9 * * *', '2026-12-01T00:00:00Z', 'Europe/Paris')).toBe('2026-12-01T08:00:00.000Z');
  });

  it('a daily time in the hour the clocks skip does not happen that day', () => {
    // Europe/Paris jumps from 02:00 to 03:00 on 2026-03-29.
    expect(times('30 2 * * *', '2026-03-28T00:00:00Z', 2, 'Europe/Paris')).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
    // Every hour: no run at the skipped 02:00, 03:00 comes one hour after 01:00.
    expect(times('0 * * * *', '2026-03-28T23:30:00Z', 3, 'Europe/Paris')).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z']);
  });

  it('a time in the hour the clocks repeat fires at both instants', () => {
    // America/New_York goes from 02:00 EDT back to 01:00 EST on 2026-11-01.
    expect(times('30 1 * * *', '2026-11-01T00:00:00Z', 3, 'America/New_York')).toEqual([
      '2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z', '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('formats a scheduled time in its zone', () => {
    expect(rfc3339In(at('2026-07-01T07:00:00Z'), 'Europe/Paris')).toBe('2026-07-01T09:00:00+02:00');
    expect(rfc3339In(at('2026-01-01T04:00:00Z'), 'Asia/Kolkata')).toBe('2026-01-01T09:30:00+05:30');
    expect(rfc3339In(at('2026-01-01T04:00:00Z'), 'America/New_York')).toBe('2025-12-31T23:00:00-05:00');
    expect(rfc3339In(at('2026-01-01T04:00:00Z'))).toBe('2026-01-01T04:00:00Z');
  });

  it('refuses bad schedules, naming the problem', () => {
    expect(cronProblem('* * * *')).toMatch(/expected exactly 5 fields.*found 4/);
    expect(cronProblem('* * * * * *')).toMatch(/found 6/);
    expect(cronProblem('60 * * * *')).toMatch(/minute 60 is out of range 0-59/);
    expect(cronProblem('* 24 * * *')).toMatch(/hour 24 is out of range 0-23/);
    expect(cronProblem('* * 0 * *')).toMatch(/day of month 0 is out of range 1-31/);
    expect(cronProblem('* * * 13 *')).toMatch(/month 13 is out of range 1-12/);
    expect(cronProblem('* * * * 7')).toMatch(/day of week 7 is out of range 0-6/);
    expect(cronProblem('* * * foo *')).toMatch(/invalid month "foo"/);
    expect(cronProblem('*/0 * * * *')).toMatch(/invalid step "0"/);
    expect(cronProblem('5-1 * * * *')).toMatch(/ends before it starts/);
    expect(cronProblem('1,,2 * * * *')).toMatch(/empty list item/);
    expect(cronProblem('@fortnightly')).toMatch(/unknown macro "@fortnightly"/);
    expect(cronProblem('TZ=Europe/Paris 0 9 * * *')).toMatch(/cannot use TZ or CRON_TZ in schedule, use the timeZone field/);
    expect(cronProblem('CRON_TZ=UTC 0 9 * * *')).toMatch(/cannot use TZ or CRON_TZ/);
    expect(cronProblem('0 9 * * 1-5')).toBeNull();
  });

  it('refuses unknown time zones and Local', () => {
    expect(timeZoneProblem('Europe/Paris')).toBeNull();
    expect(timeZoneProblem('UTC')).toBeNull();
    expect(timeZoneProblem('Mars/Olympus')).toMatch(/unknown time zone "Mars\/Olympus"/);
    expect(timeZoneProblem('Local')).toMatch(/explicit IANA time zone/);
    expect(timeZoneProblem('')).toMatch(/not empty/);
  });

  it('the times of a window: all of them when few, the latest `limit` and a count past it when many', () => {
    const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
    const every = parseCron('* * * * *');
    const few = cronTimesBetween(every, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:03:00Z'), undefined, 100);
    expect(iso(few.latest)).toEqual(['2026-01-01T10:01:00.000Z', '2026-01-01T10:02:00.000Z', '2026-01-01T10:03:00.000Z']);
    expect(few.count).toBe(3);
    expect(cronTimesBetween(every, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:59Z'), undefined, 100)).toEqual({ latest: [], count: 0 });
    // A year of minutes: the latest 3, found without walking the year.
    const many = cronTimesBetween(every, at('2025-01-01T00:00:00Z'), at('2026-01-01T10:00:30Z'), undefined, 3);
    expect(iso(many.latest)).toEqual(['2026-01-01T09:58:00.000Z', '2026-01-01T09:59:00.000Z', '2026-01-01T10:00:00.000Z']);
    expect(many.count).toBe(4);
    // Sparse: yearly over 10 years, 2 kept.
    const yearly = cronTimesBetween(parseCron('@yearly'), at('2016-06-01T00:00:00Z'), at('2026-06-01T00:00:00Z'), undefined, 2);
    expect(iso(yearly.latest)).toEqual(['2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
    expect(yearly.count).toBe(3);
  });

  it('looks again just after the next time, at most an hour ahead', () => {
    expect(cronRequeueAfterMs(at('2026-01-01T10:01:00Z'), at('2026-01-01T10:00:30Z'))).toBe(30_100);
    expect(cronRequeueAfterMs(at('2026-01-01T09:00:00Z'), at('2026-01-01T10:00:00Z'))).toBe(100);
    expect(cronRequeueAfterMs(at('2027-01-01T00:00:00Z'), at('2026-01-01T10:00:00Z'))).toBe(3_600_000);
  });
});
