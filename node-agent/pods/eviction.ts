/**
 * A pod the node evicts, as kubelet's eviction manager does for a pod whose emptyDir outgrew its
 * sizeLimit (kubernetes/kubernetes pkg/kubelet/eviction/eviction_manager.go localStorageEviction;
 * https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/): its containers
 * are killed at once, its sandbox stopped, and it ends in phase Failed with reason Evicted and a
 * message saying why. It never runs again; its containers stay for their logs until deletion, while
 * its emptyDir, configMap, secret and downwardAPI volumes are given back once they are stopped
 * (pod-actor.ts releaseFinishedVolumes).
 * Level-triggered: the stored status (reason Evicted) keeps the pod evicted across restarts.
 */
import type { PodStatus } from '../../messages/pod';
import { statusOfTeardown } from './deletion';
import { podConditions } from './status';
import type { PodAction, ReconcileInput, ReconcileResult } from './types';

/** The pod status reason of an evicted pod. */
export const EVICTED_REASON = 'Evicted';

/** How soon to look again while the evicted pod's containers are being stopped. */
const EVICTION_REQUEUE_MS = 1000;

/** The eviction message that applies: the input's, else the one the stored status carries. */
export function evictionOf(input: Pick<ReconcileInput, 'evicted' | 'previous'>): string | undefined {
  if (input.evicted !== undefined) return input.evicted;
  return input.previous?.reason === EVICTED_REASON ? input.previous.message ?? '' : undefined;
}

/** Reconcile for an evicted pod (not deleted): stop everything, report Failed/Evicted. */
export function reconcileEviction(input: ReconcileInput, message: string): ReconcileResult {
  const pod = input.pod!;
  const { observed } = input;
  const live = observed.containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_UNKNOWN');
  const actions: PodAction[] = [
    ...live.map((c): PodAction => ({ type: 'stopContainer', containerId: c.id, container: c.name, timeoutSeconds: 0 })),
    ...observed.sandboxes.filter((s) => s.state === 'SANDBOX_READY').map((s): PodAction => ({ type: 'stopPodSandbox', sandboxId: s.id })),
  ];
  const built = statusOfTeardown(input, pod, true);
  const status: PodStatus = {
    ...built,
    phase: 'Failed',
    conditions: podConditions('Failed', true, built.initContainerStatuses ?? [], built.containerStatuses ?? [], input.now, input.previous?.conditions),
    reason: EVICTED_REASON,
    message,
  };
  return { actions, status, events: [], ...(actions.length > 0 ? { requeueAfterMs: EVICTION_REQUEUE_MS } : {}), terminated: false };
}
