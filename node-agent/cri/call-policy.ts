/**
 * How long each CRI call may take and which calls queue for a slot: one table, so the whole
 * policy can be read (and argued with) in one place.
 *
 * Why these deadlines. A deadline that expires on a call that mutates the runtime does not undo
 * the work: containerd's context is cancelled half-way, and what is left (a container stuck
 * "starting", a task whose shim was never created, a sandbox half set up) is worse than waiting.
 * Kubelet gives every such call two minutes (`--runtime-request-timeout`,
 * https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/). mk's figures:
 * on an idle 2-core machine RunPodSandbox takes about 250 ms and CreateContainer+StartContainer
 * about 90 ms, but twenty pods fired at once took 4-5 s apiece (docs/benchmarks.md), and a
 * loaded machine stretches that again. So calls that start or set up something get a minute or
 * two; reads answer from containerd's in-memory stores and get ten seconds, which still covers a
 * slow machine while letting a runtime that has stopped answering be noticed soon.
 *
 * Why lanes. Calls that make containerd work (shims, runc, snapshots, CNI) are bounded per node
 * so a burst queues instead of piling up (see DEFAULT_LANE_LIMITS). StopContainer waits out the
 * pod's grace period and PullImage waits on a registry: both hold their slot long while costing the
 * node little, so each has a lane of its own and never starves pod starts. Reads are not queued.
 */
import { availableParallelism } from 'node:os';

/** The runtime.v1 RPCs the CRI client makes. */
export type CriRpc =
  | 'Version' | 'Status'
  | 'RunPodSandbox' | 'StopPodSandbox' | 'RemovePodSandbox' | 'PodSandboxStatus' | 'ListPodSandbox'
  | 'CreateContainer' | 'StartContainer' | 'StopContainer' | 'RemoveContainer' | 'ListContainers' | 'ContainerStatus'
  | 'UpdateContainerResources' | 'ExecSync' | 'ContainerStats' | 'ListContainerStats'
  | 'ListImages' | 'ImageStatus' | 'PullImage' | 'RemoveImage';

/** A queue of mutating calls with its own bound. */
export type CriLane = 'lifecycle' | 'stop' | 'pull';

/** The deadline of an RPC and the lane it queues in (none: it is sent at once). */
export interface CriCallPolicy {
  /** From the moment the call is sent to containerd (time spent queued does not count). */
  deadlineMs: number;
  lane?: CriLane;
  /**
   * Within its lane: `high` for work on a pod already admitted (its containers, its teardown),
   * which goes ahead of admitting new pods (RunPodSandbox) when the lane is full.
   */
  priority?: 'high' | 'normal';
}

const READ: CriCallPolicy = { deadlineMs: 10_000 };

/** Every RPC's deadline and lane. See the module comment for why. */
export const CRI_CALL_POLICY: Readonly<Record<CriRpc, Readonly<CriCallPolicy>>> = Object.freeze({
  Version: READ,
  Status: READ,
  // CNI ADD, the pause container's shim and its network namespace: the slowest call under load.
  RunPodSandbox: { deadlineMs: 120_000, lane: 'lifecycle' },
  // CNI DEL and killing whatever still runs in the sandbox.
  StopPodSandbox: { deadlineMs: 60_000, lane: 'lifecycle', priority: 'high' },
  RemovePodSandbox: { deadlineMs: 60_000, lane: 'lifecycle', priority: 'high' },
  PodSandboxStatus: READ,
  ListPodSandbox: READ,
  // Snapshot preparation and the OCI spec.
  CreateContainer: { deadlineMs: 60_000, lane: 'lifecycle', priority: 'high' },
  // Shim and runc create/start. Cutting it short leaves the container CREATED and "starting".
  StartContainer: { deadlineMs: 60_000, lane: 'lifecycle', priority: 'high' },
  // Plus the request's grace period (the client adds it): SIGTERM, the wait, SIGKILL.
  StopContainer: { deadlineMs: 30_000, lane: 'stop' },
  RemoveContainer: { deadlineMs: 30_000, lane: 'lifecycle', priority: 'high' },
  ListContainers: READ,
  ContainerStatus: READ,
  // Rewrites the container's cgroup limits: quick, and for a container already admitted.
  UpdateContainerResources: { deadlineMs: 30_000, lane: 'lifecycle', priority: 'high' },
  // Plus the command's own timeout (the client adds it). Exec is the user's, not the node's work.
  ExecSync: { deadlineMs: 30_000 },
  ContainerStats: READ,
  ListContainerStats: READ,
  ListImages: READ,
  ImageStatus: READ,
  // Downloads and unpacks layers: minutes on a slow registry.
  PullImage: { deadlineMs: 600_000, lane: 'pull' },
  RemoveImage: { deadlineMs: 60_000, lane: 'lifecycle' },
});

/** How many calls of each lane one node sends to its runtime at once. */
export type CriLaneLimits = Record<CriLane, number>;

/**
 * The bounds per node. `lifecycle` was measured with test/bench/cri-burst.ts: forty sandboxes with
 * a container each fired at once at a private containerd on a 2-core VM (three rounds, the machine
 * busy with other work, four rounds). Wall time for the forty: bound 1 9.9-11.2 s, 2 6.6-9.2 s,
 * 4 5.5-7.2 s, 8 3.9-6.5 s, unbounded 5.4-7.2 s: past about four calls the differences are within
 * the run-to-run spread. What keeps growing is how long each call takes once sent, the time a
 * deadline has to cover: the slowest RunPodSandbox took 0.3-0.5 s at 1, 0.3-0.7 s at 2,
 * 0.5-0.8 s at 4, 0.6-1.0 s at 8 and 3.7-5.3 s unbounded. Two per core (four on that machine)
 * keeps the throughput with short calls; more cores get proportionally more, an extrapolation.
 * `stop` is wide because a stop mostly waits out a grace period; `pull` follows kubelet's
 * serialized image pulls, loosened to two so one slow registry does not hold every image back.
 */
export const DEFAULT_LANE_LIMITS: Readonly<CriLaneLimits> = Object.freeze({
  lifecycle: Math.max(4, 2 * availableParallelism()),
  stop: 16,
  pull: 2,
});
