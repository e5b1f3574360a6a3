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

describe('panic mode', () => {
  // Knative's defaults: a 60 s stable window, a 6 s panic window (10 %), a 200 % threshold.
  const kpa: ScaleInput = { ...base, panicWindowMs: 6_000, panicThreshold: 2, lastInvocation: base.now };

  it('starts when the panic window asks for at least twice the ready instances', () => {
    const calm = decideScale({ ...kpa, load: 2, current: 2, ready: 2, history: [{ at: base.now - 1000, want: 2 }] });
    expect(calm.panic).toBeUndefined();
    // 3 calls ask ceil(3 / 0.7) = 5 instances: 5 / 2 ready >= 2.
    const burst = decideScale({ ...kpa, load: 3, current: 2, ready: 2, history: calm.history, now: base.now + 1000 });
    expect(burst).toMatchObject({ desired: 5, panic: { since: base.now + 1000, last: base.now + 1000 } });
    // Below the threshold (5 / 3 < 2) it does not start.
    expect(decideScale({ ...kpa, load: 3, current: 3, ready: 3, history: calm.history, now: base.now + 1000 }).panic).toBeUndefined();
    // Unready instances do not count: 4 instances of which 1 is ready.
    expect(decideScale({ ...kpa, load: 2, current: 4, ready: 1, history: calm.history, now: base.now + 1000 }).panic).toBeDefined();
  });

  it('a threshold of 300 % needs three times the ready instances', () => {
    expect(decideScale({ ...kpa, panicThreshold: 3, load: 3, current: 2, ready: 2 }).panic).toBeUndefined();
    expect(decideScale({ ...kpa, panicThreshold: 3, load: 5, current: 2, ready: 2 }).panic).toBeDefined();
  });

  it('never scales down while in panic: instances still starting are kept', () => {
    // 10 instances of which 3 are ready; 4 calls ask for ceil(4 / 0.7) = 6: 6 / 3 ready >= 2.
    const h = [{ at: base.now - 1_000, want: 6 }];
    const stable = decideScale({ ...kpa, panicWindowMs: 0, load: 4, current: 10, ready: 3, history: h });
    expect(stable.desired).toBe(6);
    const panicking = decideScale({ ...kpa, load: 4, current: 10, ready: 3, history: h });
    expect(panicking).toMatchObject({ desired: 10, panic: { since: base.now } });
  });

  it('leaves panic mode a stable window after the condition last held, then scales down', () => {
    const short: ScaleInput = { ...kpa, windowMs: 10_000, panicWindowMs: 1_000 };
    let d = decideScale({ ...short, load: 7, current: 1, ready: 1 });
    expect(d).toMatchObject({ desired: 10, panic: { since: base.now, last: base.now } });
    // The burst holds on while instances start: the condition holds again at +5 s.
    d = decideScale({ ...short, load: 7, current: 10, ready: 3, history: d.history, panic: d.panic, now: base.now + 5_000 });
    expect(d.panic).toEqual({ since: base.now, last: base.now + 5_000 });
    // All ready and a calm load: still in panic at +14 s, 10 kept.
    d = decideScale({ ...short, load: 1, current: 10, ready: 10, history: d.history, panic: d.panic, now: base.now + 14_000, lastInvocation: base.now + 14_000 });
    expect(d).toMatchObject({ desired: 10, panic: { since: base.now, last: base.now + 5_000 } });
    // A stable window after +5 s it leaves panic mode and scales down.
    d = decideScale({ ...short, load: 1, current: 10, ready: 10, history: d.history, panic: d.panic, now: base.now + 15_000, lastInvocation: base.now + 15_000 });
    expect(d.panic).toBeUndefined();
    expect(d.desired).toBe(2);
  });

  it('is off with a panic window of 0, and going idle ends it', () => {
    expect(decideScale({ ...kpa, panicWindowMs: 0, load: 7, current: 1 }).panic).toBeUndefined();
    const idle = decideScale({ ...kpa, idleSeconds: 1, load: 0, current: 4, ready: 4, lastInvocation: base.now - 2_000, panic: { since: base.now - 3_000, last: base.now - 2_500 } });
    expect(idle).toMatchObject({ desired: 0, idle: true });
    expect(idle.panic).toBeUndefined();
  });

  it('the panic window looks back only its own length', () => {
    // A recommendation of 10 instances 7 s ago is outside the 6 s panic window: 10 / 2 ready would panic.
    const d = decideScale({ ...kpa, load: 1, current: 2, ready: 2, history: [{ at: base.now - 7_000, want: 10 }] });
    expect(d.panic).toBeUndefined();
    const inside = decideScale({ ...kpa, load: 1, current: 2, ready: 2, history: [{ at: base.now - 5_000, want: 10 }] });
    expect(inside.panic).toBeDefined();
  });
});
