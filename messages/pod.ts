/**
 * The v1 Pod kind: the subset of https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/
 * that mk runs. Objects are strict: a field mk does not support is reported by name, never dropped.
 */
import { z } from 'zod';
import { LabelName, ObjectMeta, Quantity } from './meta';

export const EnvVar = z.strictObject({
  name: z.string().min(1),
  value: z.string().optional(),
});

export const ContainerPort = z.strictObject({
  name: LabelName.optional(),
  containerPort: z.number().int().min(1).max(65535),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  hostPort: z.number().int().min(1).max(65535).optional(),
  hostIP: z.string().optional(),
});

export const ResourceList = z.strictObject({
  cpu: Quantity.optional(),
  memory: Quantity.optional(),
  'nvidia.com/gpu': Quantity.optional(),
});

export const ResourceRequirements = z.strictObject({
  requests: ResourceList.optional(),
  limits: ResourceList.optional(),
});

export const PullPolicy = z.enum(['Always', 'IfNotPresent', 'Never']);

export const Container = z.strictObject({
  name: LabelName,
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(EnvVar).optional(),
  ports: z.array(ContainerPort).optional(),
  resources: ResourceRequirements.optional(),
  workingDir: z.string().optional(),
  imagePullPolicy: PullPolicy.optional(),
  terminationMessagePath: z.string().optional(),
  terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional(),
});
export type Container = z.infer<typeof Container>;

export const RestartPolicy = z.enum(['Always', 'OnFailure', 'Never']);
export type RestartPolicy = z.infer<typeof RestartPolicy>;

export const PodSpec = z
  .strictObject({
    containers: z.array(Container).min(1, 'a pod needs at least one container'),
    initContainers: z.array(Container).optional(),
    restartPolicy: RestartPolicy.optional(),
    nodeName: z.string().optional(),
    nodeSelector: z.record(z.string(), z.string()).optional(),
    terminationGracePeriodSeconds: z.number().int().min(0).optional(),
    dnsPolicy: z.enum(['ClusterFirst', 'Default', 'None', 'ClusterFirstWithHostNet']).optional(),
    schedulerName: z.string().optional(),
    hostname: LabelName.optional(),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', message: `duplicate container name "${c.name}"`, path: ['containers'] });
      seen.add(c.name);
    }
  });
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
  apiVersion: z.literal('v1'),
  kind: z.literal('Pod'),
  metadata: ObjectMeta,
  spec: PodSpec,
  status: z.unknown().optional(),
});

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
  };
  if (!spec.initContainers) delete spec.initContainers;
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

/** QoS class from requests and limits (https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/). */
export function qosClass(spec: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...spec.containers, ...(spec.initContainers ?? [])];
  const any = all.some((c) => c.resources?.requests?.cpu !== undefined || c.resources?.requests?.memory !== undefined
    || c.resources?.limits?.cpu !== undefined || c.resources?.limits?.memory !== undefined);
  if (!any) return 'BestEffort';
  const guaranteed = all.every((c) => {
    const l = c.resources?.limits; const r = c.resources?.requests;
    return l?.cpu !== undefined && l?.memory !== undefined
      && (r?.cpu === undefined || String(r.cpu) === String(l.cpu))
      && (r?.memory === undefined || String(r.memory) === String(l.memory));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
