/**
 * The InterPodAffinity filter and score
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity):
 * a pod's required affinity puts it only in a topology domain (the nodes sharing a value of the
 * term's topologyKey; `kubernetes.io/hostname` is the node itself) that already runs a matching
 * pod; its required anti-affinity keeps it out of domains that do; and, symmetrically, an existing
 * pod's required anti-affinity keeps matching newcomers out of its domain. Preferred terms, the
 * pod's and the existing pods', add or take their weight from a domain's score.
 *
 * The cluster-wide counts are made once per decision (`interPodAffinityState`, kube-scheduler's
 * PreFilter and PreScore) by walking the pods only when some affinity is in play, so a pod
 * without affinity among pods without affinity costs nothing here.
 */
import type { Node, Pod, PodAffinityTerm } from '../../../messages';
import { matchesLabelSelector } from './label-selector';
import { FITS, type FilterReasons, type NodeInfo, type PodInfo } from './types';

/** Kubernetes' reason for a node that breaks the pod's required affinity. */
export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
/** Kubernetes' reason for a node that breaks the pod's required anti-affinity. */
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
/** Kubernetes' reason for a node where an existing pod's required anti-affinity selects the pod. */
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** The topology key every node has, even without the label: the node's own name. */
export const HOSTNAME_KEY = 'kubernetes.io/hostname';

/** What a decision sees of the cluster. */
export interface ClusterView {
  /** Every schedulable candidate, with its pods. */
  nodes: readonly NodeInfo[];
  byName: ReadonlyMap<string, NodeInfo>;
  /** The bound pods (still holding their node) that have affinity or anti-affinity terms. */
  withAffinity: readonly PodInfo[];
}

/** The node's domain for a topology key: its label, or its name for kubernetes.io/hostname. */
export function topologyValue(node: Node, key: string): string | undefined {
  const v = node.metadata.labels?.[key];
  if (v !== undefined) return v;
  return key === HOSTNAME_KEY ? node.metadata.name : undefined;
}

/** True when `term`, written by a pod in `ownerNamespace`, selects `target`. */
export function termMatches(term: PodAffinityTerm, ownerNamespace: string, target: Pod): boolean {
  const namespaces = term.namespaces?.length ? term.namespaces : [ownerNamespace];
  return namespaces.includes(target.metadata.namespace ?? 'default') && matchesLabelSelector(term.labelSelector, target.metadata.labels);
}

const ns = (p: Pod) => p.metadata.namespace ?? 'default';
const domainKey = (topologyKey: string, value: string) => `${topologyKey}\u0000${value}`;

/** The counts a decision's filter needs. */
export interface InterPodAffinityState {
  /** Per required affinity term: matching pods by domain key. */
  affinity: Map<string, number>[];
  /** Per required anti-affinity term: matching pods by domain key. */
  antiAffinity: Map<string, number>[];
  /** Domains where an existing pod's required anti-affinity selects the incoming pod. */
  existingAnti: Set<string>;
  /** No pod anywhere matches the affinity terms, and the pod matches them itself: it may go first. */
  mayGoFirst: boolean;
}

/** Builds the filter's counts for `pod` over the cluster. */
export function interPodAffinityState(pod: Pod, view: ClusterView): InterPodAffinityState {
  const required = pod.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const anti = pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const state: InterPodAffinityState = {
    affinity: required.map(() => new Map()),
    antiAffinity: anti.map(() => new Map()),
    existingAnti: new Set(),
    mayGoFirst: false,
  };
  const own = ns(pod);
  if (required.length || anti.length) {
    for (const node of view.nodes) {
      for (const other of node.pods.values()) {
        count(required, state.affinity, own, other.pod, node.node);
        count(anti, state.antiAffinity, own, other.pod, node.node);
      }
    }
  }
  if (required.length) {
    state.mayGoFirst = state.affinity.every((m) => m.size === 0) && required.every((t) => termMatches(t, own, pod));
  }
  for (const other of view.withAffinity) {
    if (!other.hasRequiredAntiAffinity) continue;
    const node = other.pod.spec.nodeName ? view.byName.get(other.pod.spec.nodeName) : undefined;
    if (!node) continue;
    for (const t of other.pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      const value = topologyValue(node.node, t.topologyKey);
      if (value !== undefined && termMatches(t, ns(other.pod), pod)) state.existingAnti.add(domainKey(t.topologyKey, value));
    }
  }
  return state;
}

