/**
 * Shapes shared by the pod lifecycle: what the pod actor observes through CRI, the actions its
 * reconcile function asks for, and the slice of the CRI client it needs.
 */
import type { CriClient } from '../cri/client';
import type { Pod, PodStatus } from '../../messages/pod';
import type * as cri from '../cri/types';
import type { BackoffEvent, BackoffState, CrashLoopPolicy } from './backoff';

/**
 * The CRI calls the pod lifecycle makes: a slice of the CRI client, so tests can pass fakes.
 * Every method rejects with TimeoutError/UnavailableError when the runtime does not answer,
 * NotFoundError when the object is absent, and a plain Error for other gRPC failures.
 */
export type PodRuntime = Pick<CriClient,
  | 'runPodSandbox' | 'stopPodSandbox' | 'removePodSandbox' | 'podSandboxStatus' | 'listPodSandbox'
  | 'createContainer' | 'startContainer' | 'stopContainer' | 'removeContainer' | 'listContainers'
  | 'containerStatus' | 'execSync' | 'imageStatus' | 'pullImage'>;

/** A sandbox of the pod as CRI reports it. Times are nanoseconds since the epoch. */
export interface ObservedSandbox {
  id: string;
  state: cri.PodSandboxState;
  attempt: number;
  createdAt: number;
  /** From PodSandboxStatus; only read for ready sandboxes. */
  ip?: string;
  additionalIps?: string[];
}

/** A container of the pod with its ContainerStatus, flattened. Times are ns; 0 = not yet. */
export interface ObservedContainer {
  id: string;
  podSandboxId: string;
  /** The pod spec's container name (label mk.io/container-name). */
  name: string;
  /** CRI metadata.attempt: unique per instance of this container in the sandbox, counting up. */
  attempt: number;
  /**
   * How many times the program had been started and ended before this instance (annotation
   * mk.io/restart-count; CRI's attempt when absent). An instance whose program never ran (a start
   * the runtime abandoned) does not count: it is not a restart of the user's program.
   */
  restartCount: number;
  state: cri.ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  /** The image as the pod spec named it when this container was created (annotation). */
  image: string;
  imageRef: string;
  logPath: string;
  /**
   * Set by the pod actor, not CRI: this agent's own StartContainer for it missed its deadline, so
   * if it exited without ever running, the runtime abandoned the start.
   */
  startAbandoned?: boolean;
}

/** Whether the runtime has an image (ImageStatus), keyed by the image as the spec names it. */
export interface ObservedImage {
  present: boolean;
  id?: string;
}

/** Everything the runtime holds for one pod uid (found by label mk.io/pod-uid). */
export interface ObservedPod {
  sandboxes: ObservedSandbox[];
  containers: ObservedContainer[];
  images: Record<string, ObservedImage>;
}

/**
 * One step the pod actor performs through CRI. Actions run in order; `stopContainer` actions next
 * to each other run concurrently so every container gets the whole grace period at once.
 */
export type PodAction =
  | { type: 'pullImage'; image: string }
  | { type: 'runPodSandbox'; attempt: number }
  | { type: 'stopPodSandbox'; sandboxId: string }
  | { type: 'removePodSandbox'; sandboxId: string }
  /** CreateContainer then StartContainer: a container is only ever started right after its creation. */
  | { type: 'runContainer'; sandboxId: string; sandboxAttempt: number; container: string; attempt: number; restartCount: number; image: string; init: boolean }
  | { type: 'stopContainer'; containerId: string; container: string; timeoutSeconds: number }
  | { type: 'removeContainer'; containerId: string; container: string };

/** Failures of actions taken earlier in the same sync, shown as waiting reasons. */
export interface SyncFailures {
  /** image -> error message of a failed pull (ErrImagePull). */
  images?: Record<string, string>;
  /**
   * container -> reason (CreateContainerError, RunContainerError) and message; `volumes`: the
   * pod's volumes could not be set up (retried like a missing ConfigMap, without back-off).
   */
  containers?: Record<string, { reason: string; message: string; volumes?: boolean }>;
  /** Error message of a failed RunPodSandbox. */
  sandbox?: string;
}

