import { AlreadyExistsError, ConflictError, UnavailableError } from '../messages/errors';
import { LeaderElector, leaseTiming, NotLeaderError, type LeaseBackend, type LeaseClock, type LeaseSpec } from './lease';

/**
 * A shared fake time. Each process gets a view of it; a paused view (SIGSTOP) runs none of its
 * timers until resumed, while time goes on for everyone.
 */
class FakeTime {
  now = 0;
  private timers: { at: number; fn: () => void; view: View; id: number }[] = [];
  private seq = 0;

  view(): View { return new View(this); }

  schedule(view: View, fn: () => void, ms: number): () => void {
    const t = { at: this.now + Math.max(0, ms), fn, view, id: this.seq++ };
    this.timers.push(t);
    return () => { this.timers = this.timers.filter((x) => x !== t); };
  }

  /** Moves time on by `ms`, firing due timers of running views in order, letting promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((t) => t.at <= end && !t.view.paused).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = Math.max(this.now, due.at);
      due.fn();
    }
    this.now = end;
    await settle();
  }

  /** Fires the timers of `view` that came due while it was paused. */
  async resume(view: View): Promise<void> {
    view.paused = false;
    await this.advance(0);
  }
}

class View implements LeaseClock {
  paused = false;
  constructor(private readonly time: FakeTime) {}
  now(): number { return this.time.now; }
  wall(): Date { return new Date(Date.UTC(2026, 0, 1) + this.time.now); }
  setTimer(fn: () => void, ms: number): () => void { return this.time.schedule(this, fn, ms); }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** The record in memory, compare-and-swap by revision; a candidate's link to it can be cut. */
class MemoryLease {
  spec: LeaseSpec | null = null;
  revision = 0;
  /** Identities known dead (as a process of this machine that no longer runs). */
  readonly dead = new Set<string>();
  writes: { holder?: string; at: number; by: string }[] = [];
  constructor(private readonly time: FakeTime) {}

  backend(who: string, link: { up: boolean; paused?: View } = { up: true }): LeaseBackend {
    const check = () => {
      if (!link.up) throw new UnavailableError('the bus is unreachable');
    };
    return {
      read: async () => {
        check();
        if (!this.spec) return null;
        return { spec: structuredClone(this.spec), revision: this.revision, holderGone: this.dead.has(this.spec.holderIdentity ?? '') };
      },
      create: async (spec) => {
        check();
        if (this.spec) throw new AlreadyExistsError('exists');
        return this.write(spec, who);
      },
      update: async (spec, revision) => {
        check();
        if (revision !== this.revision) throw new ConflictError('changed');
        return this.write(spec, who);
      },
    };
  }

  private write(spec: LeaseSpec, by: string): number {
    this.spec = structuredClone(spec);
    this.writes.push({ holder: spec.holderIdentity, at: this.time.now, by });
    return ++this.revision;
  }
}

const timing = leaseTiming(15);

function candidate(time: FakeTime, lease: MemoryLease, identity: string, link = { up: true }) {
  const log: { what: 'start' | 'stop'; at: number }[] = [];
  const clock = time.view();
  const elector = new LeaderElector({
    identity,
    backend: lease.backend(identity, link),
    timing,
    clock,
    onStartedLeading: () => { log.push({ what: 'start', at: time.now }); },
    onStoppedLeading: () => { log.push({ what: 'stop', at: time.now }); },
  });
  return { elector, log, clock, link };
}

describe('leaseTiming', () => {
  it('keeps Kubernetes proportions: 15 s lease, 10 s renew deadline, 2 s retry', () => {
    expect(leaseTiming(15)).toEqual({ durationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 });
  });
  it('refuses a duration that is not a positive number', () => {
    expect(() => leaseTiming(0)).toThrow(/positive/);
    expect(() => leaseTiming(Number.NaN)).toThrow(/positive/);
  });
});

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead, and the leader keeps its lease by renewing', async () => {
    const time = new FakeTime();
    const lease = new MemoryLease(time);
    const a = candidate(time, lease, 'a');
    const b = candidate(time, lease, 'b');
    a.elector.run();
    b.elector.run();
    await time.advance(60_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    const leader = a.elector.isLeader() ? a : b;
    expect(lease.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(lease.spec?.leaseTransitions).toBe(0);
    expect(lease.writes.length).toBeGreaterThan(20);
    expect(new Set(lease.writes.map((w) => w.by))).toEqual(new Set([leader.elector.identity]));
    expect(a.log.concat(b.log)).toEqual([{ what: 'start', at: 0 }]);
    await a.elector.stop({ release: false });
    await b.elector.stop({ release: false });
  });

