/**
 * The `mk top` tables from a fake mk.api.metrics reply (fakeMetricsReply below: made up, not from
 * a cluster), column for column as kubectl top prints them.
 */
import type { NodeMetrics, PodMetrics } from '../../../messages/usage';
import { renderTopNodes, renderTopPods, topCpu, topMemory, topPercent } from '../../../cli/output/top';
import { renderMetrics } from '../../../cli/top';

const MI = 2 ** 20;

const podMetrics = (namespace: string, name: string, containers: [string, number, number][]): PodMetrics => ({
  apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name, namespace }, timestamp: '2026-01-01T00:00:00Z', window: '5s',
  node: 'n1',
  containers: containers.map(([c, cpu, mem]) => ({ name: c, usage: { cpu: '', memory: '' }, raw: { cpuNanoCores: cpu, memoryBytes: mem } })),
  raw: { cpuNanoCores: containers.reduce((a, c) => a + c[1], 0), memoryBytes: containers.reduce((a, c) => a + c[2], 0) },
});
const nodeMetrics = (name: string, cpu: number, mem: number): NodeMetrics => ({
  apiVersion: 'metrics.k8s.io/v1beta1', kind: 'NodeMetrics', metadata: { name }, timestamp: '2026-01-01T00:00:00Z', window: '5s',
  usage: { cpu: '', memory: '' }, raw: { cpuNanoCores: cpu, memoryBytes: mem }, capacity: { cpuNanoCores: 4e9, memoryBytes: 8192 * MI },
});

/** A fake reply of mk.api.metrics. */
const fakeMetricsReply = {
  pods: [
    podMetrics('default', 'busy', [['main', 980e6, 3 * MI + 5], ['side', 1, 10 * MI]]),
    podMetrics('default', 'idle', [['main', 0, 700 * 1024]]),
    podMetrics('kube-system', 'coredns-abc', [['coredns', 2.5e6, 14 * MI]]),
  ],
  nodes: [nodeMetrics('node-1', 1.25e9, 3000 * MI), nodeMetrics('node-2', 0.1e9, 5000 * MI)],
};

describe('kubectl top\'s units', () => {
  it('CPU in millicores rounded up, memory in Mi rounded down, percents truncated', () => {
    expect([0, 1, 1e6, 250e6, 1.5e9].map(topCpu)).toEqual(['0m', '1m', '1m', '250m', '1500m']);
    expect([0, MI - 1, 12 * MI, 12.9 * MI].map(topMemory)).toEqual(['0Mi', '0Mi', '12Mi', '12Mi']);
    expect(topPercent(1, 3)).toBe('33%');
    expect(topPercent(1, 0)).toBe('<unknown>');
  });
});

describe('mk top pods', () => {
  it('NAME CPU(cores) MEMORY(bytes), aligned', () => {
    expect(renderTopPods(fakeMetricsReply.pods.slice(0, 2))).toBe([
      'NAME   CPU(cores)   MEMORY(bytes)',
      'busy   981m         13Mi',
      'idle   0m           0Mi',
      '',
    ].join('\n'));
  });

  it('-A puts NAMESPACE first; --sort-by orders largest first; --no-headers drops the header', () => {
    expect(renderTopPods(fakeMetricsReply.pods, { allNamespaces: true, sortBy: 'memory', noHeaders: true })).toBe([
      'kube-system   coredns-abc   3m     14Mi',
      'default       busy          981m   13Mi',
      'default       idle          0m     0Mi',
      '',
    ].join('\n'));
  });

  it('--containers: a line per container under POD and NAME', () => {
    expect(renderTopPods(fakeMetricsReply.pods.slice(0, 1), { containers: true, sortBy: 'cpu' })).toBe([
      'POD    NAME   CPU(cores)   MEMORY(bytes)',
      'busy   main   980m         3Mi',
      'busy   side   1m           10Mi',
      '',
    ].join('\n'));
  });
});

describe('mk top nodes', () => {
  it('NAME CPU(cores) CPU% MEMORY(bytes) MEMORY%, and <unknown> for a node that has not reported', () => {
    expect(renderTopNodes(fakeMetricsReply.nodes, { sortBy: 'memory', withoutMetrics: ['node-3'] })).toBe([
      'NAME     CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%',
      'node-2   100m         2%          5000Mi          61%',
      'node-1   1250m        31%         3000Mi          36%',
      'node-3   <unknown>    <unknown>   <unknown>       <unknown>',
      '',
    ].join('\n'));
  });

  it('-o json lists as NodeMetricsList; one named item alone', () => {
    const list = JSON.parse(renderMetrics('json', 'NodeMetricsList', fakeMetricsReply.nodes, false)) as { kind: string; items: unknown[] };
    expect(list.kind).toBe('NodeMetricsList');
    expect(list.items).toHaveLength(2);
    expect(JSON.parse(renderMetrics('json', 'NodeMetricsList', fakeMetricsReply.nodes.slice(0, 1), true))).toMatchObject({ kind: 'NodeMetrics' });
    expect(renderMetrics('yaml', 'PodMetricsList', [], false)).toMatch(/^apiVersion: metrics.k8s.io\/v1beta1\nkind: PodMetricsList\n/);
  });
});
