/**
 * The pod lifecycle as one pure function: desired pod + what CRI reports -> the CRI actions to
 * take, the status to publish and the backoff events to persist. Level-triggered: it never asks
 * what happened last, only what is there now, so it adopts whatever an earlier agent left behind.
 *
 * Semantics are kubelet's (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/,
 * kubernetes/kubernetes pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions):
 * one ready sandbox (a dead one is re-created and every container starts again), image per pull
 * policy, init containers one at a time in order, then all app containers, restarts per
 * restartPolicy with crash-loop backoff, a changed image restarts its container, a healthy running
 * container is never touched. A container found created but not running, or in unknown state, is
 * never started: it is replaced by a new instance with the next attempt, as kubelet's
 * ShouldContainerBeRestarted decides for those states whatever the restart policy.
 */
import type { Container, Pod, RestartPolicy } from '../../messages/pod';
import {
  applyBackoffEvent, backoffDelayMs, backoffRemainingMs, containerKey, DEFAULT_CRASH_LOOP_POLICY, formatGoDuration,
  hasCountedExit, imageKey, SANDBOX_KEY, type BackoffEvent, type CrashLoopPolicy, type BackoffState,
} from './backoff';
import { reconcileDeletion } from './deletion';
import { evictionOf, reconcileEviction } from './eviction';
import { garbageActions } from './garbage';
import { containerView, groupInstances, newestFirst } from './instances';
import { neverRan, startAbortedByRuntime } from './runtime-faults';
import { buildPodStatus, type ContainerView } from './status';
import type { ObservedContainer, ObservedSandbox, PodAction, ReconcileInput, ReconcileResult } from './types';

export type { ReconcileInput, ReconcileResult, SyncFailures } from './types';

/** How soon to look again while something is in flux (kubelet's PLEG relists every second). */
export const FAST_REQUEUE_MS = 1000;

/**
 * How soon to try again a container whose ConfigMap, Secret or key is missing, or whose pod's
 * volumes could not be set up (kubelet retries
 * such a pod with its worker's back-off, about 10 s; mk looks a little sooner).
 */
export const CONFIG_RETRY_MS = 5000;

/** Working state of one reconcile run. */
interface Plan {
  input: ReconcileInput;
  pod: Pod;
  policy: CrashLoopPolicy;
  backoff: BackoffState;
  actions: PodAction[];
  events: BackoffEvent[];
  views: Map<string, ContainerView>;
  instances: Map<string, ObservedContainer[]>;
  pulls: Set<string>;
  requeue?: number;
}

const EXITED = 'CONTAINER_EXITED';

const requeueIn = (p: Plan, ms: number): void => { p.requeue = Math.min(p.requeue ?? Infinity, Math.max(1, ms)); };
const wait = (p: Plan, name: string, reason: string, message?: string): void => {
  const v = p.views.get(name);
  if (v) v.waiting = { reason, ...(message ? { message } : {}) };
};
const record = (p: Plan, e: BackoffEvent): void => {
  p.events.push(e);
  p.backoff = applyBackoffEvent(p.backoff, e, p.policy);
};
const imageChanged = (inst: ObservedContainer, c: Container): boolean => inst.image !== '' && inst.image !== c.image;
const grace = (pod: Pod): number => pod.spec.terminationGracePeriodSeconds ?? 30;

