/**
 * The PodTopologySpread filter and score
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/): a pod's
 * topology spread constraints count, per domain of a node label (a zone, a node), the pods of its
 * namespace that their selector matches, on the nodes the constraint's inclusion policies admit.
 * The skew of a node is the count of its domain, plus one when the pod matches its own selector,
 * less the lowest count among the domains (0 while there are fewer domains than minDomains).
 * DoNotSchedule constraints keep the pod off nodes where the skew would exceed maxSkew;
 * ScheduleAnyway constraints prefer the nodes whose domains hold the fewest matching pods.
 *
 * The counts are made once per decision (kube-scheduler's PreFilter and PreScore), by walking the
 * pods only for a pod that has constraints, so other pods cost nothing here.
 */
import type { LabelSelector, Pod, TopologySpreadConstraint } from '../../../messages';
import { HOSTNAME_KEY, topologyValue, type ClusterView } from './inter-pod-affinity';
import { matchesLabelSelector } from './label-selector';
import { nodeAffinityFilter } from './node-affinity';
import { taintTolerationFilter } from './taint-toleration';
import { FITS, MAX_NODE_SCORE, type FilterReasons, type NodeInfo } from './types';

/** Kubernetes' reason for a node where the pod would exceed a constraint's maxSkew. */
export const REASON_TOPOLOGY_SPREAD = "node(s) didn't match pod topology spread constraints";
/** Kubernetes' reason for a node that lacks a constraint's topology key. */
export const REASON_TOPOLOGY_SPREAD_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

/** A constraint as the plugin applies it: defaults filled in, matchLabelKeys merged into the selector. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelector | undefined;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorTaints: boolean;
}

/** The pod's constraints of one kind, ready to apply. */
export function spreadConstraints(pod: Pod, when: TopologySpreadConstraint['whenUnsatisfiable']): SpreadConstraint[] {
  return (pod.spec.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === when).map((c) => ({
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selector: withMatchLabelKeys(c, pod.metadata.labels),
    minDomains: c.minDomains ?? 1,
    honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
  }));
}

/** The selector with the pod's own values of matchLabelKeys added (a key the pod lacks is ignored). */
function withMatchLabelKeys(c: TopologySpreadConstraint, labels: Record<string, string> | undefined): LabelSelector | undefined {
  if (!c.labelSelector || !c.matchLabelKeys?.length) return c.labelSelector;
  const extra: Record<string, string> = {};
  for (const k of c.matchLabelKeys) if (labels && k in labels) extra[k] = labels[k];
  return { ...c.labelSelector, matchLabels: { ...c.labelSelector.matchLabels, ...extra } };
}

const ns = (p: Pod) => p.metadata.namespace ?? 'default';

/** How many pods on the node count for the constraint: same namespace, selected, not being deleted. */
export function matchingPods(node: NodeInfo, selector: LabelSelector | undefined, namespace: string): number {
  let n = 0;
  for (const other of node.pods.values()) {
    const p = other.pod;
    if (ns(p) === namespace && !p.metadata.deletionTimestamp && matchesLabelSelector(selector, p.metadata.labels)) n++;
  }
  return n;
}

/** True when the node has a domain for every constraint (kube-scheduler skips a node that does not). */
function hasAllKeys(node: NodeInfo, constraints: readonly SpreadConstraint[]): boolean {
  return constraints.every((c) => topologyValue(node.node, c.topologyKey) !== undefined);
}

/** True when the constraint's node inclusion policies admit the node. */
function included(pod: Pod, node: NodeInfo, c: SpreadConstraint): boolean {
  if (c.honorNodeAffinity && nodeAffinityFilter(pod, node).length > 0) return false;
  if (c.honorTaints && taintTolerationFilter(pod, node).length > 0) return false;
  return true;
}

/** Per constraint, the matching pods by domain over the nodes it admits. */
function domainCounts(pod: Pod, constraints: readonly SpreadConstraint[], nodes: readonly NodeInfo[], only?: Set<string>[]): Map<string, number>[] {
  const counts = constraints.map(() => new Map<string, number>());
  for (const node of nodes) {
    if (!hasAllKeys(node, constraints)) continue;
    constraints.forEach((c, i) => {
      const value = topologyValue(node.node, c.topologyKey)!;
      if (only && !only[i].has(value)) return;
      if (!included(pod, node, c)) return;
      counts[i].set(value, (counts[i].get(value) ?? 0) + matchingPods(node, c.selector, ns(pod)));
    });
  }
  return counts;
}

