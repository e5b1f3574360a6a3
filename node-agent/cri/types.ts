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

/** Labels, annotations and other string maps. */
export type StringMap = Record<string, string>;

// ---- enums ----
/** Port mapping protocol. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
/** Mount propagation of a host path into a container. */
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
/** Scope of a Linux namespace: shared by the pod, per container, or the node's. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
/** Sandbox state: ready while its pause container and network exist. */
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
/** Container lifecycle state. */
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

// ---- shared pieces ----
/** Wrapper that tells "0" from "unset". */
export interface Int64Value { value: number }
/** Wrapper that tells "0" from "unset". */
export interface UInt64Value { value: number }
/** One environment variable. */
export interface KeyValue { key: string; value: string }
/** An image reference (name, tag or digest, or image id). */
export interface ImageSpec { image: string; annotations?: StringMap }
/** resolv.conf of a sandbox. */
export interface DNSConfig { servers?: string[]; searches?: string[]; options?: string[] }
/** A hostPort of the pod (needs the portmap CNI plugin). */
export interface PortMapping { protocol?: Protocol; containerPort: number; hostPort?: number; hostIp?: string }
/** A host path mounted into a container. */
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagation;
}
/** A host device given to a container; permissions of the device cgroup: `r`, `w`, `m` (default `rwm`). */
export interface Device { containerPath: string; hostPath: string; permissions?: string }
/** Which namespaces a sandbox or container shares. */
export interface NamespaceOption { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode; targetId?: string }

// ---- sandbox ----
/** Identity of a sandbox; (name, uid, namespace, attempt) is unique. */
export interface PodSandboxMetadata { name: string; uid: string; namespace: string; attempt?: number }
/** A seccomp profile: the runtime's default, none, or a file on the node (localhostRef, absolute). */
export interface SecurityProfile { profileType?: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostRef?: string }
/** Capabilities added to and dropped from the runtime's default set; names without `CAP_`, or `ALL`. */
export interface Capability { addCapabilities?: string[]; dropCapabilities?: string[] }
/** Linux security settings of a sandbox. */
export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
}
/** Linux settings of a sandbox; cgroupParent is a cgroupfs path like /kubepods/pod<uid>. */
export interface LinuxPodSandboxConfig {
  cgroupParent?: string;
  securityContext?: LinuxSandboxSecurityContext;
  sysctls?: StringMap;
}
/** Everything about a sandbox; CreateContainer needs it again as `sandboxConfig`. */
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
/** Request of the RunPodSandbox RPC. */
export interface RunPodSandboxRequest { config: PodSandboxConfig; runtimeHandler?: string }
/** Response of the RunPodSandbox RPC. */
export interface RunPodSandboxResponse { podSandboxId: string }
/** Request of the StopPodSandbox RPC. */
export interface StopPodSandboxRequest { podSandboxId: string }
/** Request of the RemovePodSandbox RPC. */
export interface RemovePodSandboxRequest { podSandboxId: string }
/** Request of the PodSandboxStatus RPC. */
export interface PodSandboxStatusRequest { podSandboxId: string; verbose?: boolean }
/** An extra pod IP. */
export interface PodIP { ip: string }
/** The pod IP(s) CNI assigned. */
export interface PodSandboxNetworkStatus { ip: string; additionalIps: PodIP[] }
/** Status of one sandbox. */
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
/** Response of the PodSandboxStatus RPC. */
export interface PodSandboxStatusResponse { status: PodSandboxStatus | null; info: StringMap }
/** ListPodSandbox filter; fields are ANDed, labelSelector matches exactly. */
export interface PodSandboxFilter { id?: string; state?: { state: PodSandboxState }; labelSelector?: StringMap }
/** Request of the ListPodSandbox RPC. */
export interface ListPodSandboxRequest { filter?: PodSandboxFilter }
/** A sandbox as ListPodSandbox returns it. */
export interface PodSandbox {
  id: string;
  metadata: Required<PodSandboxMetadata> | null;
  state: PodSandboxState;
  createdAt: number;
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}
/** Response of the ListPodSandbox RPC. */
export interface ListPodSandboxResponse { items: PodSandbox[] }

