import { formatReplicaSet, p50Range, ratios, type ReplicaSetRound, type ReplicaSetRun } from './replicaset-report';

const round = (replicasetMs: number, directMs: number, replaceMs = 300, busy = 0.02): ReplicaSetRound => ({
  first: 'replicaset', replicasetMs, directMs, replicasetMsgsPerPod: 40, directMsgsPerPod: 30, replaceMs, replaced: 10,
  busyBefore: { replicaset: busy, direct: 0.01 },
});

describe('replicaset report', () => {
  it('gives the median and the range of samples', () => {
    expect(p50Range([3, 1, 2, 10])).toBe('2.5 (1-10)');
    expect(p50Range([1.234, 1.5], 2)).toBe('1.37 (1.23-1.5)');
  });

  it('prints the ratio of each round and judges the aim on their median', () => {
    const run: ReplicaSetRun = { pods: 100, nodes: 10, window: 37, rounds: [round(1000, 1000), round(1200, 1000), round(1050, 1000)] };
    expect(ratios(run)).toEqual([1, 1.2, 1.05]);
    const lines = formatReplicaSet(run);
    expect(lines[0]).toBe('100 pods on 10 hollow nodes, 3 rounds; direct creates 37 in flight.');
    expect(lines[4]).toBe('| to N Running, ms: p50 (min-max) | 1050 (1000-1200) | 1000 (1000-1000) | 1.05 (1-1.2)x |');
    expect(lines[5]).toBe('| nats messages per pod | 40 (40-40) | 30 (30-30) | |');
    expect(lines).toContain('| 2 | replicaset | 1200 | 1000 | 1.2x | 300 |');
    expect(lines).toContain('Replacing 10 pods deleted at once (no baseline): 300 (300-300) ms.');
    expect(lines).toContain('Aim: the ReplicaSet within 1.1x of direct creates at p50: met (1.05x).');
  });

  it('says when the aim is missed, a replacement did not finish, or the CPU was busy', () => {
    const run: ReplicaSetRun = { pods: 100, nodes: 10, window: 37, rounds: [round(1500, 1000, NaN, 0.4), round(1300, 1000, 500)] };
    const lines = formatReplicaSet(run);
    expect(lines).toContain('| 1 | replicaset | 1500 | 1000 | 1.5x | not within the deadline |');
    expect(lines).toContain('Replacing 10 pods deleted at once (no baseline): 500 (500-500) ms (1 of 2 rounds not within the deadline).');
    expect(lines).toContain('Aim: the ReplicaSet within 1.1x of direct creates at p50: not met (1.4x).');
    expect(lines[lines.length - 1]).toBe('1 of 4 halves started with the CPU still busy (up to 40 %): another workload ran on this machine.');
  });
});
