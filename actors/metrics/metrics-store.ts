/**
 * What the metrics actor holds, as pure logic: the latest report of each node, a ring of samples
 * per pod and per node, and the answers to MetricsRequests in metrics.k8s.io's shapes
 * (PodMetrics, NodeMetrics: https://github.com/kubernetes/metrics/blob/master/pkg/apis/metrics/v1beta1/types.go).
 *
 * Memory: a pod costs its ring (ring.ts: 3,840 bytes) plus its entry and its latest usage (about
 * 600 bytes with one container), so about 4.5 MiB per 1,000 pods with full histories (measured by
 * metrics-store.test.ts: 4.3 MiB).
 */
import { NotFoundError, ValidationError } from '../../messages/errors';
import { matches, parseSelector } from '../../messages/selectors';
import type {
  MetricsRequest, MetricsResult, NodeMetrics, NodeUsageReport, PodMetrics, PodUsage, UsageSample,
} from '../../messages/usage';
import { cpuQuantity, memoryQuantity, windowDuration } from './quantity';
import { HISTORY_MS, SampleRing, type RingSample } from './ring';

/** Settings of the store. */
export interface MetricsStoreOptions {
  /**
   * A node that sent nothing for this long is forgotten (with its pods' current usage). Default:
   * three of its windows, and at least 30 s.
   */
  staleAfterMs?: number;
}

/** Labels of the objects, from the leader's informers: undefined when the object is not known. */
export interface LabelSource {
  pod(namespace: string, name: string): Record<string, string> | undefined;
  node(name: string): Record<string, string> | undefined;
}

interface NodeEntry { report: NodeUsageReport; receivedAt: number; ring: SampleRing; pods: Set<string> }
interface PodEntry { node: string; uid: string; usage: PodUsage; ring: SampleRing; timestamp: string; window: number }

const MIN_STALE_MS = 30_000;

const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;
const sample = (t: number, u: { cpuNanoCores: number; memoryBytes: number }): RingSample => ({ t, cpuNanoCores: u.cpuNanoCores, memoryBytes: u.memoryBytes });
const asSample = (s: RingSample): UsageSample => ({ t: new Date(s.t).toISOString(), cpuNanoCores: s.cpuNanoCores, memoryBytes: s.memoryBytes });

/** Says what is wrong with a report, or undefined when it has the contract's shape. */
export function reportProblem(r: unknown): string | undefined {
  const o = r as Partial<NodeUsageReport> | null;
  if (typeof o !== 'object' || o === null) return 'not an object';
  if (typeof o.node !== 'string' || o.node === '') return 'no node';
  if (typeof o.timestamp !== 'string' || Number.isNaN(Date.parse(o.timestamp))) return 'no valid timestamp';
  if (!isUsage(o.usage) || !isUsage(o.capacity)) return 'no usage or capacity';
  if (!Array.isArray(o.pods)) return 'no pods';
  for (const p of o.pods) {
    if (typeof p?.namespace !== 'string' || typeof p.name !== 'string' || !isUsage(p) || !Array.isArray(p.containers)) return 'a malformed pod';
  }
  return undefined;
}

function isUsage(u: unknown): boolean {
  const o = u as { cpuNanoCores?: unknown; memoryBytes?: unknown } | undefined;
  return typeof o?.cpuNanoCores === 'number' && o.cpuNanoCores >= 0 && typeof o.memoryBytes === 'number' && o.memoryBytes >= 0;
}

/** The reports and histories, and the answers. */
export class MetricsStore {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly pods = new Map<string, PodEntry>();

  constructor(private readonly opts: MetricsStoreOptions = {}) {}

  /** Takes a node's report (received at `now`, epoch ms). Throws ValidationError for a malformed one. */
  ingest(report: NodeUsageReport, now: number): void {
    const problem = reportProblem(report);
    if (problem) throw new ValidationError(`usage report: ${problem}`);
    const t = Date.parse(report.timestamp);
    const entry = this.nodes.get(report.node) ?? { report, receivedAt: now, ring: new SampleRing(), pods: new Set<string>() };
    entry.report = report;
    entry.receivedAt = now;
    entry.ring.push(sample(t, report.usage));
    const current = new Set<string>();
    for (const p of report.pods) {
      const key = podKey(p.namespace, p.name);
      current.add(key);
      let pod = this.pods.get(key);
      // Another pod of that name (new uid), or moved: its history starts over.
      if (!pod || pod.uid !== p.uid || pod.node !== report.node) {
        pod = { node: report.node, uid: p.uid, usage: p, ring: new SampleRing(), timestamp: report.timestamp, window: report.windowSeconds };
        this.pods.set(key, pod);
      }
      pod.usage = p;
      pod.timestamp = report.timestamp;
      pod.window = report.windowSeconds;
      pod.ring.push(sample(t, p));
    }
    entry.pods = current;
    this.nodes.set(report.node, entry);
  }

