/** Cluster-level kinds: v1 Namespace and v1 Node. */
import { z } from 'zod';
import { ObjectMeta } from './meta';
import { Taint } from './scheduling';

export const NamespaceSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('Namespace').describe('The kind of object: `Namespace`.'),
  metadata: ObjectMeta.describe("The namespace's name, labels and the metadata the server keeps; a namespace has no namespace of its own."),
  spec: z.strictObject({
    finalizers: z.array(z.string()).optional().describe(
      'Names of clean-up steps meant to finish before the namespace goes away. Accepted, but mk does not act on them: '
      + 'deleting a namespace deletes every object in it and then the namespace.',
    ),
  }).optional().meta({ title: 'NamespaceSpec', description: 'Settings of the namespace; mk has none that change what it does.' }),
  status: z.unknown().optional().meta({
    title: 'NamespaceStatus',
    description: "The namespace's phase, written by mk: Active, or Terminating while its objects are deleted. A manifest's status is ignored.",
  }),
}).meta({ title: 'Namespace' });
export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating' };
}

export interface NodeCondition {
  type: 'Ready' | 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
  status: 'True' | 'False' | 'Unknown';
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** Capacity and allocatable: cpu in cores, memory with a binary suffix, pods as a count. */
export type ResourceMap = Record<string, string>;

export interface NodeStatus {
  capacity?: ResourceMap;
  allocatable?: ResourceMap;
  conditions?: NodeCondition[];
  addresses?: { type: 'InternalIP' | 'Hostname'; address: string }[];
  nodeInfo?: {
    kernelVersion?: string;
    osImage?: string;
    architecture?: string;
    containerRuntimeVersion?: string;
    kubeletVersion?: string;
  };
}

export const NodeSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('Node').describe('The kind of object: `Node`.'),
  metadata: ObjectMeta.describe(
    "The node's name, labels and the metadata the server keeps. The node agent registers the node and sets the kubernetes.io/hostname, "
    + 'kubernetes.io/os and kubernetes.io/arch labels.',
  ),
  spec: z.strictObject({
    podCIDR: z.string().optional().describe(
      "The IPv4 range the node's pods take their addresses from: a range of the cluster CIDR (a /24 of 10.244.0.0/16 unless "
      + 'the control plane is given --cluster-cidr and --node-cidr-mask-size) that the control plane assigns when the node '
      + 'registers, if one is free. Once set it cannot change.',
    ),
    podCIDRs: z.array(z.string()).optional().describe(
      'The pod ranges as a list. mk gives each node one IPv4 range, so this holds podCIDR alone, and an update keeps it as it was.',
    ),
    taints: z.array(Taint).optional().describe(
      'Taints keep pods that do not tolerate them off the node (NoSchedule, PreferNoSchedule) or evict them (NoExecute). '
      + '`mk taint nodes` adds and removes them; the control plane adds node.kubernetes.io/unreachable when heartbeats stop.',
    ),
    unschedulable: z.boolean().optional().describe(
      'When true the scheduler places no new pods on the node; the pods already there keep running. Set it with `mk apply`.',
    ),
  }).optional().meta({ title: 'NodeSpec', description: 'How the node takes part in scheduling and pod networking.' }),
  status: z.unknown().optional().meta({
    title: 'NodeStatus',
    description: "Capacity and allocatable resources, conditions (Ready with its heartbeat), addresses and system details, posted by the node's "
      + "agent; the control plane marks Ready Unknown when heartbeats stop. A manifest's status is ignored.",
  }),
}).meta({ title: 'Node' });

export interface Node {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: ObjectMeta;
  spec?: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean; taints?: Taint[] };
  status?: NodeStatus;
}

/** Nodes whose heartbeat is older than this are NotReady (Kubernetes' node-monitor-grace-period is 40 s). */
export const NODE_GRACE_MS = 40_000;
