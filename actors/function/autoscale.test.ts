import { decideScale, instancesFor, type ScaleInput } from './autoscale';

const base: ScaleInput = {
  load: 0, concurrency: 1, minInstances: 0, maxInstances: 10, idleSeconds: 60, windowMs: 60_000,
  current: 0, lastInvocation: undefined, history: [], now: 1_000_000,
};

describe('instancesFor', () => {
  it('is ceil(load / (concurrency x 0.7))', () => {
    expect(instancesFor(0, 1)).toBe(0);
    expect(instancesFor(1, 1)).toBe(2);
    expect(instancesFor(7, 1)).toBe(10);
    expect(instancesFor(7, 10)).toBe(1);
    expect(instancesFor(8, 10)).toBe(2);
    expect(instancesFor(200, 5)).toBe(58);
  });
});

describe('decideScale', () => {
  it('scales up at once and clamps to maxInstances', () => {
    expect(decideScale({ ...base, load: 3, lastInvocation: base.now }).desired).toBe(5);
    expect(decideScale({ ...base, load: 100, lastInvocation: base.now }).desired).toBe(10);
  });

  it('keeps minInstances even when idle', () => {
    expect(decideScale({ ...base, minInstances: 2 }).desired).toBe(2);
  });

  it('scales down only after the demand stayed lower for the window', () => {
    let d = decideScale({ ...base, load: 7, current: 0, lastInvocation: base.now });
    expect(d.desired).toBe(10);
    d = decideScale({ ...base, load: 1, current: 10, lastInvocation: base.now, history: d.history, now: base.now + 30_000 });
    expect(d.desired).toBe(10);
    d = decideScale({ ...base, load: 1, current: 10, lastInvocation: base.now + 30_000, history: d.history, now: base.now + 61_000 });
    expect(d.desired).toBe(2);
  });

  it('a restarted controller (no history) waits a full window before scaling down', () => {
    const d = decideScale({ ...base, load: 0, current: 4, lastInvocation: base.now - 1000 });
    expect(d.desired).toBe(4);
    const later = decideScale({ ...base, idleSeconds: 120, load: 0, current: 4, lastInvocation: base.now - 1000, history: d.history, now: base.now + 60_000 });
    expect(later.desired).toBe(1);
  });

  it('keeps one instance while called within idleSeconds, and goes to zero after', () => {
    const h = [{ at: base.now - 120_000, want: 3 }];
    expect(decideScale({ ...base, current: 3, lastInvocation: base.now - 30_000, history: h }).desired).toBe(1);
    const idle = decideScale({ ...base, current: 1, lastInvocation: base.now - 60_000, history: h });
    expect(idle).toMatchObject({ desired: 0, idle: true });
  });

  it('goes to zero when idle even inside the window', () => {
    expect(decideScale({ ...base, current: 2, idleSeconds: 1, lastInvocation: base.now - 1500, history: [{ at: base.now - 100, want: 2 }] }).desired).toBe(0);
  });
});
