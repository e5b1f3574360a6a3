/**
 * Pure builders from a Pod to CRI configs, in the way kubelet's kuberuntime does
 * (kubernetes/kubernetes pkg/kubelet/kuberuntime/kuberuntime_sandbox.go, kuberuntime_container.go).
 * Labels carry the pod's identity so a restarted agent adopts what it finds.
 */
import { createHash } from 'node:crypto';
import { qosClass, type Container, type Pod } from '../../messages/pod';
import { cpuMillis, memoryBytes } from '../../messages/quantity';
import type { ResolvedContainer } from './env';
import type { GpuContainerConfig } from '../gpu/allocation';
import type { ContainerConfig, DNSConfig, LinuxContainerResources, Mount, PodSandboxConfig, PortMapping } from '../cri/types';
import { podDnsConfig, type ClusterDnsConfig } from './dns';
import { containerSecurityContext, sandboxSecurity, type ImageUser } from './security';

/** Label on sandboxes and containers: the pod's uid. Observation finds a pod's things by it. */
export const LABEL_POD_UID = 'mk.io/pod-uid';
/** Label: the pod's name. */
export const LABEL_POD_NAME = 'mk.io/pod-name';
/** Label: the pod's namespace. */
export const LABEL_POD_NAMESPACE = 'mk.io/pod-namespace';
/** Label on containers: the spec container's name. */
export const LABEL_CONTAINER_NAME = 'mk.io/container-name';
/** Annotation: a hash of the container spec it was created from (diagnostics, like kubelet's). */
export const ANNOTATION_CONTAINER_HASH = 'mk.io/container-hash';
/** Annotation: the image as the spec named it; a differing spec image restarts the container. */
export const ANNOTATION_CONTAINER_IMAGE = 'mk.io/container-image';
/** Annotation: how many times the program ran before this instance (the status's restartCount). */
export const ANNOTATION_RESTART_COUNT = 'mk.io/restart-count';

/** Node-level inputs to the sandbox config. */
export interface SandboxOptions {
  /** Root of pod log directories, e.g. `/var/log/pods`. */
  podLogsRoot: string;
  /** Resolver config for the pod (cluster DNS); omitted = the runtime's default. */
  dnsConfig?: ClusterDnsConfig;
  /**
   * Where the node keeps each pod's /etc/hosts (hosts.ts), in the pod's directory named as under
   * podLogsRoot; none = containers get the runtime's copy of the node's own file.
   */
  hostsRoot?: string;
  /** The node's resolv.conf, parsed: the base that a pod's dnsConfig is added to under dnsPolicy Default. */
  nodeResolvConf?: DNSConfig;
  /** The node's own cgroup above `/kubepods` (`/mk-<id>-2` for a node of `mk up --nodes N`); default none. */
  cgroupRoot?: string;
  /** Where Localhost seccomp profiles are looked up; default /var/lib/mk/seccomp. */
  seccompProfileRoot?: string;
}

/** The pod's log directory: `<podLogsRoot>/<ns>_<name>_<uid>`, as kubelet names it. */
export function podLogDirectory(pod: Pod, podLogsRoot: string): string {
  const ns = pod.metadata.namespace ?? 'default';
  return `${podLogsRoot.replace(/\/+$/, '')}/${ns}_${pod.metadata.name}_${podUid(pod)}`;
}

/** The pod's uid; a pod reaching a node always has one (set at creation). */
export function podUid(pod: Pod): string {
  const uid = pod.metadata.uid;
  if (!uid) throw new Error(`pod ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name} has no uid`);
  return uid;
}

