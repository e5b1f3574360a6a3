/**
 * The garbage collector: ownerReferences and cascading deletion, after Kubernetes' own
 * (https://kubernetes.io/docs/concepts/architecture/garbage-collection/), generic over every kind
 * in the object store (an owner may be of any kind).
 *
 * One actor works through a queue of keys, one at a time, level-triggered: for each it re-reads
 * the object and does what its state asks.
 * - A dependent none of whose owners exists any more (by uid: an owner deleted and made again under
 *   the same name is another owner) is deleted (background); references to owners that are gone
 *   are dropped while another owner remains. This also cleans up after a control plane that died
 *   mid-cascade: on every start the informer's listing puts every object with owners in the queue.
 * - An owner marked with `orphan` loses its dependents' references to it, then the finalizer.
 * - An owner marked with `foregroundDeletion` has its dependents deleted (in the foreground too);
 *   once none with blockOwnerDeletion is left, the finalizer goes. A cycle of blocking owners is
 *   broken by unblocking the dependent that closes it.
 * - A marked object with no finalizers and nothing graceful pending (actors/deletion.ts
 *   readyToRemove) is removed: this is how an update that empties finalizers ends a deletion.
 *
 * The owner/dependent graph is kept in memory from an informer on the whole store. Decisions
 * about one object re-read it from the store; a foreground owner's wait for its dependents is
 * judged from the graph (it lags the store, never leads it, and every change of a dependent being
 * deleted puts its owners back in the queue), so it costs no store reads per event. The queue starts once the first listing is indexed,
 * so a foreground owner never looks for dependents in a half-built graph.
 */
import { dispatch, spawn, type Ref } from 'nact';
import { startInformer, type Informer, type InformerEvent, type ObjectStore } from '../bus';
import {
  FOREGROUND_FINALIZER, isConflict, isNotFound, kindByPlural, kindOf, KINDS, objectKey, ORPHAN_FINALIZER, parseKey,
  type KubeObject, type OwnerReference,
} from '../messages';
import { backoffOnCrash } from '../common/supervision';
import { backoffDelay } from '../common/backoff';
import { deleteObject, readyToRemove } from './deletion';
import type { KindModule } from './kind-module';
import { log } from './log';
import { describeActor } from '../common/actor-telemetry';

/**
 * What the graph knows of one object: its owners, whether it is being deleted, and whether it
 * waits in the foreground for its own dependents (its `foregroundDeletion` finalizer).
 */
interface GraphNode { uid: string; owners: OwnerReference[]; deleting: boolean; deletingDependents: boolean }

type GcMsg = { type: 'gc/attempt'; key: string } | { type: 'gc/wake' };

/** A running garbage collector. */
export interface GarbageCollector {
  /** Keys waiting in the queue (for tests and metrics). */
  pending(): number;
  /** What the graph holds: objects indexed, and owners with dependents indexed (for tests and metrics). */
  graphSize(): { objects: number; owners: number };
  stop(): Promise<void>;
}

/** How often every owned object is looked at again, whatever changed. */
const RESYNC_MS = 5 * 60_000;
/** Between attempts on a key that failed: 200 ms doubling to 10 s. */
const RETRY = { initialMs: 200, maxMs: 10_000, jitter: 0.2 };

/**
 * Starts the collector under `parent`: an informer on every key of `store` feeding one actor.
 * Resolves once the first listing is indexed and queued; throws what the first listing throws.
 */
