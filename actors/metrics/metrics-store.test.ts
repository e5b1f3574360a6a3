import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { isNotFound, isValidation } from '../../messages/errors';
import type { NodeUsageReport, PodMetrics, PodUsage } from '../../messages/usage';
import { MetricsStore, reportProblem, type LabelSource } from './metrics-store';
import { cpuQuantity, memoryQuantity, windowDuration } from './quantity';
import { HISTORY_MS, MIN_SPACING_MS, RING_SLOTS, SampleRing } from './ring';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MI = 2 ** 20;

const pod = (name: string, cpu: number, mem: number, namespace = 'default'): PodUsage => ({
  namespace, name, uid: `uid-${namespace}-${name}`, cpuNanoCores: cpu, memoryBytes: mem,
  containers: [{ name: 'main', cpuNanoCores: cpu, memoryBytes: mem }],
});
const report = (node: string, t: number, pods: PodUsage[], cpu = 0.5e9): NodeUsageReport => ({
  node, timestamp: new Date(t).toISOString(), windowSeconds: 5, usage: { cpuNanoCores: cpu, memoryBytes: 1024 * MI },
  capacity: { cpuNanoCores: 4e9, memoryBytes: 8192 * MI }, pods,
});
const LABELS: Record<string, Record<string, string>> = {
  'default/web-1': { app: 'web', tier: 'front' },
  'default/web-2': { app: 'web' },
  'default/db': { app: 'db' },
  'kube-system/dns': { app: 'dns' },
  'default/new': { app: 'new' },
};
const labels: LabelSource = {
  pod: (ns, name) => LABELS[`${ns}/${name}`],
  node: (name) => (name === 'gone' ? undefined : { 'kubernetes.io/hostname': name }),
};

describe('quantities as kubectl top shows them', () => {
  it('CPU in millicores, rounded up', () => {
    expect(cpuQuantity(0)).toBe('0m');
    expect(cpuQuantity(1)).toBe('1m');
    expect(cpuQuantity(1e6)).toBe('1m');
    expect(cpuQuantity(250e6)).toBe('250m');
    expect(cpuQuantity(1.5e9)).toBe('1500m');
    expect(cpuQuantity(-5)).toBe('0m');
  });

  it('memory in Ki, windows as durations', () => {
    expect(memoryQuantity(0)).toBe('0Ki');
    expect(memoryQuantity(12 * MI)).toBe('12288Ki');
    expect(memoryQuantity(1500)).toBe('1Ki');
    expect(windowDuration(5)).toBe('5s');
    expect(windowDuration(4.99812)).toBe('4.998s');
  });
});

describe('SampleRing', () => {
  it('keeps at most RING_SLOTS samples, spanning the history, and drops samples too close together', () => {
    const r = new SampleRing();
    expect(r.push({ t: T0, cpuNanoCores: 1, memoryBytes: 1 })).toBe(true);
    expect(r.push({ t: T0 + 1000, cpuNanoCores: 2, memoryBytes: 2 })).toBe(false);
    for (let i = 1; i < 3 * RING_SLOTS; i++) r.push({ t: T0 + i * MIN_SPACING_MS, cpuNanoCores: i, memoryBytes: i });
    expect(r.size).toBe(RING_SLOTS);
    expect(r.bytes).toBe(RING_SLOTS * 24);
    const all = r.since(0);
    expect(all).toHaveLength(RING_SLOTS);
    expect(all[0].cpuNanoCores).toBe(2 * RING_SLOTS);
    expect(all[all.length - 1].cpuNanoCores).toBe(3 * RING_SLOTS - 1);
    expect(all[all.length - 1].t - all[0].t).toBeCloseTo(HISTORY_MS - MIN_SPACING_MS, 5);
    expect(r.since(r.last()!.t - 2 * MIN_SPACING_MS)).toHaveLength(3);
  });
});

