/**
 * The invariants of the cascade workload (owners with dependents, namespaces, finalizers) and the
 * cluster-wide ownership and binding invariants, as pure functions of what the round did and
 * what it saw, so unit tests can feed them made-up worlds:
 *
 * - an owner deleted in the background or the foreground takes its dependents with it; an owner
 *   deleted with Orphan leaves them, with their reference to it removed;
 * - a foreground owner goes last: no poll saw it gone while a dependent that blocks it remained;
 * - an owner never deleted keeps its dependents, still pointing at it;
 * - no object is left whose owner is gone (by uid);
 * - a deleted namespace leaves no object of any kind in it, and goes itself;
 * - an object with a finalizer stays (Terminating) until the finalizer is removed, then goes;
 * - no pod is bound to one node and later to another, and none has two ready sandboxes at once.
 */
import { kindOf, type KubeObject, type Pod } from '../../messages';
import { LABEL_POD_UID } from '../../node-agent/pods';
import type { Violation, WorldSnapshot } from './kind';

/** How an owner is deleted: a propagation policy, or not at all. */
export type CascadePolicy = 'Background' | 'Foreground' | 'Orphan' | 'kept';

/** One object the round made, by name and the uid it had right after its apply. */
export interface MadeObject { name: string; uid?: string }

/** An owner pod and its dependent pods, and what the round did to them. */
export interface OwnerGroup {
  namespace: string;
  owner: MadeObject;
  dependents: MadeObject[];
  policy: CascadePolicy;
  /** Set once the owner's deletion was sent. */
  deleteRequestedAtMs?: number;
  /**
   * Foreground only: polls made after the deletion, until the owner was gone: whether the owner
   * was there, and the uids of the dependents that were.
   */
  observed?: { atMs: number; owner: boolean; dependents: string[] }[];
}

/** A namespace made with pods in it, and whether the round deleted it. */
export interface NamespaceRecord {
  name: string;
  pods: MadeObject[];
  created?: boolean;
  deleteRequestedAtMs?: number;
}

/** A pod made with a finalizer (in its manifest or patched in), deleted, and freed later. */
export interface FinalizerRecord {
  name: string;
  namespace: string;
  uid?: string;
  finalizer: string;
  deleteRequestedAtMs?: number;
  /** Set once the finalizer was removed (the pod may go from then on). */
  releasedAtMs?: number;
}

const objectsOf = (world: WorldSnapshot, plural: string): KubeObject[] | undefined => world.objects?.get(plural);
const byUid = (objs: readonly KubeObject[] | undefined, uid: string | undefined): KubeObject | undefined =>
  (uid === undefined ? undefined : objs?.find((o) => o.metadata.uid === uid));

/** Judges one foreground deletion's polls: the owner must not be gone while a dependent remained. */
export function foregroundOrder(g: OwnerGroup): Violation[] {
  const blocking = new Set(g.dependents.map((d) => d.uid).filter((u): u is string => u !== undefined));
  const bad = (g.observed ?? []).find((s) => !s.owner && s.dependents.some((u) => blocking.has(u)));
  if (!bad) return [];
  return [{
    invariant: 'foreground-order', subject: `pod ${g.namespace}/${g.owner.name}`, permanent: true,
    detail: `deleted in the foreground, yet gone ${(bad.atMs / 1000).toFixed(1)} s in while ${bad.dependents.length} dependent(s) `
      + 'that block it were still in the store',
  }];
}

/** The owner groups' invariants; see the module comment. */
export function checkOwnerGroups(groups: readonly OwnerGroup[], world: WorldSnapshot): Violation[] {
  const pods = objectsOf(world, 'pods');
  const out: Violation[] = [];
  for (const g of groups) {
    if (g.owner.uid === undefined) continue;
    const subject = `pod ${g.namespace}/${g.owner.name}`;
    out.push(...foregroundOrder(g));
    if (!pods) continue;
    const owner = byUid(pods, g.owner.uid);
    const deps = g.dependents.filter((d) => d.uid !== undefined).map((d) => ({ d, live: byUid(pods, d.uid) }));
    if (g.policy === 'kept' || g.deleteRequestedAtMs === undefined) {
      if (!owner) out.push({ invariant: 'lost', subject, permanent: true, detail: `owner (uid ${g.owner.uid}) never deleted, but not in the store` });
      for (const { d, live } of deps) {
        if (!live) {
          out.push({ invariant: 'lost', subject: `pod ${g.namespace}/${d.name}`, permanent: true, detail: `dependent of ${g.owner.name}, which was never deleted, but not in the store` });
        } else if (!(live.metadata.ownerReferences ?? []).some((r) => r.uid === g.owner.uid)) {
          out.push({ invariant: 'owner-ref', subject: `pod ${g.namespace}/${d.name}`, permanent: true, detail: `lost its reference to ${g.owner.name}, which was never deleted` });
        }
      }
      continue;
    }
    if (owner) {
      out.push({
        invariant: 'gone', subject, permanent: false,
        detail: `deleted with ${g.policy}, but still in the store (finalizers ${JSON.stringify(owner.metadata.finalizers ?? [])})`,
      });
    }
    for (const { d, live } of deps) {
      const dsub = `pod ${g.namespace}/${d.name}`;
      if (g.policy === 'Orphan') {
        if (!live) {
          out.push({ invariant: 'orphan', subject: dsub, permanent: true, detail: `its owner ${g.owner.name} was deleted with Orphan, yet it is gone` });
        } else if ((live.metadata.ownerReferences ?? []).some((r) => r.uid === g.owner.uid)) {
          out.push({ invariant: 'orphan', subject: dsub, permanent: false, detail: `its owner ${g.owner.name} was deleted with Orphan, yet it still refers to it` });
        }
      } else if (live) {
        out.push({ invariant: 'cascade', subject: dsub, permanent: false, detail: `its owner ${g.owner.name} was deleted with ${g.policy}, yet it is still in the store` });
      }
    }
  }
  return out;
}

