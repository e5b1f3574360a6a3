/**
 * Performs reconcile's actions through CRI. Failures that belong to the pod (an image that cannot
 * be pulled, a command that does not exist) become backoff events and waiting reasons. A sandbox
 * or container create/start that the runtime did not finish in time (or refused because an
 * earlier attempt is still in progress) becomes a waiting reason only: no backoff, no crash; the
 * next pass observes what the runtime actually did and reconcile carries on from there. Other
 * runtime faults (TimeoutError, UnavailableError) and anything unexpected are thrown, so the pod
 * actor's supervisor restarts it with backoff.
 */
import type { Logger } from 'pino';
import { isNotFound } from '../../messages/errors';
import type { EventType } from '../../messages/event';
import { FUNCTION_LABEL } from '../../messages/function-names';
import type { Container, Pod } from '../../messages/pod';
import type { Mount } from '../cri/types';
import type { LocalImageBuilder } from '../images/on-demand';
import type { BackoffEvent } from './backoff';
import { GPU_RESOURCE, gpuContainerConfig, gpuCount, GpuUnavailableError, type GpuAllocator, type GpuLease } from '../gpu/allocation';
import { buildContainerConfig, buildSandboxConfig, podLogDirectory, type SandboxOptions } from './cri-spec';
import { describeHook, POST_START_TIMEOUT_SECONDS, runHook, stopContainerGracefully } from './hooks';
import { writeHostsFile } from './hosts';
import { NO_OBJECTS, resolveContainer, type EnvContext, type ResolvedContainer } from './env';
import { pullAuth } from './pull-auth';
import type { Secret } from '../../messages/config-data';
import type { SyncFailures } from './reconcile';
import { isRuntimeBusy, isRuntimeFault } from './runtime-faults';
import { needsImageUser, type ImageUser } from './security';
import { isContainerConfigError } from './errors';
import type { PodAction, PodRuntime, StrayTasks, WarmPool } from './types';
import { containerMounts, containerVolumeMounts, isVolumeError, podVolumes, type PodVolumes } from '../volumes';

export { isRuntimeFault } from './runtime-faults';

/** What executeActions needs. */
export interface ExecuteContext {
  cri: PodRuntime;
  /** The desired pod; null only while tearing down a pod that is gone. */
  pod: Pod | null;
  sandbox: SandboxOptions;
  log: Logger;
  now: () => number;
  /**
   * Records an event about the pod, with kubelet's reasons and wording
   * (kubernetes/kubernetes pkg/kubelet/events/event.go). Must not throw.
   */
  event?: (type: EventType, reason: string, message: string) => void;
  /** The pod IP of each ready sandbox, by sandbox id: for /etc/hosts and the hooks' httpGet. */
  sandboxIPs?: Record<string, string>;
  /**
   * Where containers' environment comes from (ConfigMaps, Secrets, the node's allocatable) and the
   * IPs of the pod's sandboxes by id; without it a reference to a ConfigMap or Secret is missing.
   */
  env?: Partial<Omit<EnvContext, 'podIPs' | 'warn'>> & { sandboxIPs?: Record<string, string[]> };
  /** Gives GPUs to containers that ask for nvidia.com/gpu; none: the node has none to give. */
  gpu?: GpuAllocator;
  /** Sets up the pod's volumes before its containers are created; none: a pod with volumes waits, refused. */
  volumes?: PodVolumes;
  /** Images the node builds instead of pulling (the function runtime images); none: every image is pulled. */
  images?: LocalImageBuilder;
  /** The node's warm pool of function containers, which an eligible pod's first sandbox comes from; none: never. */
  pool?: WarmPool;
  /** Deletes a task containerd keeps for a container CRI reports not running; none: such a container stays. */
  strayTasks?: StrayTasks;
}

