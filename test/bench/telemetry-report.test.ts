import {
  caseAimMet, formatTelemetry, summarizeApiTelemetry, summarizeCase, type ActorsHalf, type ActorsRound, type ApiHalf, type TelemetryResult,
} from './telemetry-report';

const MIB = 2 ** 20;
const half = (cpu: number, rssMiB: number, handled = 10_000): ActorsHalf => ({ cpuPerSecond: cpu, rssBytes: rssMiB * MIB, handledPerSecond: handled, published: 0 });
const round = (r: number, off: ActorsHalf, on: ActorsHalf, busy = 0.02): ActorsRound =>
  ({ round: r, first: r % 2 === 1 ? 'off' : 'on', on, off, busyBefore: { on: busy, off: 0.01 } });
const api = (p50: number, p99: number, cpu: number): ApiHalf =>
  ({ create: { p50, p99 }, get: { p50: p50 / 2, p99: p99 / 2 }, update: { p50, p99 }, cpuMsPerApply: cpu });

describe('telemetry benchmark figures', () => {
  const c = { name: '10000 msg/s', rate: 10_000, rounds: [round(1, half(0.2, 100), half(0.21, 110)), round(2, half(0.25, 102), half(0.28, 111)), round(3, half(0.2, 101), half(0.215, 109))] };

  it('takes the CPU in % of one core, the per-round differences and memory', () => {
    const s = summarizeCase(c);
    expect(s).toMatchObject({ offCore: 20, onCore: 21.5, offRssMiB: 101, onRssMiB: 110, handledPerSecond: 10_000 });
    // Per round: 1, 3, 1.5 % of a core; 5, 12, 7.5 % of off.
    expect(s.diffCore).toEqual({ min: 1, median: 1.5, max: 3 });
    expect(s.diffOfOff).toEqual({ min: 5, median: 7.5, max: 12 });
    expect(s.diffRssMiB).toEqual({ min: 8, median: 9, max: 10 });
  });

  it('meets the aim only under 2 % of a core (median of the rounds)', () => {
    expect(caseAimMet(summarizeCase(c))).toBe(true);
    const costly = { ...c, rounds: [round(1, half(0.2, 100), half(0.22, 100))] };
    expect(caseAimMet(summarizeCase(costly))).toBe(false);
  });

  it('refuses a case without rounds', () => {
    expect(() => summarizeCase({ name: 'idle', rate: 0, rounds: [] })).toThrow('case idle has no rounds');
  });

  it('gives the api on/off ratios per operation and the CPU per apply', () => {
    const a = summarizeApiTelemetry([{ round: 1, first: 'off', on: api(1.1, 3, 0.6), off: api(1, 2, 0.5) }, { round: 2, first: 'on', on: api(1.5, 4, 0.6), off: api(1, 2, 0.6) }]);
    expect(a.ops[0]).toMatchObject({ op: 'create', onP50: 1.3, offP50: 1, ratioP50: { min: 1.1, median: 1.3, max: 1.5 }, ratioP99: { min: 1.5, median: 1.75, max: 2 } });
    expect(a.cpu).toEqual({ on: 0.6, off: 0.55, ratio: { min: 1, median: 1.1, max: 1.2 } });
  });
});

describe('telemetry benchmark report', () => {
  const res: TelemetryResult = {
    actors: 10_000, seconds: 10,
    cases: [
      { name: 'idle', rate: 0, rounds: [round(1, half(0.001, 90, 0), half(0.004, 95, 0))] },
      { name: 'busy', rate: 50_000, rounds: [round(1, half(0.5, 120), half(0.53, 130), 0.3)] },
    ],
    api: { objects: 100, rounds: [{ round: 1, first: 'off', on: api(1.2, 2.4, 0.5), off: api(1, 2, 0.5) }] },
  };
  const lines = formatTelemetry(res);

  it('prints one row per case and says which cases met the aim', () => {
    expect(lines.filter((l) => /^\| (idle|busy) \|/.test(l))).toEqual([
      '| idle | 0 | 0 | 0.1 | 0.4 | 0.3 (0.3-0.3) | 300 % (300-300) | 90 | 95 | 5 (5-5) |',
      '| busy | 50000 | 10000 | 50 | 53 | 3 (3-3) | 6 % (6-6) | 120 | 130 | 10 (10-10) |',
    ]);
    expect(lines).toContain('Aim (telemetry under 2 % of one core at 10000 actors, median of the per-round differences): idle met (0.3 %), busy not met (3 %).');
  });

  it('says when a half started on a busy CPU', () => {
    expect(lines).toContain('1 of 4 halves started with the CPU still busy (up to 30.0 %): another workload ran on this machine; read those rounds with care.');
  });

  it('prints the api part with its ratios', () => {
    expect(lines).toContain('| create | 1.2 | 1 | 2.4 | 2 | 1.20x (1.20-1.20) | 1.20x (1.20-1.20) |');
    expect(lines).toContain('Control plane CPU per apply (create and update phases, user + system): on 0.5 ms, off 0.5 ms, ratio 1.00x (1.00-1.00).');
  });

  it('notes a run at another size than the aim speaks of, and prints no api part without one', () => {
    const small = formatTelemetry({ ...res, actors: 500, api: undefined });
    expect(small).toContain('(The aim is stated for 10,000 actors; this run had 500.)');
    expect(small.some((l) => l.startsWith('| create'))).toBe(false);
  });
});

describe('telemetry benchmark report: pod startup', () => {
  it('prints apply -> Running on and off, one after another and at once, with the ratios', () => {
    const ramp = (k: number) => Array.from({ length: 10 }, (_, i) => (i + 1) * k);
    const lines = formatTelemetry({
      actors: 10_000, seconds: 10, cases: [],
      pods: { pods: 10, rounds: [{ round: 1, first: 'off', on: { seq: ramp(110), con: ramp(300) }, off: { seq: ramp(100), con: ramp(200) } }] },
    });
    expect(lines).toContain('| one after another | 550 | 500 | 1100 | 1000 | 1.10x (1.10-1.10) | 1.10x (1.10-1.10) |');
    expect(lines).toContain('| at once | 1500 | 1000 | 3000 | 2000 | 1.50x (1.50-1.50) | 1.50x (1.50-1.50) |');
  });
});