/** What the filter needs for one pod: its DoNotSchedule constraints and their counts. */
export interface TopologySpreadState {
  constraints: SpreadConstraint[];
  /** Per constraint: matching pods by domain value. */
  counts: Map<string, number>[];
  /** Per constraint: the lowest count among the domains, 0 while there are fewer than minDomains. */
  minMatch: number[];
  /** Per constraint: 1 when the pod matches its own selector (it adds itself to the domain it goes to). */
  self: number[];
}

/** Builds the filter's counts for `pod` (undefined when it has no DoNotSchedule constraint). */
export function topologySpreadState(pod: Pod, view: ClusterView): TopologySpreadState | undefined {
  const constraints = spreadConstraints(pod, 'DoNotSchedule');
  if (constraints.length === 0) return undefined;
  const counts = domainCounts(pod, constraints, view.nodes);
  const minMatch = constraints.map((c, i) => {
    const values = [...counts[i].values()];
    return values.length < c.minDomains ? 0 : Math.min(...values);
  });
  const self = constraints.map((c) => (matchesLabelSelector(c.selector, pod.metadata.labels) ? 1 : 0));
  return { constraints, counts, minMatch, self };
}

/** Filters out nodes where placing the pod would make a DoNotSchedule constraint's skew exceed maxSkew. */
export function topologySpreadFilter(node: NodeInfo, state: TopologySpreadState | undefined): FilterReasons {
  if (!state) return FITS;
  for (let i = 0; i < state.constraints.length; i++) {
    const c = state.constraints[i];
    const value = topologyValue(node.node, c.topologyKey);
    if (value === undefined) return [REASON_TOPOLOGY_SPREAD_MISSING_LABEL];
    const skew = (state.counts[i].get(value) ?? 0) + state.self[i] - state.minMatch[i];
    if (skew > c.maxSkew) return [REASON_TOPOLOGY_SPREAD];
  }
  return FITS;
}

/**
 * The ScheduleAnyway scores of the feasible nodes, normalized to 0..100 (undefined when the pod has
 * no such constraint). A node's raw score sums, per constraint, the matching pods in its domain
 * times a weight that grows with the number of domains (log(domains + 2)), plus maxSkew - 1; fewer
 * is better, so the lowest raw score gets 100. A node without a constraint's key gets 0.
 */
export function topologySpreadScores(pod: Pod, feasible: readonly NodeInfo[], view: ClusterView): number[] | undefined {
  const constraints = spreadConstraints(pod, 'ScheduleAnyway');
  if (constraints.length === 0) return undefined;
  const scored = feasible.map((n) => hasAllKeys(n, constraints));
  const candidates = feasible.filter((_, i) => scored[i]);
  // Only the domains that some feasible node is in are counted, over every node the policies admit.
  const domains = constraints.map((c) => new Set(candidates.map((n) => topologyValue(n.node, c.topologyKey)!)));
  const counts = domainCounts(pod, constraints, view.nodes, domains);
  const weights = constraints.map((c, i) => Math.log((c.topologyKey === HOSTNAME_KEY ? candidates.length : domains[i].size) + 2));
  const raw = feasible.map((node, n) => {
    if (!scored[n]) return 0;
    let s = 0;
    constraints.forEach((c, i) => {
      const count = c.topologyKey === HOSTNAME_KEY
        ? matchingPods(node, c.selector, ns(pod))
        : counts[i].get(topologyValue(node.node, c.topologyKey)!) ?? 0;
      s += count * weights[i] + (c.maxSkew - 1);
    });
    return s;
  });
  const kept = raw.filter((_, i) => scored[i]);
  if (kept.length === 0) return raw.map(() => 0);
  const min = Math.min(...kept);
  const max = Math.max(...kept);
  return raw.map((s, i) => {
    if (!scored[i]) return 0;
    if (max === 0) return MAX_NODE_SCORE;
    return (MAX_NODE_SCORE * (max + min - s)) / max;
  });
}