/** Labels that identify the pod's sandboxes and containers. */
export function podLabels(pod: Pod): Record<string, string> {
  return {
    [LABEL_POD_UID]: podUid(pod),
    [LABEL_POD_NAME]: pod.metadata.name,
    [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? 'default',
  };
}

/**
 * The pod's cgroup parent for the cgroupfs driver (the same path on cgroup v1 and v2), by QoS
 * class, laid out like kubelet's:
 * Guaranteed pods sit directly under /kubepods
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/).
 */
export function podCgroupParent(pod: Pod, cgroupRoot = ''): string {
  const qos = qosClass(pod.spec);
  const uid = podUid(pod);
  const root = `${cgroupRoot.replace(/\/+$/, '')}/kubepods`;
  if (qos === 'Guaranteed') return `${root}/pod${uid}`;
  return `${root}/${qos === 'Burstable' ? 'burstable' : 'besteffort'}/pod${uid}`;
}

/** Hostname: spec.hostname or the pod name, cut to 63 characters like kubelet does. */
export function podHostname(pod: Pod): string {
  const name = pod.spec.hostname ?? pod.metadata.name;
  return name.length <= 63 ? name : name.slice(0, 63).replace(/[-.]+$/, '');
}

/** Host port mappings from every container port that asks for one. */
export function podPortMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined) continue;
      out.push({ protocol: p.protocol ?? 'TCP', containerPort: p.containerPort, hostPort: p.hostPort, ...(p.hostIP ? { hostIp: p.hostIP } : {}) });
    }
  }
  return out;
}

/** RunPodSandbox's config. `attempt` counts sandbox re-creations of this pod. */
export function buildSandboxConfig(pod: Pod, opts: SandboxOptions, attempt: number): PodSandboxConfig {
  const dnsConfig = podDnsConfig(pod, {
    ...(opts.dnsConfig ? { cluster: opts.dnsConfig } : {}), ...(opts.nodeResolvConf ? { node: opts.nodeResolvConf } : {}),
  });
  return {
    metadata: { name: pod.metadata.name, uid: podUid(pod), namespace: pod.metadata.namespace ?? 'default', attempt },
    hostname: podHostname(pod),
    logDirectory: podLogDirectory(pod, opts.podLogsRoot),
    ...(dnsConfig ? { dnsConfig } : {}),
    portMappings: podPortMappings(pod),
    labels: podLabels(pod),
    annotations: {},
    linux: { cgroupParent: podCgroupParent(pod, opts.cgroupRoot), ...sandboxSecurity(pod, opts.seccompProfileRoot) },
  };
}

// Kubernetes' constants (pkg/kubelet/cm/helpers_linux.go): shares per CPU, min shares, CFS period.
const SHARES_PER_CPU = 1024;
const MIN_SHARES = 2;
const QUOTA_PERIOD = 100_000;
const MIN_QUOTA = 1_000;

/**
 * Linux resources from requests and limits. A limit without a request counts as the request
 * (the API server defaults it so); no request at all gets the minimum shares, like BestEffort.
 */
export function containerResources(c: Container): LinuxContainerResources {
  const requestCpu = cpuMillis(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu);
  const out: LinuxContainerResources = {
    cpuShares: Math.max(MIN_SHARES, Math.floor((requestCpu * SHARES_PER_CPU) / 1000)),
  };
  const limitCpu = cpuMillis(c.resources?.limits?.cpu);
  if (limitCpu > 0) {
    out.cpuPeriod = QUOTA_PERIOD;
    out.cpuQuota = Math.max(MIN_QUOTA, Math.floor((limitCpu * QUOTA_PERIOD) / 1000));
  }
  const limitMemory = memoryBytes(c.resources?.limits?.memory);
  if (limitMemory > 0) out.memoryLimitInBytes = limitMemory;
  return out;
}

