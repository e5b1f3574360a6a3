/**
 * Garbage collection of actor journals: a node's pod actor journals its crash-loop backoff under
 * `pod-backoff-<uid>`; once that pod is gone for good the journal is dead weight in the stream.
 * Every interval the control plane removes the journals of uids no pod has any more.
 */
import type { JetStreamPersistenceEngine, ObjectStore } from '../bus';
import { keyFilter, POD_BACKOFF_KEY_PREFIX, type Pod } from '../messages';
import { log } from './log';

/** One pass: returns the keys it removed. */
export async function collectPodJournals(store: ObjectStore, engine: JetStreamPersistenceEngine): Promise<string[]> {
  // Keys first, pods second: a journal listed here belongs to a pod that existed before the
  // listing, so it is among the pods read next unless that pod was deleted.
  const keys = await engine.keys(POD_BACKOFF_KEY_PREFIX);
  if (keys.length === 0) return [];
  const live = new Set((await store.list<Pod>(keyFilter('pods'))).items.map((p) => p.object.metadata.uid));
  const dead = keys.filter((k) => !live.has(k.slice(POD_BACKOFF_KEY_PREFIX.length)));
  for (const k of dead) await engine.forget(k);
  if (dead.length > 0) log.info({ removed: dead.length }, 'removed journals of deleted pods');
  return dead;
}

/** Runs collectPodJournals every `intervalMs` (default 10 min); failures are logged and retried next time. */
export function startJournalGc(store: ObjectStore, engine: JetStreamPersistenceEngine, intervalMs = 600_000): { stop(): void } {
  const timer = setInterval(() => {
    collectPodJournals(store, engine).catch((err) => log.warn({ err: String(err) }, 'journal collection failed'));
  }, intervalMs).unref();
  return { stop: () => clearInterval(timer) };
}
