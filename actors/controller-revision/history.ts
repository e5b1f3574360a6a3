/**
 * A set's history of pod templates as ControllerRevisions, shared by the StatefulSet and DaemonSet
 * controllers, as pure functions (after Kubernetes' pkg/controller/history/controller_history.go
 * and the sets' getStatefulSetRevisions / constructHistory / truncateHistory /
 * cleanupHistory):
 *
 * - one revision per distinct template, named `<set>-<hash>`, numbered max+1 when made;
 * - a template that equals an older revision's reuses that revision, renumbered max+1 (a
 *   rollback keeps its name, so pods at it need not be replaced);
 * - revisions beyond revisionHistoryLimit (10 when unset) that no live pod uses and that are not
 *   the set's current or update revision are pruned, oldest first.
 */
import {
  CONTROLLER_REVISION_HASH_KEY, revisionData, revisionTemplate, type ControllerRevision, type LabelSelector, type ObjectMeta,
  type OwnerReference, type PodTemplateSpec,
} from '../../messages';
import { sameTemplate } from '../deployment/rollout';

/** The label that carries a revision's hash on the revision itself (Kubernetes' ControllerRevisionHashLabel). */
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** The annotation a set's change-cause is kept in (copied onto each revision it makes). */
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** How many old revisions a set keeps when its spec does not say (Kubernetes' default). */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

export { CONTROLLER_REVISION_HASH_KEY };

/** What of a StatefulSet or DaemonSet the history needs. */
export interface RevisionOwner {
  apiVersion: string;
  kind: 'StatefulSet' | 'DaemonSet';
  metadata: ObjectMeta;
  spec: { selector: LabelSelector; template: PodTemplateSpec; revisionHistoryLimit?: number };
}

/**
 * A revision's name: `<prefix>-<hash>`, the prefix cut so the name stays within 253 characters
 * (Kubernetes' ControllerRevisionName).
 */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** The revisions `owner` controls (by uid), oldest first: by number, then creation time, then name. */
export function ownedRevisions(owner: RevisionOwner, revisions: readonly ControllerRevision[]): ControllerRevision[] {
  return revisions
    .filter((r) => r.metadata.ownerReferences?.some((o) => o.controller && o.uid === owner.metadata.uid))
    .sort(compareRevisions);
}

/** Kubernetes' SortControllerRevisions order: by number, then creation time, then name. */
export function compareRevisions(a: ControllerRevision, b: ControllerRevision): number {
  if (a.revision !== b.revision) return a.revision - b.revision;
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** One more than the highest number in `revisions` (1 for none). */
export function nextRevisionNumber(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((m, r) => Math.max(m, r.revision), 0) + 1;
}

/** The reference a set writes into its revisions. */
export function revisionOwnerRef(owner: RevisionOwner): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * A new revision of `owner`'s current template, number `revision`, named `<set>-<hash>`: labelled
 * with the template's labels (which its selector selects) and the hash, carrying the set's
 * annotations (among them its change-cause), controlled by the set.
 */
export function newControllerRevision(owner: RevisionOwner, hash: string, revision: number, extraLabels: Record<string, string> = {}): ControllerRevision {
  const annotations = { ...(owner.metadata.annotations ?? {}) };
  const metadata: ObjectMeta = {
    name: controllerRevisionName(owner.metadata.name, hash),
    namespace: owner.metadata.namespace ?? 'default',
    labels: { ...(owner.spec.template.metadata?.labels ?? {}), ...extraLabels, [REVISION_HASH_LABEL]: hash },
    ownerReferences: [revisionOwnerRef(owner)],
  };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata, data: revisionData(owner.spec.template), revision };
}

/** True when `rev` stores `template` (Kubernetes' EqualRevision, on the decoded template). */
export function revisionHolds(rev: ControllerRevision, template: PodTemplateSpec): boolean {
  const t = revisionTemplate(rev);
  return !!t && sameTemplate(t, template);
}

/** What a reconcile does to have a revision of the set's current template. */
export type UpdateRevisionStep =
  /** The newest revision already holds the template. */
  | { action: 'none'; revision: ControllerRevision }
  /** An older revision holds it: it is renumbered (`revision` is the revision as it will be). */
  | { action: 'bump'; revision: ControllerRevision }
  /** None does: `revision` is made. */
  | { action: 'create'; revision: ControllerRevision };

/**
 * The update revision of `owner` given its revisions (Kubernetes' getStatefulSetRevisions):
 * the newest when it holds the current template; else the newest older one that does, renumbered
 * max+1; else a new one, `<set>-<hash>`, numbered max+1.
 */
export function planUpdateRevision(owner: RevisionOwner, hash: string, revisions: readonly ControllerRevision[], extraLabels: Record<string, string> = {}): UpdateRevisionStep {
  const sorted = ownedRevisions(owner, revisions);
  const equal = sorted.filter((r) => revisionHolds(r, owner.spec.template));
  const next = nextRevisionNumber(sorted);
  if (equal.length > 0) {
    const last = equal[equal.length - 1];
    if (last === sorted[sorted.length - 1]) return { action: 'none', revision: last };
    return { action: 'bump', revision: { ...last, revision: next } };
  }
  return { action: 'create', revision: newControllerRevision(owner, hash, next, extraLabels) };
}

/**
 * The revisions to delete (Kubernetes' truncateHistory): of `owner`'s revisions that are not in
 * `live` (the names of its current and update revisions and of every revision a live pod is at),
 * all but the newest revisionHistoryLimit, oldest first.
 */
export function revisionsToPrune(owner: RevisionOwner, revisions: readonly ControllerRevision[], live: ReadonlySet<string>): ControllerRevision[] {
  const limit = owner.spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const old = ownedRevisions(owner, revisions).filter((r) => !live.has(r.metadata.name));
  return old.slice(0, Math.max(0, old.length - limit));
}
