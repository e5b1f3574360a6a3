/**
 * Garbage collection of a pod's runtime objects, like kubelet's container GC
 * (https://kubernetes.io/docs/concepts/architecture/garbage-collection/#containers-images): per
 * container name the newest instance and the newest exited one before it are kept (status
 * lastState, `logs --previous`); the rest is removed, and what still runs outside the ready
 * sandbox is stopped first.
 */
import type { ContainerView } from './status';
import type { ObservedContainer, ObservedSandbox, PodAction } from './types';

/** Inputs of {@link garbageActions}. */
export interface GarbageInput {
  views: ContainerView[];
  containers: ObservedContainer[];
  /** Newest first; only the first may stay. */
  sandboxes: ObservedSandbox[];
  /** The ready sandbox in use, if any. */
  current?: ObservedSandbox;
  graceSeconds: number;
  /** Containers other actions already stop. */
  stopping: Set<string>;
}

/** The stop/remove actions that clean up after restarts and sandbox re-creations. */
export function garbageActions(g: GarbageInput): PodAction[] {
  const actions: PodAction[] = [];
  const keep = new Set<string>();
  for (const v of g.views) {
    if (v.latest) keep.add(v.latest.id);
    if (v.previous) keep.add(v.previous.id);
  }
  for (const c of g.containers) {
    const outside = !g.current || c.podSandboxId !== g.current.id;
    if (c.state === 'CONTAINER_RUNNING' && (outside || !keep.has(c.id)) && !g.stopping.has(c.id)) {
      actions.push({ type: 'stopContainer', containerId: c.id, container: c.name, timeoutSeconds: g.graceSeconds });
    } else if (c.state !== 'CONTAINER_RUNNING' && !keep.has(c.id)) {
      actions.push({ type: 'removeContainer', containerId: c.id, container: c.name });
    }
  }
  for (const sb of g.sandboxes.slice(1)) {
    if (sb.state === 'SANDBOX_READY') actions.push({ type: 'stopPodSandbox', sandboxId: sb.id });
    else if (!g.containers.some((c) => c.podSandboxId === sb.id && (keep.has(c.id) || c.state === 'CONTAINER_RUNNING'))) {
      actions.push({ type: 'removePodSandbox', sandboxId: sb.id });
    }
  }
  return actions;
}
