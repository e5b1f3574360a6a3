/**
 * What the scheduler's plugins read: a pod's scheduling facts computed once (its requests, host
 * ports), and per node the aggregates of the pods bound to it, kept up to date by the cache so no
 * decision walks every pod of the cluster (kube-scheduler's PodInfo and NodeInfo).
 */
import type { Node, Pod } from '../../../messages';

/**
 * Amounts of resources by name: `cpu` in millicores, `memory` in bytes, `pods` as a count, and
 * extended resources (`nvidia.com/gpu`, `example.com/dongle`) as counts.
 */
export type ResourceVector = Record<string, number>;

/** A host port a container asks for: `ip` is 0.0.0.0 when the pod names none. */
export interface HostPort { ip: string; protocol: string; port: number }

/** A pod as the plugins see it. */
export interface PodInfo {
  /** The pod's store key. */
  key: string;
  pod: Pod;
  /** Effective requests: max(largest init container, sum of app containers), per resource. */
  requests: ResourceVector;
  /** The names in requests with an amount, cpu first, then memory, then the others by name. */
  requestNames: readonly string[];
  /** cpu and memory with kube-scheduler's defaults for containers that request none (for scores). */
  nonZero: { cpu: number; memory: number };
  /** The host ports its app containers ask for. */
  ports: HostPort[];
  /** True when the pod has affinity or anti-affinity terms of its own. */
  hasAffinity: boolean;
  /** True when it has required anti-affinity terms (they keep other pods away). */
  hasRequiredAntiAffinity: boolean;
}

/** A node and what the pods bound to it take. */
export interface NodeInfo {
  name: string;
  node: Node;
  allocatable: ResourceVector;
  /** The sum of the requests of its pods that still hold resources, with `pods` their count. */
  requested: ResourceVector;
  /** The sum of its pods' nonZero requests. */
  nonZeroRequested: { cpu: number; memory: number };
  /** The host ports its pods hold. */
  ports: HostPort[];
  /** Its pods that still hold resources, by key. */
  pods: Map<string, PodInfo>;
}

/** The reasons a filter gives for a node that does not fit; empty when it fits. */
export type FilterReasons = readonly string[];

/** The answer of a filter that lets the node through (shared: filters run per node per pod). */
export const FITS: FilterReasons = Object.freeze([]);

/** The filter and score plugins, by name (the names kube-scheduler gives them). */
export type PluginName =
  | 'NodeUnschedulable'
  | 'TaintToleration'
  | 'NodeAffinity'
  | 'NodePorts'
  | 'NodeResourcesFit'
  | 'VolumeBinding'
  | 'VolumeRestrictions'
  | 'PodTopologySpread'
  | 'InterPodAffinity';

/** The highest score a score plugin gives a node (kube-scheduler's MaxNodeScore). */
export const MAX_NODE_SCORE = 100;
