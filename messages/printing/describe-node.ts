/**
 * `mk describe node` and `mk describe namespace`: the sections of kubectl's NodeDescriber and
 * NamespaceDescriber (kubernetes/kubectl pkg/describe/describe.go: describeNode, describeNodeResource).
 */
import type { Namespace, Node } from '../cluster';
import type { Lease } from '../coordination';
import type { Pod } from '../pod';
import type { Taint } from '../scheduling';
import { cpuMillis, formatCpu, formatMemory, memoryBytes } from '../quantity';
import { describeTime, DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age } from './time';

/**
 * kubectl's node STATUS: the Ready condition (`Ready`, `NotReady`, `Unknown`), plus
 * `SchedulingDisabled` when cordoned.
 */
export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const parts = [!ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

/** Roles from `node-role.kubernetes.io/<role>` labels (and `kubernetes.io/role`), `<none>` if none. */
export function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) {
      roles.add(v);
    }
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

/** Resources kubectl's Allocated resources table shows by name; the rest of allocatable are extended ones. */
const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'pods', 'storage']);

/** kubectl's way of writing a taint: `key=value:Effect`, or `key:Effect` without a value. */
export function formatTaint(t: Taint): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

/** kubectl's printTaintsMultiline: `Taints:  <none>`, or one taint a line. */
function writeTaints(w: DescribeWriter, taints: Taint[] | undefined): void {
  w.write(0, 'Taints:\t');
  if (!taints?.length) {
    w.writeRaw('<none>\n');
    return;
  }
  taints.forEach((t, i) => {
    if (i > 0) w.write(0, '\t');
    w.writeRaw(`${formatTaint(t)}\n`);
  });
}

/**
 * Describes a node; `pods` are the pods bound to it (terminated ones are left out here), `lease`
 * its heartbeat lease in kube-node-lease.
 */
