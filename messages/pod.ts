/**
 * The v1 Pod kind: the subset of https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/
 * that mk runs. Objects are strict: a field mk does not support is reported by name, never dropped.
 */
import { z } from 'zod';
import { LabelName, ObjectMeta, Quantity } from './meta';
import { Affinity, Toleration } from './scheduling';
import { Probe, probeIssues } from './probe';
import { PodSecurityContext, SecurityContext } from './security-context';
import { DNSPolicy, dnsIssues, HostAlias, Lifecycle, lifecycleIssues, PodDNSConfig } from './lifecycle';
import { extendedResourceIssues } from './extended-resources';
import { SchedulingGates, TopologySpreadConstraints } from './topology-spread';
import { EnvFromSource, EnvVarSource, LocalObjectReference } from './env-source';
import { DEFAULT_FILE_MODE, Volume, VolumeMount, volumeIssues, volumeMountIssues } from './volumes';

export { qosClass } from './qos';

export const EnvVar = z.strictObject({
  name: z.string().min(1).describe("The variable's name; it replaces a variable of the same name that the image sets."),
  value: z.string().optional().describe(
    'The value (empty when omitted). `$(NAME)` is replaced by the value of a variable defined earlier in the list (or by envFrom); '
    + 'a reference to an unknown variable is left as written, and `$$` gives a literal `$`.',
  ),
  valueFrom: EnvVarSource.optional().describe(
    'Where the value comes from instead: a field of the pod, a resource of a container, or a key of a ConfigMap or Secret. '
    + 'Not together with value.',
  ),
}).superRefine((e, ctx) => {
  if (e.valueFrom && e.value !== undefined && e.value !== '') {
    ctx.addIssue({ code: 'custom', path: ['valueFrom'], message: 'may not be specified when `value` is not empty' });
  }
}).meta({ title: 'EnvVar' });

export const ContainerPort = z.strictObject({
  name: LabelName.optional().describe('A name for the port (a DNS-1123 label), by which probes may refer to it.'),
  containerPort: z.number().int().min(1).max(65535).describe(
    "The port the container listens on, on the pod's IP. Listing it is informational: every port is reachable on the pod IP either way.",
  ),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional().describe('The protocol of the port; TCP when omitted. It matters only with hostPort.'),
  hostPort: z.number().int().min(1).max(65535).optional().describe(
    "A port on the node forwarded to containerPort by the portmap CNI plugin, which the node agent requires at start. "
    + 'The scheduler places the pod only on a node where no other pod holds the same hostPort and protocol on an overlapping hostIP.',
  ),
  hostIP: z.string().optional().describe('The node address the host port listens on; every address of the node when omitted. Used only with hostPort.'),
}).meta({ title: 'ContainerPort' });

/** The names beside cpu and memory: extended resources, `<domain>/<name>`, outside kubernetes.io. */
const EXTENDED_RESOURCE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export const ResourceList = z.object({
  cpu: Quantity.optional().describe('CPU, in cores (`1`, `0.5`) or thousandths of a core (`250m`).'),
  memory: Quantity.optional().describe('Memory, in bytes, usually with a binary suffix (`64Mi`, `2Gi`) or a decimal one (`500M`).'),
  'nvidia.com/gpu': Quantity.optional().describe(
    "Whole NVIDIA GPUs. The scheduler counts them against the node's nvidia.com/gpu capacity, but mk does not yet give the container the devices.",
  ),
}).catchall(Quantity).superRefine((list, ctx) => {
  for (const name of Object.keys(list)) {
    if (name === 'cpu' || name === 'memory') continue;
    const m = EXTENDED_RESOURCE.exec(name);
    if (!m || m[1] === 'kubernetes.io' || m[1].endsWith('.kubernetes.io')) {
      ctx.addIssue({
        code: 'custom', path: [name],
        message: `unsupported resource "${name}": mk knows cpu and memory, and extended resources named <domain>/<name> outside kubernetes.io`,
      });
    }
  }
}).meta({
  title: 'ResourceList',
  description: 'Amounts by resource name: cpu, memory, and extended resources such as `nvidia.com/gpu` or `example.com/dongle`, '
    + "which the scheduler counts in whole units against the node's allocatable of the same name.",
});