/** Computes actions, status and backoff events. Pure; never throws on odd observations. */
export function reconcilePod(input: ReconcileInput): ReconcileResult {
  const pod = input.pod;
  if (!pod || pod.metadata.deletionTimestamp) return reconcileDeletion(input);
  const eviction = evictionOf(input);
  if (eviction !== undefined) return reconcileEviction(input, eviction);
  const instances = groupInstances(input.observed.containers);
  const specs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const plan: Plan = {
    input, pod, policy: input.policy ?? DEFAULT_CRASH_LOOP_POLICY, backoff: input.backoff, actions: [], events: [],
    views: new Map(specs.map((c) => [c.name, containerView(c, instances.get(c.name))])), instances, pulls: new Set(),
  };
  const sandboxes = [...input.observed.sandboxes].sort(newestFirst);
  const current = sandboxes[0]?.state === 'SANDBOX_READY' ? sandboxes[0] : undefined;
  if (current && plan.backoff.entries[SANDBOX_KEY]) record(plan, { type: 'backoff-reset', key: SANDBOX_KEY });
  const initialized = current ? syncContainers(plan, current) : syncWithoutSandbox(plan, sandboxes[0]);
  plan.actions.push(...garbageActions({
    views: [...plan.views.values()], containers: input.observed.containers, sandboxes, current, graceSeconds: grace(pod),
    stopping: new Set(plan.actions.flatMap((a) => (a.type === 'stopContainer' ? [a.containerId] : []))),
  }));
  const initViews = (pod.spec.initContainers ?? []).map((c) => plan.views.get(c.name) as ContainerView);
  const appViews = pod.spec.containers.map((c) => withProbe(plan.views.get(c.name) as ContainerView, input.probes));
  const status = buildPodStatus({
    pod, init: initViews, app: appViews, initialized, ...(current ? { sandbox: current } : {}),
    ...(input.hostIP ? { hostIP: input.hostIP } : {}), ...(input.previous ? { previous: input.previous } : {}), now: input.now,
  });
  // A finished pod gives its network back but keeps its containers for logs, like kubelet.
  if (current && (status.phase === 'Succeeded' || status.phase === 'Failed')) {
    plan.actions.push({ type: 'stopPodSandbox', sandboxId: current.id });
  }
  if (plan.actions.length > 0) requeueIn(plan, FAST_REQUEUE_MS);
  return { actions: plan.actions, status, events: plan.events, ...(plan.requeue !== undefined ? { requeueAfterMs: plan.requeue } : {}), terminated: false };
}

/** Adds what the prober says of the view's running instance (ready, started). */
function withProbe(v: ContainerView, probes: ReconcileInput['probes']): ContainerView {
  const probe = v.latest ? probes?.[v.latest.id] : undefined;
  return probe ? { ...v, probe } : v;
}

/** No ready sandbox: create one unless the pod has nothing left to run. Returns "initialized". */
function syncWithoutSandbox(p: Plan, last: ObservedSandbox | undefined): boolean {
  const spec = p.pod.spec;
  const policy = spec.restartPolicy ?? 'Always';
  const ran = p.input.observed.containers.some((c) => !neverRan(c));
  const hasInit = (spec.initContainers?.length ?? 0) > 0;
  const initDone = (spec.initContainers ?? []).every((c) => { const l = p.views.get(c.name)?.latest; return l?.state === EXITED && l.exitCode === 0; });
  const done = (c: Container): boolean => {
    const l = p.views.get(c.name)?.latest;
    return l?.state === EXITED && !startAbortedByRuntime(l) && (policy === 'Never' || (policy === 'OnFailure' && l.exitCode === 0));
  };
  // kubelet does not re-create the sandbox of a pod that will run nothing again.
  if (last && ((policy === 'Never' && ran) || spec.containers.every(done))) return initDone;
  const failed = p.input.failures?.sandbox;
  const remaining = backoffRemainingMs(p.backoff, SANDBOX_KEY, p.input.now);
  const message = failed ? `Failed to create pod sandbox: ${failed}` : undefined;
  if (failed !== undefined || remaining > 0) requeueIn(p, remaining || FAST_REQUEUE_MS);
  else p.actions.push({ type: 'runPodSandbox', attempt: last ? last.attempt + 1 : 0 });
  for (const c of spec.initContainers ?? []) wait(p, c.name, 'PodInitializing', message);
  for (const c of spec.containers) wait(p, c.name, hasInit ? 'PodInitializing' : 'ContainerCreating', message);
  return !hasInit;
}

