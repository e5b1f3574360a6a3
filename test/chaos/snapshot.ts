/** Taking a snapshot of the world a chaos round judges: the store through the CLI, the node through CRI. */
import type { KubeObject } from '../../messages';
import type { FaultEvent } from '../helpers/chaos-faults';
import type { LeadershipScanner } from '../helpers/chaos-leadership';
import type { CriObserver } from '../helpers/chaos-observer';
import type { RunResult } from '../helpers/run';
import type { WorldSnapshot } from './kind';
import { parseItems } from './pods';

/** The part of a test cluster a round needs. */
export interface ChaosCluster {
  dataDir: string;
  mk(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<RunResult>;
}

/** The first non-empty line of a command's output, for short messages. */
export const firstLine = (s: string): string => s.trim().split('\n').find((l) => l.trim() !== '') ?? '';

/** Lists every plural the workloads need and the node's CRI objects. Never throws: failures are in the snapshot. */
export async function snapshot(
  cluster: ChaosCluster, plurals: string[], observer: CriObserver, extra: { leadership?: LeadershipScanner; faults?: readonly FaultEvent[] } = {},
): Promise<WorldSnapshot> {
  const world: WorldSnapshot = { atMs: Date.now(), seenContainers: [], seenSandboxes: [], faults: extra.faults };
  const objects = new Map<string, KubeObject[]>();
  for (const plural of plurals) {
    try {
      const r = await cluster.mk(['get', plural, '-A', '-o', 'json'], { timeoutMs: 30_000 });
      if (r.code !== 0) { world.apiError = firstLine(r.stderr) || `exit ${r.code}`; break; }
      objects.set(plural, parseItems<KubeObject>(r.stdout));
    } catch (e) {
      world.apiError = firstLine((e as Error).message);
      break;
    }
  }
  if (!world.apiError) world.objects = objects;
  // After the listing: a holder the lease names has logged that it leads by then.
  world.controlPlanes = extra.leadership?.scan();
  try {
    world.cri = await observer.listNow();
  } catch (e) {
    world.criError = (e as Error).message;
  }
  // After the listing, so every container of the listing is in the history too.
  world.seenContainers = observer.containers();
  world.seenSandboxes = observer.sandboxes();
  return world;
}
