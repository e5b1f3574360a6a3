/**
 * The baseline: the same sandbox and container mk's pod actor asks for (built by the node agent's
 * own builders from the same pod), made by calling CRI directly: RunPodSandbox, CreateContainer,
 * StartContainer, nothing else.
 */
import { randomBytes } from 'node:crypto';
import type { Pod } from '../../messages';
import type { CriClient } from '../../node-agent/cri';
import { buildContainerConfig, buildSandboxConfig } from '../../node-agent/pods';
import { benchPod } from './bench-env';

/** A concurrency limit for the at-once baseline; `Infinity` = every pod at once. */
export type Limit = number;

/** Prints a limit as the tables do. */
export function limitLabel(l: Limit): string {
  return Number.isFinite(l) ? String(l) : 'unbounded';
}

/** Makes the pod's sandbox and container; records the sandbox in `made` as soon as it exists. */
async function startOne(cri: CriClient, pod: Pod, podLogsRoot: string, made: string[]): Promise<void> {
  const sandboxConfig = buildSandboxConfig(pod, { podLogsRoot }, 0);
  const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
  made.push(podSandboxId);
  const { containerId } = await cri.createContainer({
    podSandboxId, sandboxConfig, config: buildContainerConfig(pod, pod.spec.containers[0], 0),
  });
  await cri.startContainer({ containerId });
}

/**
 * Starts one sandbox with its container per name and returns each one's time in ms. One after
 * another: each is timed from its own RunPodSandbox. At once (`limit` given): every pod is asked
 * for at the same instant and timed from then, `limit` of them in flight at a time (a client
 * that queues the rest); so a limit is judged by what its queueing costs, as mk's are. The
 * sandboxes are removed afterwards, also on failure.
 */
export async function criHalf(cri: CriClient, names: string[], podLogsRoot: string, limit?: Limit): Promise<number[]> {
  const pods = names.map((n) => {
    const pod = benchPod(n);
    pod.metadata.namespace = 'default';
    pod.metadata.uid = `cri-${randomBytes(8).toString('hex')}`;
    return pod;
  });
  const sandboxes: string[] = [];
  const ms = new Array<number>(pods.length);
  try {
    if (limit === undefined) {
      for (let i = 0; i < pods.length; i++) {
        const t0 = performance.now();
        await startOne(cri, pods[i], podLogsRoot, sandboxes);
        ms[i] = performance.now() - t0;
      }
    } else {
      const t0 = performance.now();
      let next = 0;
      let failed = false;
      const worker = async () => {
        while (next < pods.length && !failed) {
          const i = next++;
          await startOne(cri, pods[i], podLogsRoot, sandboxes);
          ms[i] = performance.now() - t0;
        }
      };
      // Settle every worker before removing anything, so no sandbox is made after the cleanup.
      const results = await Promise.allSettled(Array.from({ length: Math.min(limit, pods.length) }, () => worker().catch((e: unknown) => { failed = true; throw e; })));
      const err = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (err) throw err.reason;
    }
  } finally {
    await removeSandboxes(cri, sandboxes);
  }
  return ms;
}

/** Stops and removes the sandboxes (and with them their containers). */
export async function removeSandboxes(cri: CriClient, ids: string[]): Promise<void> {
  for (const id of ids) {
    await cri.stopPodSandbox({ podSandboxId: id });
    await cri.removePodSandbox({ podSandboxId: id });
  }
}
