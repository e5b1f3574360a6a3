/**
 * The scheduling decision as a pure function, kube-scheduler's framework in small
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/scheduling-framework/): every node runs
 * the filters in Kubernetes' order and the first that rejects it gives the node's reasons (in a
 * large cluster, filtering stops once enough nodes fit, as kube-scheduler's does); the nodes that
 * pass are scored by each score plugin, normalized to 0..100 and weighted as
 * kube-scheduler's defaults weigh them, and the best wins (ties: the first by name). The
 * round-robin policy skips the scores and takes the feasible nodes in turn.
 */
import { fitErrorMessage } from './fit-error';
import { balancedAllocationScore } from './plugins/balanced-allocation';
import {
  interPodAffinityFilter, interPodAffinityScore, interPodAffinityScores, interPodAffinityState, type ClusterView,
} from './plugins/inter-pod-affinity';
import { leastAllocatedScore } from './plugins/least-allocated';
import { nodeAffinityFilter, nodeAffinityScore } from './plugins/node-affinity';
import { nodePortsFilter } from './plugins/node-ports';
import { nodeUnschedulableFilter } from './plugins/node-unschedulable';
import { defaultNormalize, minMaxNormalize } from './plugins/normalize';
import { resourcesFitFilter } from './plugins/resources-fit';
import { taintTolerationFilter, taintTolerationScore } from './plugins/taint-toleration';
import { topologySpreadFilter, topologySpreadScores, topologySpreadState } from './plugins/topology-spread';
import { FITS, type FilterReasons, type NodeInfo, type PluginName, type PodInfo } from './plugins/types';
import { VOLUME_REASONS, volumeBindingFilter, volumePreFilter, type VolumeView } from './plugins/volume-binding';

export type { ClusterView } from './plugins/inter-pod-affinity';

/** What a decision reads: the nodes and pods, and the claims, volumes and classes when there are any. */
export type SchedulingView = ClusterView & { storage?: VolumeView };

/** How the scheduler picks among the nodes that fit. */
export type SchedulingPolicy = 'least-allocated' | 'round-robin';
/** Every policy, as the settings accept them. */
export const SCHEDULING_POLICIES: readonly SchedulingPolicy[] = ['least-allocated', 'round-robin'];

/**
 * The decision: a node, or why none fits (the FailedScheduling message) with the plugins that
 * rejected nodes, which tell the queue what change could make the pod fit.
 */
export type Decision = { node: string } | { unschedulable: string; rejectedBy: PluginName[] };

/** The score plugins' weights: kube-scheduler's default profile (pkg/scheduler/apis/config/v1/default_plugins.go). */
export const SCORE_WEIGHTS = {
  leastAllocated: 1,
  balancedAllocation: 1,
  nodeAffinity: 2,
  interPodAffinity: 2,
  taintToleration: 3,
  podTopologySpread: 2,
} as const;

/** How one decision is made: the policy, and where round robin and the node walk left off. */
export interface ScheduleOptions {
  policy?: SchedulingPolicy;
  /** Round robin: the node chosen last time; the next feasible one after it by name is taken. */
  lastNode?: string;
  /** Where in the node list filtering starts (it goes on from where the last decision stopped). */
  startIndex?: number;
  /** Hears how many nodes were filtered, when some fit (the next decision starts after them). */
  onVisited?: (n: number) => void;
}

/**
 * How many feasible nodes are enough to score: all of them up to 100 nodes, then an adaptive
 * share (50 % less 1 % per 125 nodes, at least 5 %, at least 100 nodes), as kube-scheduler's
 * percentageOfNodesToScore default, so a large cluster costs a fraction of its nodes per pod
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/scheduler-perf-tuning/).
 */
export function feasibleNodesToFind(nodes: number): number {
  if (nodes < 100) return nodes;
  const percent = Math.max(5, 50 - Math.floor(nodes / 125));
  return Math.max(100, Math.floor((nodes * percent) / 100));
}

