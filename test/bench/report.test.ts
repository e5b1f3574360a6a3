import { bestLimit, orderOf, type HalfResult, type PodStartupResult, type RoundResult } from './pod-startup';
import { formatPodStartup, summarizeRounds } from './report';

const half = (p50: number, p99: number, busy = 0.02): HalfResult => ({ p50, p99, n: 3, ms: [p50, p50, p99], quiet: { waitedMs: 600, busy, idle: busy < 0.1 } });
const roundOf = (r: number, mk: HalfResult, cri: HalfResult): RoundResult => ({
  round: r, first: orderOf(r - 1)[0], mk, cri, ratioP50: mk.p50 / cri.p50, ratioP99: mk.p99 / cri.p99,
});

describe('pod-startup method', () => {
  it('flips the order every round, CRI first in the first', () => {
    expect(orderOf(0)).toEqual(['cri', 'mk']);
    expect(orderOf(1)).toEqual(['mk', 'cri']);
    expect(orderOf(2)).toEqual(['cri', 'mk']);
  });

  it('uses the concurrency limit with the lowest p50, then the shortest makespan', () => {
    const probe = (value: number, p50: number, makespan: number) => ({ limit: String(value), value, p50, p99: p50, makespan });
    expect(bestLimit([probe(1, 900, 1800), probe(4, 400, 900), probe(Infinity, 3000, 3100)])).toBe(4);
    expect(bestLimit([probe(2, 400, 1000), probe(4, 400, 900)])).toBe(4);
    expect(() => bestLimit([])).toThrow(/no concurrency limit/);
  });
});

describe('pod-startup report', () => {
  const res: PodStartupResult = {
    pods: 3, rounds: 3, criLimit: '4',
    limitProbe: [{ limit: '1', p50: 500, p99: 900, makespan: 950 }, { limit: '4', p50: 300, p99: 400, makespan: 420 }],
    sequential: [roundOf(1, half(220, 260), half(200, 240)), roundOf(2, half(230, 300), half(190, 250)), roundOf(3, half(210, 250), half(210, 260))],
    concurrent: [roundOf(1, half(900, 1000), half(300, 400)), roundOf(2, half(800, 950), half(320, 410)), roundOf(3, half(850, 990), half(310, 405, 0.3))],
  };

  it('summarises rounds by medians and the spread of per-round ratios', () => {
    const s = summarizeRounds(res.sequential);
    expect(s.mkP50).toBe(220);
    expect(s.criP50).toBe(200);
    expect(s.ratioP50).toEqual({ min: 1, median: 1.1, max: 1.21 });
  });

  it('prints the docs table, the probes, every round and the busy halves', () => {
    const text = formatPodStartup(res).join('\n');
    expect(text).toContain('| pods | mk p50 (ms) | mk p99 (ms) | CRI p50 (ms) | CRI p99 (ms) | ratio p50 | ratio p99 |');
    expect(text).toContain('| 3 one after another | 220 | 260 | 200 | 250 | 1.10x (1.00-1.21) |');
    expect(text).toContain('| 3 at once (CRI limit 4) | 850 | 990 | 310 | 405 |');
    expect(text).toContain('| 4 (used) | 300 | 400 | 420 |');
    expect(text).toContain('| 2 | mk | 230 / 300 | 190 / 250 | 1.21x |');
    expect(text).toContain('1 of 12 halves started with the CPU still busy (up to 30.0 %)');
    const quiet = { ...res, concurrent: res.concurrent.map((r) => ({ ...r, cri: half(r.cri.p50, r.cri.p99, 0.05) })) };
    expect(formatPodStartup(quiet).join('\n')).toContain('Every half started with containerd empty and the CPU under 10 % busy (the busiest: 5.0 % over 500 ms).');
  });
});
