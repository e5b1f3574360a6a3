import type { Container } from '../../messages/pod';
import { probeTiming, type Probe } from '../../messages/probe';
import { applyProbeOutcome, initialProbeState, nextProbeAt } from './probe-state';
import { PodProber, PROBE_SLOT_MS, type ProberDeps } from './prober';
import type { ProbeOutcome, ProbeTarget } from './probe-run';

const exec = (extra: Partial<Probe> = {}): Probe => ({ exec: { command: ['check'] }, ...extra });

describe('probe state', () => {
  it('starts not ready, alive, and undecided for startup', () => {
    expect(initialProbeState('readiness').result).toBe('failure');
    expect(initialProbeState('liveness').result).toBe('success');
    expect(initialProbeState('startup').result).toBe('unknown');
  });

  it('counts a result only after its threshold in a row, and kills on liveness failure', () => {
    const t = probeTiming(exec({ failureThreshold: 3 }));
    let s = initialProbeState('liveness');
    const steps = ['failure', 'failure', 'success', 'failure', 'failure'] as const;
    for (const o of steps) {
      const r = applyProbeOutcome(s, 'liveness', t, o);
      expect(r.kill).toBe(false);
      s = r.state;
    }
    const last = applyProbeOutcome(s, 'liveness', t, 'failure');
    expect(last).toMatchObject({ changed: true, kill: true, state: { result: 'failure', onHold: true } });
    // On hold: later outcomes change nothing.
    expect(applyProbeOutcome(last.state, 'liveness', t, 'success').changed).toBe(false);
  });

  it('needs successThreshold successes for readiness, and never kills for it', () => {
    const t = probeTiming(exec({ successThreshold: 2, failureThreshold: 1 }));
    let r = applyProbeOutcome(initialProbeState('readiness'), 'readiness', t, 'success');
    expect(r.changed).toBe(false);
    r = applyProbeOutcome(r.state, 'readiness', t, 'success');
    expect(r).toMatchObject({ changed: true, kill: false, state: { result: 'success' } });
    r = applyProbeOutcome(r.state, 'readiness', t, 'failure');
    expect(r).toMatchObject({ changed: true, kill: false, state: { result: 'failure', onHold: false } });
  });

  it('is due initialDelaySeconds after start, then every periodSeconds', () => {
    const t = probeTiming(exec({ initialDelaySeconds: 5, periodSeconds: 2 }));
    expect(nextProbeAt(1000, t, undefined)).toBe(6000);
    expect(nextProbeAt(1000, t, 6000)).toBe(8000);
  });
});

