/**
 * TypeScript shapes of the CRI runtime.v1 messages mk uses (see runtime.proto beside this file).
 *
 * Conventions, fixed by how @grpc/proto-loader decodes with
 * `{ keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true }`:
 * - field names are the upstream names in camelCase (`pod_sandbox_id` -> `podSandboxId`);
 * - int64/uint64 are plain numbers (timestamps are nanoseconds since the epoch);
 * - enums are their names as strings (`'CONTAINER_RUNNING'`, `'SANDBOX_READY'`);
 * - in responses every scalar, list and map is present (empty when unset) and an unset nested
 *   message is `null`; `bytes` fields are Buffers.
 * Requests may omit any field (proto3 defaults apply on the server).
 * Upstream: https://github.com/kubernetes/cri-api/blob/master/pkg/apis/runtime/v1/api.proto
 */

export type StringMap = Record<string, string>;

// ---- enums ----
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

// ---- shared pieces ----
export interface Int64Value { value: number }
export interface UInt64Value { value: number }
export interface KeyValue { key: string; value: string }
export interface ImageSpec { image: string; annotations?: StringMap }
export interface DNSConfig { servers?: string[]; searches?: string[]; options?: string[] }
export interface PortMapping { protocol?: Protocol; containerPort: number; hostPort?: number; hostIp?: string }
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagation;
}
export interface NamespaceOption { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode; targetId?: string }

// ---- sandbox ----
export interface PodSandboxMetadata { name: string; uid: string; namespace: string; attempt?: number }
export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
}
export interface LinuxPodSandboxConfig {
  cgroupParent?: string;
  securityContext?: LinuxSandboxSecurityContext;
  sysctls?: StringMap;
}
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: StringMap;
  annotations?: StringMap;
  linux?: LinuxPodSandboxConfig;
}
export interface RunPodSandboxRequest { config: PodSandboxConfig; runtimeHandler?: string }
export interface RunPodSandboxResponse { podSandboxId: string }
export interface StopPodSandboxRequest { podSandboxId: string }
export interface RemovePodSandboxRequest { podSandboxId: string }
export interface PodSandboxStatusRequest { podSandboxId: string; verbose?: boolean }
export interface PodIP { ip: string }
export interface PodSandboxNetworkStatus { ip: string; additionalIps: PodIP[] }
export interface PodSandboxStatus {
  id: string;
  metadata: Required<PodSandboxMetadata> | null;
  state: PodSandboxState;
  createdAt: number;
  network: PodSandboxNetworkStatus | null;
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}
export interface PodSandboxStatusResponse { status: PodSandboxStatus | null; info: StringMap }
export interface PodSandboxFilter { id?: string; state?: { state: PodSandboxState }; labelSelector?: StringMap }
export interface ListPodSandboxRequest { filter?: PodSandboxFilter }
export interface PodSandbox {
  id: string;
  metadata: Required<PodSandboxMetadata> | null;
  state: PodSandboxState;
  createdAt: number;
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}
export interface ListPodSandboxResponse { items: PodSandbox[] }

