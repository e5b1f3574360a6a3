import { dashboardAimMet, formatDashboard, latency, summarizeDashboard, type DashboardResult, type DashboardRound } from './dashboard-report';

/** 1..100 ms scaled by `k`. */
const ramp = (k: number) => Array.from({ length: 100 }, (_, i) => (i + 1) * k);
const round = (r: number, page: number, bus: number, ws?: number): DashboardRound => ({
  round: r,
  phases: {
    paced: { page: ramp(page), bus: ramp(bus), ...(ws ? { ws: ramp(ws) } : {}) },
    burst: { page: ramp(page * 2), bus: ramp(bus), ...(ws ? { ws: ramp(ws) } : {}) },
  },
});

describe('dashboard benchmark figures', () => {
  it('takes p50 and p95 by nearest rank, and refuses no samples', () => {
    expect(latency(ramp(1))).toEqual({ p50: 50, p95: 95, n: 100 });
    expect(() => latency([])).toThrow('no samples');
  });

  it('summarizes each phase over the rounds: medians, ratios page / bus, and the extra ms', () => {
    const [paced, burst] = summarizeDashboard([round(1, 2, 0.1), round(2, 3, 0.1), round(3, 2, 0.2)]);
    expect(paced.page).toEqual({ p50: 100, p95: 190, n: 300 });
    expect(paced.bus).toEqual({ p50: 5, p95: 9.5, n: 300 });
    expect(paced.ratioP50).toEqual({ min: 10, median: 20, max: 30 });
    expect(paced.extraP95.median).toBe(180.5);
    expect(paced.ws).toBeUndefined();
    expect(burst.page.p95).toBe(380);
    expect(dashboardAimMet(paced)).toBe(true);
    expect(dashboardAimMet(burst)).toBe(false);
  });

  it('refuses no rounds', () => {
    expect(() => summarizeDashboard([])).toThrow('no rounds');
  });
});

describe('dashboard benchmark report', () => {
  it('prints both phases, the websocket column when measured, and the aim', () => {
    const res: DashboardResult = { changes: 100, pods: 100, gapMs: 50, rounds: [round(1, 2, 0.1, 0.5)] };
    const lines = formatDashboard(res);
    expect(lines).toContain('| paced | 100 / 190 | 5 / 9.5 | 25 / 47.5 | 20x (20-20) | 20x (20-20) | 180.5 (180.5-180.5) |');
    expect(lines).toContain('Aim (the page within 250 ms at p95): paced met (190 ms), burst not met (380 ms).');
  });

  it('says why the websocket alternative was skipped, without its column', () => {
    const lines = formatDashboard({ changes: 100, pods: 100, gapMs: 50, rounds: [round(1, 2, 0.1)], wsSkipped: 'no bundle' });
    expect(lines).toContain('| phase | page p50 / p95 | bus p50 / p95 | ratio p50 | ratio p95 | page - bus at p95 (ms) |');
    expect(lines[lines.length - 1]).toBe('The browser over nats-server\'s websocket listener was not measured: no bundle.');
  });
});
