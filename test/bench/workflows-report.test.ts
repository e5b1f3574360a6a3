import {
  formatOverhead, formatResume, formatThroughput, formatWorkflows, overheadFigures, perTransition, workflowsCommand, workflowsSettings,
  type OverheadResult, type ResumeResult, type ThroughputResult, type ThroughputSide,
} from './workflows-report';

const overhead: OverheadResult = {
  steps: 10,
  rounds: [
    // Loop medians: async 100, sync 60.
    { round: 1, first: 'workflow', statusMs: [130, 140, 150], endToEndMs: [160, 170, 400], asyncLoopMs: [90, 100, 120], syncLoopMs: [50, 60, 70] },
    { round: 2, first: 'loop', statusMs: [120, 125, 135], endToEndMs: [150, 155, 165], asyncLoopMs: [95, 100, 105], syncLoopMs: [60, 60, 65] },
  ],
};

describe('workflows overhead', () => {
  it('takes each run against the median loop of its round, per transition', () => {
    expect(perTransition(overhead.rounds[0], 'statusMs', 'asyncLoopMs', 10)).toEqual([3, 4, 5]);
    expect(perTransition(overhead.rounds[0], 'endToEndMs', 'syncLoopMs', 10)).toEqual([10, 11, 34]);
  });

  it('gives p50 and p99 over every run and the spread of the rounds', () => {
    // Round 1: 3, 4, 5; round 2: 2, 2.5, 3.5 -> all sorted 2, 2.5, 3, 3.5, 4, 5.
    expect(overheadFigures(overhead, 'statusMs', 'asyncLoopMs')).toEqual({
      p50: 3, p99: 5, n: 6, perRoundP50: { min: 2.5, median: 3.25, max: 4 }, perRoundP99: { min: 3.5, median: 4.25, max: 5 },
    });
  });

  it('prints a row per measure and loop, and judges the aims against the async loop', () => {
    const lines = formatOverhead(overhead);
    expect(lines).toContain('| status times | async loop | 130 / 150 | 100 / 120 | 3 | 5 | 3.25 (2.5 to 4) | 4.25 (3.5 to 5) | p50 met, p99 met |');
    // create -> Succeeded: round 1 6, 7, 30; round 2 5, 5.5, 6.5.
    expect(lines).toContain('| create -> Succeeded | async loop | 160 / 400 | 100 / 120 | 6 | 30 | 6.25 (5.5 to 7) | 18.25 (6.5 to 30) | p50 not met, p99 not met |');
    expect(lines).toContain('| status times | sync loop | 130 / 150 | 60 / 70 | 7 | 9 | 7.25 (6.5 to 8) | 8.25 (7.5 to 9) | p50 not met, p99 met |');
    expect(lines[lines.length - 1]).toBe('Aim: under 5 ms p50 and 25 ms p99 per transition against the async loop: status times: 3 ms p50 met, 5 ms p99 met; '
      + 'create -> Succeeded: 6 ms p50 not met, 30 ms p99 not met.');
  });
});

describe('workflows throughput', () => {
  const side = (runs: number, states: number, events: number, wallMs: number, failed = 0): ThroughputSide => ({ runs, states, events, wallMs, failed });
  const res: ThroughputResult = {
    runs: 50, steps: 10,
    rounds: [
      { round: 1, first: 'mk', pass: side(50, 500, 1100, 1000), floor: side(50, 0, 1100, 500), task: side(50, 500, 1700, 2000), loops: side(50, 500, 0, 1000) },
      { round: 2, first: 'baseline', pass: side(50, 500, 1100, 2000), floor: side(50, 0, 1100, 500), task: side(50, 490, 1666, 2500, 1), loops: side(50, 500, 0, 1000) },
    ],
  };

  it('prints states and events per second with the ratio of each round against its baseline', () => {
    const lines = formatThroughput(res);
    // Pass: 1100 and 550 events/s against 2200 appends/s -> 0.5x and 0.25x.
    expect(lines).toContain('| Pass | 50 | 22 | 375 | 825 | journal appends | 2200 appends | 0.38x (0.25-0.50) events | 0 |');
    // Task: 250 and 196 states/s against 500 calls/s -> 0.5x and 0.392x.
    expect(lines).toContain('| Task | 50 | 34 | 223 | 758 | async loops | 500 calls | 0.45x (0.39-0.50) states | 1 |');
    expect(lines).toContain('| 2 | baseline | 2000 | 500 | 2500 | 1000 |');
    expect(lines[lines.length - 1]).toBe('1 runs or loops did not succeed (the aim is none).');
  });
});

