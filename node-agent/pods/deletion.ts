/**
 * Graceful pod termination (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination):
 * every container gets StopContainer with the grace period (the runtime sends SIGTERM, then
 * SIGKILL when the period ends), then the sandbox is stopped (CNI teardown) and everything is
 * removed. Containers are stopped before the sandbox because StopPodSandbox kills at once.
 */
import type { Pod, PodStatus } from '../../messages/pod';
import { containerView, groupInstances } from './instances';
import { buildPodStatus } from './status';
import type { PodAction, ReconcileInput, ReconcileResult } from './types';

/** How soon to look again while teardown is in progress. */
const TEARDOWN_REQUEUE_MS = 1000;

/**
 * The grace period: the deletion's own (`kubectl delete --grace-period`), else the pod's, else
 * the agent's default for a pod that vanished from the store.
 */
export function deletionGraceSeconds(input: Pick<ReconcileInput, 'pod' | 'defaultGraceSeconds'>): number {
  const pod = input.pod;
  return pod?.metadata.deletionGracePeriodSeconds ?? pod?.spec.terminationGracePeriodSeconds ?? input.defaultGraceSeconds ?? 30;
}

/**
 * The status of a pod whose containers are being stopped (deleted or evicted), from what the
 * runtime reports; `terminal` once none runs.
 */
export function statusOfTeardown(input: ReconcileInput, pod: Pod, terminal: boolean): PodStatus {
  const instances = groupInstances(input.observed.containers);
  return buildPodStatus({
    pod,
    init: (pod.spec.initContainers ?? []).map((c) => containerView(c, instances.get(c.name))),
    app: pod.spec.containers.map((c) => containerView(c, instances.get(c.name))),
    initialized: true,
    ...(input.hostIP ? { hostIP: input.hostIP } : {}),
    ...(input.previous ? { previous: input.previous } : {}),
    now: input.now,
    terminal,
  });
}

/** Reconcile for a pod marked for deletion or gone: tear everything down, then report terminated. */
export function reconcileDeletion(input: ReconcileInput): ReconcileResult {
  const { observed, pod } = input;
  const terminated = observed.containers.length === 0 && observed.sandboxes.length === 0;
  const timeoutSeconds = deletionGraceSeconds(input);
  const live = observed.containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_UNKNOWN');
  const actions: PodAction[] = [
    ...live.map((c): PodAction => ({ type: 'stopContainer', containerId: c.id, container: c.name, timeoutSeconds })),
    ...observed.sandboxes.filter((s) => s.state === 'SANDBOX_READY').map((s): PodAction => ({ type: 'stopPodSandbox', sandboxId: s.id })),
    ...observed.containers.map((c): PodAction => ({ type: 'removeContainer', containerId: c.id, container: c.name })),
    ...observed.sandboxes.map((s): PodAction => ({ type: 'removePodSandbox', sandboxId: s.id })),
  ];
  let status: PodStatus = input.previous ?? {};
  if (pod && !terminated) {
    status = statusOfTeardown(input, pod, live.length === 0);
  }
  return { actions, status, events: [], ...(terminated ? {} : { requeueAfterMs: TEARDOWN_REQUEUE_MS }), terminated };
}
