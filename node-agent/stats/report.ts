/**
 * Turns one round of CRI container stats into a NodeUsageReport (messages/usage.ts): CPU rates from
 * the previous round's counters, memory as the working set, containers grouped into their pods by
 * the labels the pod actors put on them (node-agent/pods/cri-spec.ts).
 */
import type { ContainerStats } from '../cri/types';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../pods/cri-spec';
import type { ContainerUsage, NodeUsageReport, PodUsage, Usage } from '../../messages/usage';
import type { RateTracker } from './rates';

/** The node's part of a round: its name, capacity, own use (when known) and the window. */
export interface NodeRound {
  node: string;
  timestamp: Date;
  windowSeconds: number;
  usage: Usage;
  capacity: NodeUsageReport['capacity'];
}

/**
 * Builds the report. `running` is the set of running container ids (others are left out: an
 * exited container uses nothing, and a created one has not started); each one's counter goes
 * through `rates`, and ids not seen are forgotten there. A container seen for the first time (a
 * new pod, or a restart, which has a new id) has no rate yet: it is left out of this round, and
 * so is its pod when none of its containers has one, so no report ever shows a made-up zero.
 */
export function buildReport(stats: ContainerStats[], running: Set<string>, rates: RateTracker, round: NodeRound): NodeUsageReport {
  const pods = new Map<string, PodUsage>();
  const seen = new Set<string>();
  for (const s of stats) {
    const a = s.attributes;
    if (!a?.id || !running.has(a.id)) continue;
    seen.add(a.id);
    const uid = a.labels?.[LABEL_POD_UID];
    const cumulative = s.cpu?.usageCoreNanoSeconds?.value;
    if (!uid || cumulative === undefined || !s.cpu) continue;
    const cpu = rates.observe(a.id, { timestampNs: s.cpu.timestamp, usageCoreNanoSeconds: cumulative });
    if (cpu === undefined) continue;
    const container: ContainerUsage = {
      name: a.labels[LABEL_CONTAINER_NAME] ?? a.metadata?.name ?? a.id.slice(0, 12),
      cpuNanoCores: cpu,
      memoryBytes: s.memory?.workingSetBytes?.value ?? 0,
    };
    let pod = pods.get(uid);
    if (!pod) {
      pod = {
        namespace: a.labels[LABEL_POD_NAMESPACE] ?? 'default',
        name: a.labels[LABEL_POD_NAME] ?? uid,
        uid,
        cpuNanoCores: 0,
        memoryBytes: 0,
        containers: [],
      };
      pods.set(uid, pod);
    }
    pod.containers.push(container);
    pod.cpuNanoCores += container.cpuNanoCores;
    pod.memoryBytes += container.memoryBytes;
  }
  rates.retain(seen);
  for (const p of pods.values()) p.containers.sort((x, y) => x.name.localeCompare(y.name));
  return {
    node: round.node,
    timestamp: round.timestamp.toISOString(),
    windowSeconds: round.windowSeconds,
    usage: round.usage,
    capacity: round.capacity,
    pods: [...pods.values()].sort((x, y) => `${x.namespace}/${x.name}`.localeCompare(`${y.namespace}/${y.name}`)),
  };
}
