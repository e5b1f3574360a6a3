import { cpuRate, RateTracker } from './rates';

const S = 1e9;

describe('cpuRate', () => {
  it('is the CPU time used over the window, in nanocores', () => {
    expect(cpuRate({ timestampNs: 0, usageCoreNanoSeconds: 0 }, { timestampNs: 2 * S, usageCoreNanoSeconds: S })).toBe(0.5e9);
    expect(cpuRate({ timestampNs: 10 * S, usageCoreNanoSeconds: 5 * S }, { timestampNs: 15 * S, usageCoreNanoSeconds: 5 * S })).toBe(0);
  });

  it('has no value without an earlier reading, over a zero or negative window, or when the counter went down', () => {
    expect(cpuRate(undefined, { timestampNs: S, usageCoreNanoSeconds: S })).toBeUndefined();
    expect(cpuRate({ timestampNs: S, usageCoreNanoSeconds: 0 }, { timestampNs: S, usageCoreNanoSeconds: S })).toBeUndefined();
    expect(cpuRate({ timestampNs: 2 * S, usageCoreNanoSeconds: 0 }, { timestampNs: S, usageCoreNanoSeconds: S })).toBeUndefined();
    expect(cpuRate({ timestampNs: 0, usageCoreNanoSeconds: 9 * S }, { timestampNs: S, usageCoreNanoSeconds: S })).toBeUndefined();
  });
});

describe('RateTracker', () => {
  it('gives a rate from the second reading of an id on, and none for a new id (a restarted container)', () => {
    const t = new RateTracker();
    expect(t.observe('a', { timestampNs: 0, usageCoreNanoSeconds: 0 })).toBeUndefined();
    expect(t.observe('a', { timestampNs: S, usageCoreNanoSeconds: 0.25 * S })).toBe(0.25e9);
    // The same pod's container restarted: new id, counter from zero, no rate yet.
    expect(t.observe('b', { timestampNs: 2 * S, usageCoreNanoSeconds: 0.01 * S })).toBeUndefined();
    expect(t.observe('b', { timestampNs: 3 * S, usageCoreNanoSeconds: 1.01 * S })).toBe(1e9);
  });

  it('keeps the older reading when the runtime gives the same sample twice, so the next has a window', () => {
    const t = new RateTracker();
    t.observe('a', { timestampNs: S, usageCoreNanoSeconds: S });
    expect(t.observe('a', { timestampNs: S, usageCoreNanoSeconds: S })).toBeUndefined();
    expect(t.observe('a', { timestampNs: 3 * S, usageCoreNanoSeconds: 2 * S })).toBe(0.5e9);
  });

  it('forgets ids that are gone', () => {
    const t = new RateTracker();
    t.observe('a', { timestampNs: 0, usageCoreNanoSeconds: 0 });
    t.observe('b', { timestampNs: 0, usageCoreNanoSeconds: 0 });
    t.retain(new Set(['b']));
    expect(t.size).toBe(1);
    expect(t.observe('a', { timestampNs: S, usageCoreNanoSeconds: S })).toBeUndefined();
  });
});
