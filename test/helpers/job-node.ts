/**
 * What a node agent writes for a Job's pods, for control-plane tests that run no node: the test
 * finishes pods by writing their phase (and a container's end) into the store, as a node would.
 */
import type { ObjectStore, Stored } from '../../bus';
import { keyFilter, timestamp, type Job, type Pod, type PodPhase } from '../../messages';

/** The pods in `namespace` that the Job named `job` controls. */
export async function jobPods(store: ObjectStore, job: string, namespace = 'default'): Promise<Stored<Pod>[]> {
  const { items } = await store.list<Pod>(keyFilter('pods', namespace));
  return items.filter((i) => i.object.metadata.ownerReferences?.some((r) => r.kind === 'Job' && r.name === job && r.controller));
}

/** True for a pod that still runs: not finished, not being deleted. */
export function running(p: Pod): boolean {
  return !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

/** Ends the pod at `key` in `phase`, as its node would report it (exit code 0 or 1, finished now). */
export async function finishPod(store: ObjectStore, key: string, phase: Extract<PodPhase, 'Succeeded' | 'Failed'>): Promise<void> {
  await store.mutate<Pod>(key, (p) => {
    if (!running(p)) return null;
    const now = timestamp();
    p.status = {
      ...p.status,
      phase,
      containerStatuses: p.spec.containers.map((c) => ({
        name: c.name, image: c.image, ready: false, restartCount: 0, lastState: {},
        state: { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, reason: phase === 'Succeeded' ? 'Completed' : 'Error', finishedAt: now } },
      })),
    };
    return p;
  });
}

/** True when the Job has the condition `type` True. */
export function hasCondition(job: Job, type: string): boolean {
  return !!job.status?.conditions?.some((c) => c.type === type && c.status === 'True');
}
