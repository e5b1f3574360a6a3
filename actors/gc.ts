/**
 * The control plane's periodic maintenance (the owner-reference garbage collector is
 * garbage-collector.ts). Garbage collection of actor journals: a node's pod
 * actor journals its crash-loop backoff under `pod-backoff-<uid>`; once that pod is gone for good
 * the journal is dead weight in the stream, so the journals of uids no pod has any more go. And
 * compaction of the object store: old delete markers go (bus/object-store.ts).
 */
import type { JetStreamPersistenceEngine, ObjectStore } from '../bus';
import { keyFilter, POD_BACKOFF_KEY_PREFIX, type Pod } from '../messages';
import { log } from './log';

/** One pass over every node's journals: returns the keys it removed (`<owner>/<key>`). */
export async function collectPodJournals(store: ObjectStore, engine: JetStreamPersistenceEngine): Promise<string[]> {
  // Keys first, pods second: a journal listed here belongs to a pod that existed before the
  // listing, so it is among the pods read next unless that pod was deleted.
  const keys = await engine.keys(POD_BACKOFF_KEY_PREFIX);
  if (keys.length === 0) return [];
  const live = new Set((await store.list<Pod>(keyFilter('pods'))).items.map((p) => p.object.metadata.uid));
  const dead = keys.filter((k) => !live.has(k.key.slice(POD_BACKOFF_KEY_PREFIX.length)));
  for (const k of dead) await engine.forget(k.key, k.owner);
  if (dead.length > 0) log.info({ removed: dead.length }, 'removed journals of deleted pods');
  return dead.map((k) => `${k.owner}/${k.key}`);
}

/** Delete markers older than this are compacted away (watches further behind relist). */
export const COMPACT_AFTER_MS = 30 * 60_000;

/**
 * Every `intervalMs` (default 10 min): collects the journals of deleted pods and compacts the
 * object store. Failures are logged and tried again next time.
 */
export function startMaintenance(store: ObjectStore, engine: JetStreamPersistenceEngine, intervalMs = 600_000): { stop(): void } {
  const timer = setInterval(() => {
    collectPodJournals(store, engine).catch((err) => log.warn({ err: String(err) }, 'journal collection failed'));
    store.compact(COMPACT_AFTER_MS).catch((err) => log.warn({ err: String(err) }, 'store compaction failed'));
  }, intervalMs).unref();
  return { stop: () => clearInterval(timer) };
}