/** Everything reconcilePod reads. `now` is epoch ms. */
export interface ReconcileInput {
  /** The desired pod (defaulted), marked for deletion, or null when it is gone from the store. */
  pod: Pod | null;
  uid: string;
  observed: ObservedPod;
  backoff: BackoffState;
  policy?: CrashLoopPolicy;
  now: number;
  hostIP?: string;
  /** The status last written (keeps startTime and lastTransitionTime stable). */
  previous?: PodStatus;
  failures?: SyncFailures;
  /** Grace period for a pod that vanished without a deletion mark. */
  defaultGraceSeconds?: number;
  /**
   * Why the node evicts the pod (an emptyDir over its sizeLimit): its containers are killed and it
   * ends Failed with reason Evicted (eviction.ts). A stored status with reason Evicted keeps it so.
   */
  evicted?: string;
  /** What the probes say of running instances, by container id (prober.ts); none = not probed yet. */
  probes?: Record<string, { started: boolean; ready: boolean }>;
}

/** What to do next. */
export interface ReconcileResult {
  actions: PodAction[];
  status: PodStatus;
  /** Backoff changes to persist (and apply) before acting. */
  events: BackoffEvent[];
  requeueAfterMs?: number;
  /** Deletion is complete: nothing of the pod is left in the runtime. */
  terminated: boolean;
}

/** What a pod taking a warm container gives the pool: its resolved environment and its code. */
export interface WarmAdoptInput {
  /** The container's environment, resolved (env.ts). */
  env: { name: string; value: string }[];
  /** Where the pod's code volume is on the node (the unpacked code). */
  codeDir: string;
}

/** A pod that took a warm container: the member's sandbox and container are now the pod's. */
export interface WarmAdoption {
  sandboxId: string;
  containerId: string;
  /** Milliseconds from taking the member to the loader's answer to /init. */
  ms: number;
  /** Why /init failed (the container was stopped, and restarts the normal way); none when it loaded. */
  error?: string;
}

/**
 * Tasks containerd holds for containers its CRI reports as not running. containerd 1.6 can leave
 * one behind when a StartContainer is cancelled half-way (its deadline passed): the shim makes the
 * task after the caller gave up, CRI marks the container exited, and nothing deletes the task.
 * CRI then refuses to remove the container ("cannot delete running task") and StopPodSandbox
 * passes it by, so its pod could never be torn down.
 */
export interface StrayTasks {
  /** Kills and deletes the task of `containerId` through containerd's task API; gone already is fine. */
  remove(containerId: string): Promise<void>;
}

/**
 * The node's warm pool of function runtime containers (node-agent/functions/pool.ts), as the pod
 * lifecycle uses it when it would create a pod's first sandbox.
 */
export interface WarmPool {
  /** The runtime whose warm container `pod` may take, or why it may not take one. */
  eligibility(pod: Pod): { runtime: string } | { reason: string };
  /** Whether a warm container of `runtime` is ready to be taken now. */
  has(runtime: string): boolean;
  /** Counts a cold start of `runtime` that found no warm container (it grows the pool). */
  missed(runtime: string): void;
  /**
   * Takes a ready member for `pod` (counting a hit) and specialises it: the code is made visible
   * at its /code, the adoption recorded, the loader initialised. Undefined on a miss (counted,
   * nothing changed: the pod takes the normal path). Throws only what leaves no adoption behind.
   */
  adopt(pod: Pod, runtime: string, input: WarmAdoptInput): Promise<WarmAdoption | undefined>;
  /** A pod that took a warm container of `runtime` was reported Ready `ms` after the take (a metric). */
  readyAfter(runtime: string, ms: number): void;
}
