/**
 * Container lifecycle hooks (https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/,
 * kubernetes/kubernetes pkg/kubelet/lifecycle/handlers.go and kuberuntime_container.go killContainer):
 * exec and httpGet handlers run as probes do (probe-run.ts), sleep waits in the agent. postStart
 * runs right after StartContainer and a failure kills the container; preStop runs inside the grace
 * period before StopContainer, which then gets what is left of it (at least 2 s, like kubelet).
 */
import type { Logger } from 'pino';
import type { EventType } from '../../messages/event';
import type { LifecycleHandler } from '../../messages/lifecycle';
import type { Container } from '../../messages/pod';
import type { Probe } from '../../messages/probe';
import { isNotFound } from '../../messages/errors';
import { runProbe } from './probe-run';
import type { PodRuntime } from './types';

/**
 * How long a postStart exec or httpGet may take before it counts as failed. Kubernetes sets no
 * bound; a hook that never returns would hold the pod forever, so mk gives it this long.
 */
export const POST_START_TIMEOUT_SECONDS = 120;

/** kubelet's minimumGracePeriodInSeconds: what StopContainer gets at least after a preStop hook. */
export const MIN_GRACE_AFTER_PRE_STOP_SECONDS = 2;

/** Where a hook runs. */
export interface HookTarget {
  container: Container;
  containerId: string;
  podIP?: string | undefined;
}

/** Which handler a hook has (the schema allows exactly one). */
export function hookHandlerKind(h: LifecycleHandler): 'exec' | 'httpGet' | 'sleep' | undefined {
  if (h.exec) return 'exec';
  if (h.httpGet) return 'httpGet';
  if (h.sleep) return 'sleep';
  return undefined;
}

/** How a hook is named in messages, as kubelet names it (`Exec lifecycle hook ([...])`). */
export function describeHook(h: LifecycleHandler): string {
  if (h.exec) return `Exec lifecycle hook (${JSON.stringify(h.exec.command)})`;
  if (h.httpGet) return `HTTP lifecycle hook (${h.httpGet.path ?? '/'})`;
  if (h.sleep) return `Sleep lifecycle hook (${h.sleep.seconds}s)`;
  return 'lifecycle hook';
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, Math.max(0, ms)).unref(); });

/**
 * Runs `handler` once for at most `timeoutSeconds` (an exec's own timeout and a sleep are cut to
 * it). Resolves with undefined on success, or with what went wrong; never throws.
 */
export async function runHook(
  cri: Pick<PodRuntime, 'execSync'>, handler: LifecycleHandler, target: HookTarget, timeoutSeconds: number,
): Promise<string | undefined> {
  const kind = hookHandlerKind(handler);
  if (kind === 'sleep') {
    await delay(Math.min(handler.sleep?.seconds ?? 0, timeoutSeconds) * 1000);
    return undefined;
  }
  if (!kind) return 'the hook has no handler';
  const probe: Probe = kind === 'exec'
    ? { exec: handler.exec, timeoutSeconds: Math.max(1, Math.ceil(timeoutSeconds)) }
    : { httpGet: handler.httpGet, timeoutSeconds: Math.max(1, Math.ceil(timeoutSeconds)) };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timed out after ${timeoutSeconds} s`), Math.max(0, timeoutSeconds * 1000));
    timer.unref();
  });
  try {
    const outcome = await Promise.race([runProbe(cri, { ...target, probe }), deadline]);
    if (typeof outcome === 'string') return outcome;
    return outcome.outcome === 'success' ? undefined : outcome.message;
  } finally {
    clearTimeout(timer);
  }
}

/** What stopping a container needs. */
export interface StopContext {
  cri: Pick<PodRuntime, 'execSync' | 'stopContainer'>;
  log: Logger;
  /** Records an event about the pod; must not throw. */
  event?: ((type: EventType, reason: string, message: string) => void) | undefined;
  now: () => number;
}

/**
 * Stops a container the way kubelet's killContainer does: its preStop hook first (when it has one
 * and the grace period is not 0), bounded by the grace period; a failed hook is an event and the
 * stop goes on; then StopContainer with the rest of the period (SIGTERM, then SIGKILL). NotFound
 * from the runtime means the container is already gone. Throws other runtime errors.
 */
export async function stopContainerGracefully(
  ctx: StopContext, target: { container?: Container | undefined; containerId: string; name: string; podIP?: string | undefined },
  graceSeconds: number,
): Promise<void> {
  let timeout = graceSeconds;
  const preStop = target.container?.lifecycle?.preStop;
  if (preStop && target.container && graceSeconds > 0) {
    const started = ctx.now();
    ctx.log.info({ container: target.name, containerId: target.containerId, gracePeriod: graceSeconds }, 'running preStop hook');
    const failed = await runHook(ctx.cri, preStop, { container: target.container, containerId: target.containerId, podIP: target.podIP }, graceSeconds);
    if (failed !== undefined) {
      ctx.log.warn({ container: target.name, containerId: target.containerId, err: failed }, 'preStop hook failed');
      ctx.event?.('Warning', 'FailedPreStopHook', `PreStopHook failed: ${describeHook(preStop)} for container ${target.name} failed: ${failed}`);
    }
    const spent = (ctx.now() - started) / 1000;
    timeout = Math.max(MIN_GRACE_AFTER_PRE_STOP_SECONDS, Math.ceil(graceSeconds - spent));
  }
  try {
    await ctx.cri.stopContainer({ containerId: target.containerId, timeout });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
