/** Taking a snapshot of the world a chaos round judges: the store through the CLI, the node through CRI. */
import { CONTROL_PLANE_LEASE, LEASE_NAMESPACE, telemetryProcess, type KubeObject, type Lease, type Pod } from '../../messages';
import type { KeptObject } from '../../messages/telemetry';
import type { ActorsSeen, ActorTreeSeen } from './actor-invariants';
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
  /** Runs any command inside the cluster's network namespace (kinds that probe the node need it). */
  run?(cmd: string[]): Promise<RunResult>;
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
  const pods = objects.get('pods') as Pod[] | undefined;
  if (!world.apiError && pods) world.actors = await actorTrees(cluster, pods);
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

/**
 * The pod actors of the leading control plane (the lease's holder) and of every node the pods are
 * bound to, one `mk actors` per process, so one that does not answer is named alone.
 */
async function actorTrees(cluster: ChaosCluster, pods: readonly Pod[]): Promise<ActorsSeen> {
  const seen: ActorsSeen = { trees: [], errors: [] };
  const wanted: Omit<ActorTreeSeen, 'objects'>[] = [];
  try {
    const r = await cluster.mk(['get', 'leases', CONTROL_PLANE_LEASE, '-n', LEASE_NAMESPACE, '-o', 'json'], { timeoutMs: 30_000 });
    const holder = r.code === 0 ? (JSON.parse(r.stdout) as Lease).spec?.holderIdentity : undefined;
    if (holder) wanted.push({ process: telemetryProcess('control-plane', holder), role: 'control-plane' });
    else seen.errors.push({ process: 'leader', error: r.code === 0 ? 'the lease has no holder' : firstLine(r.stderr) });
  } catch (e) {
    seen.errors.push({ process: 'leader', error: firstLine((e as Error).message) });
  }
  for (const node of [...new Set(pods.map((p) => p.spec.nodeName).filter((n): n is string => Boolean(n)))].sort()) {
    wanted.push({ process: telemetryProcess('node', node), role: 'node', node });
  }
  for (const w of wanted) {
    try {
      const r = await cluster.mk(['actors', '--process', w.process, '--kind', 'pod', '-o', 'json'], { timeoutMs: 30_000 });
      if (r.code !== 0) { seen.errors.push({ process: w.process, error: firstLine(r.stderr) || `exit ${r.code}` }); continue; }
      const trees = (JSON.parse(r.stdout) as { processes: { actors: { object?: KeptObject }[] }[] }).processes;
      seen.trees.push({ ...w, objects: trees.flatMap((t) => t.actors.flatMap((a) => (a.object ? [a.object] : []))) });
    } catch (e) {
      seen.errors.push({ process: w.process, error: firstLine((e as Error).message) });
    }
  }
  return seen;
}