describe('MetricsStore', () => {
  const filled = (): MetricsStore => {
    const s = new MetricsStore();
    s.ingest(report('n1', T0, [pod('web-1', 250e6, 12 * MI), pod('db', 1.5e9, 300 * MI)]), T0);
    s.ingest(report('n2', T0, [pod('web-2', 1e6, MI), pod('dns', 0, 5 * MI, 'kube-system')]), T0);
    return s;
  };

  it('answers pods in metrics.k8s.io shapes, with labels and raw numbers', () => {
    const { items } = filled().query({ kind: 'pods' }, labels);
    expect(items.map((i) => `${(i as PodMetrics).metadata.namespace}/${i.metadata.name}`)).toEqual(['default/db', 'default/web-1', 'default/web-2', 'kube-system/dns']);
    const web = items.find((i) => i.metadata.name === 'web-1') as PodMetrics;
    expect(web).toMatchObject({
      apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', node: 'n1', window: '5s', timestamp: new Date(T0).toISOString(),
      metadata: { labels: { app: 'web', tier: 'front' } },
      containers: [{ name: 'main', usage: { cpu: '250m', memory: '12288Ki' }, raw: { cpuNanoCores: 250e6, memoryBytes: 12 * MI } }],
      raw: { cpuNanoCores: 250e6, memoryBytes: 12 * MI },
    });
  });

  it('filters by namespace, name and label selector', () => {
    const s = filled();
    const names = (r: { items: { metadata: { name: string } }[] }): string[] => r.items.map((i) => i.metadata.name);
    expect(names(s.query({ kind: 'pods', namespace: 'kube-system' }, labels))).toEqual(['dns']);
    expect(names(s.query({ kind: 'pods', namespace: 'default', name: 'db' }, labels))).toEqual(['db']);
    expect(names(s.query({ kind: 'pods', labelSelector: 'app=web' }, labels))).toEqual(['web-1', 'web-2']);
    expect(names(s.query({ kind: 'pods', labelSelector: 'app in (web,db),!tier' }, labels))).toEqual(['db', 'web-2']);
    expect(names(s.query({ kind: 'pods', namespace: 'default', labelSelector: 'app=dns' }, labels))).toEqual([]);
    expect(names(s.query({ kind: 'nodes' }, labels))).toEqual(['n1', 'n2']);
    expect(names(s.query({ kind: 'nodes', labelSelector: 'kubernetes.io/hostname=n2' }, labels))).toEqual(['n2']);
  });

  it('refuses a bad selector, kind or history by name', () => {
    const s = filled();
    const err = (f: () => unknown): unknown => { try { f(); } catch (e) { return e; } return undefined; };
    const bad = err(() => s.query({ kind: 'pods', labelSelector: 'app in web' }, labels));
    expect(isValidation(bad)).toBe(true);
    expect(String(bad)).toMatch(/invalid label selector "app in web"/);
    expect(String(err(() => s.query({ kind: 'pod' as never }, labels)))).toMatch(/kind must be "pods" or "nodes"/);
    expect(String(err(() => s.query({ kind: 'pods', historySeconds: -1 }, labels)))).toMatch(/historySeconds/);
  });

  it('says NotFound for a named pod or node without metrics, naming which', () => {
    const s = filled();
    const err = (f: () => unknown): unknown => { try { f(); } catch (e) { return e; } return undefined; };
    const notYet = err(() => s.query({ kind: 'pods', namespace: 'default', name: 'new' }, labels));
    expect(isNotFound(notYet)).toBe(true);
    expect(String(notYet)).toMatch(/metrics not available yet/);
    expect(String(err(() => s.query({ kind: 'pods', namespace: 'default', name: 'nosuch' }, labels)))).toMatch(/pods "nosuch" not found/);
    expect(String(err(() => s.query({ kind: 'nodes', name: 'n9' }, labels)))).toMatch(/nodemetrics "n9": metrics not available yet/);
    expect(String(err(() => s.query({ kind: 'nodes', name: 'gone' }, labels)))).toMatch(/nodes "gone" not found/);
  });

  it('gives the history asked for, oldest first, at most 10 minutes', () => {
    const s = new MetricsStore();
    for (let i = 0; i < 200; i++) s.ingest(report('n1', T0 + i * 5000, [pod('web-1', i * 1e6, MI)], i * 1e7), T0 + i * 5000);
    const last = T0 + 199 * 5000;
    const r = s.query({ kind: 'pods', name: 'web-1', namespace: 'default', historySeconds: 30 }, labels);
    const h = r.history!['default/web-1'];
    expect(h.map((x) => x.cpuNanoCores)).toEqual([193e6, 194e6, 195e6, 196e6, 197e6, 198e6, 199e6]);
    expect(h[h.length - 1].t).toBe(new Date(last).toISOString());
    const all = s.query({ kind: 'nodes', historySeconds: 3600 }, labels).history!.n1;
    expect(all.length).toBe(121);
    expect(Date.parse(all[all.length - 1].t) - Date.parse(all[0].t)).toBe(HISTORY_MS);
    expect(s.query({ kind: 'nodes' }, labels).history).toBeUndefined();
  });

  it('shows only pods in their node\'s latest report, and forgets nodes that stopped reporting', () => {
    const s = filled();
    s.ingest(report('n1', T0 + 5000, [pod('db', 1e9, MI)]), T0 + 5000);
    expect(s.query({ kind: 'pods', namespace: 'default' }, labels).items.map((i) => i.metadata.name)).toEqual(['db', 'web-2']);
    s.prune(T0 + 31_000);
    expect(s.query({ kind: 'nodes' }, labels).items.map((i) => i.metadata.name)).toEqual(['n1']);
    expect(s.query({ kind: 'pods' }, labels).items.map((i) => i.metadata.name)).toEqual(['db']);
    s.prune(T0 + HISTORY_MS + 60_000);
    expect(s.counts).toEqual({ nodes: 0, pods: 0 });
  });

  it('refuses a malformed report', () => {
    expect(reportProblem({ node: 'n1' })).toBe('no valid timestamp');
    expect(reportProblem({ ...report('n1', T0, []), pods: [{ name: 'x' }] })).toBe('a malformed pod');
    expect(() => new MetricsStore().ingest({ node: '' } as never, T0)).toThrow(/usage report: no node/);
  });

  it('holds 1,000 pods with full histories in a bounded amount of memory (about 5 MiB)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const reading = (): number => { gc(); return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers; };
    const pods = Array.from({ length: 1000 }, (_, i) => pod(`p-${i}`, 1e6 * i, MI * i));
    // 500 rounds from 10 nodes of 100 pods each, as close as the rings keep: every ring wraps
    // three times, so a ring that grew would show (500 samples a pod would be 11 MiB).
    const fill = (store: MetricsStore): void => {
      for (let i = 0; i < 500; i++) {
        const t = T0 + i * MIN_SPACING_MS;
        for (let n = 0; n < 10; n++) {
          store.ingest(report(`n${n}`, t, pods.slice(n * 100, n * 100 + 100).map((p) => ({ ...p, containers: [...p.containers] }))), t);
        }
      }
    };
    // The heap is the whole process's: garbage of earlier suites in this worker (their buffers
    // are freed by callbacks after a collection) can shrink a reading. The median of three
    // fillings, each of a fresh store kept until its reading, is the store's own.
    const readings: number[] = [];
    const held: { store?: MetricsStore } = {};
    for (let k = 0; k < 3; k++) {
      delete held.store;
      await new Promise((r) => setImmediate(r));
      const before = reading();
      held.store = new MetricsStore();
      fill(held.store);
      readings.push(reading() - before);
    }
    const s = held.store!;
    const used = readings.sort((a, b) => a - b)[1];
    expect(s.counts.pods).toBe(1000);
    expect(s.query({ kind: 'pods', name: 'p-7', namespace: 'default', historySeconds: 600 }, labels).history!['default/p-7']).toHaveLength(RING_SLOTS);
    // 1,000 rings of 3,840 bytes are 3.7 MiB; entries and latest usage add about 1 MiB. Only the
    // upper bound is asserted: a reading can only come out low (garbage of others freed during it).
    expect(used).toBeLessThan(8 * MI);
    // For the record, when run alone: `npx jest actors/metrics -t bounded` prints it.
    if (process.env.MK_SHOW_MEMORY) process.stdout.write(`metrics store: ${(used / MI).toFixed(2)} MiB for 1,000 pods\n`);
  }, 60_000);
});