  it('hands over when the leader is cut off: it stops before its lease expires, the standby starts after', async () => {
    const time = new FakeTime();
    const lease = new MemoryLease(time);
    const a = candidate(time, lease, 'a');
    a.elector.run();
    await time.advance(100);
    const b = candidate(time, lease, 'b');
    b.elector.run();
    await time.advance(5_000);
    expect(a.elector.isLeader()).toBe(true);
    a.link.up = false;
    const cutAt = time.now;
    const lastRenewal = lease.writes.at(-1)!.at;
    await time.advance(30_000);
    const stopped = a.log.find((l) => l.what === 'stop')!;
    const started = b.log.find((l) => l.what === 'start')!;
    expect(stopped.at).toBeLessThanOrEqual(lastRenewal + timing.renewDeadlineMs);
    expect(started.at).toBeGreaterThanOrEqual(lastRenewal + timing.durationMs);
    // It saw the last renewal within a retry period, and wakes at expiry: within a lease time of the cut.
    expect(started.at).toBeLessThanOrEqual(lastRenewal + timing.durationMs + timing.retryPeriodMs);
    expect(started.at - cutAt).toBeLessThanOrEqual(timing.durationMs);
    expect(b.elector.isLeader()).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
    expect(lease.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(() => a.elector.assertLeader('write')).toThrow(NotLeaderError);
    await a.elector.stop({ release: false });
    await b.elector.stop({ release: false });
  });

  it('fences a leader paused past its lease: on waking it leads no more and writes nothing', async () => {
    const time = new FakeTime();
    const lease = new MemoryLease(time);
    const a = candidate(time, lease, 'a');
    a.elector.run();
    await time.advance(100);
    const b = candidate(time, lease, 'b');
    b.elector.run();
    await time.advance(3_000);
    expect(a.elector.isLeader()).toBe(true);
    a.clock.paused = true;
    await time.advance(40_000);
    expect(b.elector.isLeader()).toBe(true);
    const writesBefore = lease.writes.filter((w) => w.by === 'a').length;
    // The first thing the woken process does is a fenced write: refused before any timer runs.
    expect(a.elector.isLeader()).toBe(false);
    expect(() => a.elector.assertLeader('bind a pod')).toThrow(NotLeaderError);
    await time.resume(a.clock);
    await time.advance(10_000);
    expect(a.log.map((l) => l.what)).toEqual(['start', 'stop']);
    expect(lease.writes.filter((w) => w.by === 'a')).toHaveLength(writesBefore);
    expect(b.elector.isLeader()).toBe(true);
    expect(lease.spec?.holderIdentity).toBe('b');
    await a.elector.stop({ release: false });
    await b.elector.stop({ release: false });
  });

  it('a released lease is taken over within a retry period, not a lease time', async () => {
    const time = new FakeTime();
    const lease = new MemoryLease(time);
    const a = candidate(time, lease, 'a');
    a.elector.run();
    await time.advance(100);
    const b = candidate(time, lease, 'b');
    b.elector.run();
    await time.advance(5_000);
    const releasedAt = time.now;
    await a.elector.stop();
    expect(lease.spec?.holderIdentity).toBeUndefined();
    expect(a.log.map((l) => l.what)).toEqual(['start', 'stop']);
    await time.advance(timing.retryPeriodMs);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.log[0].at - releasedAt).toBeLessThanOrEqual(timing.retryPeriodMs);
    await b.elector.stop();
  });

  it('a leader whose renewal is refused (another wrote the record) steps down at once', async () => {
    const time = new FakeTime();
    const lease = new MemoryLease(time);
    const a = candidate(time, lease, 'a');
    a.elector.run();
    await time.advance(100);
    expect(a.elector.isLeader()).toBe(true);
    // Another writer (an operator, a bug) names someone else.
    lease.spec = { ...lease.spec!, holderIdentity: 'intruder' };
    lease.revision++;
    await time.advance(timing.retryPeriodMs + 10);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log.map((l) => l.what)).toEqual(['start', 'stop']);
    await a.elector.stop({ release: false });
  });

  it('a leader that comes back after a short outage keeps leading without a transition', async () => {
    const time = new FakeTime();
    const lease = new MemoryLease(time);
    const a = candidate(time, lease, 'a');
    a.elector.run();
    await time.advance(100);
    a.link.up = false;
    await time.advance(timing.renewDeadlineMs / 2);
    a.link.up = true;
    await time.advance(timing.retryPeriodMs * 2);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.log.map((l) => l.what)).toEqual(['start']);
    await a.elector.stop({ release: false });
  });

  it('takes at once the lease of a holder known to be dead, and only then', async () => {
    const time = new FakeTime();
    const lease = new MemoryLease(time);
    const a = candidate(time, lease, 'a');
    a.elector.run();
    await time.advance(100);
    a.link.up = false;
    const b = candidate(time, lease, 'b');
    b.elector.run();
    await time.advance(timing.retryPeriodMs);
    expect(b.elector.isLeader()).toBe(false);
    lease.dead.add('a');
    await time.advance(timing.retryPeriodMs);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.log[0].at).toBeLessThan(timing.durationMs / 2);
    await a.elector.stop({ release: false });
    await b.elector.stop({ release: false });
  });
});
