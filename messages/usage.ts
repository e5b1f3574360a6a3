/**
 * The usage contract (what `mk top`, the dashboard's charts and, later, the HPA read): each node
 * agent samples CRI ContainerStats and its machine, and publishes a report on `mk.stats.<node>`
 * every few seconds; the control plane keeps the latest reports and a short history, and answers
 * `mk.api.metrics`. The shapes follow metrics.k8s.io/v1beta1 (PodMetrics, NodeMetrics:
 * https://github.com/kubernetes/metrics/blob/master/pkg/apis/metrics/v1beta1/types.go), with the
 * raw numbers beside the quantities so charts need no parsing.
 */
import { encodeToken } from './names';

/** Where node `node` publishes its usage reports. */
export function statsSubject(node: string): string {
  return `mk.stats.${encodeToken(node)}`;
}
/** Every node's reports. */
export const STATS_WILDCARD = 'mk.stats.*';
/** Request/reply: usage of pods or nodes (MetricsRequest -> MetricsResult), served by the leading control plane. */
export const METRICS_SUBJECT = 'mk.api.metrics';

/** CPU in nanocores (1e9 = one core) and memory as working-set bytes, like the kubelet's summary API. */
export interface Usage { cpuNanoCores: number; memoryBytes: number }

/** One container's usage in a report. */
export interface ContainerUsage extends Usage { name: string }

/** One pod's usage in a report: the sum of its containers, and each container. */
export interface PodUsage extends Usage {
  namespace: string;
  name: string;
  uid: string;
  containers: ContainerUsage[];
}

/**
 * What a node agent publishes. `window` is the time between the two samples that made the CPU
 * rates (seconds); `timestamp` the later sample. `node` is the machine's own use (all processes),
 * with its capacity for percentages.
 */
export interface NodeUsageReport {
  node: string;
  timestamp: string;
  windowSeconds: number;
  usage: Usage;
  capacity: { cpuNanoCores: number; memoryBytes: number };
  pods: PodUsage[];
}

/** metrics.k8s.io's PodMetrics, with raw numbers. */
export interface PodMetrics {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'PodMetrics';
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  node: string;
  containers: { name: string; usage: { cpu: string; memory: string }; raw: Usage }[];
  raw: Usage;
}

/** metrics.k8s.io's NodeMetrics, with raw numbers and capacity. */
export interface NodeMetrics {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'NodeMetrics';
  metadata: { name: string };
  timestamp: string;
  window: string;
  usage: { cpu: string; memory: string };
  raw: Usage;
  capacity: { cpuNanoCores: number; memoryBytes: number };
}

/**
 * mk.api.metrics. `kind` pods or nodes; `namespace` absent = all namespaces (pods); `name` one
 * object; `labelSelector` filters pods by their labels. With `historySeconds` each item also gets
 * its samples over that many seconds (at most the kept history, 10 minutes), oldest first.
 */
export interface MetricsRequest {
  kind: 'pods' | 'nodes';
  namespace?: string;
  name?: string;
  labelSelector?: string;
  historySeconds?: number;
}

/** One point of a history. */
export interface UsageSample extends Usage { t: string }

export interface MetricsResult {
  items: (PodMetrics | NodeMetrics)[];
  /** Per item (`<namespace>/<name>` or `<node>`), when asked for. */
  history?: Record<string, UsageSample[]>;
}
