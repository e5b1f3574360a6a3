import { formatFailover, measureGap, steadyLongest, summarizeFailover, summarizeSteady, type FailoverRound, type FailoverRun, type ObservedWrite } from './failover-report';

describe('measureGap', () => {
  const writes: ObservedWrite[] = [
    { at: 900, revision: 10, lease: { holder: 'a' } },
    { at: 950, revision: 11, bound: 'p1' },
    // Stored just after the signal, but the old leader's write: it does not end the gap.
    { at: 1010, revision: 12, bound: 'p2' },
    { at: 1200, revision: 13, lease: {} },
    { at: 1300, revision: 14, lease: { holder: 'b' } },
    { at: 1450, revision: 15, bound: 'p3' },
    { at: 1500, revision: 16, bound: 'p4' },
  ];

  it('times the takeover by another holder and the first binding stored after it', () => {
    expect(measureGap(1000, 'a', writes)).toEqual({ leaseMs: 300, boundMs: 450, takeoverRevision: 14 });
  });

  it('does not count a release (no holder) or the old holder renewing as a takeover', () => {
    expect(measureGap(1000, 'a', writes.slice(0, 4))).toEqual({});
    const renewed = [...writes.slice(0, 4), { at: 1100, revision: 13, lease: { holder: 'a' } }];
    expect(measureGap(1000, 'a', renewed)).toEqual({});
  });

  it('has no binding time until the new leader binds', () => {
    expect(measureGap(1000, 'a', writes.slice(0, 5))).toEqual({ leaseMs: 300, takeoverRevision: 14 });
  });

  it('ignores a takeover seen before the signal', () => {
    expect(measureGap(1350, 'b', writes)).toEqual({});
  });
});

describe('steadyLongest', () => {
  const bound = (at: number): ObservedWrite => ({ at, revision: at, bound: `p${at}` });

  it('is the longest interval between bindings in the window, counting from its start', () => {
    const writes = [bound(50), bound(120), { at: 130, revision: 130, lease: { holder: 'a' } }, bound(300), bound(420), bound(900)];
    expect(steadyLongest(writes, 100, 500)).toBe(180);
    expect(steadyLongest(writes, 0, 130)).toBe(70);
    expect(steadyLongest(writes, 0, 60)).toBe(50);
  });

  it('is NaN when no pod was bound in the window', () => {
    expect(steadyLongest([bound(50)], 100, 500)).toBeNaN();
  });
});

const round = (n: number, fault: 'SIGKILL' | 'SIGTERM', leaseMs: number, boundMs: number, failedApplies = 0): FailoverRound => ({
  round: n, fault, leader: `cp-${n}`, successor: `cp-${n + 1}`, leaseMs, boundMs, steadyMs: 200 + n * 10, failedApplies,
});

describe('the failover report', () => {
  const rounds = [
    round(1, 'SIGKILL', 5010, 5160, 2), round(2, 'SIGTERM', 250, 580),
    round(3, 'SIGKILL', 4200, 4400, 1), round(4, 'SIGTERM', 130, 280),
    round(5, 'SIGKILL', 5600, 5900),
  ];

  it('summarizes each fault: p50 and min-max over its rounds, SIGKILL first', () => {
    expect(summarizeFailover([...rounds].reverse())).toEqual([
      { fault: 'SIGKILL', rounds: 3, lease: { p50: 5010, min: 4200, max: 5600 }, bound: { p50: 5160, min: 4400, max: 5900 }, failedApplies: 3 },
      { fault: 'SIGTERM', rounds: 2, lease: { p50: 190, min: 130, max: 250 }, bound: { p50: 430, min: 280, max: 580 }, failedApplies: 0 },
    ]);
    expect(summarizeSteady(rounds)).toEqual({ p50: 230, min: 210, max: 250 });
    expect(summarizeFailover(rounds.filter((r) => r.fault === 'SIGTERM')).map((s) => s.fault)).toEqual(['SIGTERM']);
  });

  const run: FailoverRun = {
    leaseSeconds: 5, renewDeadlineMs: 3333, retryPeriodMs: 667, replicas: 3, nodes: 10, podsPerSecond: 5, isolated: true,
    rounds, loadBefore: [1.5, 2, 2.25], loadAfter: [3, 2.5, 2.3], applied: 300, bound: 299,
  };

  it('prints the lease settings, the bound they allow, the load, a summary and every round', () => {
    const lines = formatFailover(run);
    expect(lines[0]).toBe('lease 5 s, renew deadline 3.33 s, retry period 0.67 s; 3 control planes, each in a pid namespace of its own, 10 hollow nodes, 5 pods/s applied');
    expect(lines[1]).toBe('bound for SIGKILL: the lease (5 s) + one retry period = 5.67 s before the lease is taken');
    expect(lines[2]).toBe('load average 1.50 2.00 2.25 at the start, 3.00 2.50 2.30 at the end; 300 pods applied, 299 bound');
    expect(lines).toContain('| SIGKILL | 3 | 5.01 | 4.20-5.60 | 5.16 | 4.40-5.90 | 3 |');
    expect(lines).toContain('| SIGTERM | 2 | 0.19 | 0.13-0.25 | 0.43 | 0.28-0.58 | 0 |');
    expect(lines).toContain('| none (longest wait for a binding before each signal) | 5 | - | - | 0.23 | 0.21-0.25 | - |');
    expect(lines).toContain('| 3 | SIGKILL | cp-3 | cp-4 | 4.20 | 4.40 | 0.23 | 1 |');
    expect(lines.filter((l) => /^\| \d+ \| SIG/.test(l))).toHaveLength(5);
  });

  it('says a standby in the same pid namespace sees a dead holder at once, within a retry period', () => {
    expect(formatFailover({ ...run, isolated: false })[1]).toMatch(/^bound for SIGKILL: one retry period \(0\.67 s\) .* the lease \(5 s\) bounds it across machines \(--isolate\)$/);
  });
});