describe('PodProber (fake clock)', () => {
  beforeEach(() => { jest.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { jest.useRealTimers(); });

  function harness(outcomes: Record<string, () => ProbeOutcome['outcome']>) {
    const runs: { at: number; kind: string }[] = [];
    const events: string[] = [];
    const kills: string[] = [];
    let changes = 0;
    const deps: ProberDeps = {
      run: async (t: ProbeTarget) => {
        const kind = t.probe.exec!.command[0];
        runs.push({ at: Date.now(), kind });
        const outcome = outcomes[kind]();
        return { outcome, message: outcome === 'failure' ? `${kind} says no` : '' };
      },
      onChange: () => { changes++; },
      onKill: (id) => { kills.push(id); },
      event: (_t, reason, message) => { events.push(`${reason}: ${message}`); },
      now: () => Date.now(),
    };
    const prober = new PodProber(deps);
    return { prober, runs, events, kills, changes: () => changes };
  }

  const container = (probes: Partial<Container>): Container => ({ name: 'app', image: 'busybox', ...probes });

  it('starts probes of containers started at odd moments in shared slots, keeping each one\'s period without drift', async () => {
    const h = harness({ live: () => 'success' });
    const spec = container({ livenessProbe: { exec: { command: ['live'] }, periodSeconds: 10 } });
    // Three containers started 37, 90 and 180 ms after a slot boundary.
    h.prober.update([37, 90, 180].map((d, i) => ({ id: `c${i}`, spec, startedAtMs: Date.now() + d - 1_000 })), '10.0.0.2');
    await jest.advanceTimersByTimeAsync(100_000);
    // Every run is on the grid; the first three share one slot, and so does each later round.
    expect(h.runs.every((r) => r.at % PROBE_SLOT_MS === 0)).toBe(true);
    expect(new Set(h.runs.map((r) => r.at)).size).toBe(h.runs.length / 3);
    // Started a second ago: due at once, then every 10 s from its start (slot 9.25 s, 19.25 s, ...,
    // 99.25 s): eleven runs each; the slot's wait is not added to the period.
    expect(h.runs).toHaveLength(33);
    const times = [...new Set(h.runs.map((r) => r.at - 1_000_000))];
    expect(times).toEqual([0, ...Array.from({ length: 10 }, (_, i) => 9_250 + i * 10_000)]);
    h.prober.stop();
  });

  it('probes at once when asked (a warm container just specialised), without waiting for its slot, then keeps its period', async () => {
    const h = harness({ ready: () => 'success' });
    const spec = container({ readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 } });
    // Started long ago, 130 ms past a slot: the next slot is 120 ms away.
    jest.setSystemTime(1_000_130);
    h.prober.update([{ id: 'c1', spec, startedAtMs: 900_000 }], '10.0.0.2');
    await h.prober.probeNow();
    expect(h.runs).toEqual([{ at: 1_000_130, kind: 'ready' }]);
    expect(h.prober.view('c1')).toEqual({ started: true, ready: true });
    expect(h.changes()).toBe(1);
    // A period after that run, on the next slot.
    await jest.advanceTimersByTimeAsync(1_119);
    expect(h.runs).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.runs).toHaveLength(2);
    expect(h.runs[1].at).toBe(1_001_250);
    h.prober.stop();
  });

  it('runs a readiness probe that is not due when asked for that instance, and only that one; the period counts from there', async () => {
    let ok = false;
    const h = harness({ ready: () => (ok ? 'success' : 'failure'), live: () => 'success' });
    const spec = container({ readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 10 }, livenessProbe: { exec: { command: ['live'] }, periodSeconds: 10 } });
    h.prober.update([{ id: 'c1', spec, startedAtMs: Date.now() }], '10.0.0.2');
    await jest.advanceTimersByTimeAsync(300);
    expect(h.runs.map((r) => r.kind).sort()).toEqual(['live', 'ready']);
    expect(h.prober.view('c1')?.ready).toBe(false);
    ok = true;
    // Without asking: nothing is due for ten seconds.
    await h.prober.probeNow();
    expect(h.runs).toHaveLength(2);
    await h.prober.probeNow('c1');
    expect(h.runs[2].kind).toBe('ready');
    expect(h.runs).toHaveLength(3);
    expect(h.prober.view('c1')?.ready).toBe(true);
    expect(h.changes()).toBe(1);
    const asked = Date.now();
    await jest.advanceTimersByTimeAsync(9_000);
    expect(h.runs.filter((r) => r.kind === 'ready')).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1_250);
    expect(h.runs.filter((r) => r.kind === 'ready').pop()!.at - asked).toBeGreaterThanOrEqual(10_000);
    h.prober.stop();
  });

  it('waits initialDelaySeconds, flips ready on the first success, and writes nothing while it stays', async () => {
    let ok = false;
    const h = harness({ ready: () => (ok ? 'success' : 'failure') });
    const spec = container({ readinessProbe: { exec: { command: ['ready'] }, initialDelaySeconds: 3, periodSeconds: 1, failureThreshold: 2 } });
    h.prober.update([{ id: 'c1', spec, startedAtMs: Date.now() }], '10.0.0.2');
    expect(h.prober.view('c1')).toEqual({ started: true, ready: false });
    await jest.advanceTimersByTimeAsync(2_999);
    expect(h.runs).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.runs).toHaveLength(1);
    expect(h.events).toEqual(['Unhealthy: Readiness probe failed: ready says no']);
    ok = true;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(h.prober.view('c1')).toEqual({ started: true, ready: true });
    expect(h.changes()).toBe(1);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(h.runs).toHaveLength(7);
    expect(h.changes()).toBe(1);
    ok = false;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(h.prober.view('c1')?.ready).toBe(true);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(h.prober.view('c1')?.ready).toBe(false);
    expect(h.changes()).toBe(2);
    expect(h.kills).toEqual([]);
    h.prober.stop();
  });

  it('kills after failureThreshold liveness failures, once, and probes a new instance afresh', async () => {
    const h = harness({ live: () => 'failure' });
    const spec = container({ livenessProbe: { exec: { command: ['live'] }, periodSeconds: 2, failureThreshold: 3 } });
    h.prober.update([{ id: 'c1', spec, startedAtMs: Date.now() }], undefined);
    await jest.advanceTimersByTimeAsync(3_999);
    expect(h.kills).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.kills).toEqual(['c1']);
    expect(h.events).toContain('Killing: Container app failed liveness probe, will be restarted');
    await jest.advanceTimersByTimeAsync(20_000);
    expect(h.kills).toEqual(['c1']);
    expect(h.runs).toHaveLength(3);
    h.prober.update([{ id: 'c2', spec, startedAtMs: Date.now() }], undefined);
    await jest.advanceTimersByTimeAsync(4_000);
    expect(h.kills).toEqual(['c1', 'c2']);
    h.prober.stop();
  });

  it('holds liveness and readiness until the startup probe passes, and kills when it never does', async () => {
    let startedOk = false;
    const h = harness({ start: () => (startedOk ? 'success' : 'failure'), live: () => 'success', ready: () => 'success' });
    const spec = container({
      startupProbe: { exec: { command: ['start'] }, periodSeconds: 1, failureThreshold: 5 },
      livenessProbe: { exec: { command: ['live'] }, periodSeconds: 10 },
      readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 10 },
    });
    h.prober.update([{ id: 'c1', spec, startedAtMs: Date.now() }], undefined);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(h.runs.map((r) => r.kind)).toEqual(['start', 'start', 'start']);
    expect(h.prober.view('c1')).toEqual({ started: false, ready: false });
    startedOk = true;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(h.runs.map((r) => r.kind)).toEqual(['start', 'start', 'start', 'start', 'live', 'ready']);
    expect(h.prober.view('c1')).toEqual({ started: true, ready: true });
    await jest.advanceTimersByTimeAsync(30_000);
    expect(h.runs.filter((r) => r.kind === 'start')).toHaveLength(4);

    startedOk = false;
    h.prober.update([{ id: 'c2', spec, startedAtMs: Date.now() }], undefined);
    expect(h.prober.view('c1')).toBeUndefined();
    await jest.advanceTimersByTimeAsync(3_999);
    expect(h.kills).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.kills).toEqual(['c2']);
    expect(h.events).toContain('Killing: Container app failed startup probe, will be restarted');
    expect(h.prober.view('c2')).toEqual({ started: false, ready: false });
    h.prober.stop();
  });
});
