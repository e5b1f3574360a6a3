import { register } from 'prom-client';
import type { ContainerStats, ListContainersResponse, ListContainerStatsResponse } from '../cri/types';
import type { NodeUsageReport } from '../../messages/usage';
import { startStatsSampler, statsIntervalFromEnv, type StatsSampler } from './sampler';

const S = 1e9;

/** A fake CRI: the containers and counters each test sets, and a switch to make it fail. */
class FakeCri {
  containers = new Map<string, { pod: string; name: string; cpuNs: number; mem: number; running: boolean }>();
  now = 0;
  failing = false;

  async listContainerStats(): Promise<ListContainerStatsResponse> {
    if (this.failing) throw new Error('CRI ListContainerStats: deadline exceeded');
    const stats: ContainerStats[] = [...this.containers].map(([id, c]) => ({
      attributes: {
        id, metadata: null, annotations: {},
        labels: { 'mk.io/pod-uid': `uid-${c.pod}`, 'mk.io/pod-name': c.pod, 'mk.io/pod-namespace': 'default', 'mk.io/container-name': c.name },
      },
      cpu: { timestamp: this.now, usageCoreNanoSeconds: { value: c.cpuNs }, usageNanoCores: { value: 123 } },
      memory: {
        timestamp: this.now, workingSetBytes: { value: c.mem }, availableBytes: null, usageBytes: null, rssBytes: null, pageFaults: null,
        majorPageFaults: null,
      },
    }));
    return { stats };
  }

  async listContainers(): Promise<ListContainersResponse> {
    return { containers: [...this.containers].filter(([, c]) => c.running).map(([id]) => ({ id }) as never) };
  }

  /** Advances the clock by `seconds`, each running container using `cores` of CPU. */
  advance(seconds: number, cores: Record<string, number>): void {
    this.now += seconds * S;
    for (const [id, c] of this.containers) if (c.running) c.cpuNs += (cores[id] ?? 0) * seconds * S;
  }
}

