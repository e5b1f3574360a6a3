import { isValidation } from '../../messages';
import { schedulerConfig } from './config';

const error = (f: () => unknown): string => {
  try { f(); } catch (e) { expect(isValidation(e)).toBe(true); return (e as Error).message; }
  throw new Error('no error');
};

describe('scheduler settings', () => {
  it('default to nothing set', () => {
    expect(schedulerConfig(undefined, 'scheduler.json')).toEqual({});
  });

  it('read the file, and let flags win', () => {
    expect(schedulerConfig({ policy: 'round-robin', unschedulableFlushSeconds: 60 }, 'scheduler.json')).toEqual({ policy: 'round-robin', unschedulableFlushMs: 60_000 });
    expect(schedulerConfig({ policy: 'round-robin' }, 'scheduler.json', { policy: 'least-allocated', unschedulableFlushSeconds: '30' })).toEqual({
      policy: 'least-allocated', unschedulableFlushMs: 30_000,
    });
  });

  it('name what is wrong and where', () => {
    expect(error(() => schedulerConfig({ policy: 'fastest' }, 'scheduler.json'))).toBe(
      'scheduler.json: policy: "fastest" is not a scheduling policy (use least-allocated or round-robin)',
    );
    expect(error(() => schedulerConfig(undefined, 'scheduler.json', { policy: 'spread' }))).toBe(
      '--scheduler-policy: "spread" is not a scheduling policy (use least-allocated or round-robin)',
    );
    expect(error(() => schedulerConfig({ unschedulableFlushSeconds: 0 }, 'scheduler.json'))).toBe(
      'scheduler.json: unschedulableFlushSeconds: "0" is not a whole number of seconds of at least 1',
    );
    expect(error(() => schedulerConfig(undefined, 's.json', { unschedulableFlushSeconds: '5m' }))).toMatch(/^--unschedulable-flush-seconds: "5m"/);
    expect(error(() => schedulerConfig({ polcy: 'round-robin' }, 'scheduler.json'))).toBe(
      'scheduler.json: unknown field "polcy" (known: policy, unschedulableFlushSeconds)',
    );
    expect(error(() => schedulerConfig([], 'scheduler.json'))).toMatch(/must be a JSON object/);
  });
});
