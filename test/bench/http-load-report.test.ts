import { formatLoad, formatSynRetrans, rps, type LoadResult, type LoadSample } from './http-load-report';

const res = (requests: number, p99: number): LoadResult => ({ requests, errors: 0, seconds: 2, p50: p99 / 2, p99 });
const sample = (round: number, mode: string, target: string, requests: number, p99: number): LoadSample => ({ round, mode, target, result: res(requests, p99) });

describe('http load report', () => {
  it('gives requests per second', () => {
    expect(rps(res(1000, 1))).toBe(500);
    expect(rps({ ...res(10, 1), seconds: 0 })).toBe(0);
  });

  it('prints medians over rounds and the ratios of the same round, and judges the aim per target', () => {
    const lines = formatLoad({
      title: 'one pod', targets: ['pod', 'clusterIP'], modes: ['keep-alive'], aim: 0.95, busyBefore: [0.01, 0.5],
      samples: [
        sample(1, 'keep-alive', 'pod', 2000, 4), sample(1, 'keep-alive', 'clusterIP', 1900, 4),
        sample(2, 'keep-alive', 'pod', 1000, 8), sample(2, 'keep-alive', 'clusterIP', 800, 16),
      ],
    });
    expect(lines[0]).toBe('one pod, 2 rounds alternating.');
    expect(lines[4]).toBe('| keep-alive | pod | 750 (500-1000) | 3 | 6 | 0 | 1 | 1 |');
    expect(lines[5]).toBe('| keep-alive | clusterIP | 675 (400-950) | 5 | 10 | 0 | 0.88 (0.8-0.95) | 1.5 (1-2) |');
    expect(lines).toContain('Aim: at least 0.95x the requests per second of pod: keep-alive, clusterIP: not met (0.88x).');
    expect(formatLoad({ title: 't', targets: ['pod'], modes: ['keep-alive'], busyBefore: [], samples: [sample(1, 'keep-alive', 'pod', 10, 1)] }).join('\n')).not.toContain('Aim');
    expect(lines[lines.length - 1]).toBe('1 of 2 rounds started with the CPU busy (up to 50 %): another workload ran on this machine.');
  });

  it('prints the client\'s SYN retransmits per mode and target, nothing without counts', () => {
    expect(formatSynRetrans(new Map())).toEqual([]);
    expect(formatSynRetrans(new Map([['new-connection, pod IP', 0], ['new-connection, NodePort', 12]])))
      .toEqual(['', 'SYN retransmits by the client: new-connection, pod IP 0; new-connection, NodePort 12.']);
  });
});
