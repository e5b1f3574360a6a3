/**
 * The READY, STATUS and RESTARTS columns of `kubectl get pods`, computed the way kubectl's printPod
 * does (kubernetes/kubernetes pkg/printers/internalversion/printers.go). STATUS is not the phase:
 * it is the most telling reason among the containers (CrashLoopBackOff, Init:1/2, Completed, ...).
 */
import type { ContainerStatus, Pod } from '../pod';
import { humanDuration } from './time';

/** The three computed columns of one pod row. */
export interface PodColumns {
  ready: string;
  status: string;
  restarts: string;
}

/** Computes READY, STATUS and RESTARTS for a pod as of `now`. */
export function podColumns(pod: Pod, now: number = Date.now()): PodColumns {
  const status = pod.status ?? {};
  const initSpecs = pod.spec?.initContainers ?? [];
  const totalContainers = pod.spec?.containers?.length ?? 0;
  let readyContainers = 0;
  let restarts = 0;
  let lastRestart = 0;
  let reason: string = status.reason || status.phase || 'Pending';
  // A pod held by its scheduling gates says so, as kubectl shows it.
  if ((status.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const noteRestart = (c: ContainerStatus): void => {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished) || 0);
  };

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    noteRestart(c);
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) continue;
    if (t) {
      reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    } else if (w?.reason && w.reason !== 'PodInitializing') {
      reason = `Init:${w.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = 0;
    lastRestart = 0;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      noteRestart(c);
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && !terminal) reason = 'Terminating';

  const restartsText = restarts !== 0 && lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

/** The pod's first IP (status.podIPs, then status.podIP), or undefined. */
export function podIP(pod: Pod): string | undefined {
  return pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || undefined;
}