export function describeNode(node: Node, pods: Pod[], events?: EventLike[], now: number = Date.now(), lease?: Lease): string {
  const w = new DescribeWriter();
  const st = node.status ?? {};
  w.write(0, `Name:\t${node.metadata.name}\n`);
  w.write(0, `Roles:\t${nodeRoles(node)}\n`);
  writeLabels(w, 'Labels', node.metadata.labels);
  writeAnnotations(w, 'Annotations', node.metadata.annotations);
  w.write(0, `CreationTimestamp:\t${describeTime(node.metadata.creationTimestamp)}\n`);
  writeTaints(w, node.spec?.taints);
  w.write(0, `Unschedulable:\t${node.spec?.unschedulable ? 'true' : 'false'}\n`);
  // kubectl's Lease block: who holds it and when it was taken and last renewed.
  w.write(0, 'Lease:\n');
  w.write(1, `HolderIdentity:\t${lease?.spec?.holderIdentity || '<unset>'}\n`);
  w.write(1, `AcquireTime:\t${lease?.spec?.acquireTime ? describeTime(lease.spec.acquireTime) : '<unset>'}\n`);
  w.write(1, `RenewTime:\t${lease?.spec?.renewTime ? describeTime(lease.spec.renewTime) : '<unset>'}\n`);
  if (st.conditions?.length) {
    w.write(0, 'Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n');
    w.write(1, '----\t------\t-----------------\t------------------\t------\t-------\n');
    for (const c of st.conditions) {
      w.write(1, `${c.type} \t${c.status} \t${describeTime(c.lastHeartbeatTime)} \t${describeTime(c.lastTransitionTime)} \t`
        + `${c.reason ?? ''} \t${c.message ?? ''}\n`);
    }
  }
  w.write(0, 'Addresses:\n');
  for (const a of st.addresses ?? []) w.write(1, `${a.type}:\t${a.address}\n`);
  for (const [title, list] of [['Capacity', st.capacity], ['Allocatable', st.allocatable]] as const) {
    if (!list) continue;
    w.write(0, `${title}:\n`);
    for (const k of Object.keys(list).sort()) w.write(1, `${k}:\t${list[k]}\n`);
  }
  const info = st.nodeInfo ?? {};
  w.write(0, 'System Info:\n');
  w.write(1, `Kernel Version:\t${info.kernelVersion ?? ''}\n`);
  w.write(1, `OS Image:\t${info.osImage ?? ''}\n`);
  w.write(1, 'Operating System:\tlinux\n');
  w.write(1, `Architecture:\t${info.architecture ?? ''}\n`);
  w.write(1, `Container Runtime Version:\t${info.containerRuntimeVersion ?? ''}\n`);
  w.write(1, `Kubelet Version:\t${info.kubeletVersion ?? ''}\n`);
  if (node.spec?.podCIDR) w.write(0, `PodCIDR:\t${node.spec.podCIDR}\n`);
  if (node.spec?.podCIDRs?.length) w.write(0, `PodCIDRs:\t${node.spec.podCIDRs.join(',')}\n`);

  const running = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const allocCpu = cpuMillis(st.allocatable?.cpu);
  const allocMem = memoryBytes(st.allocatable?.memory);
  const allocEph = memoryBytes(st.allocatable?.['ephemeral-storage']);
  const pct = (v: number, total: number): number => (total > 0 ? Math.trunc((v / total) * 100) : 0);
  const cpu = (m: number): string => `${m === 0 ? '0' : formatCpu(m)} (${pct(m, allocCpu)}%)`;
  const mem = (b: number, total = allocMem): string => `${b === 0 ? '0' : formatMemory(b)} (${pct(b, total)}%)`;
  // Extended resources (nvidia.com/gpu): what allocatable has beyond the standard ones.
  const extended = Object.keys(st.allocatable ?? {}).filter((k) => !STANDARD_RESOURCES.has(k) && !k.startsWith('hugepages-')).sort();
  const totals = { cpuReq: 0, cpuLim: 0, memReq: 0, memLim: 0, ephReq: 0, ephLim: 0 };
  const extTotals = new Map(extended.map((k) => [k, { req: 0, lim: 0 }]));
  w.write(0, `Non-terminated Pods:\t(${running.length} in total)\n`);
  w.write(1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n');
  w.write(1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n');
  for (const p of running) {
    const r = { cpuReq: 0, cpuLim: 0, memReq: 0, memLim: 0 };
    for (const c of p.spec.containers) {
      const req = c.resources?.requests as Record<string, string> | undefined;
      const lim = c.resources?.limits as Record<string, string> | undefined;
      r.cpuReq += cpuMillis(req?.cpu ?? lim?.cpu);
      r.cpuLim += cpuMillis(lim?.cpu);
      r.memReq += memoryBytes(req?.memory ?? lim?.memory);
      r.memLim += memoryBytes(lim?.memory);
      totals.ephReq += memoryBytes(req?.['ephemeral-storage'] ?? lim?.['ephemeral-storage']);
      totals.ephLim += memoryBytes(lim?.['ephemeral-storage']);
      for (const [k, t] of extTotals) {
        t.req += Number(req?.[k] ?? lim?.[k] ?? 0) || 0;
        t.lim += Number(lim?.[k] ?? 0) || 0;
      }
    }
    totals.cpuReq += r.cpuReq; totals.cpuLim += r.cpuLim; totals.memReq += r.memReq; totals.memLim += r.memLim;
    w.write(1, `${p.metadata.namespace ?? ''}\t${p.metadata.name}\t\t${cpu(r.cpuReq)}\t${cpu(r.cpuLim)}\t`
      + `${mem(r.memReq)}\t${mem(r.memLim)}\t${age(p.metadata.creationTimestamp, now)}\n`);
  }
  w.write(0, 'Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n');
  w.write(1, 'Resource\tRequests\tLimits\n');
  w.write(1, '--------\t--------\t------\n');
  w.write(1, `cpu\t${cpu(totals.cpuReq)}\t${cpu(totals.cpuLim)}\n`);
  w.write(1, `memory\t${mem(totals.memReq)}\t${mem(totals.memLim)}\n`);
  w.write(1, `ephemeral-storage\t${mem(totals.ephReq, allocEph)}\t${mem(totals.ephLim, allocEph)}\n`);
  // kubectl prints extended resources as plain counts, without a share of the node.
  for (const [k, t] of extTotals) w.write(1, `${k}\t${t.req}\t${t.lim}\n`);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}

/** Describes a namespace: name, labels, annotations, status. */
export function describeNamespace(ns: Namespace): string {
  const w = new DescribeWriter();
  w.write(0, `Name:\t${ns.metadata.name}\n`);
  writeLabels(w, 'Labels', ns.metadata.labels);
  writeAnnotations(w, 'Annotations', ns.metadata.annotations);
  w.write(0, `Status:\t${ns.status?.phase ?? 'Active'}\n`);
  w.write(0, '\nNo resource quota.\n\nNo LimitRange resource.\n');
  return w.toString();
}