// ---- containers ----
/** Identity of a container in its sandbox; attempt counts restarts. */
export interface ContainerMetadata { name: string; attempt?: number }
/** cgroup limits: CFS period/quota in microseconds, shares, memory in bytes (0 = unset). */
export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
}
/** Linux security settings of a container. */
export interface LinuxContainerSecurityContext {
  capabilities?: Capability;
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  seccomp?: SecurityProfile;
}
/** Linux settings of a container. */
export interface LinuxContainerConfig { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext }
/** Everything about a container to create. */
export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: StringMap;
  annotations?: StringMap;
  /** Relative to the sandbox's logDirectory. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
}
/** Request of the CreateContainer RPC. */
export interface CreateContainerRequest { podSandboxId: string; config: ContainerConfig; sandboxConfig: PodSandboxConfig }
/** Response of the CreateContainer RPC. */
export interface CreateContainerResponse { containerId: string }
/** Request of the StartContainer RPC. */
export interface StartContainerRequest { containerId: string }
/** `timeout` is the grace period in seconds before SIGKILL (0 = kill at once). */
export interface StopContainerRequest { containerId: string; timeout?: number }
/** Request of the UpdateContainerResources RPC: the container's new Linux resources. */
export interface UpdateContainerResourcesRequest { containerId: string; linux?: LinuxContainerResources; annotations?: StringMap }
/** Request of the RemoveContainer RPC. */
export interface RemoveContainerRequest { containerId: string }
/** ListContainers filter; fields are ANDed, labelSelector matches exactly. */
export interface ContainerFilter { id?: string; state?: { state: ContainerState }; podSandboxId?: string; labelSelector?: StringMap }
/** Request of the ListContainers RPC. */
export interface ListContainersRequest { filter?: ContainerFilter }
/** A container as ListContainers returns it. */
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
/** Response of the ListContainers RPC. */
export interface ListContainersResponse { containers: Container[] }
/** Request of the ContainerStatus RPC. */
export interface ContainerStatusRequest { containerId: string; verbose?: boolean }
/** Status of one container. */
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
/** Response of the ContainerStatus RPC. */
export interface ContainerStatusResponse { status: ContainerStatus | null; info: StringMap }

// ---- exec ----
/** `timeout` in seconds; 0 = no timeout (the client deadline still applies). */
export interface ExecSyncRequest { containerId: string; cmd: string[]; timeout?: number }
/** Response of the ExecSync RPC. */
export interface ExecSyncResponse { stdout: Buffer; stderr: Buffer; exitCode: number }

// ---- stats ----
/** Identity of the container a stats sample belongs to. */
export interface ContainerAttributes {
  id: string;
  metadata: Required<ContainerMetadata> | null;
  labels: StringMap;
  annotations: StringMap;
}
/** CPU usage sample. */
export interface CpuUsage {
  timestamp: number;
  /** Cumulative CPU time in ns: two samples make a rate. */
  usageCoreNanoSeconds: UInt64Value | null;
  /** Computed by containerd between any two callers' samples: do not rely on it. */
  usageNanoCores: UInt64Value | null;
}
/** Memory usage sample; workingSetBytes is what Kubernetes reports and limits act on. */
export interface MemoryUsage {
  timestamp: number;
  workingSetBytes: UInt64Value | null;
  availableBytes: UInt64Value | null;
  usageBytes: UInt64Value | null;
  rssBytes: UInt64Value | null;
  pageFaults: UInt64Value | null;
  majorPageFaults: UInt64Value | null;
}
/** Resource usage of one container. */
export interface ContainerStats {
  attributes: ContainerAttributes | null;
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
}
/** Request of the ContainerStats RPC. */
export interface ContainerStatsRequest { containerId: string }
/** Response of the ContainerStats RPC. */
export interface ContainerStatsResponse { stats: ContainerStats | null }
/** ListContainerStats filter; fields are ANDed. */
export interface ContainerStatsFilter { id?: string; podSandboxId?: string; labelSelector?: StringMap }
/** Request of the ListContainerStats RPC. */
export interface ListContainerStatsRequest { filter?: ContainerStatsFilter }
/** Response of the ListContainerStats RPC. */
export interface ListContainerStatsResponse { stats: ContainerStats[] }

// ---- runtime ----
/** Request of the Version RPC. */
export interface VersionRequest { version?: string }
/** Response of the Version RPC. */
export interface VersionResponse { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }
/** Request of the Status RPC. */
export interface StatusRequest { verbose?: boolean }
/** Conditions include `RuntimeReady` and `NetworkReady`. */
export interface RuntimeCondition { type: string; status: boolean; reason: string; message: string }
/** Response of the Status RPC. */
export interface StatusResponse { status: { conditions: RuntimeCondition[] } | null; info: StringMap }

// ---- images ----
/** An image CRI knows, with all its tags (repoTags) and digests. */
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
/** Request of the ListImages RPC. */
export interface ListImagesRequest { filter?: { image?: ImageSpec } }
/** Response of the ListImages RPC. */
export interface ListImagesResponse { images: Image[] }
/** Request of the ImageStatus RPC. */
export interface ImageStatusRequest { image: ImageSpec; verbose?: boolean }
/** `image` is null when the runtime does not have it (not an error). */
export interface ImageStatusResponse { image: Image | null; info: StringMap }
/** Registry credentials for PullImage. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}
/** Request of the PullImage RPC. */
export interface PullImageRequest { image: ImageSpec; auth?: AuthConfig; sandboxConfig?: PodSandboxConfig }
/** Response of the PullImage RPC. */
export interface PullImageResponse { imageRef: string }
/** Request of the RemoveImage RPC. */
export interface RemoveImageRequest { image: ImageSpec }

/** Responses with no fields. */
export type Empty = Record<string, never>;
