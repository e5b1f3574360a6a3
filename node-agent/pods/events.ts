/**
 * Events the pod actor derives from the status it is about to write: a container that entered
 * CrashLoopBackOff or ImagePullBackOff (again) since the last status says `BackOff`, with kubelet's
 * wording (kubernetes/kubernetes pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff,
 * pkg/kubelet/images/image_manager.go). Pure: the actor records what this returns.
 */
import type { EventType } from '../../messages/event';
import type { ContainerStatus, Pod, PodStatus } from '../../messages/pod';

/** An event to record about the pod. */
export interface PodEvent { type: EventType; reason: string; message: string }

interface Waiting { reason?: string; seen: string }

// A back-off is new when the reason, its message (the delay) or the restart count changed: a
// container that crashes at once goes from one back-off to the next without showing Running.
const waiting = (st: PodStatus | undefined): Map<string, Waiting> =>
  new Map([...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])].map((c: ContainerStatus) => {
    const w = c.state?.waiting;
    return [c.name, { reason: w?.reason, seen: `${w?.reason ?? ''}|${w?.message ?? ''}|${c.restartCount}` }];
  }));

/** The BackOff events for containers that entered a (new) back-off between `prev` and `next`. */
export function backoffEvents(pod: Pod, prev: PodStatus | undefined, next: PodStatus): PodEvent[] {
  const before = waiting(prev);
  const out: PodEvent[] = [];
  const { name, namespace = 'default', uid = '' } = pod.metadata;
  const specs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  for (const [container, { reason, seen }] of waiting(next)) {
    if (!reason || before.get(container)?.seen === seen) continue;
    if (reason === 'CrashLoopBackOff') {
      out.push({ type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${container} in pod ${name}_${namespace}(${uid})` });
    } else if (reason === 'ImagePullBackOff') {
      const image = specs.find((c) => c.name === container)?.image ?? '';
      out.push({ type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${image}"` });
    }
  }
  return out;
}