  /**
   * Forgets nodes that stopped reporting (and, with them, their pods' current usage), and pods
   * whose newest sample is older than the history. Call it now and then.
   */
  prune(now: number): void {
    for (const [name, n] of this.nodes) {
      const stale = this.opts.staleAfterMs ?? Math.max(MIN_STALE_MS, 3 * n.report.windowSeconds * 1000);
      if (now - n.receivedAt > stale) this.nodes.delete(name);
    }
    // A pod out of every current report keeps its history for as long as it would be shown.
    for (const [key, p] of this.pods) {
      const current = this.nodes.get(p.node)?.pods.has(key) ?? false;
      if (!current && now - (p.ring.last()?.t ?? 0) > HISTORY_MS) this.pods.delete(key);
    }
  }

  /** How many nodes and pod histories it holds (tests, logs). */
  get counts(): { nodes: number; pods: number } {
    return { nodes: this.nodes.size, pods: this.pods.size };
  }

  /**
   * Answers a MetricsRequest. Throws ValidationError for a bad kind, selector or historySeconds,
   * NotFoundError for a named object without metrics (`metrics not available yet`, or the pod or
   * node itself not found when `labels` does not know it).
   */
  query(req: MetricsRequest, labels: LabelSource): MetricsResult {
    if (req.kind !== 'pods' && req.kind !== 'nodes') throw new ValidationError(`kind must be "pods" or "nodes" (got ${JSON.stringify(req.kind)})`);
    if (req.historySeconds !== undefined && !(typeof req.historySeconds === 'number' && req.historySeconds >= 0)) {
      throw new ValidationError(`historySeconds must be a number of seconds >= 0 (got ${JSON.stringify(req.historySeconds)})`);
    }
    if (req.labelSelector !== undefined && typeof req.labelSelector !== 'string') throw new ValidationError('labelSelector must be a string');
    const selector = req.labelSelector ? parseSelector(req.labelSelector) : [];
    const historyMs = req.historySeconds === undefined ? undefined : Math.min(req.historySeconds * 1000, HISTORY_MS);
    const history: Record<string, UsageSample[]> = {};
    const withHistory = (key: string, ring: SampleRing): void => {
      if (historyMs === undefined) return;
      const last = ring.last();
      history[key] = last ? ring.since(last.t - historyMs).map(asSample) : [];
    };
    if (req.kind === 'nodes') {
      const items: NodeMetrics[] = [];
      for (const [name, n] of [...this.nodes].sort(([a], [b]) => a.localeCompare(b))) {
        if (req.name !== undefined && name !== req.name) continue;
        if (selector.length > 0 && !matches(selector, labels.node(name))) continue;
        items.push(nodeMetrics(n.report));
        withHistory(name, n.ring);
      }
      if (req.name !== undefined && items.length === 0) {
        if (!labels.node(req.name)) throw new NotFoundError(`nodes "${req.name}" not found`);
        throw new NotFoundError(`nodemetrics "${req.name}": metrics not available yet`);
      }
      return { items, ...(historyMs !== undefined ? { history } : {}) };
    }
    const items: PodMetrics[] = [];
    const keys = [...this.pods.keys()].sort();
    for (const key of keys) {
      const p = this.pods.get(key)!;
      const ns = p.usage.namespace;
      if (req.namespace !== undefined && ns !== req.namespace) continue;
      if (req.name !== undefined && p.usage.name !== req.name) continue;
      if (!this.nodes.get(p.node)?.pods.has(key)) continue;
      const podLabels = labels.pod(ns, p.usage.name);
      if (selector.length > 0 && !matches(selector, podLabels)) continue;
      items.push(podMetrics(p, podLabels));
      withHistory(key, p.ring);
    }
    if (req.name !== undefined && items.length === 0) {
      const ns = req.namespace ?? 'default';
      if (!labels.pod(ns, req.name)) throw new NotFoundError(`pods "${req.name}" not found`);
      throw new NotFoundError(`podmetrics "${ns}/${req.name}": metrics not available yet`);
    }
    return { items, ...(historyMs !== undefined ? { history } : {}) };
  }
}

function podMetrics(p: PodEntry, labels: Record<string, string> | undefined): PodMetrics {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'PodMetrics',
    metadata: { name: p.usage.name, namespace: p.usage.namespace, ...(labels ? { labels } : {}) },
    timestamp: p.timestamp,
    window: windowDuration(p.window),
    node: p.node,
    containers: p.usage.containers.map((c) => ({
      name: c.name,
      usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) },
      raw: { cpuNanoCores: c.cpuNanoCores, memoryBytes: c.memoryBytes },
    })),
    raw: { cpuNanoCores: p.usage.cpuNanoCores, memoryBytes: p.usage.memoryBytes },
  };
}

function nodeMetrics(r: NodeUsageReport): NodeMetrics {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'NodeMetrics',
    metadata: { name: r.node },
    timestamp: r.timestamp,
    window: windowDuration(r.windowSeconds),
    usage: { cpu: cpuQuantity(r.usage.cpuNanoCores), memory: memoryQuantity(r.usage.memoryBytes) },
    raw: { cpuNanoCores: r.usage.cpuNanoCores, memoryBytes: r.usage.memoryBytes },
    capacity: { cpuNanoCores: r.capacity.cpuNanoCores, memoryBytes: r.capacity.memoryBytes },
  };
}