// ---- containers ----
export interface ContainerMetadata { name: string; attempt?: number }
export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
}
export interface LinuxContainerSecurityContext {
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
}
export interface LinuxContainerConfig { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext }
export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  labels?: StringMap;
  annotations?: StringMap;
  /** Relative to the sandbox's logDirectory. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
}
export interface CreateContainerRequest { podSandboxId: string; config: ContainerConfig; sandboxConfig: PodSandboxConfig }
export interface CreateContainerResponse { containerId: string }
export interface StartContainerRequest { containerId: string }
/** `timeout` is the grace period in seconds before SIGKILL (0 = kill at once). */
export interface StopContainerRequest { containerId: string; timeout?: number }
export interface RemoveContainerRequest { containerId: string }
export interface ContainerFilter { id?: string; state?: { state: ContainerState }; podSandboxId?: string; labelSelector?: StringMap }
export interface ListContainersRequest { filter?: ContainerFilter }
export interface Container {
  id: string;
  podSandboxId: string;
  metadata: Required<ContainerMetadata> | null;
  image: Required<ImageSpec> | null;
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: StringMap;
  annotations: StringMap;
}
export interface ListContainersResponse { containers: Container[] }
export interface ContainerStatusRequest { containerId: string; verbose?: boolean }
export interface ContainerStatus {
  id: string;
  metadata: Required<ContainerMetadata> | null;
  state: ContainerState;
  createdAt: number;
  /** 0 when not started. */
  startedAt: number;
  /** 0 when not finished. */
  finishedAt: number;
  exitCode: number;
  image: Required<ImageSpec> | null;
  imageRef: string;
  /** e.g. 'Completed', 'Error', 'OOMKilled'. */
  reason: string;
  message: string;
  labels: StringMap;
  annotations: StringMap;
  mounts: Required<Mount>[];
  /** Absolute path of the CRI-format log file on the host. */
  logPath: string;
}
export interface ContainerStatusResponse { status: ContainerStatus | null; info: StringMap }

// ---- exec ----
/** `timeout` in seconds; 0 = no timeout (the client deadline still applies). */
export interface ExecSyncRequest { containerId: string; cmd: string[]; timeout?: number }
export interface ExecSyncResponse { stdout: Buffer; stderr: Buffer; exitCode: number }

// ---- stats ----
export interface ContainerAttributes {
  id: string;
  metadata: Required<ContainerMetadata> | null;
  labels: StringMap;
  annotations: StringMap;
}
export interface CpuUsage {
  timestamp: number;
  /** Cumulative CPU time in ns: two samples make a rate. */
  usageCoreNanoSeconds: UInt64Value | null;
  /** Computed by containerd between any two callers' samples: do not rely on it. */
  usageNanoCores: UInt64Value | null;
}
export interface MemoryUsage {
  timestamp: number;
  workingSetBytes: UInt64Value | null;
  availableBytes: UInt64Value | null;
  usageBytes: UInt64Value | null;
  rssBytes: UInt64Value | null;
  pageFaults: UInt64Value | null;
  majorPageFaults: UInt64Value | null;
}
export interface ContainerStats {
  attributes: ContainerAttributes | null;
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
}
export interface ContainerStatsRequest { containerId: string }
export interface ContainerStatsResponse { stats: ContainerStats | null }
export interface ContainerStatsFilter { id?: string; podSandboxId?: string; labelSelector?: StringMap }
export interface ListContainerStatsRequest { filter?: ContainerStatsFilter }
export interface ListContainerStatsResponse { stats: ContainerStats[] }

// ---- runtime ----
export interface VersionRequest { version?: string }
export interface VersionResponse { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }
export interface StatusRequest { verbose?: boolean }
/** Conditions include `RuntimeReady` and `NetworkReady`. */
export interface RuntimeCondition { type: string; status: boolean; reason: string; message: string }
export interface StatusResponse { status: { conditions: RuntimeCondition[] } | null; info: StringMap }

// ---- images ----
export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  uid: Int64Value | null;
  username: string;
  spec: Required<ImageSpec> | null;
  pinned: boolean;
}
export interface ListImagesRequest { filter?: { image?: ImageSpec } }
export interface ListImagesResponse { images: Image[] }
export interface ImageStatusRequest { image: ImageSpec; verbose?: boolean }
/** `image` is null when the runtime does not have it (not an error). */
export interface ImageStatusResponse { image: Image | null; info: StringMap }
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}
export interface PullImageRequest { image: ImageSpec; auth?: AuthConfig; sandboxConfig?: PodSandboxConfig }
export interface PullImageResponse { imageRef: string }
export interface RemoveImageRequest { image: ImageSpec }

/** Responses with no fields. */
export type Empty = Record<string, never>;