/** Failures to show in status and backoff events to persist. */
export interface ExecuteOutcome {
  failures: SyncFailures;
  events: BackoffEvent[];
  /** Containers whose StartContainer the runtime did not answer in time (see ObservedContainer.startAbandoned). */
  abandonedStarts: string[];
  /** What was made: the next observation asks for their status along with its lists. */
  created: { sandboxes: string[]; containers: string[] };
  /**
   * A warm container of the pool became the pod's (its readiness is worth probing at once): its
   * runtime, when the pod started taking it (epoch ms, before its env and code were prepared) and
   * how long the take itself (code, record, /init) took.
   */
  adopted?: { runtime: string; at: number; initMs: number };
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Ignores NotFound: the object is already gone, which is what stop/remove wanted. */
async function idempotent(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/**
 * Runs `actions` in order (adjacent stopContainer actions concurrently). Throws runtime faults and
 * unexpected errors; returns the pod's own failures.
 */
export async function executeActions(actions: PodAction[], ctx: ExecuteContext): Promise<ExecuteOutcome> {
  const out: ExecuteOutcome = { failures: {}, events: [], abandonedStarts: [], created: { sandboxes: [], containers: [] } };
  const failedImages = new Set<string>();
  // Containers whose old instance could not be removed: no new instance beside it this time.
  const blocked = new Set<string>();
  const pulled = new Set(actions.flatMap((a) => (a.type === 'pullImage' ? [a.image] : [])));
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    if (a.type === 'stopContainer') {
      let j = i;
      while (j + 1 < actions.length && actions[j + 1].type === 'stopContainer') j++;
      await Promise.all(actions.slice(i, j + 1).map((s) => stopContainer(ctx, s as Extract<PodAction, { type: 'stopContainer' }>)));
      i = j;
      continue;
    }
    if (a.type === 'runContainer' && (failedImages.has(a.image) || blocked.has(a.container))) continue;
    try {
      if (a.type === 'runContainer' && !pulled.has(a.image)) {
        ctx.event?.('Normal', 'Pulled', `Container image "${a.image}" already present on machine`);
      }
      await execute(a, ctx, out);
    } catch (e) {
      if (a.type === 'removeContainer' && !isRuntimeFault(e)) {
        if (await removedAfterStrayTask(a, e, ctx, out)) continue;
        const replacing = actions.slice(i + 1).some((b) => b.type === 'runContainer' && b.container === a.container);
        refusedRemoval(a, e, replacing, ctx, out);
        if (replacing) blocked.add(a.container);
        continue;
      }
      if (!expectedFailure(a, e, ctx, out)) throw e;
      if (a.type === 'pullImage') failedImages.add(a.image);
    }
  }
  return out;
}

async function stopContainer(ctx: ExecuteContext, a: Extract<PodAction, { type: 'stopContainer' }>): Promise<void> {
  ctx.log.info({ container: a.container, containerId: a.containerId, gracePeriod: a.timeoutSeconds }, 'stopping container');
  ctx.event?.('Normal', 'Killing', `Stopping container ${a.container}`);
  // The client's deadline for StopContainer already covers the grace period.
  const spec = ctx.pod ? [...(ctx.pod.spec.initContainers ?? []), ...ctx.pod.spec.containers].find((c) => c.name === a.container) : undefined;
  await stopContainerGracefully(ctx, {
    container: spec, containerId: a.containerId, name: a.container, podIP: Object.values(ctx.sandboxIPs ?? {})[0],
  }, a.timeoutSeconds);
}

/** containerd's refusal to delete a container that still has a task. */
const STRAY_TASK = /cannot delete running task/;

/**
 * A removal refused because containerd still holds a task for a container that CRI reports as not
 * running (a start cut short, see StrayTasks): the task is deleted and the removal made again.
 * False when that does not apply or does not work; the refusal then takes its usual course.
 */
async function removedAfterStrayTask(a: Extract<PodAction, { type: 'removeContainer' }>, e: unknown, ctx: ExecuteContext, out: ExecuteOutcome): Promise<boolean> {
  if (!ctx.strayTasks || !STRAY_TASK.test(messageOf(e))) return false;
  try {
    const state = (await ctx.cri.containerStatus({ containerId: a.containerId })).status?.state;
    // A container CRI counts as running is stopped through CRI, by the usual path.
    if (state === 'CONTAINER_RUNNING') return false;
    ctx.log.warn({ container: a.container, containerId: a.containerId, state }, 'the runtime holds a task for a container it reports not running (a start cut short); deleting the task');
    await ctx.strayTasks.remove(a.containerId);
    await execute(a, ctx, out);
    return true;
  } catch (err) {
    ctx.log.warn({ container: a.container, containerId: a.containerId, err: messageOf(err) }, 'could not delete the task the runtime holds for a container it reports not running');
    return false;
  }
}

/**
 * A removal the runtime refused (most often: a start it is still working on). Before a
 * replacement it is a waiting reason and the replacement waits for the next sync; as garbage
 * collection it is retried on the next sync.
 */
function refusedRemoval(a: Extract<PodAction, { type: 'removeContainer' }>, e: unknown, replacing: boolean, ctx: ExecuteContext, out: ExecuteOutcome): void {
  ctx.log.warn({ container: a.container, containerId: a.containerId, err: messageOf(e), replacing }, 'runtime refused to remove container; trying again on the next sync');
  if (!replacing) return;
  (out.failures.containers ??= {})[a.container] = {
    reason: 'ContainerCreating', message: `waiting for the runtime to release container ${a.containerId}: ${messageOf(e)}`,
  };
}

function requirePod(ctx: ExecuteContext, a: PodAction): Pod {
  if (!ctx.pod) throw new Error(`${a.type} asked for a pod that is gone`);
  return ctx.pod;
}

async function execute(a: Exclude<PodAction, { type: 'stopContainer' }>, ctx: ExecuteContext, out: ExecuteOutcome): Promise<void> {
  const { cri, log } = ctx;
  switch (a.type) {
    case 'pullImage': {
      if (ctx.images?.builds(a.image)) {
        log.info({ image: a.image }, 'building image');
        ctx.event?.('Normal', 'Pulling', `Building image "${a.image}" from this node's interpreter`);
        const started = ctx.now();
        await ctx.images.ensure(a.image);
        ctx.event?.('Normal', 'Pulled', `Successfully built image "${a.image}" in ${((ctx.now() - started) / 1000).toFixed(3)}s`);
        return;
      }
      log.info({ image: a.image }, 'pulling image');
      ctx.event?.('Normal', 'Pulling', `Pulling image "${a.image}"`);
      const started = ctx.now();
      const auth = await imagePullAuth(ctx, a.image);
      await cri.pullImage({ image: { image: a.image }, ...(auth ? { auth } : {}) });
      ctx.event?.('Normal', 'Pulled', `Successfully pulled image "${a.image}" in ${((ctx.now() - started) / 1000).toFixed(3)}s`);
      return;
    }
    case 'runPodSandbox': {
      if (a.attempt === 0 && ctx.pool && ctx.pod && (await adoptWarm(ctx, ctx.pool, ctx.pod, out))) return;
      if (a.attempt > 0) ctx.event?.('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      const config = buildSandboxConfig(requirePod(ctx, a), ctx.sandbox, a.attempt);
      const { podSandboxId } = await cri.runPodSandbox({ config });
      out.created.sandboxes.push(podSandboxId);
      log.info({ sandboxId: podSandboxId, attempt: a.attempt }, 'sandbox running');
      return;
    }
    case 'runContainer': {
      const pod = requirePod(ctx, a);
      const spec = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === a.container);
      if (!spec) throw new Error(`container ${a.container} is not in the pod spec`);
      const sandboxConfig = buildSandboxConfig(pod, ctx.sandbox, a.sandboxAttempt);
      const imageUser = needsImageUser(pod, spec) ? await imageUserOf(ctx, spec.image) : undefined;
      let resolved;
      try {
        const podIPs = ctx.env?.sandboxIPs?.[a.sandboxId];
        resolved = await resolveContainer(pod, spec, {
          ...ctx.env, objects: ctx.env?.objects ?? NO_OBJECTS, ...(podIPs ? { podIPs } : {}),
          warn: (reason, message) => ctx.event?.('Warning', reason, message),
        });
      } catch (e) {
        if (isContainerConfigError(e)) throw new StepError('CreateContainerConfigError', e);
        // The control plane did not answer for a ConfigMap or Secret (a failover): the pod's
        // waiting reason, tried again on the next sync, as kubelet does when its cache is not synced.
        throw new StepError('CreateContainerConfigError', new Error(`could not read the container's ConfigMaps and Secrets: ${messageOf(e)}`));
      }
      const volumeMounts = await mountVolumes(ctx, pod, spec, resolved);
      let containerId: string;
      const podIP = ctx.sandboxIPs?.[a.sandboxId];
      const hostsRoot = ctx.sandbox.hostsRoot;
      const hostsPath = hostsRoot ? await writeHostsFile(podLogDirectory(pod, hostsRoot), pod, podIP) : undefined;
      const lease = await allocateGpus(ctx, pod, spec);
      let config;
      try {
        config = buildContainerConfig(pod, spec, a.attempt, a.restartCount, {
          ...(imageUser ? { imageUser } : {}),
          ...(ctx.sandbox.seccompProfileRoot ? { seccompProfileRoot: ctx.sandbox.seccompProfileRoot } : {}),
          ...(hostsPath ? { hostsPath } : {}),
          resolved,
          ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
          ...(lease && ctx.gpu ? { gpu: gpuContainerConfig(ctx.gpu.inventory, lease.devices, resolved.env.map((e) => e.name)) } : {}),
        });
      } catch (e) {
        lease?.release();
        if (isContainerConfigError(e)) throw new StepError('CreateContainerConfigError', e);
        throw e;
      }
      try {
        ({ containerId } = await cri.createContainer({ podSandboxId: a.sandboxId, config, sandboxConfig }));
      } catch (e) {
        throw new StepError('CreateContainerError', e);
      } finally {
        lease?.release();
      }
      ctx.event?.('Normal', 'Created', `Created container ${a.container}`);
      out.created.containers.push(containerId);
      try {
        await cri.startContainer({ containerId });
      } catch (e) {
        throw new StepError('RunContainerError', e, containerId);
      }
      ctx.event?.('Normal', 'Started', `Started container ${a.container}`);
      log.info({ container: a.container, containerId, attempt: a.attempt }, 'container started');
      await postStart(ctx, pod, spec, containerId, podIP);
      return;
    }
    case 'stopPodSandbox':
      log.info({ sandboxId: a.sandboxId }, 'stopping sandbox');
      await idempotent(cri.stopPodSandbox({ podSandboxId: a.sandboxId }));
      return;
    case 'removePodSandbox':
      await idempotent(cri.removePodSandbox({ podSandboxId: a.sandboxId }));
      return;
    case 'removeContainer':
      await idempotent(cri.removeContainer({ containerId: a.containerId }));
  }
}

/**
 * Takes a warm container of the node's pool for the pod's first sandbox when the pod is eligible
 * and one is ready: its env is resolved and its code volume set up as for a container of its own,
 * then the pool specialises the member (node-agent/functions/pool.ts). True when the pod took one;
 * false leaves the normal path to it (a miss, or env or volumes that are not ready: the normal path
 * reports those as it always does).
 */
async function adoptWarm(ctx: ExecuteContext, pool: WarmPool, pod: Pod, out: ExecuteOutcome): Promise<boolean> {
  const eligible = pool.eligibility(pod);
  if ('reason' in eligible) {
    if (pod.metadata.labels?.[FUNCTION_LABEL]) ctx.log.debug({ reason: eligible.reason }, 'function instance not eligible for a warm container');
    return false;
  }
  const { runtime } = eligible;
  const started = ctx.now();
  const miss = (): false => {
    ctx.event?.('Normal', 'PoolMiss', `No warm ${runtime} container in the pool; making the pod's own`);
    return false;
  };
  if (!pool.has(runtime)) {
    pool.missed(runtime);
    return miss();
  }
  const spec = pod.spec.containers[0];
  let codeDir: string | undefined;
  let env;
  try {
    env = (await resolveContainer(pod, spec, { ...ctx.env, objects: ctx.env?.objects ?? NO_OBJECTS })).env;
    const volumes = await ctx.volumes?.setUp(pod, { objects: ctx.env?.objects ?? NO_OBJECTS, ...(ctx.env?.allocatable ? { allocatable: ctx.env.allocatable } : {}) });
    codeDir = volumes?.get(pod.spec.volumes?.[0]?.name ?? '')?.hostPath;
  } catch (e) {
    ctx.log.info({ err: messageOf(e) }, 'the pod\'s env or code is not ready; making its own sandbox');
    return false;
  }
  if (!codeDir) return false;
  const adopted = await pool.adopt(pod, runtime, { env, codeDir });
  if (!adopted) return miss();
  out.created.sandboxes.push(adopted.sandboxId);
  out.created.containers.push(adopted.containerId);
  out.adopted = { runtime, at: started, initMs: adopted.ms };
  ctx.log.info({ sandboxId: adopted.sandboxId, containerId: adopted.containerId, ms: adopted.ms }, 'warm container specialised');
  ctx.event?.('Normal', 'Specialized', `Specialized a warm ${runtime} container from the pool in ${adopted.ms} ms`);
  if (adopted.error) ctx.event?.('Warning', 'Failed', `Error: ${adopted.error}`);
  return true;
}

/**
 * Sets up the pod's volumes (each container's creation makes sure of them, as kubelet waits for
 * the pod's volumes before starting any container) and returns the container's mounts. A volume
 * that cannot be set up is kubelet's FailedMount: the container waits in ContainerCreating and the
 * next sync tries again, without crash-loop back-off. A volumeMount the node cannot make (an
 * escaping subPath) is CreateContainerConfigError, as kubelet's failed subPath preparation.
 */
async function mountVolumes(ctx: ExecuteContext, pod: Pod, spec: Container, resolved: ResolvedContainer): Promise<Mount[]> {
  if (podVolumes(pod).length === 0 && containerVolumeMounts(spec).length === 0) return [];
  let volumes;
  try {
    if (!ctx.volumes) throw new Error('this node keeps no pod volumes (the node agent has no pods directory)');
    volumes = await ctx.volumes.setUp(pod, { objects: ctx.env?.objects ?? NO_OBJECTS, ...(ctx.env?.allocatable ? { allocatable: ctx.env.allocatable } : {}) });
  } catch (e) {
    const message = isVolumeError(e)
      ? `MountVolume.SetUp failed for volume "${e.volume}" : ${e.message}`
      : `Unable to attach or mount volumes: ${messageOf(e)}`;
    ctx.log.warn({ container: spec.name, err: message }, 'pod volumes could not be set up; the container waits');
    ctx.event?.('Warning', 'FailedMount', message);
    throw new StepError('ContainerCreating', new Error(message), undefined, true);
  }
  try {
    return await containerMounts(spec, volumes, resolved.env, ctx.volumes.subPathBinder(pod.metadata.uid ?? ''));
  } catch (e) {
    // Refused or failed (a subPath under a file): the container's configuration, never a crash.
    throw new StepError('CreateContainerConfigError', isVolumeError(e) ? e : new Error(`failed to prepare the volume mounts of container ${spec.name}: ${messageOf(e)}`));
  }
}

/**
 * The GPUs of a container that asks for nvidia.com/gpu. A node without GPUs, or without enough
 * free, fails the step with the waiting reason UnexpectedAdmissionError (the kubelet's, when its
 * device manager cannot give a pod its devices); the next sync tries again.
 */
async function allocateGpus(ctx: ExecuteContext, pod: Pod, spec: Container): Promise<GpuLease | undefined> {
  const n = gpuCount(spec);
  if (n === 0) return undefined;
  if (!ctx.gpu) {
    throw new StepError('UnexpectedAdmissionError', new Error(`container ${spec.name} asks for ${n} ${GPU_RESOURCE} but the node has no GPUs`));
  }
  try {
    return await ctx.gpu.allocate(pod, spec);
  } catch (e) {
    if (e instanceof GpuUnavailableError) throw new StepError('UnexpectedAdmissionError', e);
    throw e;
  }
}

/**
 * The user the image runs as, from CRI ImageStatus (containerd reads it from the image config).
 * Runtime faults are thrown; an image the runtime lacks is the pod's error.
 */
async function imageUserOf(ctx: ExecuteContext, image: string): Promise<ImageUser> {
  const st = await ctx.cri.imageStatus({ image: { image } });
  if (!st.image) throw new StepError('CreateContainerConfigError', new Error(`image "${image}" is not present on the node, so its user is unknown`));
  return {
    ...(st.image.uid ? { uid: st.image.uid.value } : {}),
    ...(st.image.username ? { username: st.image.username } : {}),
  };
}

/**
 * Runs the container's postStart hook, if any; the container is not seen as Running until this
 * returns, since the status is written after the actions. A failed hook kills the container
 * (preStop included, as kubelet's killContainer does) and throws PostStartHookError, which
 * restarts it by the restart policy with backoff.
 */
async function postStart(ctx: ExecuteContext, pod: Pod, spec: Container, containerId: string, podIP: string | undefined): Promise<void> {
  const hook = spec.lifecycle?.postStart;
  if (!hook) return;
  const failed = await runHook(ctx.cri, hook, { container: spec, containerId, podIP }, POST_START_TIMEOUT_SECONDS);
  if (failed === undefined) return;
  const message = `${describeHook(hook)} for container ${spec.name} failed: ${failed}`;
  ctx.log.warn({ container: spec.name, containerId, err: failed }, 'postStart hook failed; killing the container');
  ctx.event?.('Warning', 'FailedPostStartHook', `PostStartHookError: ${message}`);
  await stopContainerGracefully(ctx, { container: spec, containerId, name: spec.name, podIP }, pod.spec.terminationGracePeriodSeconds ?? 30);
  throw new StepError('PostStartHookError', new Error(message), containerId);
}

/**
 * The login for `image` from the pod's imagePullSecrets (pull-auth.ts); a secret that is missing
 * is skipped, as kubelet does, and the pull goes on without it.
 */
async function imagePullAuth(ctx: ExecuteContext, image: string): Promise<ReturnType<typeof pullAuth>> {
  const names = ctx.pod?.spec.imagePullSecrets ?? [];
  if (names.length === 0 || !ctx.env?.objects) return undefined;
  const secrets: Secret[] = [];
  for (const { name } of names) {
    // A secret that cannot be read (missing, or the control plane not answering) is skipped, as
    // kubelet does: the pull goes on, and fails as an image pull would if the login was needed.
    let s: Secret | undefined;
    try {
      s = await ctx.env.objects.secret(name);
    } catch (e) {
      ctx.log.warn({ secret: name, image, err: messageOf(e) }, 'image pull secret could not be read; pulling without it');
      continue;
    }
    if (s) secrets.push(s);
    else ctx.log.warn({ secret: name, image }, 'image pull secret not found; pulling without it');
  }
  return pullAuth(image, secrets);
}

/** A create/start failure with kubelet's waiting reason; `mount`: the pod's volumes are not ready (FailedMount already recorded). */
class StepError extends Error {
  constructor(readonly reason: string, readonly original: unknown, readonly containerId?: string, readonly mount = false) {
    super(messageOf(original), { cause: original });
    this.name = 'StepError';
  }
}

/**
 * Records a failure the pod owns, or a create/start the runtime did not finish; false when the
 * error is neither (then it is thrown).
 */
function expectedFailure(a: PodAction, e: unknown, ctx: ExecuteContext, out: ExecuteOutcome): boolean {
  const at = ctx.now();
  if (e instanceof StepError) {
    if (a.type !== 'runContainer') return false;
    if (e.mount) {
      // No back-off, as kubelet: every sync tries the mounts again until they succeed.
      (out.failures.containers ??= {})[a.container] = { reason: e.reason, message: e.message, volumes: true };
      return true;
    }
    (out.failures.containers ??= {})[a.container] = { reason: e.reason, message: e.message };
    ctx.event?.('Warning', 'Failed', `Error: ${e.message}`);
    if (e.reason === 'CreateContainerConfigError') {
      // No back-off, as kubelet: the next sync looks again, and the container starts once what it refers to exists.
      ctx.log.info({ container: a.container, err: e.message }, 'container waits for its configuration');
      return true;
    }
    if (isRuntimeBusy(e.original)) {
      // The runtime's deadline or its own busy state: the next pass sees where it got to.
      if (e.containerId && isRuntimeFault(e.original)) out.abandonedStarts.push(e.containerId);
      ctx.log.warn({ container: a.container, containerId: e.containerId, reason: e.reason, err: e.message }, 'runtime did not finish creating or starting the container; looking again');
      return true;
    }
    ctx.log.warn({ container: a.container, reason: e.reason, err: e.message }, 'container failed to start');
    // A spec the node cannot meet waits with its reason (retried each sync), as kubelet's does: no crash loop.
    if (e.reason === 'CreateContainerConfigError' || e.reason === 'UnexpectedAdmissionError') return true;
    out.events.push({ type: 'container-start-failed', container: a.container, at, message: e.message, ...(e.containerId ? { containerId: e.containerId } : {}) });
    return true;
  }
  if (a.type === 'runPodSandbox' && isRuntimeBusy(e)) {
    ctx.log.warn({ err: messageOf(e) }, 'runtime did not finish creating the sandbox; looking again');
    out.failures.sandbox = messageOf(e);
    ctx.event?.('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${messageOf(e)}`);
    return true;
  }
  if (isRuntimeFault(e)) return false;
  if (a.type === 'pullImage') {
    ctx.log.warn({ image: a.image, err: messageOf(e) }, 'image pull failed');
    (out.failures.images ??= {})[a.image] = messageOf(e);
    ctx.event?.('Warning', 'Failed', `Failed to pull image "${a.image}": ${messageOf(e)}`);
    out.events.push({ type: 'image-pull-failed', image: a.image, at, message: messageOf(e) });
    return true;
  }
  if (a.type === 'runPodSandbox') {
    ctx.log.warn({ err: messageOf(e) }, 'sandbox creation failed');
    out.failures.sandbox = messageOf(e);
    ctx.event?.('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${messageOf(e)}`);
    out.events.push({ type: 'sandbox-failed', at, message: messageOf(e) });
    return true;
  }
  return false;
}