export async function startGarbageCollector(parent: Ref<unknown>, store: ObjectStore, modules: readonly KindModule[]): Promise<GarbageCollector> {
  const nodes = new Map<string, GraphNode>();
  const byUid = new Map<string, string>();
  const dependents = new Map<string, Set<string>>();
  const queued = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let ready = false;
  let stopped = false;

  const moduleFor = (key: string): KindModule | undefined => {
    const kind = kindByPlural(parseKey(key).plural);
    return modules.find((m) => m.info === kind);
  };

  const enqueue = (key: string): void => {
    if (stopped || queued.has(key)) return;
    queued.add(key);
    if (ready) dispatch(ref, { type: 'gc/attempt', key });
  };
  const later = (key: string, ms: number): void => {
    const t = setTimeout(() => { timers.delete(t); enqueue(key); }, ms).unref();
    timers.add(t);
  };

  const unindex = (key: string, n: GraphNode): void => {
    if (byUid.get(n.uid) === key) byUid.delete(n.uid);
    for (const o of n.owners) {
      const set = dependents.get(o.uid);
      set?.delete(key);
      // Owners come and go with their uids: an emptied set would stay for ever.
      if (set?.size === 0) dependents.delete(o.uid);
    }
  };
  const ownersOf = (n: GraphNode | undefined): string[] =>
    (n?.owners ?? []).map((o) => byUid.get(o.uid)).filter((k): k is string => k !== undefined);

  const observe = (ev: InformerEvent<KubeObject>): void => {
    const prev = nodes.get(ev.key);
    if (prev) unindex(ev.key, prev);
    const o = ev.object;
    if (ev.type === 'DELETE' || !o) {
      nodes.delete(ev.key);
      // Its dependents may be orphans now; a foreground owner may be waiting for it.
      if (prev) for (const d of dependents.get(prev.uid) ?? []) enqueue(d);
      for (const k of ownersOf(prev)) enqueue(k);
      return;
    }
    const n: GraphNode = {
      uid: o.metadata.uid ?? ev.key,
      owners: o.metadata.ownerReferences ?? [],
      deleting: !!o.metadata.deletionTimestamp,
      deletingDependents: !!o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER),
    };
    nodes.set(ev.key, n);
    byUid.set(n.uid, ev.key);
    for (const ow of n.owners) {
      let set = dependents.get(ow.uid);
      if (!set) dependents.set(ow.uid, (set = new Set()));
      set.add(ev.key);
    }
    // A status write of an owned object changes nothing here: only new objects, new owners and deletions count.
    const sameOwners = prev !== undefined && prev.uid === n.uid
      && prev.owners.map((r) => r.uid).join() === n.owners.map((r) => r.uid).join();
    if ((n.owners.length > 0 && !sameOwners) || o.metadata.deletionTimestamp) enqueue(ev.key);
    if (o.metadata.deletionTimestamp) {
      for (const d of dependents.get(n.uid) ?? []) enqueue(d);
      for (const k of ownersOf(n)) enqueue(k);
    }
  };

  /** Does the owner a reference names exist (that very uid)? 'unknown' for a kind mk cannot look up. */
  const ownerState = async (r: OwnerReference, namespace: string | undefined): Promise<'exists' | 'absent' | 'unknown'> => {
    const kind = kindOf(r.apiVersion, r.kind) ?? KINDS.find((k) => k.kind === r.kind);
    if (!kind || kind.storage !== 'store' || (kind.namespaced && !namespace)) return 'unknown';
    const got = await store.get<KubeObject>(objectKey(kind.plural, kind.namespaced ? namespace : undefined, r.name));
    return got && got.object.metadata.uid === r.uid ? 'exists' : 'absent';
  };

  /** The dependents of `uid` as the store has them now. */
  const liveDependents = async (uid: string): Promise<{ key: string; object: KubeObject }[]> => {
    const out: { key: string; object: KubeObject }[] = [];
    for (const key of [...(dependents.get(uid) ?? [])]) {
      const got = await store.get<KubeObject>(key);
      if (got && (got.object.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ key, object: got.object });
    }
    return out;
  };

  /** Its ownerReferences, none blocking any more. */
  const unblock = (key: string) =>
    store.mutate<KubeObject>(key, (x) => {
      const refs = x.metadata.ownerReferences ?? [];
      if (!refs.some((r) => r.blockOwnerDeletion)) return null;
      x.metadata.ownerReferences = refs.map((r) => ({ ...r, blockOwnerDeletion: false }));
      return x;
    });

  /**
   * A foreground owner's turn, from the graph alone but for the dependents it deletes (so an
   * owner of many dependents reads each once, not on every event of every dependent): dependents
   * not yet being deleted are deleted in the foreground too, and the finalizer goes once no
   * dependent with blockOwnerDeletion is left. A dependent whose own dependents already wait in
   * the foreground (a cycle of owners) is unblocked first, as Kubernetes' collector does, so the
   * cycle cannot wait for itself; an object that owns itself does not wait for itself either.
   */
  const foreground = async (key: string, uid: string): Promise<void> => {
    const deps = [...(dependents.get(uid) ?? [])].filter((k) => k !== key);
    for (const d of deps) {
      const n = nodes.get(d);
      const m = moduleFor(d);
      if (!n || n.deleting || !m) continue;
      const cycle = [...(dependents.get(n.uid) ?? [])].some((k) => nodes.get(k)?.deletingDependents);
      try {
        if (cycle) await unblock(d);
        await deleteObject(store, m, d, { propagationPolicy: 'Foreground' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const blocking = deps.filter((d) => nodes.get(d)?.owners.some((r) => r.uid === uid && r.blockOwnerDeletion));
    if (blocking.length > 0) return; // Each blocking dependent's deletion puts the owner back in the queue.
    await removeFinalizer(key, FOREGROUND_FINALIZER);
    log.info({ key }, 'dependents gone; the owner goes');
  };

  const removeFinalizer = (key: string, f: string) =>
    store.mutate<KubeObject>(key, (o) => {
      const fins = o.metadata.finalizers ?? [];
      if (!fins.includes(f)) return null;
      o.metadata.finalizers = fins.filter((x) => x !== f);
      return o;
    });

  const attempt = async (key: string): Promise<void> => {
    const cur = await store.get<KubeObject>(key);
    if (!cur) return;
    const o = cur.object;
    const module = moduleFor(key);
    const uid = o.metadata.uid ?? key;
    const fins = o.metadata.finalizers ?? [];
    if (o.metadata.deletionTimestamp) {
      if (fins.includes(ORPHAN_FINALIZER)) {
        for (const d of await liveDependents(uid)) {
          await store.mutate<KubeObject>(d.key, (x) => {
            const refs = x.metadata.ownerReferences ?? [];
            if (!refs.some((r) => r.uid === uid)) return null;
            const left = refs.filter((r) => r.uid !== uid);
            if (left.length > 0) x.metadata.ownerReferences = left; else delete x.metadata.ownerReferences;
            return x;
          }).catch((err) => { if (!isNotFound(err)) throw err; });
        }
        await removeFinalizer(key, ORPHAN_FINALIZER);
        log.info({ key }, 'orphaned the dependents of a deleted owner');
        return;
      }
      if (fins.includes(FOREGROUND_FINALIZER)) {
        await foreground(key, uid);
        return;
      }
      if (readyToRemove(module, o)) {
        await store.delete(key, cur.revision).catch((err) => { if (!isNotFound(err)) throw err; });
        return;
      }
    }
    const owners = o.metadata.ownerReferences ?? [];
    if (owners.length === 0) return;
    const absent: string[] = [];
    for (const r of owners) if ((await ownerState(r, o.metadata.namespace)) === 'absent') absent.push(r.uid);
    if (absent.length === 0) return;
    if (absent.length === owners.length) {
      if (!o.metadata.deletionTimestamp && module) {
        await deleteObject(store, module, key, { propagationPolicy: 'Background' });
        log.info({ key, owners: absent }, 'deleted a dependent whose owners are gone');
      }
      return;
    }
    await store.mutate<KubeObject>(key, (x) => {
      const left = (x.metadata.ownerReferences ?? []).filter((r) => !absent.includes(r.uid));
      if (left.length === (x.metadata.ownerReferences ?? []).length) return null;
      x.metadata.ownerReferences = left;
      return x;
    });
  };

  const ref: Ref<GcMsg> = spawn(
    parent,
    async (state: Record<string, never> = {}, msg: GcMsg): Promise<Record<string, never>> => {
      if (msg.type === 'gc/wake') {
        // After a crash: everything still queued is attempted again.
        for (const key of queued) dispatch(ref, { type: 'gc/attempt', key });
        return state;
      }
      if (!queued.delete(msg.key) || stopped) return state;
      try {
        await attempt(msg.key);
        failures.delete(msg.key);
      } catch (err) {
        const n = failures.get(msg.key) ?? 0;
        failures.set(msg.key, n + 1);
        if (!isConflict(err)) log.warn({ key: msg.key, err: String(err), attempt: n }, 'garbage collection failed; retrying');
        later(msg.key, isConflict(err) ? 20 : backoffDelay(RETRY, n));
      }
      return state;
    },
    'garbage-collector',
    { onCrash: backoffOnCrash({ type: 'gc/wake' }, (f, m) => log.error(f, m)) },
  );
  describeActor(ref, { kind: 'garbage-collector', system: true });

  let informer: Informer | undefined;
  try {
    informer = await startInformer<KubeObject>(store, '>', observe);
  } catch (err) {
    stopped = true;
    throw err;
  }
  ready = true;
  for (const key of queued) dispatch(ref, { type: 'gc/attempt', key });
  // A level-triggered safety net, as Kubernetes' collector resyncs: every owned object again now and then.
  const resync = setInterval(() => { for (const [key, n] of nodes) if (n.owners.length > 0) enqueue(key); }, RESYNC_MS).unref();
  log.info({ objects: nodes.size, queued: queued.size }, 'garbage collector started');
  return {
    pending: () => queued.size,
    graphSize: () => ({ objects: nodes.size, owners: dependents.size }),
    async stop() {
      stopped = true;
      clearInterval(resync);
      for (const t of timers) clearTimeout(t);
      await informer?.stop();
    },
  };
}
