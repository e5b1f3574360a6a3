/** Actor telemetry on a real nact ActorSystem: what it records of spawns, load, crashes and stops. */
import { performance } from 'node:perf_hooks';
import { dispatch, spawn, start, stop, type Ref } from 'nact';
import { register } from 'prom-client';
import { backoffOnCrash } from '../supervision';
import { NactActorClass, PATCHED_METHODS } from './nact-patch';
import {
  actorTelemetryEnabled, census, collectLifecycle, collectStats, describeActor, disableActorTelemetry, enableActorTelemetry,
  snapshot, telemetryState,
} from './recorder';
import { kindFromName, percentile99 } from './figures';

async function until<T>(what: string, fn: () => T | undefined, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('actor telemetry', () => {
  let system: Ref<unknown>;
  beforeEach(() => {
    enableActorTelemetry();
    system = start();
  });
  afterEach(() => {
    stop(system);
    disableActorTelemetry();
  });

  it('records spawns with parent, kind and kept object, and stops', async () => {
    const parent = spawn(system, (s: number = 0) => s, 'pods');
    describeActor(parent, { kind: 'pod-supervisor' });
    const child = spawn(parent, (s: number = 0) => s, 'default$web');
    describeActor(child, { kind: 'pod', system: false, object: { kind: 'Pod', namespace: 'default', name: 'web' } });
    const other = spawn(system, (s: number = 0) => s, 'leader-7');
    const spawned = collectLifecycle();
    expect(spawned.map((e) => e.type)).toEqual(['spawned', 'spawned', 'spawned']);
    expect(spawned.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(spawned[1]).toMatchObject({
      actor: { path: '/pods/default$web', parent: '/pods', name: 'default$web', kind: 'pod', system: false, object: { name: 'web' } },
    });
    expect(spawned[0]).toMatchObject({ actor: { path: '/pods', kind: 'pod-supervisor', system: true } });
    expect(spawned[0]).not.toHaveProperty('actor.parent');
    expect(spawned[2]).toMatchObject({ actor: { kind: 'leader', system: true } });
    expect(census().actors.map((a) => a.path)).toEqual(['/pods', '/pods/default$web', '/leader-7']);
    stop(parent);
    const stopped = collectLifecycle();
    expect(stopped).toEqual([
      expect.objectContaining({ type: 'stopped', seq: 4, path: '/pods' }),
      expect.objectContaining({ type: 'stopped', seq: 5, path: '/pods/default$web' }),
    ]);
    expect(census()).toEqual({ seq: 5, actors: [expect.objectContaining({ path: '/leader-7' })] });
    stop(other);
    const metrics = await register.getSingleMetric('mk_actors')!.get();
    expect(metrics.values.find((v) => v.labels.kind === 'pod')?.value).toBe(0);
  });

  it('samples the mailbox depth of a blocked actor', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let started = false;
    const ref = spawn(system, async (s: number = 0, m: string) => { if (m === 'block') { started = true; await gate; } return s + 1; }, 'blocked');
    collectStats();
    dispatch(ref, 'block');
    for (let i = 0; i < 4; i++) dispatch(ref, 'more');
    await until('the handler to start', () => started);
    expect(collectStats()).toEqual([expect.objectContaining({ path: '/blocked', mailbox: 4, handled: 0 })]);
    const gauge = async (name: string): Promise<number | undefined> =>
      (await register.getSingleMetric(name)!.get()).values.find((v) => v.labels.kind === 'blocked')?.value;
    expect(await gauge('mk_actor_mailbox_depth')).toBe(4);
    expect(await gauge('mk_actor_mailbox_depth_max')).toBe(4);
    // Nothing moved: nothing to report.
    expect(collectStats()).toEqual([]);
    release();
    // nact hands each message to its own setImmediate, so a collection can land between two of the
    // five: wait on the cumulative counter (each collection adds what it took), not on one collection.
    const handled = async (): Promise<number> =>
      (await register.getSingleMetric('mk_actor_messages_total')!.get()).values.find((v) => v.labels.kind === 'blocked')?.value ?? 0;
    const deadline = Date.now() + 15_000;
    while (collectStats() && (await handled()) < 5) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the mailbox to drain (handled ${await handled()})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await handled()).toBe(5);
    expect(await gauge('mk_actor_mailbox_depth')).toBe(0);
  }, 20_000);

  it('counts handled messages and reports their mean, p99, wait and rate from the time each took', async () => {
    // The recorder's clock, moved only by the handlers: each message takes exactly the ms it names.
    let clock = 1_000;
    const now = jest.spyOn(performance, 'now').mockImplementation(() => clock);
    try {
      let done = 0;
      const ref = spawn(system, async (s: number = 0, ms: number) => {
        // The time passes after an await: the handler's promise, not its first step, is timed.
        await Promise.resolve();
        clock += ms;
        done++;
        return s + 1;
      }, 'worker');
      describeActor(ref, { kind: 'worker' });
      collectStats();
      // 98 quick ones and 2 of 40 ms: the p99 of 100 is the second slowest.
      for (let i = 0; i < 100; i++) dispatch(ref, i === 10 || i === 60 ? 40 : 0);
      await until('every message', () => done === 100);
      // Half a second after the last collection.
      clock = 1_500;
      const [s] = collectStats();
      expect(s).toEqual({ path: '/worker', handled: 100, mailbox: 0, restarts: 0, meanMs: 0.8, p99Ms: 40, maxWaitMs: 80, rate: 200 });
      const counted = await register.getSingleMetric('mk_actor_messages_total')!.get();
      expect(counted.values.find((v) => v.labels.kind === 'worker')?.value).toBe(100);
      const histogram = (await register.getSingleMetric('mk_actor_message_duration_seconds')!.get()).values;
      const count = histogram.find((v) => v.labels.kind === 'worker' && (v as { metricName?: string }).metricName === 'mk_actor_message_duration_seconds_count');
      expect(count?.value).toBe(100);
    } finally {
      now.mockRestore();
    }
  });

  it('leaves a steady actor out of the next figures, and puts it back when its load moves', async () => {
    let done = 0;
    const ref = spawn(system, (s: number = 0) => { done++; return s + 1; }, 'steady');
    // Intervals of exactly one second (collectStats takes the time), so the same count is the same rate.
    let t = performance.now();
    const round = async (n: number) => {
      // One at a time, so no message waits in the mailbox: the figures are the count alone.
      for (let i = 0; i < n; i++) {
        const want = done + 1;
        dispatch(ref, i);
        await until('the message', () => done === want);
      }
      t += 1000;
      return collectStats(t).find((x) => x.path === '/steady');
    };
    collectStats(t);
    expect(await round(20)).toMatchObject({ handled: 20, rate: 20 });
    // The same 20 in the same time: the same load, no news.
    expect(await round(20)).toBeUndefined();
    // Twice as many: news again.
    expect(await round(40)).toMatchObject({ handled: 40, rate: 40 });
    // The snapshot keeps the figures last sent.
    expect(snapshot(0, 10).actors.find((a) => a.path === '/steady')?.stats).toMatchObject({ handled: 40 });
  });

  it('records a crash with its error and message, and the restart, counted once', async () => {
    let crashes = 0;
    const ref = spawn(system, (s: number = 0, m: { type: string; payload?: string }) => {
      if (m.type === 'explode' && crashes++ === 0) throw new Error('kaboom');
      return s + 1;
    }, 'fragile', { onCrash: (_m, _e, ctx) => ctx.reset });
    const policy = { initialMs: 1, maxMs: 2, jitter: 0, maxRestarts: 10, windowMs: 60_000 };
    const backed = spawn(system, (_s: number = 0, m: unknown) => { if (m === 'die') throw new Error('once'); return 1; }, 'backed-off',
      { onCrash: backoffOnCrash('wake', () => undefined, policy) });
    collectLifecycle();
    dispatch(ref, { type: 'explode', payload: 'x' });
    dispatch(backed, 'die');
    const all: ReturnType<typeof collectLifecycle> = [];
    await until('both restarts', () => { all.push(...collectLifecycle()); return all.filter((e) => e.type === 'restarted').length === 2 || undefined; });
    expect(all).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'crashed', path: '/fragile', restarts: 1, crash: expect.objectContaining({ error: 'kaboom', message: 'explode' }) }),
      expect.objectContaining({ type: 'restarted', path: '/fragile', restarts: 1 }),
      expect.objectContaining({ type: 'crashed', path: '/backed-off', restarts: 1, crash: expect.objectContaining({ error: 'once', message: '"die"' }) }),
      expect.objectContaining({ type: 'restarted', path: '/backed-off', restarts: 1 }),
    ]));
    const restarts = (await register.getSingleMetric('mk_actor_restarts_total')!.get()).values;
    expect(restarts.find((v) => v.labels.kind === 'fragile')?.value).toBeGreaterThanOrEqual(1);
    const stats = collectStats();
    expect(stats.find((s) => s.path === '/fragile')).toMatchObject({ restarts: 1, lastCrash: { error: 'kaboom', message: 'explode' } });
  });

  it('pages snapshots and keeps the latest figures', () => {
    for (let i = 0; i < 25; i++) spawn(system, (s: number = 0) => s, `a${i}`);
    const page = snapshot(20, 10);
    expect(page.total).toBe(25);
    expect(page.actors.map((a) => a.name)).toEqual(['a20', 'a21', 'a22', 'a23', 'a24']);
    expect(snapshot(0, 3).actors).toHaveLength(3);
    expect(page.seq).toBe(telemetryState().seq);
  });

  it("is off after the last disable: nact's own methods are back and nothing is recorded", () => {
    enableActorTelemetry();
    disableActorTelemetry();
    expect(actorTelemetryEnabled()).toBe(true);
    disableActorTelemetry();
    expect(actorTelemetryEnabled()).toBe(false);
    for (const m of PATCHED_METHODS) {
      expect((NactActorClass.prototype as unknown as Record<string, { name: string }>)[m]!.toString()).not.toContain('h.');
    }
    spawn(system, (s: number = 0) => s, 'unseen');
    expect(census().actors).toEqual([]);
    enableActorTelemetry();
  });
});

describe('helpers', () => {
  it('finds the nearest-rank p99 without sorting', () => {
    const sorted = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.ceil(0.99 * xs.length) - 1]!;
    for (const n of [1, 2, 50, 100, 101, 150, 200, 201, 256, 300, 1000]) {
      const xs = Array.from({ length: n }, (_, i) => (i * 7919) % 1009);
      expect([n, percentile99(xs)]).toEqual([n, sorted(xs)]);
    }
  });

  it('names undescribed actors by their name without numbers or object names', () => {
    expect(['leader-3', 'worker7', 'default$web', 'api', 'anonymous-123456'].map(kindFromName))
      .toEqual(['leader', 'worker', 'default', 'api', 'anonymous']);
  });
});
