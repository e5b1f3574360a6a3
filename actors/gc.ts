/**
 * The control plane's periodic maintenance (the owner-reference garbage collector is
 * garbage-collector.ts). Garbage collection of actor journals: a node's pod
 * actor journals its crash-loop backoff under `pod-backoff-<uid>`; once that pod is gone for good
 * the journal is dead weight in the stream, so the journals of uids no pod has any more go; the
 * same for workflow runs' journals (`workflowrun-<uid>`). And
 * compaction of the object store: old delete markers go (bus/object-store.ts).
 */
import type { JetStreamPersistenceEngine, ObjectStore } from '../bus';
import { keyFilter, POD_BACKOFF_KEY_PREFIX, type KubeObject } from '../messages';
import { RUN_JOURNAL_PREFIX } from './workflow/run-controller';
import { log } from './log';

/**
 * One pass over the journals whose keys are `<prefix><uid>`: removes those whose uid no object of
 * `plural` has any more. Returns the keys it removed (`<owner>/<key>`).
 */
async function collectJournals(store: ObjectStore, engine: JetStreamPersistenceEngine, prefix: string, plural: string): Promise<string[]> {
  // Keys first, objects second: a journal listed here belongs to an object that existed before the
  // listing, so it is among the objects read next unless that object was deleted.
  const keys = await engine.keys(prefix);
  if (keys.length === 0) return [];
  const live = new Set((await store.list<KubeObject>(keyFilter(plural))).items.map((p) => p.object.metadata.uid));
  const dead = keys.filter((k) => !live.has(k.key.slice(prefix.length)));
  for (const k of dead) await engine.forget(k.key, k.owner);
  if (dead.length > 0) log.info({ removed: dead.length, of: plural }, 'removed journals of deleted objects');
  return dead.map((k) => `${k.owner}/${k.key}`);
}

/** One pass over every node's pod journals: returns the keys it removed (`<owner>/<key>`). */
export function collectPodJournals(store: ObjectStore, engine: JetStreamPersistenceEngine): Promise<string[]> {
  return collectJournals(store, engine, POD_BACKOFF_KEY_PREFIX, 'pods');
}

/**
 * One pass over the journals of workflow runs (`workflowrun-<uid>`): a run deleted while no
 * control plane held it leaves its journal, which goes here. Returns the keys it removed.
 */
export function collectRunJournals(store: ObjectStore, engine: JetStreamPersistenceEngine): Promise<string[]> {
  return collectJournals(store, engine, RUN_JOURNAL_PREFIX, 'workflowruns');
}

/** Delete markers older than this are compacted away (watches further behind relist). */
export const COMPACT_AFTER_MS = 30 * 60_000;

/**
 * Every `intervalMs` (default 10 min): collects the journals of deleted pods and runs, and compacts the
 * object store. Failures are logged and tried again next time.
 */
export function startMaintenance(store: ObjectStore, engine: JetStreamPersistenceEngine, intervalMs = 600_000): { stop(): void } {
  const timer = setInterval(() => {
    collectPodJournals(store, engine).catch((err) => log.warn({ err: String(err) }, 'journal collection failed'));
    collectRunJournals(store, engine).catch((err) => log.warn({ err: String(err) }, 'run journal collection failed'));
    store.compact(COMPACT_AFTER_MS).catch((err) => log.warn({ err: String(err) }, 'store compaction failed'));
  }, intervalMs).unref();
  return { stop: () => clearInterval(timer) };
}