/** A ready sandbox: run init containers in order, then every app container. Returns "initialized". */
function syncContainers(p: Plan, sb: ObservedSandbox): boolean {
  const spec = p.pod.spec;
  const inSandbox = (name: string): ObservedContainer | undefined => p.instances.get(name)?.find((c) => c.podSandboxId === sb.id);
  let initialized = spec.containers.some((c) => inSandbox(c.name));
  if (!initialized) {
    initialized = true;
    // https://kubernetes.io/docs/concepts/workloads/pods/init-containers/: with restartPolicy Always
    // init containers restart as with OnFailure.
    const initPolicy: RestartPolicy = spec.restartPolicy === 'Never' ? 'Never' : 'OnFailure';
    for (const c of spec.initContainers ?? []) {
      const inst = inSandbox(c.name);
      if (inst?.state === EXITED && inst.exitCode === 0) continue;
      initialized = false;
      if (inst) syncInstance(p, sb, c, inst, initPolicy, true);
      else startNew(p, sb, c, true, false);
      break;
    }
  }
  for (const c of spec.containers) {
    if (!initialized) { wait(p, c.name, 'PodInitializing'); continue; }
    const inst = inSandbox(c.name);
    if (inst) syncInstance(p, sb, c, inst, spec.restartPolicy ?? 'Always', false);
    else startNew(p, sb, c, false, false);
  }
  return initialized;
}

/** Decides for an existing instance in the ready sandbox: leave it, start it, restart it. */
function syncInstance(p: Plan, sb: ObservedSandbox, c: Container, inst: ObservedContainer, policy: RestartPolicy, init: boolean): void {
  switch (inst.state) {
    case 'CONTAINER_RUNNING':
      // An init container's exit lets the next one start: look again soon, as kubelet's PLEG does.
      if (init) requeueIn(p, FAST_REQUEUE_MS);
      if (!imageChanged(inst, c)) return;
      // A new image restarts the container whatever the restart policy, without backoff (kubelet).
      p.actions.push({ type: 'stopContainer', containerId: inst.id, container: c.name, timeoutSeconds: grace(p.pod) });
      startNew(p, sb, c, init, true);
      return;
    case 'CONTAINER_CREATED':
    case 'CONTAINER_UNKNOWN':
      replaceUnstarted(p, sb, c, inst, init);
      return;
    case EXITED: {
      // The runtime gave up on the start (its deadline, not the program): nothing ran, so neither
      // the restart policy nor crash-loop backoff applies. A new instance takes the next attempt.
      if (startAbortedByRuntime(inst)) { startNew(p, sb, c, init, false); return; }
      const restart = policy === 'Always' || (policy === 'OnFailure' && inst.exitCode !== 0);
      if (!restart) return;
      // kubelet keys backoff by the spec hash: a changed image starts with no backoff.
      if (imageChanged(inst, c)) { startNew(p, sb, c, init, true); return; }
      if (!hasCountedExit(p.backoff, c.name, inst.id)) {
        const ranMs = inst.startedAt && inst.finishedAt ? Math.max(0, (inst.finishedAt - inst.startedAt) / 1e6) : 0;
        record(p, { type: 'container-exited', container: c.name, containerId: inst.id, finishedAt: Math.floor(inst.finishedAt / 1e6), ranMs });
      }
      startNew(p, sb, c, init, false);
    }
  }
}

/**
 * A created-but-not-running or unknown instance is never started again: an earlier start may
 * still be in progress in the runtime (its caller's deadline expired), or may have been lost with
 * the agent that made it, and starting it twice is refused ("already in starting state"). It is
 * removed (an unknown one stopped first, it may be running) and a new instance created with the
 * next attempt. If the runtime refuses the removal because that start is still going on, the
 * execution records a failure and the next sync finds out how it ended: running (kept), or
 * exited/created (replaced).
 */
