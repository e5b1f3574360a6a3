/**
 * The subject API's operations on the object store: apply, get, list, delete. Validation errors
 * are replies (ValidationError), never crashes; only store faults throw.
 */
import type { ObjectStore } from '../../bus';
import {
  KINDS, NotFoundError, ValidationError, validateManifest, matches, parseSelector, isAlreadyExists, isConflict,
  dns1123LabelError, dns1123SubdomainError,
  keyFilter, objectKey, resolveKind, BUILTIN_NAMESPACES,
  type ApplyRequest, type ApplyResult, type DeleteRequest, type DeleteResult, type GetRequest, type GetResult,
  type KindInfo, type KubeObject, type ListRequest, type ListResult, type Pod,
} from '../../messages';
import { markForDeletion } from '../deletion';
import { admitCreate, admitUpdate, resolveNamespace } from './admission';


function kindFor(name: unknown): KindInfo {
  if (typeof name !== 'string') throw new ValidationError('kind must be a string such as "pods"');
  const k = resolveKind(name);
  if (!k) throw new ValidationError(`the server doesn't have a resource type "${name}" (mk serves: ${KINDS.map((x) => x.plural).join(', ')})`);
  return k;
}

/**
 * Names and namespaces from a request become KV key tokens: anything but a DNS-1123 name (a
 * NATS wildcard such as `*` or `>`, a dot-separated path) is refused before it reaches the store.
 */
function checkTokens(req: { namespace?: unknown; name?: unknown }, withName: boolean): void {
  if (req.namespace !== undefined) {
    const bad = typeof req.namespace === 'string' ? dns1123LabelError(req.namespace) : 'must be a string';
    if (bad) throw new ValidationError(`invalid namespace "${String(req.namespace)}": ${bad}`);
  }
  if (withName) {
    const bad = typeof req.name === 'string' ? dns1123SubdomainError(req.name) : 'must be a string';
    if (bad) throw new ValidationError(`invalid name "${String(req.name)}": ${bad}`);
  }
}

function notFound(kind: KindInfo, name: string): NotFoundError {
  return new NotFoundError(`${kind.plural} "${name}" not found`);
}

async function requireNamespace(store: ObjectStore, ns: string): Promise<void> {
  const got = await store.get<KubeObject>(objectKey('namespaces', undefined, ns));
  if (!got) throw new NotFoundError(`namespaces "${ns}" not found`);
  if (got.object.metadata.deletionTimestamp) throw new ValidationError(`namespace "${ns}" is being deleted; nothing new can be created in it`);
}

/** mk.api.apply: create, or update when it exists; reports created/configured/unchanged. */
export async function apply(store: ObjectStore, req: ApplyRequest): Promise<ApplyResult> {
  const { kind, object, warnings } = validateManifest(req.object, req.validate ?? 'strict');
  const namespace = resolveNamespace(kind, object, req.namespace);
  if (namespace) await requireNamespace(store, namespace);
  const key = objectKey(kind.plural, namespace, object.metadata.name);
  for (let attempt = 0; ; attempt++) {
    const existing = await store.get<KubeObject>(key);
    try {
      if (!existing) {
        const created = admitCreate(kind, object, namespace, new Date());
        if (req.dryRun) return { object: created, result: 'created', warnings };
        const rev = await store.create(key, created);
        return { object: withRv(created, rev), result: 'created', warnings };
      }
      const next = admitUpdate(kind, existing.object, { ...object, metadata: { ...object.metadata, namespace } });
      if (!next) return { object: existing.object, result: 'unchanged', warnings };
      if (req.dryRun) return { object: next, result: 'configured', warnings };
      const rev = await store.update(key, next, existing.revision);
      return { object: withRv(next, rev), result: 'configured', warnings };
    } catch (err) {
      // A concurrent writer won: re-read and decide again (bounded).
      const retry = isConflict(err) || isAlreadyExists(err);
      if (!retry || attempt >= 5) throw err;
    }
  }
}

function withRv(obj: KubeObject, rev: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rev) } };
}

/** mk.api.get */
export async function get(store: ObjectStore, req: GetRequest): Promise<GetResult> {
  const kind = kindFor(req.kind);
  checkTokens(req, true);
  const got = await store.get<KubeObject>(objectKey(kind.plural, kind.namespaced ? req.namespace ?? 'default' : undefined, req.name));
  if (!got) throw notFound(kind, req.name);
  return { object: got.object };
}

/** mk.api.list: one namespace, or all when `namespace` is absent; optional label selector. */
export async function list(store: ObjectStore, req: ListRequest): Promise<ListResult> {
  const kind = kindFor(req.kind);
  checkTokens(req, false);
  if (req.fieldSelector) throw new ValidationError(`field selectors are supported for events only, not for ${kind.plural}`);
  const reqs = req.labelSelector ? parseSelector(req.labelSelector) : [];
  const { items, revision } = await store.list<KubeObject>(keyFilter(kind.plural, kind.namespaced ? req.namespace : undefined));
  const objects = items.map((i) => i.object).filter((o) => matches(reqs, o.metadata.labels));
  objects.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  return { items: objects, resourceVersion: String(revision) };
}

/**
 * mk.api.delete. A pod bound to a node is marked (deletionTimestamp + grace period) and the node
 * agent finishes the deletion after stopping its containers; anything else goes at once. A
 * namespace is marked and emptied by its controller.
 */
export async function remove(store: ObjectStore, req: DeleteRequest): Promise<DeleteResult> {
  const kind = kindFor(req.kind);
  checkTokens(req, true);
  if (kind.readOnly) throw new ValidationError(`${kind.plural} are read-only: they expire by themselves (after an hour)`);
  const ns = kind.namespaced ? req.namespace ?? 'default' : undefined;
  const key = objectKey(kind.plural, ns, req.name);
  if (kind.kind === 'Namespace' && (BUILTIN_NAMESPACES as readonly string[]).includes(req.name)) {
    throw new ValidationError(`namespace "${req.name}" is built in and cannot be deleted`);
  }
  if (req.gracePeriodSeconds !== undefined && (!Number.isInteger(req.gracePeriodSeconds) || req.gracePeriodSeconds < 0)) {
    throw new ValidationError(`gracePeriodSeconds must be a non-negative integer (got ${req.gracePeriodSeconds})`);
  }
  for (let attempt = 0; ; attempt++) {
    const cur = await store.get<KubeObject>(key);
    if (!cur) throw notFound(kind, req.name);
    // A pod on a node stops gracefully; grace 0 is a forced deletion (the agent tears down what it has).
    const graceful = (kind.kind === 'Pod' && (cur.object as Pod).spec.nodeName && req.gracePeriodSeconds !== 0) || kind.kind === 'Namespace';
    if (!graceful) {
      try {
        await store.delete(key, cur.revision);
        return { object: cur.object, result: 'deleted' };
      } catch (err) {
        // Bound or changed between the read and the delete: decide again (bounded).
        if (!isConflict(err) || attempt >= 5) throw err;
        continue;
      }
    }
    const marked = await markForDeletion(store, key, (o) =>
      kind.kind === 'Pod' ? req.gracePeriodSeconds ?? (o as Pod).spec.terminationGracePeriodSeconds ?? 30 : 0);
    if (kind.kind === 'Namespace' && marked && (marked.object.status as { phase?: string } | undefined)?.phase !== 'Terminating') {
      await store.mutate<KubeObject>(key, (o) => ({ ...o, status: { ...(o.status as object), phase: 'Terminating' } }));
    }
    return { object: marked?.object ?? cur.object, result: 'terminating' };
  }
}
