/**
 * Performs reconcile's actions through CRI. Failures that belong to the pod (an image that cannot
 * be pulled, a command that does not exist) become backoff events and waiting reasons; faults of
 * the runtime itself (TimeoutError, UnavailableError) and anything unexpected are thrown, so the
 * pod actor's supervisor restarts it with backoff.
 */
import type { Logger } from 'pino';
import { isNotFound, MkError } from '../../messages/errors';
import type { EventType } from '../../messages/event';
import type { Pod } from '../../messages/pod';
import type { BackoffEvent } from './backoff';
import { buildContainerConfig, buildSandboxConfig, type SandboxOptions } from './cri-spec';
import type { SyncFailures } from './reconcile';
import type { PodAction, PodRuntime } from './types';

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
}

/** Failures to show in status and backoff events to persist. */
export interface ExecuteOutcome {
  failures: SyncFailures;
  events: BackoffEvent[];
}

// StopContainer blocks for up to the grace period; its deadline must outlast it.
const STOP_DEADLINE_SLACK_MS = 30_000;

/** True for runtime faults that no pod can fix: they go to the supervisor. */
export function isRuntimeFault(e: unknown): boolean {
  return e instanceof MkError && (e.code === 'Timeout' || e.code === 'Unavailable');
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
  const out: ExecuteOutcome = { failures: {}, events: [] };
  const failedImages = new Set<string>();
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
    if (a.type === 'runContainer' && failedImages.has(a.image)) continue;
    try {
      if (a.type === 'runContainer' && !pulled.has(a.image)) {
        ctx.event?.('Normal', 'Pulled', `Container image "${a.image}" already present on machine`);
      }
      await execute(a, ctx);
    } catch (e) {
      if (isRuntimeFault(e) || !expectedFailure(a, e, ctx, out)) throw e;
      if (a.type === 'pullImage') failedImages.add(a.image);
    }
  }
  return out;
}

async function stopContainer(ctx: ExecuteContext, a: Extract<PodAction, { type: 'stopContainer' }>): Promise<void> {
  ctx.log.info({ container: a.container, containerId: a.containerId, gracePeriod: a.timeoutSeconds }, 'stopping container');
  ctx.event?.('Normal', 'Killing', `Stopping container ${a.container}`);
  await idempotent(ctx.cri.stopContainer({ containerId: a.containerId, timeout: a.timeoutSeconds },
    { timeoutMs: a.timeoutSeconds * 1000 + STOP_DEADLINE_SLACK_MS }));
}

function requirePod(ctx: ExecuteContext, a: PodAction): Pod {
  if (!ctx.pod) throw new Error(`${a.type} asked for a pod that is gone`);
  return ctx.pod;
}

async function execute(a: Exclude<PodAction, { type: 'stopContainer' }>, ctx: ExecuteContext): Promise<void> {
  const { cri, log } = ctx;
  switch (a.type) {
    case 'pullImage': {
      log.info({ image: a.image }, 'pulling image');
      ctx.event?.('Normal', 'Pulling', `Pulling image "${a.image}"`);
      const started = ctx.now();
      await cri.pullImage({ image: { image: a.image } });
      ctx.event?.('Normal', 'Pulled', `Successfully pulled image "${a.image}" in ${((ctx.now() - started) / 1000).toFixed(3)}s`);
      return;
    }
    case 'runPodSandbox': {
      if (a.attempt > 0) ctx.event?.('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      const config = buildSandboxConfig(requirePod(ctx, a), ctx.sandbox, a.attempt);
      const { podSandboxId } = await cri.runPodSandbox({ config });
      log.info({ sandboxId: podSandboxId, attempt: a.attempt }, 'sandbox running');
      return;
    }
    case 'runContainer': {
      const pod = requirePod(ctx, a);
      const spec = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === a.container);
      if (!spec) throw new Error(`container ${a.container} is not in the pod spec`);
      const sandboxConfig = buildSandboxConfig(pod, ctx.sandbox, a.sandboxAttempt);
      let containerId: string;
      try {
        ({ containerId } = await cri.createContainer({ podSandboxId: a.sandboxId, config: buildContainerConfig(pod, spec, a.attempt), sandboxConfig }));
      } catch (e) {
        throw new StepError('CreateContainerError', e);
      }
      ctx.event?.('Normal', 'Created', `Created container ${a.container}`);
      await startContainer(ctx, a.container, containerId);
      log.info({ container: a.container, containerId, attempt: a.attempt }, 'container started');
      return;
    }
    case 'startContainer':
      await startContainer(ctx, a.container, a.containerId);
      return;
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

async function startContainer(ctx: ExecuteContext, container: string, containerId: string): Promise<void> {
  try {
    await ctx.cri.startContainer({ containerId });
  } catch (e) {
    throw new StepError('RunContainerError', e, containerId);
  }
  ctx.event?.('Normal', 'Started', `Started container ${container}`);
}

/** A create/start failure with kubelet's waiting reason. */
class StepError extends Error {
  constructor(readonly reason: string, readonly original: unknown, readonly containerId?: string) {
    super(messageOf(original), { cause: original });
    this.name = 'StepError';
  }
}

/** Records a failure the pod owns; false when the error is not one (then it is thrown). */
function expectedFailure(a: PodAction, e: unknown, ctx: ExecuteContext, out: ExecuteOutcome): boolean {
  const at = ctx.now();
  if (e instanceof StepError) {
    if (isRuntimeFault(e.original)) throw e.original;
    if (a.type !== 'runContainer' && a.type !== 'startContainer') return false;
    ctx.log.warn({ container: a.container, reason: e.reason, err: e.message }, 'container failed to start');
    (out.failures.containers ??= {})[a.container] = { reason: e.reason, message: e.message };
    ctx.event?.('Warning', 'Failed', `Error: ${e.message}`);
    out.events.push({ type: 'container-start-failed', container: a.container, at, message: e.message, ...(e.containerId ? { containerId: e.containerId } : {}) });
    return true;
  }
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