/**
 * No object of any listed plural refers to an owner (of a listed plural) that is gone by uid.
 * Owners of kinds the snapshot did not list are not judged.
 */
export function checkDanglingOwners(world: WorldSnapshot): Violation[] {
  if (!world.objects) return [];
  const uids = new Map<string, Set<string>>();
  for (const [plural, objs] of world.objects) uids.set(plural, new Set(objs.map((o) => o.metadata.uid ?? '')));
  const out: Violation[] = [];
  for (const [plural, objs] of world.objects) {
    for (const o of objs) {
      for (const r of o.metadata.ownerReferences ?? []) {
        const kind = kindOf(r.apiVersion, r.kind);
        const there = kind ? uids.get(kind.plural) : undefined;
        if (!there || there.has(r.uid)) continue;
        out.push({
          invariant: 'dangling', subject: `${plural} ${o.metadata.namespace ?? ''}/${o.metadata.name}`.replace(' /', ' '), permanent: false,
          detail: `refers to its owner ${r.kind} ${r.name} (uid ${r.uid}), which is gone`,
        });
      }
    }
  }
  return out;
}

/** A deleted namespace is gone, and so is every object of every listed plural in it. */
export function checkNamespaces(records: readonly NamespaceRecord[], world: WorldSnapshot): Violation[] {
  if (!world.objects) return [];
  const out: Violation[] = [];
  const namespaces = world.objects.get('namespaces') ?? [];
  for (const ns of records) {
    if (!ns.created) continue;
    const subject = `namespace ${ns.name}`;
    const live = namespaces.find((n) => n.metadata.name === ns.name);
    if (ns.deleteRequestedAtMs === undefined) {
      if (!live) out.push({ invariant: 'lost', subject, permanent: true, detail: 'created and never deleted, but not in the store' });
      continue;
    }
    if (live) out.push({ invariant: 'namespace', subject, permanent: false, detail: `deleted, but still in the store (phase ${(live.status as { phase?: string } | undefined)?.phase ?? 'none'})` });
    for (const [plural, objs] of world.objects) {
      for (const o of objs.filter((x) => x.metadata.namespace === ns.name)) {
        out.push({ invariant: 'namespace', subject, permanent: false, detail: `deleted, but ${plural} ${o.metadata.name} is still in it` });
      }
    }
  }
  return out;
}

/** After its release, a pod held by a finalizer is gone. (Its hold is judged when it is released: holdViolation.) */
export function checkFinalizerPods(records: readonly FinalizerRecord[], world: WorldSnapshot): Violation[] {
  const pods = objectsOf(world, 'pods');
  if (!pods) return [];
  const out: Violation[] = [];
  for (const r of records) {
    if (r.uid === undefined) continue;
    const live = byUid(pods, r.uid);
    const subject = `pod ${r.namespace}/${r.name}`;
    if (r.deleteRequestedAtMs === undefined) {
      if (!live) out.push({ invariant: 'lost', subject, permanent: true, detail: 'never deleted, but not in the store' });
    } else if (r.releasedAtMs !== undefined && live) {
      out.push({ invariant: 'finalizer', subject, permanent: false, detail: `its finalizer ${r.finalizer} was removed, yet it is still in the store` });
    }
  }
  return out;
}

/**
 * Judges a finalizer pod just before its finalizer is removed: it must still be in the store,
 * under its uid, marked for deletion and holding the finalizer. Undefined when it is.
 */
export function holdViolation(r: FinalizerRecord, live: KubeObject | undefined): Violation | undefined {
  const subject = `pod ${r.namespace}/${r.name}`;
  const problem = !live || live.metadata.uid !== r.uid ? 'it is gone from the store'
    : !live.metadata.deletionTimestamp ? 'it is not marked for deletion'
      : !(live.metadata.finalizers ?? []).includes(r.finalizer) ? `its finalizers are ${JSON.stringify(live.metadata.finalizers ?? [])}` : undefined;
  if (!problem) return undefined;
  return { invariant: 'finalizer', subject, permanent: true, detail: `deleted while holding the finalizer ${r.finalizer}, and before its removal ${problem}` };
}

/**
 * No pod is bound to two nodes, one after the other (`nodeOf` remembers each uid's node across
 * polls and is updated), and no pod uid has two ready sandboxes on the node at once.
 */
export function checkBinding(nodeOf: Map<string, string>, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  for (const p of (objectsOf(world, 'pods') ?? []) as Pod[]) {
    const uid = p.metadata.uid;
    const node = p.spec.nodeName;
    if (!uid || !node) continue;
    const before = nodeOf.get(uid);
    if (before === undefined) nodeOf.set(uid, node);
    else if (before !== node) {
      out.push({ invariant: 'bound-twice', subject: `pod ${p.metadata.namespace}/${p.metadata.name}`, permanent: true, detail: `bound to ${before}, later to ${node} (uid ${uid})` });
    }
  }
  const ready = new Map<string, string[]>();
  for (const s of world.cri?.sandboxes ?? []) {
    if (s.state !== 'SANDBOX_READY') continue;
    const uid = s.labels[LABEL_POD_UID];
    ready.set(uid, [...(ready.get(uid) ?? []), s.id]);
  }
  for (const [uid, ids] of ready) {
    if (ids.length < 2) continue;
    out.push({ invariant: 'bound-twice', subject: `pod uid ${uid}`, permanent: false, detail: `${ids.length} ready sandboxes at once: ${ids.map((i) => i.slice(0, 12)).join(', ')}` });
  }
  return out;
}
