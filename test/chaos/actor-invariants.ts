/**
 * The actor invariant: the supervision trees the dashboard and `mk actors` show match the world.
 * Once the round settles, every pod in the store has exactly one pod actor in the leading control
 * plane's tree, and every pod bound to a node and not being deleted has exactly one in that
 * node's tree; no tree keeps an actor for a pod that is gone from the store (a stale actor would
 * go on reconciling, or running, something nobody asked for). Pure: judges what a snapshot saw.
 */
import type { Pod } from '../../messages';
import type { KeptObject } from '../../messages/telemetry';
import type { Violation, WorldSnapshot } from './kind';

/** One process's pod actors as `mk actors --kind pod -o json` listed them. */
export interface ActorTreeSeen { process: string; role: 'control-plane' | 'node'; node?: string; objects: KeptObject[] }

/** The trees a snapshot asked for: by process, or why one did not answer. */
export interface ActorsSeen { trees: ActorTreeSeen[]; errors: { process: string; error: string }[] }

const keyOf = (o: { namespace?: string; name: string }): string => `${o.namespace ?? 'default'}/${o.name}`;

/** The actor invariant over `world.actors` (nothing to judge when the snapshot has no trees). */
export function checkActors(world: WorldSnapshot, pods: readonly Pod[]): Violation[] {
  const seen = world.actors;
  if (!seen) return [];
  const out: Violation[] = [];
  const v = (subject: string, detail: string): Violation => ({ invariant: 'actors', subject, detail, permanent: false });
  for (const e of seen.errors) out.push(v(`process ${e.process}`, `its actor tree could not be read: ${e.error}`));
  const inStore = new Map(pods.map((p) => [keyOf(p.metadata as { namespace?: string; name: string }), p]));
  for (const tree of seen.trees) {
    const counts = new Map<string, number>();
    for (const o of tree.objects) counts.set(keyOf(o), (counts.get(keyOf(o)) ?? 0) + 1);
    for (const [key, n] of counts) {
      const pod = inStore.get(key);
      if (n > 1) out.push(v(`pod ${key}`, `${tree.process} has ${n} actors keeping it`));
      if (!pod) out.push(v(`pod ${key}`, `${tree.process} still has an actor for it, but it is gone from the store`));
      else if (tree.role === 'node' && pod.spec.nodeName !== tree.node) {
        out.push(v(`pod ${key}`, `${tree.process} has an actor for it, but it is bound to ${pod.spec.nodeName ?? 'no node'}`));
      }
    }
    for (const [key, pod] of inStore) {
      if (counts.has(key)) continue;
      if (tree.role === 'control-plane') out.push(v(`pod ${key}`, `the leader ${tree.process} has no actor for it`));
      else if (pod.spec.nodeName === tree.node && !pod.metadata.deletionTimestamp) {
        out.push(v(`pod ${key}`, `its node's ${tree.process} has no actor for it`));
      }
    }
  }
  return out;
}
