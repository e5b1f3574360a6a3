import type { ScheduleSource } from '../../messages/trigger';
import { scheduleDecision } from './schedule';

const T = (iso: string) => Date.parse(iso);
const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString().replace('.000Z', 'Z'));
const CREATED = T('2026-01-01T10:00:00Z');
const everyMinute: ScheduleSource = { cron: '* * * * *' };

describe('schedule triggers: which firings are due', () => {
  it.each([
    // [what, source, last firing, now, fired, lastScheduleTime, skipped, events]
    ['nothing before the first time', everyMinute, undefined, '2026-01-01T10:00:30Z', [], undefined, 0, []],
    ['the first time, on the dot', everyMinute, undefined, '2026-01-01T10:01:00Z', ['2026-01-01T10:01:00Z'], '2026-01-01T10:01:00Z', 0, []],
    ['a gap of 3 minutes without a deadline: all three, oldest first', everyMinute, '2026-01-01T10:01:00Z', '2026-01-01T10:04:10Z',
      ['2026-01-01T10:02:00Z', '2026-01-01T10:03:00Z', '2026-01-01T10:04:00Z'], '2026-01-01T10:04:00Z', 0, []],
    ['a gap of 3 minutes within a 300 s deadline: all three', { ...everyMinute, startingDeadlineSeconds: 300 }, '2026-01-01T10:01:00Z',
      '2026-01-01T10:04:10Z', ['2026-01-01T10:02:00Z', '2026-01-01T10:03:00Z', '2026-01-01T10:04:00Z'], '2026-01-01T10:04:00Z', 0, []],
    ['a gap of 3 minutes, deadline 90 s: the two within it, the oldest skipped', { ...everyMinute, startingDeadlineSeconds: 90 },
      '2026-01-01T10:01:00Z', '2026-01-01T10:04:10Z', ['2026-01-01T10:03:00Z', '2026-01-01T10:04:00Z'], '2026-01-01T10:04:00Z', 1, ['MissedSchedule']],
    ['a time exactly at its deadline still fires', { ...everyMinute, startingDeadlineSeconds: 70 }, '2026-01-01T10:01:00Z', '2026-01-01T10:04:10Z',
      ['2026-01-01T10:03:00Z', '2026-01-01T10:04:00Z'], '2026-01-01T10:04:00Z', 1, ['MissedSchedule']],
    ['a gap outside a 5 s deadline: all skipped, recorded as dealt with', { ...everyMinute, startingDeadlineSeconds: 5 }, '2026-01-01T10:01:00Z',
      '2026-01-01T10:04:10Z', [], '2026-01-01T10:04:00Z', 3, ['MissedSchedule']],
    ['no double firing when the last firing is the scheduled time', everyMinute, '2026-01-01T10:04:00Z', '2026-01-01T10:04:00.500Z', [], undefined, 0, []],
    ['no double firing a moment later either', everyMinute, '2026-01-01T10:04:00Z', '2026-01-01T10:04:59.999Z', [], undefined, 0, []],
    ['a clock behind the last firing fires nothing', everyMinute, '2026-01-01T10:04:00Z', '2026-01-01T10:02:00Z', [], undefined, 0, []],
  ] as const)('%s', (_what, source, last, now, fired, lastSchedule, skipped, reasons) => {
    const d = scheduleDecision(source, { created: CREATED, ...(last ? { lastScheduleTime: T(last) } : {}), now: T(now) });
    expect(iso(d.fire)).toEqual(fired);
    expect(d.lastScheduleTime === undefined ? undefined : iso([d.lastScheduleTime])[0]).toBe(lastSchedule);
    expect(d.skipped).toBe(skipped);
    expect(d.events.map((e) => e.reason)).toEqual(reasons);
    expect(d.nextAt).toBe(Math.floor(T(now) / 60_000) * 60_000 + 60_000);
  });

  it('the missed warning names how many and the last one, in the zone', () => {
    const d = scheduleDecision({ cron: '* * * * *', timeZone: 'Europe/Paris', startingDeadlineSeconds: 5 },
      { created: CREATED, lastScheduleTime: T('2026-01-01T10:01:00Z'), now: T('2026-01-01T10:04:10Z') });
    expect(d.events).toEqual([{
      type: 'Warning', reason: 'MissedSchedule', message: 'Missed 3 firing(s), the last at 2026-01-01T11:04:00+01:00: more than startingDeadlineSeconds (5) late',
    }]);
  });

  it('a catch-up is capped at the latest 100 firings, with a warning', () => {
    const d = scheduleDecision(everyMinute, { created: CREATED, lastScheduleTime: T('2026-01-01T10:00:00Z'), now: T('2026-01-03T10:00:30Z') });
    expect(d.fire).toHaveLength(100);
    expect(iso([d.fire[0], d.fire[99]])).toEqual(['2026-01-03T08:21:00Z', '2026-01-03T10:00:00Z']);
    expect(d.lastScheduleTime).toBe(T('2026-01-03T10:00:00Z'));
    expect(d.events.map((e) => e.reason)).toEqual(['TooManyMissedFirings']);
    expect(d.events[0].message).toMatch(/more than 100 missed firings: firing the latest 100.*startingDeadlineSeconds/);
    expect(d.skipped).toBeGreaterThan(0);
    // The next pass, with the status written, fires nothing again.
    const again = scheduleDecision(everyMinute, { created: CREATED, lastScheduleTime: d.lastScheduleTime, now: T('2026-01-03T10:00:40Z') });
    expect(again.fire).toEqual([]);
  });

  it('in a daylight-saving zone: the skipped hour does not fire, the repeated hour fires twice', () => {
    // Europe/Paris jumps 02:00 -> 03:00 on 2026-03-29: "30 2 * * *" has no time that day.
    const spring = scheduleDecision({ cron: '30 2 * * *', timeZone: 'Europe/Paris' },
      { created: T('2026-03-27T12:00:00Z'), now: T('2026-03-30T12:00:00Z') });
    expect(iso(spring.fire)).toEqual(['2026-03-28T01:30:00Z', '2026-03-30T00:30:00Z']);
    expect(iso([spring.nextAt!])).toEqual(['2026-03-31T00:30:00Z']);
    // America/New_York goes 02:00 EDT -> 01:00 EST on 2026-11-01: 01:30 happens twice.
    const autumn = scheduleDecision({ cron: '30 1 * * *', timeZone: 'America/New_York' },
      { created: T('2026-11-01T00:00:00Z'), now: T('2026-11-01T07:00:00Z') });
    expect(iso(autumn.fire)).toEqual(['2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z']);
  });

  describe('after: once, that long after creation', () => {
    const after = { after: '10s' };
    it.each([
      ['before', '2026-01-01T10:00:09.999Z', undefined, [], undefined, '2026-01-01T10:00:10Z'],
      ['at', '2026-01-01T10:00:10Z', undefined, ['2026-01-01T10:00:10Z'], '2026-01-01T10:00:10Z', undefined],
      ['after (a restart late)', '2026-01-01T10:05:00Z', undefined, ['2026-01-01T10:00:10Z'], '2026-01-01T10:00:10Z', undefined],
      ['once only: fired already', '2026-01-01T10:05:00Z', '2026-01-01T10:00:10Z', [], undefined, undefined],
    ] as const)('%s', (_what, now, last, fired, lastSchedule, nextAt) => {
      const d = scheduleDecision(after, { created: CREATED, ...(last ? { lastScheduleTime: T(last) } : {}), now: T(now) });
      expect(iso(d.fire)).toEqual(fired);
      expect(d.lastScheduleTime === undefined ? undefined : iso([d.lastScheduleTime])[0]).toBe(lastSchedule);
      expect(d.nextAt === undefined ? undefined : iso([d.nextAt])[0]).toBe(nextAt);
      expect(d.events).toEqual([]);
    });

    it('past its deadline it is skipped once, with a warning, and recorded', () => {
      const d = scheduleDecision({ after: '10s', startingDeadlineSeconds: 30 }, { created: CREATED, now: T('2026-01-01T10:01:00Z') });
      expect(d.fire).toEqual([]);
      expect(d.lastScheduleTime).toBe(T('2026-01-01T10:00:10Z'));
      expect(d.skipped).toBe(1);
      expect(d.events).toEqual([{
        type: 'Warning', reason: 'MissedSchedule', message: 'Missed the firing at 2026-01-01T10:00:10Z: more than startingDeadlineSeconds (30) late',
      }]);
      const within = scheduleDecision({ after: '10s', startingDeadlineSeconds: 30 }, { created: CREATED, now: T('2026-01-01T10:00:40Z') });
      expect(iso(within.fire)).toEqual(['2026-01-01T10:00:10Z']);
    });
  });

  it('a schedule that no longer parses fires nothing and says why', () => {
    const d = scheduleDecision({ cron: '61 * * * *' }, { created: CREATED, now: T('2026-01-01T11:00:00Z') });
    expect(d.fire).toEqual([]);
    expect(d.events).toEqual([{ type: 'Warning', reason: 'UnparseableSchedule', message: expect.stringContaining('minute 61 is out of range 0-59') }]);
    const zone = scheduleDecision({ cron: '@daily', timeZone: 'Mars/Olympus' }, { created: CREATED, now: T('2026-01-03T11:00:00Z') });
    expect(zone.events[0].message).toMatch(/unknown time zone "Mars\/Olympus"/);
  });
});
