/** Builders of nodes, pods and node aggregates for the scheduler's unit tests. */
import type { Node, Pod, PodSpec, Taint } from '../../../messages';
import { nodeAllocatable, podInfo } from './pod-info';
import type { NodeInfo, PodInfo } from './types';

/** A Ready node with the given allocatable (default 2 cpu, 4Gi, 110 pods). */
export function makeNode(name: string, opts: {
  allocatable?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown' | null;
} = {}): Node {
  const ready = opts.ready === undefined ? 'True' : opts.ready;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: opts.allocatable ?? { cpu: '2', memory: '4Gi', pods: '110' },
      conditions: ready === null ? [] : [{ type: 'Ready', status: ready }],
    },
  };
}

/** A pod with one container requesting `requests`, plus any spec fields. */
export function makePod(name: string, requests: Record<string, string> = {}, spec: Partial<PodSpec> = {}, labels?: Record<string, string>, namespace = 'default'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, ...(labels ? { labels } : {}) },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests } }], ...spec },
    status: { phase: 'Running' },
  };
}

/** The PodInfo of a pod, keyed as the store keys it. */
export function info(pod: Pod): PodInfo {
  return podInfo(`pods.${pod.metadata.namespace ?? 'default'}.${pod.metadata.name}`, pod);
}

/** A node's aggregates with `pods` bound to it, as the cache would hold them. */
export function makeNodeInfo(node: Node, pods: Pod[] = []): NodeInfo {
  const n: NodeInfo = {
    name: node.metadata.name,
    node,
    allocatable: nodeAllocatable(node),
    requested: { pods: 0 },
    nonZeroRequested: { cpu: 0, memory: 0 },
    ports: [],
    pods: new Map(),
  };
  for (const p of pods) {
    const pi = info({ ...p, spec: { ...p.spec, nodeName: node.metadata.name } });
    for (const [k, v] of Object.entries(pi.requests)) n.requested[k] = (n.requested[k] ?? 0) + v;
    n.requested.pods += 1;
    n.nonZeroRequested.cpu += pi.nonZero.cpu;
    n.nonZeroRequested.memory += pi.nonZero.memory;
    n.ports.push(...pi.ports);
    n.pods.set(pi.key, pi);
  }
  return n;
}
