/** Cluster-level kinds: v1 Namespace and v1 Node. */
import { z } from 'zod';
import { ObjectMeta } from './meta';

export const NamespaceSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Namespace'),
  metadata: ObjectMeta,
  spec: z.strictObject({ finalizers: z.array(z.string()).optional() }).optional(),
  status: z.unknown().optional(),
});
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
  apiVersion: z.literal('v1'),
  kind: z.literal('Node'),
  metadata: ObjectMeta,
  spec: z.strictObject({
    podCIDR: z.string().optional(),
    podCIDRs: z.array(z.string()).optional(),
    unschedulable: z.boolean().optional(),
  }).optional(),
  status: z.unknown().optional(),
});

export interface Node {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: ObjectMeta;
  spec?: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean };
  status?: NodeStatus;
}

/** Nodes whose heartbeat is older than this are NotReady (Kubernetes' node-monitor-grace-period is 40 s). */
export const NODE_GRACE_MS = 40_000;
