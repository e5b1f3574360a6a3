import { hollowNodeName, hollowNodeStatus, hollowRunningStatus } from './hollow-node';
import {
  formatScheduling, perSecond, procCpuTicks, procStatusKb, rssPer1000Pods, summarizePods, type SchedulingRun,
} from './scheduling-report';
import type { Pod } from '../../messages';

describe('/proc readers', () => {
  it('reads VmRSS and VmHWM in kB from /proc/<pid>/status', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  124300 kB\nVmRSS:\t  123292 kB\nThreads:\t11\n';
    expect(procStatusKb(status, 'VmRSS')).toBe(123292);
    expect(procStatusKb(status, 'VmHWM')).toBe(124300);
    expect(() => procStatusKb('Name:\tnode\n', 'VmRSS')).toThrow('/proc status has no VmRSS line');
  });

  it('reads user + system ticks from /proc/<pid>/stat, even with spaces and parentheses in the name', () => {
    // Fields 14 (utime) = 250 and 15 (stime) = 40.
    const stat = '4242 (node (mk) x) S 1 4242 4242 0 -1 4194304 1000 0 0 0 250 40 0 0 20 0 11 0 500 1000000 20000';
    expect(procCpuTicks(stat)).toBe(290);
    expect(() => procCpuTicks('4242 (node) S 1')).toThrow('utime and stime');
  });
});

describe('scheduling figures', () => {
  const times = [
    { createdAt: 1000, boundAt: 1010, runningAt: 1020, node: 'hollow-0' },
    { createdAt: 1001, boundAt: 1031, runningAt: 1040, node: 'hollow-1' },
    { createdAt: 1002, boundAt: 1102, node: 'hollow-0' },
    { createdAt: 1003 },
  ];

  it('times everything from the first apply and counts pods per node, a node without pods as 0', () => {
    const s = summarizePods(times, 3);
    expect(s).toMatchObject({ t0: 1000, boundMs: 102, bound: 3, runningMs: 40, running: 2, perNode: { min: 0, max: 2 } });
    // Apply -> bound: 10, 30, 100 ms.
    expect(s.bindLatency).toEqual({ p50: 30, p99: 100 });
    expect(summarizePods(times, 2).perNode).toEqual({ min: 1, max: 2 });
  });

  it('gives rates per second and memory per 1,000 pods', () => {
    expect(perSecond(500, 4174.5)).toBe(119.8);
    const r = { pods: 500, rss: { beforeKb: 74088, afterKb: 123292, peakKb: 124300 } } as SchedulingRun;
    expect(rssPer1000Pods(r)).toBe(96.1);
  });
});

describe('scheduling report', () => {
  const run = (nodes: number, bound: number, boundMs: number, busyBefore = 0.02): SchedulingRun => ({
    nodes, pods: 10_000, hollowProcesses: Math.ceil(nodes / 250), window: 100, createMs: 8000, boundMs, bound, runningMs: boundMs + 100, running: bound,
    bindLatency: { p50: 12, p99: 80 }, perNode: { min: 9, max: 11 }, rss: { beforeKb: 80 * 1024, afterKb: 280 * 1024, peakKb: 300 * 1024 },
    cpuSeconds: { controlPlane: 20.04, nats: 5, hollow: 3, client: 1 }, busyBefore,
  });

  it('prints a row per run with rates, latency, memory and CPU', () => {
    const lines = formatScheduling([run(100, 10_000, 8000)]);
    expect(lines[2]).toBe('| 100 | 10000 | 1250 | 1250 | 1234.6 | 12 / 80 | 9-11 | 80 / 280 / 300 | 20 | 20 / 5 / 3 / 1 |');
    expect(lines).toContain("Reference: kube-scheduler sustains about 100 pods/s at 5,000 nodes in Kubernetes' scalability tests.");
    expect(lines).toContain('Aim: 1000 pods/s at 1000 nodes: not judged (no run at 1000 nodes).');
  });

  it('judges the aim at 1,000 nodes only when every pod was bound fast enough', () => {
    expect(formatScheduling([run(1000, 10_000, 9000)])).toContain('Aim: 1000 pods/s at 1000 nodes: met (1111.1 pods/s, 10000 of 10000 bound).');
    expect(formatScheduling([run(1000, 10_000, 20_000)])).toContain('Aim: 1000 pods/s at 1000 nodes: not met (500 pods/s, 10000 of 10000 bound).');
    const partial = formatScheduling([run(1000, 9000, 5000, 0.5)]);
    expect(partial).toContain('Aim: 1000 pods/s at 1000 nodes: not met (1800 pods/s, 9000 of 10000 bound).');
    expect(partial[2]).toContain('| 10000 (9000 bound) |');
    expect(partial[partial.length - 1]).toBe('1 of 1 runs started with the CPU still busy (up to 50 %): another workload ran on this machine.');
  });
});

describe('hollow nodes', () => {
  it('register as a 110-pod machine with a name and fake addresses of their own', () => {
    const s = hollowNodeStatus(300);
    expect(hollowNodeName(300)).toBe('hollow-300');
    expect(s.allocatable).toEqual({ cpu: '4', memory: '16Gi', pods: '110' });
    expect(s.addresses).toEqual([{ type: 'InternalIP', address: '10.255.1.44' }, { type: 'Hostname', address: 'hollow-300' }]);
  });

  it('report every container of a pod running and ready at once', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', uid: 'u1' },
      spec: { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }] },
    } as Pod;
    const st = hollowRunningStatus(pod, 2, 300, '2026-11-30T00:00:00Z');
    expect(st.phase).toBe('Running');
    expect(st.podIP).toBe('10.254.2.47');
    expect(st.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['Initialized=True', 'ContainersReady=True', 'Ready=True']);
    expect(st.containerStatuses?.map((c) => [c.name, c.ready, c.containerID, c.state.running?.startedAt])).toEqual([
      ['a', true, 'hollow://u1/a', '2026-11-30T00:00:00Z'], ['b', true, 'hollow://u1/b', '2026-11-30T00:00:00Z'],
    ]);
  });
});