/** A stable hash of the container spec (keys sorted), recorded on the container. */
export function containerSpecHash(c: Container): string {
  return createHash('sha256').update(stableJson(c)).digest('hex').slice(0, 16);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Node-level inputs to a container's config. */
export interface ContainerOptions {
  /** The image's user, from ImageStatus: needed for runAsNonRoot or runAsGroup without runAsUser (see security.ts). */
  imageUser?: ImageUser;
  /** As SandboxOptions.seccompProfileRoot. */
  seccompProfileRoot?: string;
  /** The pod's hosts file on the node (hosts.ts), mounted at /etc/hosts; the runtime's copy of the node's when omitted. */
  hostsPath?: string;
  /** The container's environment from every source and its expanded command and args (env.ts). */
  resolved?: ResolvedContainer;
  /** The container's GPUs (node-agent/gpu): devices, driver mounts, env and annotation added. */
  gpu?: GpuContainerConfig;
  /**
   * The container's volumeMounts as CRI mounts (node-agent/volumes), after /etc/hosts; one at
   * /etc/hosts replaces the node's hosts file, as kubelet leaves /etc/hosts to such a mount.
   */
  volumeMounts?: Mount[];
}

/**
 * CreateContainer's config. `attempt` numbers the instance (the log goes to `<name>/<attempt>.log`);
 * `restartCount` (default: the attempt) is how many times the program ran before, recorded for status.
 * Throws ContainerConfigError when the securityContext cannot be met (runAsNonRoot and a root user).
 * Without `opts.resolved`, env holds the plain values only, and command and args are not expanded.
 */
export function buildContainerConfig(
  pod: Pod, c: Container, attempt: number, restartCount: number = attempt, opts: ContainerOptions = {},
): ContainerConfig {
  const securityContext = containerSecurityContext(pod, c, opts.imageUser, opts.seccompProfileRoot);
  // `resolved` (env.ts) carries the environment from every source and the expanded command and args.
  const resolved = opts.resolved;
  const command = resolved ? resolved.command : c.command;
  const args = resolved ? resolved.args : c.args;
  const config: ContainerConfig = {
    metadata: { name: c.name, attempt },
    image: { image: c.image },
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    ...(c.workingDir ? { workingDir: c.workingDir } : {}),
    envs: resolved
      ? resolved.env.map((e) => ({ key: e.name, value: e.value }))
      : (c.env ?? []).filter((e) => !e.valueFrom).map((e) => ({ key: e.name, value: e.value ?? '' })),
    labels: { ...podLabels(pod), [LABEL_CONTAINER_NAME]: c.name },
    annotations: {
      [ANNOTATION_CONTAINER_HASH]: containerSpecHash(c),
      [ANNOTATION_CONTAINER_IMAGE]: c.image,
      [ANNOTATION_RESTART_COUNT]: String(restartCount),
    },
    logPath: `${c.name}/${attempt}.log`,
    ...containerMountsOf(opts),
    ...(c.tty ? { tty: true } : {}),
    ...(c.stdin ? { stdin: true } : {}),
    ...(c.stdinOnce ? { stdinOnce: true } : {}),
    linux: { resources: containerResources(c), ...(securityContext ? { securityContext } : {}) },
  };
  return opts.gpu ? withGpu(config, opts.gpu) : config;
}

/** The hosts file and volume mounts, in that order; none at all leaves `mounts` out. */
function containerMountsOf(opts: ContainerOptions): Pick<ContainerConfig, 'mounts'> {
  const volumes = opts.volumeMounts ?? [];
  const hosts = opts.hostsPath && !volumes.some((m) => m.containerPath === '/etc/hosts')
    ? [{ containerPath: '/etc/hosts', hostPath: opts.hostsPath }] : [];
  const mounts = [...hosts, ...volumes];
  return mounts.length > 0 ? { mounts } : {};
}

/** The config with the GPU part added; the container's own env wins over it. */
function withGpu(config: ContainerConfig, gpu: GpuContainerConfig): ContainerConfig {
  const own = new Set((config.envs ?? []).map((e) => e.key));
  return {
    ...config,
    envs: [...gpu.envs.filter((e) => !own.has(e.key)), ...(config.envs ?? [])],
    mounts: [...(config.mounts ?? []), ...gpu.mounts],
    devices: [...(config.devices ?? []), ...gpu.devices],
    annotations: { ...config.annotations, ...gpu.annotations },
  };
}
