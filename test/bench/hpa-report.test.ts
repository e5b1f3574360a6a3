import { downBoundMs, formatHpa, upBoundMs, type HpaRound, type HpaRun } from './hpa-report';

const round = (up: number, running: number, down: number, gone: number, busyBefore = 0.02): HpaRound => ({
  upDecisionMs: up, scaledTo: 6, upRunningMs: running, downDecisionMs: down, downPodsMs: gone, busyBefore,
});
const run = (rounds: HpaRound[], over: Partial<HpaRun> = {}): HpaRun => ({
  nodes: 3, podsPerNode: 0, minReplicas: 2, maxReplicas: 6, targetPercent: 50, lowPercent: 10, highPercent: 200,
  syncMs: 15_000, statsMs: 5_000, downWindowS: 300, windowDefault: true, rounds, ...over,
});

describe('hpa report', () => {
  it('bounds a scale up by a sync and a stats period, a scale down by the window and the beats after it', () => {
    expect(upBoundMs(run([]))).toBe(20_000);
    expect(downBoundMs(run([]))).toBe(335_000);
  });

  it('prints each figure in seconds and as a ratio against its window', () => {
    const lines = formatHpa(run([round(10_000, 10_200, 310_000, 310_300), round(14_000, 14_100, 320_000, 320_100), round(6_000, 6_300, 305_000, 305_200)]));
    expect(lines[0]).toBe('HPA min 2 max 6 at 50 % cpu of a Deployment on 3 hollow nodes; sync period 15 s, stats every 5 s, '
      + 'scale-down window 300 s (default); load 10 % -> 200 % -> 10 % of requests, 3 rounds.');
    expect(lines[4]).toBe('| up: spec.replicas raised | 10 (6-14) | 0.5 (0.3-0.7)x | sync + stats period (20 s) |');
    expect(lines[5]).toBe('| up: new replicas Running | 10.2 (6.3-14.1) | 0.51 (0.32-0.71)x | sync + stats period (20 s) |');
    expect(lines[6]).toBe('| down: spec.replicas back to 2 | 310 (305-320) | 1.03 (1.02-1.07)x | scale-down window (300 s) |');
    expect(lines[7]).toBe('| down: 2 pods left | 310.3 (305.2-320.1) | 1.03 (1.02-1.07)x | scale-down window (300 s) |');
    expect(lines).toContain('| 2 | 6 | 14 | 14.1 | 320 | 320.1 |');
    expect(lines).toContain('Scale up decided within the sync period + the stats period (20 s, the most the algorithm should need) in 3 of 3 rounds.');
    expect(lines[lines.length - 1]).toBe('Scale down decided within the window + the stats period + two sync periods (335 s) in 3 of 3 rounds.');
  });

  it('says when a round missed its deadline, went over a bound, scaled down early, or started busy', () => {
    const lines = formatHpa(run([round(25_000, 26_000, 100_000, 101_000, 0.3), round(NaN, NaN, NaN, NaN)], {
      syncMs: 2_000, statsMs: 500, downWindowS: 120, windowDefault: false, podsPerNode: 20,
    }));
    expect(lines[0]).toMatch(/^HPA min 2 max 6 at 50 % cpu of a Deployment on 3 hollow nodes \(20 other pods each\); sync period 2 s, stats every 0.5 s, scale-down window 120 s; /);
    expect(lines[4]).toBe('| up: spec.replicas raised | 25 (25-25) (1 missed) | 10 (10-10)x | sync + stats period (2.5 s) |');
    expect(lines).toContain('| 2 | - | not within the deadline | not within the deadline | not within the deadline | not within the deadline |');
    expect(lines).toContain('Scale up decided within the sync period + the stats period (2.5 s, the most the algorithm should need) in 0 of 2 rounds.');
    expect(lines).toContain('Scale down decided within the window + the stats period + two sync periods (124.5 s) in 1 of 2 rounds; '
      + '1 before the window less a sync period had passed (the window did not hold).');
    expect(lines[lines.length - 1]).toBe('1 of 2 rounds started with the CPU still busy (up to 30 %): another workload ran on this machine.');
  });

  it('prints no figures for a column without one', () => {
    const lines = formatHpa(run([round(NaN, NaN, NaN, NaN)]));
    expect(lines[4]).toBe('| up: spec.replicas raised | none within the deadline | - | sync + stats period (20 s) |');
  });
});
