/**
 * The scheduling decision as a pure function: filter the nodes a pod can run on, then score the
 * survivors (least allocated first), like kube-scheduler's NodeResourcesFit, NodeName,
 * NodeUnschedulable and NodeAffinity (nodeSelector) filters and its LeastAllocated score
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/kube-scheduler/).
 */
import { cpuMillis, memoryBytes, parseQuantity, type Node, type Pod, type PodSpec } from '../../messages';

export interface Resources { cpu: number; memory: number; gpu: number; pods: number }

export type Decision = { node: string } | { unschedulable: string };

/** A pod's effective requests: the larger of the sum over app containers and the largest init container. */
export function podRequests(spec: PodSpec): Resources {
  const req = (c: PodSpec['containers'][number]) => ({
    cpu: cpuMillis(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu),
    memory: memoryBytes(c.resources?.requests?.memory ?? c.resources?.limits?.memory),
    gpu: Number(parseQuantity(c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu'] ?? 0) ?? 0),
  });
  const sum = spec.containers.map(req).reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory, gpu: a.gpu + b.gpu }), { cpu: 0, memory: 0, gpu: 0 });
  for (const c of spec.initContainers ?? []) {
    const r = req(c);
    sum.cpu = Math.max(sum.cpu, r.cpu); sum.memory = Math.max(sum.memory, r.memory); sum.gpu = Math.max(sum.gpu, r.gpu);
  }
  return { ...sum, pods: 1 };
}

/** A node's allocatable resources from its status. */
export function allocatable(node: Node): Resources {
  const a = node.status?.allocatable ?? {};
  return {
    cpu: cpuMillis(a.cpu ?? '0'),
    memory: memoryBytes(a.memory ?? '0'),
    gpu: Number(parseQuantity(a['nvidia.com/gpu'] ?? '0') ?? 0),
    pods: Number(a.pods ?? '110'),
  };
}

/** True when the node's Ready condition is True. */
export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** True for pods that still hold their node's resources (not finished). */
export function holdsResources(pod: Pod): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/**
 * Chooses a node for `pod` among `nodes`, given the pods already bound (`bound`). Returns the
 * node, or why none fits in the form "0/N nodes are available: ...".
 */
export function schedule(pod: Pod, nodes: Node[], bound: Pod[]): Decision {
  const want = podRequests(pod.spec);
  const used = new Map<string, Resources>();
  for (const p of bound) {
    if (!p.spec.nodeName || !holdsResources(p) || p.metadata.uid === pod.metadata.uid) continue;
    const u = used.get(p.spec.nodeName) ?? { cpu: 0, memory: 0, gpu: 0, pods: 0 };
    const r = podRequests(p.spec);
    used.set(p.spec.nodeName, { cpu: u.cpu + r.cpu, memory: u.memory + r.memory, gpu: u.gpu + r.gpu, pods: u.pods + 1 });
  }
  const reasons = new Map<string, number>();
  const note = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
  const fits: { name: string; score: number }[] = [];
  for (const node of nodes) {
    const name = node.metadata.name;
    if (!isNodeReady(node)) { note('node(s) not ready'); continue; }
    if (node.spec?.unschedulable) { note('node(s) unschedulable'); continue; }
    const sel = pod.spec.nodeSelector ?? {};
    if (!Object.entries(sel).every(([k, v]) => node.metadata.labels?.[k] === v)) { note("node(s) didn't match the pod's nodeSelector"); continue; }
    const cap = allocatable(node);
    const u = used.get(name) ?? { cpu: 0, memory: 0, gpu: 0, pods: 0 };
    const short: string[] = [];
    if (u.pods + 1 > cap.pods) short.push('Too many pods');
    if (want.cpu > 0 && u.cpu + want.cpu > cap.cpu) short.push('Insufficient cpu');
    if (want.memory > 0 && u.memory + want.memory > cap.memory) short.push('Insufficient memory');
    if (want.gpu > 0 && u.gpu + want.gpu > cap.gpu) short.push('Insufficient nvidia.com/gpu');
    if (short.length) { short.forEach(note); continue; }
    const free = (total: number, taken: number) => (total > 0 ? (total - taken) / total : 0);
    const score = (free(cap.cpu, u.cpu + want.cpu) + free(cap.memory, u.memory + want.memory)) / 2;
    fits.push({ name, score });
  }
  if (fits.length === 0) {
    const detail = [...reasons.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([r, n]) => `${n} ${r}`).join(', ');
    return { unschedulable: `0/${nodes.length} nodes are available${detail ? `: ${detail}` : ''}.` };
  }
  fits.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return { node: fits[0].name };
}
