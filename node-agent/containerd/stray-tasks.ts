/**
 * Deleting tasks that containerd keeps for containers its CRI reports as not running (see
 * StrayTasks in node-agent/pods/types.ts), through containerd's own task API with `ctr`: the
 * process gets SIGKILL and the task is deleted, after which CRI can remove the container.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { StrayTasks } from '../pods/types';

const run = promisify(execFile);

/** The containerd namespace CRI keeps its containers in. */
const CRI_NAMESPACE = 'k8s.io';

/** Stray tasks of the containerd at `socketPath`, deleted with `ctr` (at most 30 s each). */
export function strayTasksOf(socketPath: string): StrayTasks {
  return {
    async remove(containerId: string): Promise<void> {
      // A CRI id is hex; anything else could be read by ctr as an option.
      if (!/^[0-9a-f]{1,128}$/.test(containerId)) throw new Error(`not a container id: ${JSON.stringify(containerId)}`);
      try {
        await run('ctr', ['--address', socketPath, '--namespace', CRI_NAMESPACE, 'tasks', 'delete', '--force', containerId], { timeout: 30_000 });
      } catch (e) {
        const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
        if (/not found/.test(stderr)) return;
        throw new Error(`ctr tasks delete ${containerId}: ${stderr || (e instanceof Error ? e.message : String(e))}`, { cause: e });
      }
    },
  };
}
