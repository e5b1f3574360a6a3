/**
 * The store side of a set's history (history.ts decides): makes or renumbers the revision of the
 * set's current template and prunes what the history limit lets go. Used by the StatefulSet and
 * DaemonSet controllers on every reconcile, before they write pods, so a controller killed between
 * writes finds the revision already there and reuses it (the plan is re-derived from the store).
 */
import type { ObjectStore } from '../../bus';
import {
  ConflictError, isAlreadyExists, isConflict, isNotFound, keyFilter, NamespaceKind, objectKey, type ControllerRevision, type KubeObject,
} from '../../messages';
import { log } from '../log';
import { ownedRevisions, planUpdateRevision, revisionHolds, revisionsToPrune, type RevisionOwner } from './history';

/** The set's history after syncUpdateRevision. */
export interface SyncedHistory {
  /** The set's revisions, oldest first, as they are after this sync's writes. */
  revisions: ControllerRevision[];
  /** The revision of the set's current template. */
  update: ControllerRevision;
  /** The collision count the update revision's hash was made with (a StatefulSet keeps it in its status). */
  collisionCount: number;
}

/** How many name collisions in a row one sync gets past before it gives up (Kubernetes has no cap; a loop needs one). */
const MAX_ATTEMPTS = 8;

/**
 * Makes sure a revision holds `owner`'s current template: the newest one already does; or an
 * older one does and is renumbered max+1; or a new `<set>-<hash>` is made with max+1. `hashOf`
 * gives the hash for a collision count: a name taken by a revision that is not the set's or holds
 * another template bumps the count and tries again. A set being deleted, or in a namespace being
 * deleted, gets no new revision (the one it would get is returned, unwritten). Throws store
 * faults, and ConflictError when the history kept changing under it (the supervisor retries).
 */
export async function syncUpdateRevision(
  store: ObjectStore, owner: RevisionOwner, hashOf: (collisionCount: number) => string, collisionCount: number, extraLabels?: Record<string, string>,
): Promise<SyncedHistory> {
  const ns = owner.metadata.namespace ?? 'default';
  let count = collisionCount;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const listed = (await store.list<ControllerRevision>(keyFilter('controllerrevisions', ns))).items;
    const stored = new Map(listed.map((i) => [i.object.metadata.name, i]));
    const revisions = ownedRevisions(owner, listed.map((i) => i.object));
    const step = planUpdateRevision(owner, hashOf(count), revisions, extraLabels);
    const key = objectKey('controllerrevisions', ns, step.revision.metadata.name);
    if (step.action === 'none') return { revisions, update: step.revision, collisionCount: count };
    if (owner.metadata.deletionTimestamp || !(await namespaceOpen(store, ns))) {
      return { revisions, update: step.revision, collisionCount: count };
    }
    try {
      if (step.action === 'bump') {
        await store.update(key, step.revision, stored.get(step.revision.metadata.name)!.revision);
        log.info({ key, revision: step.revision.revision }, 'controller revision renumbered: its set went back to its template');
      } else {
        await store.create(key, step.revision);
        log.info({ key, revision: step.revision.revision }, 'controller revision made');
      }
      const after = revisions.filter((r) => r.metadata.name !== step.revision.metadata.name);
      return { revisions: [...after, step.revision], update: step.revision, collisionCount: count };
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) continue;
      if (!isAlreadyExists(err)) throw err;
      const taken = (await store.get<ControllerRevision>(key))?.object;
      const ours = taken?.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata.uid);
      // Ours and equal: a write raced this one (the next attempt finds it). Anything else is a collision.
      if (taken && !(ours && revisionHolds(taken, owner.spec.template))) count++;
    }
  }
  throw new ConflictError(`the revisions of ${owner.kind} ${ns}/${owner.metadata.name} kept changing; will retry`);
}

/** False when the namespace is gone or being deleted (nothing new may be made in it). */
async function namespaceOpen(store: ObjectStore, ns: string): Promise<boolean> {
  const got = await store.get<KubeObject>(objectKey(NamespaceKind.plural, undefined, ns));
  return !!got && !got.object.metadata.deletionTimestamp;
}

/**
 * Deletes the revisions of `owner` beyond its revisionHistoryLimit that are not in `live` (its
 * current and update revisions and those its pods are at), oldest first (history.ts
 * revisionsToPrune). A revision already gone is fine; other store faults are thrown.
 */
export async function pruneRevisions(store: ObjectStore, owner: RevisionOwner, revisions: readonly ControllerRevision[], live: ReadonlySet<string>): Promise<void> {
  const ns = owner.metadata.namespace ?? 'default';
  for (const rev of revisionsToPrune(owner, revisions, live)) {
    try {
      await store.delete(objectKey('controllerrevisions', ns, rev.metadata.name));
      log.info({ key: objectKey('controllerrevisions', ns, rev.metadata.name), revision: rev.revision }, 'controller revision pruned');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