describe('workflows resume', () => {
  const res: ResumeResult = {
    runs: 4, waitSeconds: 5, taskSeconds: 4, deadlineMs: 30_000,
    rounds: [
      { round: 1, waits: 2, tasks: 2, downMs: 5200.4, startToPingMs: 900.6, seenMs: [300, 350, 400, 1200], eventMs: [290, 340, 390, 1190], notResumed: 0, early: 0, failed: 0 },
      { round: 2, waits: 2, tasks: 2, downMs: 5100, startToPingMs: 880, seenMs: [250, 260, 270, 800], eventMs: [240, 250, 262, 790], notResumed: 0, early: 0, failed: 0 },
    ],
  };

  it('prints each round and judges the slowest run of the slowest round', () => {
    const lines = formatResume(res);
    expect(lines).toContain('| 1 | 2 | 2 | 5200 | 901 | 350 | 1200 | 340 | 1190 | 0 | 0 | 0 |');
    expect(lines[lines.length - 1]).toBe('Every run succeeded after the restart.');
    expect(lines[lines.length - 2]).toBe('All resumed, seen by the watch, per round: 1000 (800 to 1200) ms. Aim: every run resumed under 2000 ms after the restart: met (the slowest round 1200 ms).');
  });

  it('fails the aim when a run did not resume, and says how many', () => {
    const lines = formatResume({ ...res, rounds: [{ ...res.rounds[0], seenMs: [300], eventMs: [290], notResumed: 3, failed: 1 }] });
    expect(lines[lines.length - 1]).toBe('1 runs did not succeed after the restart (the aim is none).');
    expect(lines[lines.length - 2]).toBe('All resumed, seen by the watch, per round: 300 (300 to 300) ms. Aim: every run resumed under 2000 ms after the restart: '
      + 'not met (the slowest round 300 ms, 3 runs not resumed within 30000 ms).');
  });
});

describe('workflows report', () => {
  it('reads its flags with their defaults, and refuses bad ones with the usage', () => {
    expect(workflowsSettings([], 'USAGE')).toEqual({ runs: 50, steps: 10, rounds: 5, samples: 100, waiting: 20 });
    expect(workflowsSettings(['--runs', '4', '--steps', '3', '--rounds', '2', '--samples', '6', '--waiting', '4', '--only', 'throughput'], 'USAGE'))
      .toEqual({ runs: 4, steps: 3, rounds: 2, samples: 6, waiting: 4, only: 'throughput' });
    expect(() => workflowsSettings(['--only', 'speed'], 'USAGE')).toThrow(/--only takes one of overhead, throughput, resume \(got speed\)\nUSAGE/);
    expect(() => workflowsSettings(['--rounds', '5', '--samples', '4'], 'USAGE')).toThrow(/--rounds \(5\) may not exceed --samples \(4\)/);
    expect(() => workflowsSettings(['--waiting', '1'], 'USAGE')).toThrow(/--waiting takes at least 2/);
    expect(() => workflowsSettings(['--steps', '0'], 'USAGE')).toThrow(/--steps takes a positive integer/);
  });

  it('names the command that reruns it', () => {
    expect(workflowsCommand({ runs: 5, steps: 3, rounds: 2, samples: 4, waiting: 4 })).toBe('npm run bench -- workflows --runs 5 --steps 3 --rounds 2 --samples 4 --waiting 4');
    expect(workflowsCommand({ runs: 5, steps: 3, rounds: 2, samples: 4, waiting: 4, only: 'resume' })).toBe('npm run bench -- workflows --runs 5 --steps 3 --rounds 2 --samples 4 --waiting 4 --only resume');
  });

  it('prints the command first, says the node is fake, and only the parts measured; nothing measured is an error', () => {
    const lines = formatWorkflows({ command: 'npm run bench -- workflows --only overhead', overhead, busyBefore: [0.03] });
    expect(lines[0]).toBe('`npm run bench -- workflows --only overhead`');
    expect(lines.join('\n')).toMatch(/fake node: the real python loader on a loopback address, no containerd/);
    expect(lines).toContain('### Overhead per state transition');
    expect(lines).not.toContain('### Transitions per second');
    expect(lines[lines.length - 1]).toBe('Every measurement started with the CPU under 10 % busy (the busiest: 3.0 %).');
    expect(() => formatWorkflows({ command: 'x', busyBefore: [] })).toThrow(/measured nothing/);
  });
});