function count(terms: PodAffinityTerm[], into: Map<string, number>[], owner: string, target: Pod, node: Node): void {
  terms.forEach((t, i) => {
    if (!termMatches(t, owner, target)) return;
    const value = topologyValue(node, t.topologyKey);
    if (value === undefined) return;
    const k = domainKey(t.topologyKey, value);
    into[i].set(k, (into[i].get(k) ?? 0) + 1);
  });
}

/** Filters out nodes that break the pod's required (anti-)affinity or an existing pod's required anti-affinity. */
export function interPodAffinityFilter(pod: Pod, node: NodeInfo, state: InterPodAffinityState): FilterReasons {
  const required = pod.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const anti = pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  if (required.length) {
    const values = required.map((t) => topologyValue(node.node, t.topologyKey));
    if (values.some((v) => v === undefined)) return [REASON_AFFINITY];
    const inDomain = required.every((t, i) => (state.affinity[i].get(domainKey(t.topologyKey, values[i]!)) ?? 0) > 0);
    if (!inDomain && !state.mayGoFirst) return [REASON_AFFINITY];
  }
  for (let i = 0; i < anti.length; i++) {
    const value = topologyValue(node.node, anti[i].topologyKey);
    if (value !== undefined && (state.antiAffinity[i].get(domainKey(anti[i].topologyKey, value)) ?? 0) > 0) return [REASON_ANTI_AFFINITY];
  }
  if (state.existingAnti.size) {
    for (const k of state.existingAnti) {
      const [key, value] = k.split('\u0000');
      if (topologyValue(node.node, key) === value) return [REASON_EXISTING_ANTI_AFFINITY];
    }
  }
  return FITS;
}

/** The score's sums: topology key -> domain value -> weight. */
export type InterPodAffinityScores = Map<string, Map<string, number>>;

/**
 * Builds the score's sums for `pod`: its preferred terms against every pod (when it has any), and
 * the terms of existing pods with affinity against it (required affinity weighs 1, as Kubernetes'
 * hardPodAffinityWeight does).
 */
export function interPodAffinityScores(pod: Pod, view: ClusterView): InterPodAffinityScores {
  const out: InterPodAffinityScores = new Map();
  const add = (node: Node, key: string, weight: number) => {
    const value = topologyValue(node, key);
    if (value === undefined) return;
    let m = out.get(key);
    if (!m) out.set(key, (m = new Map()));
    m.set(value, (m.get(value) ?? 0) + weight);
  };
  const own = ns(pod);
  const prefer = pod.spec.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const avoid = pod.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  if (prefer.length || avoid.length) {
    for (const node of view.nodes) {
      for (const other of node.pods.values()) {
        for (const w of prefer) if (termMatches(w.podAffinityTerm, own, other.pod)) add(node.node, w.podAffinityTerm.topologyKey, w.weight);
        for (const w of avoid) if (termMatches(w.podAffinityTerm, own, other.pod)) add(node.node, w.podAffinityTerm.topologyKey, -w.weight);
      }
    }
  }
  for (const other of view.withAffinity) {
    const node = other.pod.spec.nodeName ? view.byName.get(other.pod.spec.nodeName) : undefined;
    if (!node) continue;
    const a = other.pod.spec.affinity;
    const owner = ns(other.pod);
    for (const t of a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) if (termMatches(t, owner, pod)) add(node.node, t.topologyKey, 1);
    for (const w of a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (termMatches(w.podAffinityTerm, owner, pod)) add(node.node, w.podAffinityTerm.topologyKey, w.weight);
    }
    for (const w of a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (termMatches(w.podAffinityTerm, owner, pod)) add(node.node, w.podAffinityTerm.topologyKey, -w.weight);
    }
  }
  return out;
}

/** The raw score of a node: the sums of the domains it is in (normalized min..max to 0..100). */
export function interPodAffinityScore(node: NodeInfo, scores: InterPodAffinityScores): number {
  let s = 0;
  for (const [key, byValue] of scores) {
    const value = topologyValue(node.node, key);
    if (value !== undefined) s += byValue.get(value) ?? 0;
  }
  return s;
}