/** Chooses a node for `pod` in `view`. Pure: reads the view, changes nothing. */
export function schedule(pod: PodInfo, view: SchedulingView, opts: ScheduleOptions = {}): Decision {
  // The volume plugins' pre-filter: a reason that holds for every node ends the decision at once.
  const volumes = view.storage ? volumePreFilter(pod.key, pod.pod, view.storage) : { state: undefined };
  if ('reason' in volumes) {
    const rejectedBy: PluginName[] = [volumes.reason === VOLUME_REASONS.readWriteOncePod ? 'VolumeRestrictions' : 'VolumeBinding'];
    return { unschedulable: fitErrorMessage(view.nodes.length, new Map(), volumes.reason), rejectedBy };
  }
  const affinity = pod.pod.spec.affinity;
  const needsPodAffinity = view.withAffinity.length > 0
    || (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0
    || (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
  const ipaState = needsPodAffinity ? interPodAffinityState(pod.pod, view) : undefined;
  const spreadState = pod.pod.spec.topologySpreadConstraints?.length ? topologySpreadState(pod.pod, view) : undefined;
  const names: PluginName[] = [
    'NodeUnschedulable', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity',
  ];
  const filters: ((n: NodeInfo) => FilterReasons)[] = [
    (n) => nodeUnschedulableFilter(pod.pod, n),
    (n) => taintTolerationFilter(pod.pod, n),
    (n) => nodeAffinityFilter(pod.pod, n),
    (n) => nodePortsFilter(pod, n),
    (n) => resourcesFitFilter(pod, n),
    (n) => volumeBindingFilter(n, volumes.state),
    (n) => topologySpreadFilter(n, spreadState),
    (n) => (ipaState ? interPodAffinityFilter(pod.pod, n, ipaState) : FITS),
  ];
  const reasons = new Map<string, number>();
  const rejectedBy = new Set<PluginName>();
  const feasible: NodeInfo[] = [];
  const all = view.nodes;
  const enough = opts.policy === 'round-robin' ? all.length : feasibleNodesToFind(all.length);
  const start = all.length ? (opts.startIndex ?? 0) % all.length : 0;
  let visited = 0;
  nodes: for (; visited < all.length && feasible.length < enough; visited++) {
    const node = all[(start + visited) % all.length];
    for (let f = 0; f < filters.length; f++) {
      const r = filters[f](node);
      if (r.length === 0) continue;
      rejectedBy.add(names[f]);
      for (const reason of r) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      continue nodes;
    }
    feasible.push(node);
  }
  if (feasible.length === 0) return { unschedulable: fitErrorMessage(view.nodes.length, reasons), rejectedBy: [...rejectedBy] };
  opts.onVisited?.(visited);
  if (feasible.length === 1) return { node: feasible[0].name };
  if (opts.policy === 'round-robin') return { node: roundRobin(feasible, opts.lastNode) };
  const totals = scoreNodes(pod, feasible, view);
  let best = 0;
  for (let i = 1; i < feasible.length; i++) {
    if (totals[i] > totals[best] || (totals[i] === totals[best] && feasible[i].name < feasible[best].name)) best = i;
  }
  return { node: feasible[best].name };
}

/** Every feasible node's weighted total score. */
export function scoreNodes(pod: PodInfo, feasible: readonly NodeInfo[], view: ClusterView): number[] {
  const w = SCORE_WEIGHTS;
  const totals = feasible.map((n) => w.leastAllocated * leastAllocatedScore(pod, n) + w.balancedAllocation * balancedAllocationScore(pod, n));
  const add = (weight: number, scores: number[]) => scores.forEach((s, i) => { totals[i] += weight * s; });
  if (pod.pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length) {
    add(w.nodeAffinity, defaultNormalize(feasible.map((n) => nodeAffinityScore(pod.pod, n)), false));
  }
  if (feasible.some((n) => n.node.spec?.taints?.some((t) => t.effect === 'PreferNoSchedule'))) {
    add(w.taintToleration, defaultNormalize(feasible.map((n) => taintTolerationScore(pod.pod, n)), true));
  }
  if (pod.hasAffinity || view.withAffinity.length > 0) {
    const sums = interPodAffinityScores(pod.pod, view);
    if (sums.size) add(w.interPodAffinity, minMaxNormalize(feasible.map((n) => interPodAffinityScore(n, sums))));
  }
  if (pod.pod.spec.topologySpreadConstraints?.length) {
    const spread = topologySpreadScores(pod.pod, feasible, view);
    if (spread) add(w.podTopologySpread, spread);
  }
  return totals;
}

/** The first feasible node after `last` by name, wrapping around. */
function roundRobin(feasible: readonly NodeInfo[], last: string | undefined): string {
  const names = feasible.map((n) => n.name).sort();
  return (last === undefined ? undefined : names.find((n) => n > last)) ?? names[0];
}
