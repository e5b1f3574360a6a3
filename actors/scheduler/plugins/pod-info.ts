/**
 * A pod's scheduling facts, computed once per pod: effective requests as Kubernetes counts them
 * (https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers:
 * the larger of the biggest init container and the sum of the app containers, per resource), the
 * non-zero requests the scores use, and the host ports it asks for; and a node's allocatable.
 */
import { cpuMillis, memoryBytes, parseQuantity, type Container, type Node, type Pod } from '../../../messages';
import type { HostPort, PodInfo, ResourceVector } from './types';

/**
 * What a container without a cpu request counts for in the scores, so that many such pods do not
 * all land on one node (kube-scheduler's DefaultMilliCPURequest, pkg/scheduler/util/pod_resources.go).
 */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** The same for memory (kube-scheduler's DefaultMemoryRequest: 200 MiB). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** Pods a node runs when its status names no `pods` capacity (the kubelet's default). */
export const DEFAULT_MAX_PODS = 110;

/** A quantity of resource `name` in the unit ResourceVector uses; 0 when malformed. */
export function resourceAmount(name: string, q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (name === 'cpu') return cpuMillis(q);
  if (name === 'memory') return memoryBytes(q);
  const v = parseQuantity(q);
  return v === null ? 0 : v;
}

/** A container's requests: each resource's request, or its limit when only a limit is given. */
export function containerRequests(c: Container): ResourceVector {
  const out: ResourceVector = {};
  const limits = (c.resources?.limits ?? {}) as Record<string, string | undefined>;
  const requests = (c.resources?.requests ?? {}) as Record<string, string | undefined>;
  for (const name of new Set([...Object.keys(limits), ...Object.keys(requests)])) {
    const v = resourceAmount(name, requests[name] ?? limits[name]);
    if (v > 0) out[name] = v;
  }
  return out;
}

/** The pod's effective requests (without `pods`). */
export function podRequests(pod: Pod): ResourceVector {
  const sum: ResourceVector = {};
  for (const c of pod.spec.containers) {
    for (const [k, v] of Object.entries(containerRequests(c))) sum[k] = (sum[k] ?? 0) + v;
  }
  for (const c of pod.spec.initContainers ?? []) {
    for (const [k, v] of Object.entries(containerRequests(c))) sum[k] = Math.max(sum[k] ?? 0, v);
  }
  return sum;
}

/** cpu and memory with the defaults for containers that request none, as the scores count them. */
export function nonZeroRequests(pod: Pod): { cpu: number; memory: number } {
  const one = (c: Container) => {
    const r = containerRequests(c);
    return { cpu: r.cpu || DEFAULT_MILLI_CPU_REQUEST, memory: r.memory || DEFAULT_MEMORY_REQUEST };
  };
  const sum = { cpu: 0, memory: 0 };
  for (const c of pod.spec.containers) { const r = one(c); sum.cpu += r.cpu; sum.memory += r.memory; }
  for (const c of pod.spec.initContainers ?? []) {
    const r = one(c);
    sum.cpu = Math.max(sum.cpu, r.cpu); sum.memory = Math.max(sum.memory, r.memory);
  }
  return sum;
}

/** The host ports the pod's app containers ask for, with Kubernetes' defaults (TCP, 0.0.0.0). */
export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol ?? 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** Everything the plugins need of a pod, computed once. */
export function podInfo(key: string, pod: Pod): PodInfo {
  const a = pod.spec.affinity;
  const anyTerms = (x?: { requiredDuringSchedulingIgnoredDuringExecution?: unknown[]; preferredDuringSchedulingIgnoredDuringExecution?: unknown[] }) =>
    (x?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) + (x?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
  const requests = podRequests(pod);
  return {
    key,
    pod,
    requests,
    requestNames: Object.keys(requests).filter((n) => n !== 'pods' && requests[n] > 0).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0)),
    nonZero: nonZeroRequests(pod),
    ports: podHostPorts(pod),
    hasAffinity: anyTerms(a?.podAffinity) || anyTerms(a?.podAntiAffinity),
    hasRequiredAntiAffinity: (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0,
  };
}

/** cpu, then memory, then the others by name: the order Kubernetes checks them in. */
function rank(name: string): number {
  return name === 'cpu' ? 0 : name === 'memory' ? 1 : 2;
}

/** A node's allocatable resources from its status; `pods` defaults to 110. */
export function nodeAllocatable(node: Node): ResourceVector {
  const out: ResourceVector = { pods: DEFAULT_MAX_PODS };
  for (const [name, q] of Object.entries(node.status?.allocatable ?? {})) out[name] = resourceAmount(name, q);
  // An extended resource patched into capacity alone is all allocatable, as the kubelet copies it.
  for (const [name, q] of Object.entries(node.status?.capacity ?? {})) {
    if (name.includes('/') && !(name in (node.status?.allocatable ?? {}))) out[name] = resourceAmount(name, q);
  }
  return out;
}

/** True for pods that still hold their node's resources (not finished). */
export function holdsResources(pod: Pod): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}
