import { corePctPer1000, formatProbes, type ProbesHalf, type ProbesRound, type ProbesRun } from './probes-report';
import { Container } from '../../messages/pod';
import { probeIssues } from '../../messages/probe';
import { probedContainer } from './probes';

const half = (cpu: number, rssKb: number, probes = 0, busyBefore = 0.02): ProbesHalf => ({ cpu, rssKb, probes, failures: 0, busyBefore });
const round = (on: number, off: number, busy = 0.02): ProbesRound => ({
  first: 'on', on: half(on, 120 * 1024, 6000, busy), off: half(off, 100 * 1024),
});

describe('probes report', () => {
  it('gives the CPU the probes add, per 1,000 pods', () => {
    expect(corePctPer1000(round(0.03, 0.01), 2000)).toBeCloseTo(1);
    expect(corePctPer1000(round(0.05, 0.01), 1000)).toBeCloseTo(4);
  });

  it('prints a row per period and judges the aim at periodSeconds 10', () => {
    const run: ProbesRun = {
      pods: 1000, seconds: 30, probesPerPod: 2,
      periods: [{ periodSeconds: 10, rounds: [round(0.03, 0.01), round(0.04, 0.01)] }, { periodSeconds: 1, rounds: [round(0.3, 0.01)] }],
    };
    const lines = formatProbes(run);
    expect(lines[0]).toBe('1000 pods, 2 probes each (liveness and readiness; half httpGet, half tcpSocket), 30 s windows, 2 rounds alternating.');
    expect(lines[4]).toBe('| 10 | 200 | 0 | 3.5 (3-4) | 1 (1-1) | 2.5 (2-3) | 120 / 100 | 20 |');
    expect(lines[5]).toBe('| 1 | 200 | 0 | 30 (30-30) | 1 (1-1) | 29 (29-29) | 120 / 100 | 20 |');
    expect(lines).toContain('Aim: under 5 % of a core per 1,000 pods at periodSeconds 10: met (2.5 %).');
  });

  it('says when the aim is missed, not judged, or the CPU was busy', () => {
    const missed = formatProbes({ pods: 500, seconds: 10, probesPerPod: 2, periods: [{ periodSeconds: 10, rounds: [round(0.05, 0.01, 0.3)] }] });
    expect(missed[0]).toContain('10 s windows, 1 round alternating.');
    expect(missed).toContain('Aim: under 5 % of a core per 1,000 pods at periodSeconds 10: not met (8 %).');
    expect(missed[missed.length - 1]).toBe('1 of 2 halves started with the CPU still busy (up to 30 %): another workload ran on this machine.');
    const other = formatProbes({ pods: 500, seconds: 10, probesPerPod: 2, periods: [{ periodSeconds: 1, rounds: [round(0.05, 0.01)] }] });
    expect(other).toContain('Aim: under 5 % of a core per 1,000 pods at periodSeconds 10: not judged (no run at that period).');
  });
});

describe('probed containers', () => {
  const ports = { http: 8080, tcp: 9090 };

  it('probe even pods over httpGet and odd ones over tcpSocket, liveness and readiness alike, valid as the api checks them', () => {
    const even = Container.parse(probedContainer(0, true, 10, ports));
    const odd = Container.parse(probedContainer(1, true, 1, ports));
    expect(even.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 8080, host: '127.0.0.1' }, periodSeconds: 10, timeoutSeconds: 1 });
    expect(even.readinessProbe).toEqual(even.livenessProbe);
    expect(odd.readinessProbe).toEqual({ tcpSocket: { port: 9090, host: '127.0.0.1' }, periodSeconds: 1, timeoutSeconds: 1 });
    expect(probeIssues(even)).toEqual([]);
    expect(probeIssues(odd)).toEqual([]);
  });

  it('carry no probe in the baseline', () => {
    const c = probedContainer(0, false, 10, ports);
    expect(c.livenessProbe).toBeUndefined();
    expect(c.readinessProbe).toBeUndefined();
  });
});
