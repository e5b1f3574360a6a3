import { formatProxySync, type ProxySyncRound } from './proxy-sync-report';

const r = (partialMs: number, fullMs: number): ProxySyncRound => ({ first: 'partial', partialMs, fullMs, partialBytes: 512, fullBytes: 2048 * 1024 });

describe('proxy-sync report', () => {
  it('prints the first sync, the partial one and the full resync with their inputs and ratios', () => {
    const lines = formatProxySync({ services: 1000, endpoints: 10, firstSyncMs: 812.34, firstBytes: 2048 * 1024, natRules: 33000, rounds: [r(10, 500), r(20, 400)], busyBefore: 0.02 });
    expect(lines[0]).toBe('1000 services x 10 endpoints (33000 nat rules), 2 rounds alternating.');
    expect(lines[4]).toBe('| first (full, from nothing) | 812.3 | 2048 KiB |');
    expect(lines[5]).toBe('| one endpoint changed (partial) | 15 (10-20) | 512 B |');
    expect(lines[6]).toBe('| full resync of the same state | 450 (400-500) | 2048 KiB |');
    expect(lines[8]).toBe('Partial / full resync: time 0.035 (0.02-0.05)x, input 0.0002 (0.0002-0.0002)x.');
    expect(lines).toHaveLength(9);
  });

  it('says when the machine was busy', () => {
    const lines = formatProxySync({ services: 10, endpoints: 1, firstSyncMs: 5, firstBytes: 100, natRules: 40, rounds: [r(1, 2)], busyBefore: 0.4 });
    expect(lines[0]).toContain('1 round alternating.');
    expect(lines[lines.length - 1]).toBe('The CPU was 40 % busy before the run: another workload ran on this machine.');
  });
});
