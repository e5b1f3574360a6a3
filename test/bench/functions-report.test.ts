import {
  busyWords, formatCold, formatFunctions, formatRps, formatScale, formatWarm, functionsCommand, missBaseline, parsePoolCounter, poolDelta, samplesPerRound,
  type ColdSeries, type LatencyRun, type ScaleResult, type VersusRound,
} from './functions-report';
import { runOf } from './load-generator';

const run = (requests: number, p50: number, p99: number, errors = 0): LatencyRun => ({ requests, errors, seconds: 2, p50, p99 });
const versus = (round: number, g: LatencyRun, d: LatencyRun): VersusRound => ({ round, first: round % 2 === 1 ? 'direct' : 'gateway', gateway: g, direct: d });

describe('functions method', () => {
  it('spreads the samples over the rounds, the earlier rounds taking the rest', () => {
    expect(samplesPerRound(5, 2)).toEqual([3, 2]);
    expect(samplesPerRound(100, 5)).toEqual([20, 20, 20, 20, 20]);
    expect(samplesPerRound(7, 3).reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('reads the pool counter by runtime and result, and says when the node has none', () => {
    const text = [
      '# HELP mk_function_pool_total Calls served from the warm pool.',
      '# TYPE mk_function_pool_total counter',
      'mk_function_pool_total{runtime="python3",result="hit"} 7',
      'mk_function_pool_total{result="miss",runtime="python3"} 2',
      'mk_function_pool_total_created{runtime="python3",result="hit"} 1700000000',
      'mk_gateway_requests_total{namespace="default"} 3',
    ].join('\n');
    const m = parsePoolCounter(text)!;
    expect([...m]).toEqual([['python3/hit', 7], ['python3/miss', 2]]);
    expect(parsePoolCounter('# TYPE mk_function_pool_total counter\n')).toEqual(new Map());
    expect(parsePoolCounter('mk_gateway_requests_total 3\n')).toBeNull();
    const after = new Map([['python3/hit', 12], ['python3/miss', 2], ['node/miss', 1]]);
    expect(poolDelta(m, after, 'python3')).toEqual({ hit: 5, miss: 0 });
    expect(poolDelta(m, after, 'node')).toEqual({ hit: 0, miss: 1 });
    expect(poolDelta(null, after, 'node')).toBeNull();
  });

  it('takes a load run\'s percentiles from every answer by nearest rank', () => {
    expect(runOf([0.4, 0.2, 0.3, 0.1, 5], 1, 2.00049)).toEqual({ requests: 5, errors: 1, seconds: 2, p50: 0.3, p99: 5 });
  });

  it('names the command that reruns it', () => {
    expect(functionsCommand({ samples: 5, rounds: 2, seconds: 3 })).toBe('npm run bench -- functions --samples 5 --rounds 2 --seconds 3');
    expect(functionsCommand({ samples: 5, rounds: 2, seconds: 3, only: 'cold' })).toBe('npm run bench -- functions --samples 5 --rounds 2 --seconds 3 --only cold');
  });
});

describe('functions report', () => {
  const miss: ColdSeries = {
    runtime: 'python3', mode: 'miss', poolSize: '0', pool: null, errors: 0,
    rounds: [
      { round: 1, first: 'baseline', mk: [400, 420, 500], cri: [250, 260, 300], interpreter: [60, 70, 80] },
      { round: 2, first: 'mk', mk: [380, 410], cri: [240, 270], interpreter: [65, 75] },
    ],
  };
  const hit: ColdSeries = { runtime: 'python3', mode: 'hit', poolSize: 'default', pool: { hit: 4, miss: 1 }, errors: 1, rounds: [{ round: 1, first: 'mk', mk: [30, 40, 45, 35, 200], cri: [], interpreter: [] }] };

  it('sums the miss baseline from CRI and interpreter percentiles and divides mk by it', () => {
    const b = missBaseline(miss);
    // p50s by nearest rank over every sample: mk 410, CRI 260, interpreter 70.
    expect(b).toMatchObject({ p50: 330, p99: 380, ratioP50: 1.24, ratioP99: 1.32 });
    expect(b.perRound).toEqual({ min: 1.25, median: 1.26, max: 1.27 });
  });

  it('prints each cold series, the baseline of the misses, and whether the pool was really hit', () => {
    const text = formatCold([miss, hit]).join('\n');
    expect(text).toContain('| python3 | pool miss | 0 | 5 | 410 | 500 | 380-500 | 400 (380-420) | 0 | none |');
    expect(text).toContain('| python3 | pool hit | default | 5 | 40 | 200 | 30-200 | 40 (40-40) | 1 | 4 hits, 1 misses |');
    expect(text).toContain('| python3 | 260 / 300 | 70 / 80 | 330 / 380 | 410 / 500 | 1.24x | 1.32x | 1.26x (1.25-1.27) |');
    expect(text).toContain('- python3, pool miss: the node exports no mk_function_pool_total: every one of the 5 samples was a pool miss; aim within 1.3x of the baseline: p50 met (1.24x), p99 not met (1.32x).');
    expect(text).toContain('- python3, pool hit: 4 pool hits and 1 misses counted over 5 samples (each cold call starts 2 instances); aim p50 < 50 ms and p99 < 150 ms: not met.');
    expect(formatCold([])).toEqual([]);
  });

  it('prints warm latency with the per-round differences and judges them', () => {
    const lines = formatWarm([{ runtime: 'node', concurrency: 1, seconds: 2, rounds: [versus(1, run(1000, 1.5, 3), run(1200, 0.9, 1.5)), versus(2, run(900, 1.8, 6), run(1100, 1, 2))] }]);
    expect(lines).toContain('| node | 1 | 2 | 1.65 / 4.5 | 0.95 / 1.75 | +0.7 (+0.6 to +0.8) | +2.75 (+1.5 to +4) | 475 | 575 | 0 |');
    expect(lines[lines.length - 1]).toBe('Aim: at most +1 ms p50 and +3 ms p99 through the gateway: node: +0.7 ms p50 met, +2.75 ms p99 met.');
    const faster = formatWarm([{ runtime: 'python3', concurrency: 1, seconds: 2, rounds: [versus(1, run(10, 45, 60), run(10, 44, 70))] }]);
    expect(faster).toContain('| python3 | 1 | 1 | 45 / 60 | 44 / 70 | +1 (+1 to +1) | -10 (-10 to -10) | 5 | 5 | 0 |');
    expect(faster[faster.length - 1]).toContain('python3: +1 ms p50 met, -10 ms p99 met.');
  });

  it('prints requests per second with the ratio of the same round and judges it', () => {
    const lines = formatRps([{ runtime: 'python3', instances: 4, concurrency: 4, connections: 16, seconds: 2, rounds: [versus(1, run(3000, 5, 9), run(4000, 4, 8, 2)), versus(2, run(3400, 5, 9), run(4000, 4, 8))] }]);
    expect(lines).toContain('| python3 | 4 | 4 | 16 | 1600 | 2000 | 0.80x (0.75-0.85) | 5 / 9 | 4 / 8 | 2 |');
    expect(lines[lines.length - 1]).toBe('Aim: at least 0.8x the requests per second of direct: python3: met (0.80x).');
  });

  it('prints the scale from zero, and says when not every instance came or calls failed', () => {
    const r: ScaleResult = {
      runtime: 'python3', maxInstances: 4, sleepMs: 200, inFlight: 8, readyAtMs: [900, 1000, 1500, 2000], firstAnswerMs: 1100, firstWaveMs: 1900,
      allReadyMs: 2000, deadlineMs: 180_000, calls: 40, errors: 0,
    };
    expect(formatScale([r])).toContain('| python3 | 4 | 200 | 8 | 1100 | 1900 | 900 / 1000 / 2000 | 40 | 0 |');
    expect(formatScale([r])).toContain('Every call was answered with 200.');
    const short = formatScale([{ ...r, readyAtMs: [900], allReadyMs: null, errors: 2 }]);
    expect(short).toContain('| python3 | 4 | 200 | 8 | 1100 | 1900 | 900 / - / not all (1 in 180 s) | 40 | 2 |');
    expect(short).toContain('2 calls failed (the aim is none).');
  });

  it('prints the command first and only the parts measured; nothing measured is an error', () => {
    const lines = formatFunctions({ command: functionsCommand({ samples: 5, rounds: 1, seconds: 2, only: 'cold' }), cold: [hit], warm: [], rps: [], scale: [], busyBefore: [0.02, 0.05] });
    expect(lines[0]).toBe('`npm run bench -- functions --samples 5 --rounds 1 --seconds 2 --only cold`');
    expect(lines).toContain('### Cold start');
    expect(lines).not.toContain('### Warm latency');
    expect(lines[lines.length - 1]).toBe('Every measurement started with the CPU under 10 % busy (the busiest: 5.0 %).');
    expect(busyWords([0.02, 0.4, 0.3])).toBe('2 of 3 measurements started with the CPU still busy after waiting (up to 40.0 %): another workload ran on this machine; read those figures with care.');
    expect(() => formatFunctions({ command: 'x', cold: [], warm: [], rps: [], scale: [], busyBefore: [] })).toThrow(/measured nothing/);
  });
});
