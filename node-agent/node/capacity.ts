/**
 * What a node offers, read from the machine: capacity and allocatable (node-status.ts says how
 * allocatable is computed), addresses, OS facts.
 */
import os from 'node:os';
import si from 'systeminformation';
import type { NodeStatus } from '../../messages';
import { measureNode } from './measure';
import { resourcesFrom } from './node-status';

/** The first non-internal IPv4 address of the machine (or its network namespace), else loopback. */
export function hostIP(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * Capacity, allocatable, addresses and node info for the Node's status; `dataDir` is the node's
 * data directory (ephemeral-storage is its file system), `gpus` the count node-agent/gpu found,
 * `internalIP` the node's InternalIP (default: hostIP()).
 */
export async function readCapacity(
  nodeName: string, runtimeVersion: string, dataDir: string, gpus = 0, internalIP: string = hostIP(),
): Promise<NodeStatus> {
  const { capacity, allocatable } = resourcesFrom(await measureNode(dataDir, gpus));
  let osImage = `${os.type()} ${os.release()}`;
  try {
    const o = await si.osInfo();
    osImage = `${o.distro} ${o.release}`.trim() || osImage;
  } catch { /* keep the kernel's name */ }
  return {
    capacity,
    allocatable,
    addresses: [{ type: 'InternalIP', address: internalIP }, { type: 'Hostname', address: nodeName }],
    nodeInfo: {
      kernelVersion: os.release(),
      osImage,
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      containerRuntimeVersion: runtimeVersion,
      kubeletVersion: `mk-${process.env.npm_package_version ?? '0.1.0'}`,
    },
  };
}

/**
 * The status with the extended resources added to capacity and allocatable (all of each is
 * allocatable), as a node advertises them (https://kubernetes.io/docs/tasks/administer-cluster/extended-resource-node/).
 */
export function withExtendedResources(status: NodeStatus, extended: Record<string, number> | undefined): NodeStatus {
  if (!extended || Object.keys(extended).length === 0) return status;
  const amounts = Object.fromEntries(Object.entries(extended).map(([k, v]) => [k, String(v)]));
  return {
    ...status,
    capacity: { ...status.capacity, ...amounts },
    allocatable: { ...status.allocatable, ...amounts },
  };
}
