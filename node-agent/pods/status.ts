/**
 * Pod status from what CRI reports, following kubelet's rules
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/ and
 * kubernetes/kubernetes pkg/kubelet/kubelet_pods.go getPhase, pkg/kubelet/status/generate.go).
 * Pure: the same observation and previous status give the same status, so an unchanged pod is
 * never rewritten (lastTransitionTime and startTime are carried over).
 */
import { qosClass, type Container, type ContainerState, type ContainerStatus, type Pod, type PodCondition, type PodPhase, type PodStatus, type RestartPolicy } from '../../messages/pod';
import { startAbortedByRuntime } from './runtime-faults';
import type { ObservedContainer, ObservedSandbox } from './types';

/** What reconcile decided about one spec container, for its status. */
export interface ContainerView {
  spec: Container;
  /** The newest instance of this container in any sandbox of the pod. */
  latest?: ObservedContainer;
  /** The newest exited instance other than `latest` (lastState, `logs --previous`). */
  previous?: ObservedContainer;
  /** Set when the container is not running and waits: ContainerCreating, CrashLoopBackOff, ... */
  waiting?: { reason: string; message?: string };
  /**
   * What the probes say of `latest` while it runs. Without it, a container with a startup probe is
   * not started and one with a readiness probe not ready (the probes have not passed yet).
   */
  probe?: { started: boolean; ready: boolean };
}

/** Inputs of {@link buildPodStatus}. `now` is epoch ms. */
export interface StatusInput {
  pod: Pod;
  init: ContainerView[];
  app: ContainerView[];
  /** All init containers completed in the current sandbox (or there are none). */
  initialized: boolean;
  /** The ready sandbox, whose IP is the pod IP. */
  sandbox?: ObservedSandbox;
  hostIP?: string;
  previous?: PodStatus;
  now: number;
  /** The pod is being deleted and nothing runs any more: the phase becomes final. */
  terminal?: boolean;
}

/** A CRI time in nanoseconds as RFC 3339 with second precision, like Kubernetes' metav1.Time. */
export function rfc3339FromNs(ns: number): string {
  return rfc3339FromMs(Math.floor(ns / 1e6));
}