export const ResourceRequirements = z.strictObject({
  requests: ResourceList.optional().describe(
    'What the container needs: the scheduler places the pod only on a node with that much left, and the cpu request sets the CPU '
    + 'weight (cgroup shares). A resource given only a limit is requested at its limit.',
  ),
  limits: ResourceList.optional().describe(
    'The most the container may use: above its cpu limit it is throttled (CFS quota), above its memory limit it is killed. '
    + 'Requests and limits together give the pod its QoS class.',
  ),
}).meta({ title: 'ResourceRequirements' });

export const PullPolicy = z.enum(['Always', 'IfNotPresent', 'Never']);

export const Container = z.strictObject({
  name: LabelName.describe(
    'The name of the container, unique in the pod (init containers included); a DNS-1123 label. `mk logs -c` and `mk exec -c` take it.',
  ),
  image: z.string().min(1).describe(
    'The image to run, such as `nginx:1.27` or `registry.example/app@sha256:...`. The one field of the spec that `mk apply` '
    + 'may change on an existing pod: a new image restarts the container.',
  ),
  command: z.array(z.string()).optional().describe(
    "The program to run and its leading arguments, in place of the image's ENTRYPOINT (which runs when this is omitted). "
    + 'No shell is involved; `$(NAME)` is replaced by the value of the container\'s variable NAME (left as written when there '
    + 'is none), and `$$` gives a literal `$`.',
  ),
  args: z.array(z.string()).optional().describe(
    "The arguments, in place of the image's CMD, given to the image's ENTRYPOINT or to command. "
    + 'No shell is involved; `$(NAME)` references are expanded as in command.',
  ),
  env: z.array(EnvVar).optional().describe("Environment variables for the container, on top of those the image sets."),
  envFrom: z.array(EnvFromSource).optional().describe(
    'ConfigMaps and Secrets whose keys all become variables, in order (a later source wins a name); env wins over all of them.',
  ),
  ports: z.array(ContainerPort).optional().describe('The ports the container serves. Informational, except for those that ask for a hostPort.'),
  volumeMounts: z.array(VolumeMount).optional().describe(
    "The pod's volumes this container sees, each at its mountPath (unique in the container), read-write unless readOnly.",
  ),
  resources: ResourceRequirements.optional().describe(
    'The CPU, memory and GPUs the container asks for and may use at most; without them it runs with the least CPU weight and no limits.',
  ),
  workingDir: z.string().optional().describe("The directory the process starts in; the image's working directory when omitted."),
  imagePullPolicy: PullPolicy.optional().describe(
    'When the node pulls the image: Always (before every start of the container), IfNotPresent (only when the node lacks it) '
    + 'or Never (it must be on the node already). Defaults to IfNotPresent for every image, :latest and untagged ones too, '
    + 'so that a cluster works without a registry; Kubernetes would default those to Always.',
  ),
  terminationMessagePath: z.string().optional().describe(
    'A file in which the container may leave a note on why it ended; defaults to /dev/termination-log. mk does not read it yet.',
  ),
  terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional().describe(
    'Where the termination note comes from: File (the default) or FallbackToLogsOnError. Accepted, but mk does not read termination notes yet.',
  ),
  livenessProbe: Probe.optional().describe(
    'A check the node runs periodically while the container runs; after failureThreshold failures in a row the container '
    + 'is killed and restarted as its restartPolicy says. Not for init containers.',
  ),
  readinessProbe: Probe.optional().describe(
    'A check the node runs periodically; the container is ready (and the pod Ready) only while it passes. '
    + 'Without one a running container is ready. Not for init containers.',
  ),
  startupProbe: Probe.optional().describe(
    'A check that holds the liveness and readiness probes until it first passes; after failureThreshold failures in a row '
    + 'the container is killed and restarted. Not for init containers.',
  ),
  securityContext: SecurityContext.optional().describe(
    "The user, groups, capabilities, seccomp filter and other privileges the container runs with; its fields override "
    + "the pod's securityContext. Enforced by the container runtime.",
  ),
  lifecycle: Lifecycle.optional().describe(
    'Hooks the node runs right after the container starts (postStart) and before it is stopped (preStop).',
  ),
  tty: z.boolean().optional().describe(
    'Give the container a terminal: its output then reaches `mk logs` as one stream, with terminal line endings.',
  ),
  stdin: z.boolean().optional().describe(
    'Keep a standard input open for the container; without it the program reads end of file at once.',
  ),
  stdinOnce: z.boolean().optional().describe(
    'With stdin: close the standard input after the first client that attaches detaches. '
    + 'mk has no attach yet, so no client ever does.',
  ),
}).superRefine((c, ctx) => {
  for (const i of probeIssues(c)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  for (const i of lifecycleIssues(c)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  for (const i of extendedResourceIssues(c.resources)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  for (const i of volumeMountIssues(c)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
}).meta({ title: 'Container' });
export type Container = z.infer<typeof Container>;

export const RestartPolicy = z.enum(['Always', 'OnFailure', 'Never']);
export type RestartPolicy = z.infer<typeof RestartPolicy>;

/** The pod spec's fields, before the checks across them (podSpecIssues). */
const PodSpecFields = z
  .strictObject({
    containers: z.array(Container).min(1, 'a pod needs at least one container').describe(
      "The pod's containers, at least one. They share the pod's IP and hostname, and start together once every init container has succeeded.",
    ),
    initContainers: z.array(Container).optional().describe(
      'Containers that run one at a time, in order, before the others; each must exit with 0 before the next starts. '
      + 'A failed one runs again, unless restartPolicy is Never, which fails the pod.',
    ),
    restartPolicy: RestartPolicy.optional().describe(
      'What the node does when a container exits: Always restarts it, OnFailure only after a non-zero exit code, Never leaves it. '
      + 'Restarts wait a back-off that doubles from 10 s to 5 min (CrashLoopBackOff). Defaults to Always.',
    ),
    nodeName: z.string().optional().describe(
      'The node the pod runs on, set by the scheduler. A manifest that sets it skips the scheduler and its checks; once set it cannot change.',
    ),
    nodeSelector: z.record(z.string(), z.string()).optional().describe(
      'Labels a node must carry, each with exactly this value, for the scheduler to place the pod on it.',
    ),
    affinity: Affinity.optional().describe(
      'Rules on where the pod may go or prefers to go: node affinity by node labels, pod affinity and anti-affinity by the pods already on a node.',
    ),
    tolerations: z.array(Toleration).optional().describe(
      "Taints the pod tolerates: it may be placed on a node with those taints, and a NoExecute taint evicts it only after its tolerationSeconds.",
    ),
    terminationGracePeriodSeconds: z.number().int().min(0).optional().describe(
      'The seconds a container gets to stop when the pod is deleted or the container replaced for a new image: its preStop hook '
      + 'runs first, and what is left (at least 2 s after a hook) passes between SIGTERM and SIGKILL. '
      + 'Defaults to 30. `mk delete --grace-period` overrides it for one deletion.',
    ),
    dnsPolicy: DNSPolicy.optional().describe(
      "How the pod's resolver (/etc/resolv.conf) is set up; defaults to ClusterFirst. Default: the node's "
      + 'resolv.conf. None: only what dnsConfig says (it must name a nameserver). ClusterFirst and '
      + 'ClusterFirstWithHostNet would put the cluster DNS first; mk has no cluster DNS yet, so they act as Default. '
      + 'dnsConfig is added on top in every case.',
    ),
    dnsConfig: PodDNSConfig.optional().describe(
      "Nameservers, search domains and options added to what the dnsPolicy gives; the whole resolver with dnsPolicy None.",
    ),
    hostAliases: z.array(HostAlias).optional().describe(
      "Extra lines of the pod's /etc/hosts, after those the node writes (localhost, and the pod's IP with its hostname).",
    ),
    schedulerName: z.string().optional().describe(
      'The scheduler meant to place the pod. Accepted, but mk has a single scheduler, which places every pod whatever this says.',
    ),
    imagePullSecrets: z.array(LocalObjectReference).optional().describe(
      'Secrets of type kubernetes.io/dockerconfigjson (or dockercfg) in the pod\'s namespace whose login for the image\'s registry '
      + 'the node uses to pull it. A secret that is missing is skipped.',
    ),
    hostname: LabelName.optional().describe(
      "The hostname the pod's containers see (a DNS-1123 label); the pod's name, cut to 63 characters, when omitted.",
    ),
    subdomain: LabelName.optional().describe(
      'With hostname: the name of a service in the pod\'s namespace; the endpoints of that service then carry the pod\'s '
      + 'hostname, so the cluster DNS may answer `<hostname>.<subdomain>.<namespace>.svc.cluster.local`.',
    ),
    securityContext: PodSecurityContext.optional().describe(
      'Privileges for every container of the pod (user, groups, seccomp filter) and settings of the pod itself '
      + "(sysctls); a container's own securityContext overrides the fields both have.",
    ),
    schedulingGates: SchedulingGates.optional().describe(
      'Gates that hold the pod back from the scheduler until every one is removed (they may only be removed after '
      + 'the pod is created). A pod with gates may not set nodeName.',
    ),
    topologySpreadConstraints: TopologySpreadConstraints.optional().describe(
      'How the pod spreads with the pods its constraints select over zones, nodes or other node-label domains.',
    ),
    volumes: z.array(Volume).optional().describe(
      "Storage the pod's containers may mount (volumeMounts name them): an empty directory, a path of the node, the keys "
      + 'of a ConfigMap or Secret, fields of the pod (downward API), or a PersistentVolumeClaim. Each has a unique name and exactly one source.',
    ),
  });

/** A problem podSpecIssues finds: the path inside the spec and Kubernetes' message. */
export interface PodSpecIssue { path: (string | number)[]; message: string }

/**
 * The checks across a pod spec's fields: container names given twice, nodeName with scheduling
 * gates, probes and lifecycle on init containers, DNS settings, and volumes (names given twice,
 * mounts of volumes the spec lacks). `mountable` names volumes the spec may mount without
 * declaring them: a StatefulSet's claim templates, which its controller adds to each pod.
 */
export function podSpecIssues(spec: z.infer<typeof PodSpecFields>, mountable?: ReadonlySet<string>): PodSpecIssue[] {
  const out: PodSpecIssue[] = [];
  const seen = new Set<string>();
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    if (seen.has(c.name)) out.push({ message: `duplicate container name "${c.name}"`, path: ['containers'] });
    seen.add(c.name);
  }
  if (spec.nodeName && spec.schedulingGates?.length) {
    out.push({ path: ['nodeName'], message: 'nodeName may not be set on a pod with schedulingGates (it would skip them)' });
  }
  (spec.initContainers ?? []).forEach((c, i) => {
    for (const f of ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const) {
      if (c[f]) out.push({ message: `init containers may not have a ${f}`, path: ['initContainers', i, f] });
    }
  });
  out.push(...dnsIssues(spec), ...volumeIssues(spec, mountable));
  return out;
}

/**
 * A pod spec's fields without the checks across them, for a template whose owner runs
 * podSpecIssues itself with what it adds to its pods (a StatefulSet's claim volumes).
 */
export const UncheckedPodSpec = PodSpecFields;

export const PodSpec = PodSpecFields
  .superRefine((spec, ctx) => {
    for (const i of podSpecIssues(spec)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  })
  .meta({ title: 'PodSpec' });
export type PodSpec = z.infer<typeof PodSpec>;

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface ContainerStateWaiting { reason?: string; message?: string }
export interface ContainerStateRunning { startedAt?: string }
export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}
export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID?: string;
  containerID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
}

export interface PodCondition {
  type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface PodStatus {
  phase?: PodPhase;
  conditions?: PodCondition[];
  message?: string;
  reason?: string;
  hostIP?: string;
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
  qosClass?: 'Guaranteed' | 'Burstable' | 'BestEffort';
}

/** Status is owned by the system: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const PodSchema = z.strictObject({
  apiVersion: z.literal('v1').describe('The API version of the kind: `v1`.'),
  kind: z.literal('Pod').describe('The kind of object: `Pod`.'),
  metadata: ObjectMeta.describe("The pod's name, namespace, labels and the metadata the server keeps."),
  spec: PodSpec.describe('What the pod runs and how: its containers, where it may be placed and how it restarts and stops.'),
  status: z.unknown().optional().meta({
    title: 'PodStatus',
    description: 'What mk last saw of the pod (phase, conditions, IPs, the state of each container), written by the scheduler '
      + "and the node agent. A manifest's status, as `mk get -o yaml` prints it, is ignored.",
  }),
}).meta({ title: 'Pod' });

export interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

/** Kubernetes' defaults, applied once at admission so every reader sees the same spec. */
export function defaultPod(pod: Pod): Pod {
  const spec: PodSpec = {
    ...pod.spec,
    restartPolicy: pod.spec.restartPolicy ?? 'Always',
    terminationGracePeriodSeconds: pod.spec.terminationGracePeriodSeconds ?? 30,
    dnsPolicy: pod.spec.dnsPolicy ?? 'ClusterFirst',
    containers: pod.spec.containers.map(defaultContainer),
    initContainers: pod.spec.initContainers?.map(defaultContainer),
    volumes: pod.spec.volumes?.map(defaultVolume),
  };
  if (!spec.initContainers) delete spec.initContainers;
  if (!spec.volumes) delete spec.volumes;
  return { ...pod, spec };
}

/**
 * mk's default pull policy is IfNotPresent for every tag, `:latest` included, so a cluster with no
 * registry works. (Kubernetes defaults `:latest` and untagged images to Always:
 * https://kubernetes.io/docs/concepts/containers/images/#imagepullpolicy-defaulting.)
 */
function defaultContainer(c: Container): Container {
  return {
    ...c,
    imagePullPolicy: c.imagePullPolicy ?? 'IfNotPresent',
    terminationMessagePath: c.terminationMessagePath ?? '/dev/termination-log',
    terminationMessagePolicy: c.terminationMessagePolicy ?? 'File',
  };
}

/**
 * Kubernetes' volume defaults (pkg/apis/core/v1/defaults.go): projected files are 0644 unless the
 * volume says otherwise, and a hostPath is not checked unless its type says so.
 */
function defaultVolume(v: Volume): Volume {
  const out = { ...v };
  if (v.configMap) out.configMap = { ...v.configMap, defaultMode: v.configMap.defaultMode ?? DEFAULT_FILE_MODE };
  if (v.secret) out.secret = { ...v.secret, defaultMode: v.secret.defaultMode ?? DEFAULT_FILE_MODE };
  if (v.downwardAPI) out.downwardAPI = { ...v.downwardAPI, defaultMode: v.downwardAPI.defaultMode ?? DEFAULT_FILE_MODE };
  if (v.hostPath) out.hostPath = { ...v.hostPath, type: v.hostPath.type ?? '' };
  return out;
}