function replaceUnstarted(p: Plan, sb: ObservedSandbox, c: Container, inst: ObservedContainer, init: boolean): void {
  const failure = p.input.failures?.containers?.[c.name];
  if (failure) {
    wait(p, c.name, failure.reason, failure.message);
    requeueIn(p, FAST_REQUEUE_MS);
    return;
  }
  if (inst.state === 'CONTAINER_UNKNOWN') {
    p.actions.push({ type: 'stopContainer', containerId: inst.id, container: c.name, timeoutSeconds: 0 });
  }
  const removal: PodAction = { type: 'removeContainer', containerId: inst.id, container: c.name };
  p.actions.push(removal);
  startNew(p, sb, c, init, false);
  // Nothing to replace it with yet (back-off, image pull): keep it, so its attempt stays taken.
  if (!p.actions.some((a) => a.type === 'runContainer' && a.container === c.name)) p.actions.splice(p.actions.indexOf(removal), 1);
}

/** Starts a new instance of `c` once its backoff and its image allow. */
function startNew(p: Plan, sb: ObservedSandbox, c: Container, init: boolean, ignoreBackoff: boolean): void {
  const failure = p.input.failures?.containers?.[c.name];
  const remaining = backoffRemainingMs(p.backoff, containerKey(c.name), p.input.now);
  if (failure) {
    wait(p, c.name, failure.reason, failure.message);
    requeueIn(p, remaining || (failure.reason === 'CreateContainerConfigError' || failure.volumes ? CONFIG_RETRY_MS : FAST_REQUEUE_MS));
    return;
  }
  if (!ignoreBackoff && remaining > 0) {
    const { name, namespace = 'default' } = p.pod.metadata;
    const delay = formatGoDuration(backoffDelayMs(p.backoff, containerKey(c.name)));
    wait(p, c.name, 'CrashLoopBackOff', `back-off ${delay} restarting failed container=${c.name} pod=${name}_${namespace}(${p.input.uid})`);
    requeueIn(p, remaining);
    return;
  }
  if (!ensureImage(p, c)) return;
  const latest = p.instances.get(c.name)?.[0];
  p.actions.push({
    type: 'runContainer', sandboxId: sb.id, sandboxAttempt: sb.attempt, container: c.name,
    // A new attempt number always (CRI names are per attempt); a restart only when the program ran.
    attempt: latest ? latest.attempt + 1 : 0,
    restartCount: latest ? latest.restartCount + (neverRan(latest) ? 0 : 1) : 0,
    image: c.image, init,
  });
  wait(p, c.name, 'ContainerCreating');
}

/**
 * Image per pull policy (https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy).
 * Returns true when the container may be created now (a pull, if any, is queued before it).
 */
function ensureImage(p: Plan, c: Container): boolean {
  const image = c.image;
  const present = p.input.observed.images[image]?.present ?? false;
  const pullPolicy = c.imagePullPolicy ?? 'IfNotPresent';
  if (pullPolicy === 'Never' && !present) {
    wait(p, c.name, 'ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
    return false;
  }
  if (pullPolicy === 'IfNotPresent' && present) {
    if (p.backoff.entries[imageKey(image)]) record(p, { type: 'backoff-reset', key: imageKey(image) });
    return true;
  }
  if (pullPolicy === 'Never') return true;
  const remaining = backoffRemainingMs(p.backoff, imageKey(image), p.input.now);
  const failed = p.input.failures?.images?.[image];
  if (failed !== undefined) {
    wait(p, c.name, 'ErrImagePull', failed);
    // Look again soon so ImagePullBackOff is shown while waiting, as kubelet's next sync does.
    requeueIn(p, Math.min(remaining || FAST_REQUEUE_MS, FAST_REQUEUE_MS));
    return false;
  }
  if (remaining > 0) {
    wait(p, c.name, 'ImagePullBackOff', `Back-off pulling image "${image}"`);
    requeueIn(p, remaining);
    return false;
  }
  if (!p.pulls.has(image)) {
    p.pulls.add(image);
    p.actions.push({ type: 'pullImage', image });
  }
  return true;
}