describe('the stats sampler (fake CRI)', () => {
  let cri: FakeCri;
  let sampler: StatsSampler | undefined;
  let published: NodeUsageReport[];
  let up: boolean;
  let machineTicks: number;

  const start = (): StatsSampler => startStatsSampler({
    nodeName: 'n1', cri, capacity: { capacity: { cpu: '4', memory: '8Gi' } }, publish: (r) => published.push(r), connected: () => up,
    intervalMs: 3_600_000,
    // Two CPUs, busy half the ticks.
    readMachine: async () => { machineTicks += 100; return { cpu: { busy: machineTicks / 2, total: machineTicks, cpus: 2 }, memoryBytes: 3 * 2 ** 30 }; },
  });

  beforeEach(() => {
    cri = new FakeCri();
    published = [];
    up = true;
    machineTicks = 0;
    cri.containers.set('c1', { pod: 'busy', name: 'main', cpuNs: 0, mem: 10 * 2 ** 20, running: true });
    cri.containers.set('c2', { pod: 'busy', name: 'side', cpuNs: 0, mem: 2 ** 20, running: true });
    cri.containers.set('c3', { pod: 'idle', name: 'main', cpuNs: 0, mem: 2 ** 20, running: true });
    cri.containers.set('x', { pod: 'done', name: 'main', cpuNs: 5 * S, mem: 0, running: false });
  });
  afterEach(async () => { await sampler?.stop(); sampler = undefined; });

  it('reports rates from two rounds, sums containers into pods, leaves exited ones out', async () => {
    sampler = start();
    await sampler.sample(); // the first round (started at once) makes no report
    expect(published).toEqual([]);
    cri.advance(5, { c1: 0.75, c2: 0.25, c3: 0 });
    const r = (await sampler.sample())!;
    expect(published).toHaveLength(1);
    expect(r.node).toBe('n1');
    expect(r.capacity).toEqual({ cpuNanoCores: 4e9, memoryBytes: 8 * 2 ** 30 });
    expect(r.usage).toEqual({ cpuNanoCores: 1e9, memoryBytes: 3 * 2 ** 30 });
    expect(r.pods.map((p) => p.name)).toEqual(['busy', 'idle']);
    const busy = r.pods[0];
    expect(busy.cpuNanoCores).toBe(1e9);
    expect(busy.memoryBytes).toBe(11 * 2 ** 20);
    expect(busy.containers.map((c) => [c.name, c.cpuNanoCores])).toEqual([['main', 0.75e9], ['side', 0.25e9]]);
    expect(r.pods[1].cpuNanoCores).toBe(0);
  });

  it('starts a new rate for a restarted container (new id) and forgets removed ones', async () => {
    sampler = start();
    await sampler.sample();
    cri.advance(5, { c1: 1 });
    await sampler.sample();
    cri.containers.delete('c1');
    cri.containers.set('c1b', { pod: 'busy', name: 'main', cpuNs: 0.1 * S, mem: 2 ** 20, running: true });
    cri.advance(5, { c1b: 1, c2: 0.5 });
    const r = (await sampler.sample())!;
    // The new instance has no rate yet: only the side car is in the pod this round.
    expect(r.pods.find((p) => p.name === 'busy')!.containers.map((c) => c.name)).toEqual(['side']);
    cri.advance(5, { c1b: 1 });
    const next = (await sampler.sample())!;
    const main = next.pods.find((p) => p.name === 'busy')!.containers.find((c) => c.name === 'main')!;
    expect(main.cpuNanoCores).toBe(1e9);
    expect(next.pods.flatMap((p) => p.containers).every((c) => c.cpuNanoCores >= 0)).toBe(true);
  });

  it('skips the publish while the bus is down, and a failing CRI skips rounds without throwing', async () => {
    sampler = start();
    await sampler.sample();
    up = false;
    cri.advance(5, { c1: 1 });
    expect(await sampler.sample()).toBeDefined();
    expect(published).toHaveLength(0);
    up = true;
    cri.failing = true;
    expect(await sampler.sample()).toBeUndefined();
    cri.failing = false;
    // After a failure the rates start again from two rounds.
    expect(await sampler.sample()).toBeUndefined();
    cri.advance(5, { c1: 1 });
    expect((await sampler.sample())!.pods[0].cpuNanoCores).toBe(1e9);
    expect(published).toHaveLength(1);
  });

  it('sets the gauges, and removes the series of pods that are gone', async () => {
    sampler = start();
    await sampler.sample();
    cri.advance(5, { c1: 0.5 });
    await sampler.sample();
    const text = await register.getSingleMetricAsString('mk_container_cpu_usage_cores');
    expect(text).toContain('mk_container_cpu_usage_cores{namespace="default",pod="busy",container="main"} 0.5');
    expect(await register.getSingleMetricAsString('mk_node_cpu_usage_cores')).toMatch(/mk_node_cpu_usage_cores 1$/m);
    cri.containers.delete('c3');
    cri.advance(5, {});
    await sampler.sample();
    expect(await register.getSingleMetricAsString('mk_container_memory_working_set_bytes')).not.toContain('pod="idle"');
  });
});

describe('statsIntervalFromEnv', () => {
  it('reads MK_STATS_INTERVAL as a duration (a bare number is seconds), and names it when wrong', () => {
    expect(statsIntervalFromEnv({})).toBe(5000);
    expect(statsIntervalFromEnv({ MK_STATS_INTERVAL: '2' })).toBe(2000);
    expect(statsIntervalFromEnv({ MK_STATS_INTERVAL: '1.5s' })).toBe(1500);
    expect(statsIntervalFromEnv({ MK_STATS_INTERVAL: '500ms' })).toBe(500);
    expect(() => statsIntervalFromEnv({ MK_STATS_INTERVAL: 'soon' })).toThrow(/MK_STATS_INTERVAL: "soon" is not a duration/);
    expect(() => statsIntervalFromEnv({ MK_STATS_INTERVAL: '50ms' })).toThrow(/at least 100ms/);
  });
});
