/**
 * What a node offers, read from the machine: CPU cores, memory, NVIDIA GPUs, OS facts. Allocatable
 * keeps back a little for the system, like the kubelet's system-reserved.
 */
import os from 'node:os';
import si from 'systeminformation';
import { formatMemory, type NodeStatus } from '../../messages';

/** Memory kept back from allocatable for the node agent, containerd and the OS. */
const RESERVED_MEMORY = 256 * 2 ** 20;
const MAX_PODS = 110;

/** Counts NVIDIA GPUs; none when the probe fails or takes too long (no GPU on most machines). */
async function nvidiaGpus(): Promise<number> {
  try {
    const g = await Promise.race([
      si.graphics(),
      new Promise<null>((r) => setTimeout(() => r(null), 3000).unref()),
    ]);
    return g ? g.controllers.filter((c) => /nvidia/i.test(c.vendor ?? '')).length : 0;
  } catch {
    return 0;
  }
}

/** The first non-internal IPv4 address of the machine (or its network namespace), else loopback. */
export function hostIP(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Capacity, allocatable, addresses and node info for the Node's status (InternalIP: `internalIP`, else hostIP()). */
export async function readCapacity(nodeName: string, runtimeVersion: string, internalIP: string = hostIP()): Promise<NodeStatus> {
  const cpus = os.cpus().length;
  const mem = os.totalmem();
  const gpus = await nvidiaGpus();
  const memAlloc = Math.max(0, mem - RESERVED_MEMORY);
  const round = (b: number) => b - (b % 2 ** 20);
  const capacity: Record<string, string> = { cpu: String(cpus), memory: formatMemory(round(mem)), pods: String(MAX_PODS) };
  const allocatable: Record<string, string> = { cpu: String(cpus), memory: formatMemory(round(memAlloc)), pods: String(MAX_PODS) };
  if (gpus > 0) { capacity['nvidia.com/gpu'] = String(gpus); allocatable['nvidia.com/gpu'] = String(gpus); }
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
