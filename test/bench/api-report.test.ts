import { aimMet, API_OPS, formatApi, opFigures, summarizeApi, type ApiResult, type ApiRound, type HalfFigures } from './api-report';

/** Every operation with the same p50 and p99, except those given. */
const half = (p50: number, p99: number, over: Partial<HalfFigures> = {}): HalfFigures =>
  ({ ...Object.fromEntries(API_OPS.map((o) => [o, { p50, p99, n: 100 }])), ...over }) as HalfFigures;
const round = (r: number, mk: HalfFigures, kv: HalfFigures, busy = 0.02): ApiRound =>
  ({ round: r, first: r % 2 === 1 ? 'kv' : 'mk', mk, kv, busyBefore: { mk: busy, kv: 0.01 } });

describe('api benchmark figures', () => {
  it('takes p50 and p99 by nearest rank to 0.01 ms, and refuses no samples', () => {
    const xs = Array.from({ length: 100 }, (_, i) => (i + 1) / 100);
    expect(opFigures(xs)).toEqual({ p50: 0.5, p99: 0.99, n: 100 });
    expect(() => opFigures([])).toThrow('no samples');
  });

  it('summarizes medians over rounds and the spread of the per-round ratios', () => {
    const rounds = [round(1, half(1.5, 3), half(0.3, 1)), round(2, half(1, 2), half(0.25, 1)), round(3, half(2, 4), half(0.5, 2))];
    const create = summarizeApi(rounds).find((s) => s.op === 'create')!;
    expect(create).toMatchObject({ mkP50: 1.5, mkP99: 3, kvP50: 0.3, kvP99: 1 });
    // Per round 1.5/0.3 = 5, 1/0.25 = 4, 2/0.5 = 4.
    expect(create.ratioP50).toEqual({ min: 4, median: 4, max: 5 });
    expect(create.ratioP99).toEqual({ min: 2, median: 2, max: 3 });
  });

  it('meets the aim only under 2 ms at p99 and within 5x of raw KV', () => {
    const s = (mkP99: number, ratio: number) => ({ ...summarizeApi([round(1, half(1, mkP99), half(0.2, mkP99 / ratio))])[0] });
    expect(aimMet(s(1.9, 5))).toEqual({ p99: true, ratio: true });
    expect(aimMet(s(2, 4))).toEqual({ p99: false, ratio: true });
    expect(aimMet(s(1.5, 6))).toEqual({ p99: true, ratio: false });
  });
});

describe('api benchmark report', () => {
  const res: ApiResult = {
    objects: 1000, lists: 20, payloadBytes: 268,
    rounds: [
      round(1, half(1.5, 3, { list: { p50: 40, p99: 50, n: 20 } }), half(0.3, 1, { list: { p50: 20, p99: 25, n: 20 } })),
      round(2, half(1.2, 1.8), half(0.3, 0.6), 0.4),
    ],
  };
  const lines = formatApi(res);

  it('prints one row per operation with both sides and the ratios', () => {
    expect(lines[0]).toBe('1000 objects per half (namespaces, 268 bytes stored each), 20 lists of all of them, 2 rounds,');
    const rows = lines.filter((l) => /^\| (create|get|update|list|watch) \|/.test(l));
    expect(rows).toHaveLength(5);
    expect(rows[0]).toBe('| create | mk.api.apply (created) | KV create | 1.35 | 2.4 | 0.3 | 0.8 | 4.50x (4.00-5.00) | 3.00x (3.00-3.00) |');
  });

  it('says for each mutation whether the aim was met', () => {
    expect(lines).toContain('Aim for create: p99 under 2 ms: not met (2.4 ms); within 5x of raw KV at p99: met (3.00x; at p50 4.50x).');
    expect(lines.filter((l) => l.startsWith('Aim for '))).toHaveLength(2);
  });

  it('prints every round and says when a half started on a busy CPU', () => {
    expect(lines.filter((l) => /^\| [12] \| (KV|mk) \|/.test(l))).toHaveLength(2);
    expect(lines[lines.length - 1]).toBe('1 of 4 halves started with the CPU still busy (up to 40.0 %): another workload ran on this machine; read those rounds with care.');
  });
});

describe('api benchmark report: CPU and parallel rate', () => {
  it('prints the control plane CPU per request and the rate with requests in flight, medians over the rounds', () => {
    const withCpu = (r: ApiRound, create: number, rate: number): ApiRound =>
      ({ ...r, cpuMsPerRequest: { create, get: 0.2, update: create - 0.1 }, parallel: { inFlight: 64, mk: rate, kv: 10 * rate } });
    const res: ApiResult = {
      objects: 100, lists: 2, payloadBytes: 268,
      rounds: [withCpu(round(1, half(1, 2), half(0.3, 1)), 0.8, 1000), withCpu(round(2, half(1, 2), half(0.3, 1)), 1.2, 1400), withCpu(round(3, half(1, 2), half(0.3, 1)), 0.9, 1200)],
    };
    const lines = formatApi(res);
    expect(lines).toContain('Control plane CPU per request (user + system, median over the rounds): create 0.9 ms, get 0.2 ms, update 0.8 ms (the update\'s includes publishing its watch event).');
    expect(lines).toContain('With 64 requests in flight (median over the rounds): mk.api.apply 1200 updates/s, raw KV 12000 updates/s.');
  });

  it('prints neither line for results without them', () => {
    const lines = formatApi({ objects: 100, lists: 2, payloadBytes: 268, rounds: [round(1, half(1, 2), half(0.3, 1))] });
    expect(lines.some((l) => l.startsWith('Control plane CPU') || l.startsWith('With 64'))).toBe(false);
  });
});