/** Epoch milliseconds as RFC 3339 with second precision. */
export function rfc3339FromMs(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The containerID string Kubernetes shows: `containerd://<id>`. */
export const containerIdString = (id: string): string => `containerd://${id}`;

function terminatedState(c: ObservedContainer): ContainerState {
  return {
    terminated: {
      exitCode: c.exitCode,
      reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
      ...(c.message ? { message: c.message } : {}),
      ...(c.startedAt ? { startedAt: rfc3339FromNs(c.startedAt) } : {}),
      ...(c.finishedAt ? { finishedAt: rfc3339FromNs(c.finishedAt) } : {}),
      containerID: containerIdString(c.id),
    },
  };
}

/** One container's status: state, lastState, restartCount (runs of the program before this one), ready. */
export function containerStatusFromView(v: ContainerView): ContainerStatus {
  const { latest, previous, waiting } = v;
  let state: ContainerState;
  let last: ObservedContainer | undefined = previous;
  if (waiting) {
    state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
    // The instance that just exited is what a waiting container last was (CrashLoopBackOff); a
    // start the runtime abandoned is not a run, and must not make the pod look failed meanwhile.
    if (latest?.state === 'CONTAINER_EXITED' && !startAbortedByRuntime(latest)) last = latest;
  } else if (latest?.state === 'CONTAINER_RUNNING') {
    state = { running: latest.startedAt ? { startedAt: rfc3339FromNs(latest.startedAt) } : {} };
  } else if (latest?.state === 'CONTAINER_EXITED') {
    state = terminatedState(latest);
  } else if (latest?.state === 'CONTAINER_UNKNOWN') {
    state = { waiting: { reason: 'ContainerStatusUnknown', message: 'The container state could not be determined' } };
  } else {
    state = { waiting: { reason: 'ContainerCreating' } };
  }
  const running = state.running !== undefined;
  const started = running && (v.probe?.started ?? !v.spec.startupProbe);
  const ready = started && (v.probe?.ready ?? !v.spec.readinessProbe);
  return {
    name: v.spec.name,
    image: v.spec.image,
    ...(latest?.imageRef ? { imageID: latest.imageRef } : {}),
    ...(latest ? { containerID: containerIdString(latest.id) } : {}),
    ready,
    started,
    restartCount: latest?.restartCount ?? 0,
    state,
    lastState: last ? terminatedState(last) : {},
  };
}

/**
 * The pod phase by kubelet's getPhase: Pending until initialized and every container has run;
 * Running while any runs (or will be restarted); Succeeded/Failed once all stopped for good.
 */
export function podPhase(restartPolicy: RestartPolicy, init: ContainerStatus[], app: ContainerStatus[], terminal = false): PodPhase {
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of init) {
    if (s.state.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state.waiting && s.lastState.terminated && s.lastState.terminated.exitCode !== 0) {
      failedInit++;
    } else {
      pendingInit++;
    }
  }
  let running = 0; let waiting = 0; let stopped = 0; let succeeded = 0;
  for (const s of app) {
    if (s.state.running) running++;
    else if (s.state.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state.waiting && s.lastState.terminated) stopped++;
    else waiting++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return 'Pending';
  if (waiting > 0) return terminal ? 'Failed' : 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (terminal) return succeeded === app.length ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: PodCondition['type'], ok: boolean, now: number, previous: PodCondition[] | undefined, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = previous?.find((c) => c.type === type && c.status === status);
  return {
    type,
    status,
    lastTransitionTime: prev?.lastTransitionTime ?? rfc3339FromMs(now),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

/** The four conditions kubelet maintains, with lastTransitionTime kept while a status is unchanged. */
export function podConditions(phase: PodPhase, initialized: boolean, init: ContainerStatus[], app: ContainerStatus[], now: number, previous?: PodCondition[]): PodCondition[] {
  const completed = phase === 'Succeeded';
  const unInit = init.filter((s) => !(s.state.terminated?.exitCode === 0)).map((s) => s.name);
  const unready = app.filter((s) => !s.ready).map((s) => s.name);
  const initOk = initialized || completed;
  const readyOk = unready.length === 0 && !completed && phase !== 'Failed';
  const readyReason = completed ? 'PodCompleted' : readyOk ? undefined : 'ContainersNotReady';
  const readyMsg = readyReason === 'ContainersNotReady' && unready.length > 0 ? `containers with unready status: [${unready.join(' ')}]` : undefined;
  return [
    condition('PodScheduled', true, now, previous),
    condition('Initialized', initOk, now, previous, completed ? 'PodCompleted' : initOk ? undefined : 'ContainersNotInitialized',
      initOk ? undefined : `containers with incomplete status: [${unInit.join(' ')}]`),
    condition('ContainersReady', readyOk, now, previous, readyReason, readyMsg),
    condition('Ready', readyOk, now, previous, readyReason, readyMsg),
  ];
}

/** The whole pod status. Field order is fixed so equal statuses serialize equally. */
export function buildPodStatus(input: StatusInput): PodStatus {
  const { pod, previous, now } = input;
  const init = input.init.map(containerStatusFromView);
  const app = input.app.map(containerStatusFromView);
  const phase = podPhase(pod.spec.restartPolicy ?? 'Always', init, app, input.terminal);
  const ip = input.sandbox?.ip || undefined;
  const ips = ip ? [ip, ...(input.sandbox?.additionalIps ?? [])] : undefined;
  // Without a ready sandbox (a finished pod) the IP it had is kept, as kubelet does.
  const podIP = ip ?? previous?.podIP;
  const podIPs = ips ? ips.map((x) => ({ ip: x })) : previous?.podIPs;
  return {
    phase,
    conditions: podConditions(phase, input.initialized, init, app, now, previous?.conditions),
    ...(input.hostIP ? { hostIP: input.hostIP } : {}),
    ...(podIP ? { podIP } : {}),
    ...(podIPs ? { podIPs } : {}),
    startTime: previous?.startTime ?? rfc3339FromMs(now),
    ...(pod.spec.initContainers?.length ? { initContainerStatuses: init } : {}),
    containerStatuses: app,
    qosClass: qosClass(pod.spec),
  };
}

/** Structural equality of two JSON-like values (statuses), key order ignored. */
export function sameStatus(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameStatus((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
