/**
 * The subject API's operations, generic over the kind modules: apply, get, list, delete. Objects
 * live in the object store unless their kind has a source of its own (events). Validation errors
 * are replies (ValidationError), never crashes; only store faults throw.
 */
import type { Bus, ObjectStore } from '../../bus';
import {
  NotFoundError, ValidationError, validateManifest, matches, parseSelector, isAlreadyExists, isConflict,
  dns1123LabelError, dns1123SubdomainError, keyFilter, objectKey, NamespaceKind,
  type ApplyRequest, type ApplyResult, type DeleteRequest, type DeleteResult, type GetRequest, type GetResult,
  type KindInfo, type KubeObject, type ListRequest, type ListResult,
} from '../../messages';
import { deleteObject } from '../deletion';
import { moduleFor, moduleOf } from '../kinds';
import { admitCreate, admitUpdate, resolveNamespace } from './admission';

/** What the handlers work on. */
export interface ApiContext { store: ObjectStore; bus: Bus }

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
  const got = await store.get<KubeObject>(objectKey(NamespaceKind.plural, undefined, ns));
  if (!got) throw new NotFoundError(`namespaces "${ns}" not found`);
  if (got.object.metadata.deletionTimestamp) throw new ValidationError(`namespace "${ns}" is being deleted; nothing new can be created in it`);
}

/** mk.api.apply: create, or update when it exists; reports created/configured/unchanged. */
export async function apply({ store }: ApiContext, req: ApplyRequest): Promise<ApplyResult> {
  const { kind, object, warnings } = validateManifest(req.object, req.validate ?? 'strict');
  const module = moduleOf(kind);
  const namespace = resolveNamespace(kind, object, req.namespace);
  if (namespace) await requireNamespace(store, namespace);
  const key = objectKey(kind.plural, namespace, object.metadata.name);
  for (let attempt = 0; ; attempt++) {
    const existing = await store.get<KubeObject>(key);
    try {
      if (!existing) {
        const created = admitCreate(module, object, namespace, new Date());
        if (req.dryRun) return { object: created, result: 'created', warnings };
        const rev = await store.create(key, created);
        return { object: withRv(created, rev), result: 'created', warnings };
      }
      const next = admitUpdate(module, existing.object, { ...object, metadata: { ...object.metadata, namespace } });
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
export async function get({ store, bus }: ApiContext, req: GetRequest): Promise<GetResult> {
  const module = moduleFor(req?.kind);
  const kind = module.info;
  checkTokens(req, true);
  if (module.source) return module.source(bus).get(req);
  const got = await store.get<KubeObject>(objectKey(kind.plural, kind.namespaced ? req.namespace ?? 'default' : undefined, req.name));
  if (!got) throw notFound(kind, req.name);
  return { object: got.object };
}

/** mk.api.list: one namespace, or all when `namespace` is absent; optional label selector. */
export async function list({ store, bus }: ApiContext, req: ListRequest): Promise<ListResult> {
  const module = moduleFor(req?.kind);
  const kind = module.info;
  checkTokens(req, false);
  if (module.source) return module.source(bus).list(req);
  if (req.fieldSelector) throw new ValidationError(`field selectors are supported for events only, not for ${kind.plural}`);
  const reqs = req.labelSelector ? parseSelector(req.labelSelector) : [];
  const { items, revision } = await store.list<KubeObject>(keyFilter(kind.plural, kind.namespaced ? req.namespace : undefined));
  const objects = items.map((i) => i.object).filter((o) => matches(reqs, o.metadata.labels));
  objects.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  return { items: objects, resourceVersion: String(revision) };
}

/**
 * mk.api.delete, by the kind's deletion policy: a pod bound to a node is marked (deletionTimestamp
 * + grace period) and its node agent finishes the deletion; a namespace is marked and emptied by
 * its controller; anything else goes at once.
 */
export async function remove({ store }: ApiContext, req: DeleteRequest): Promise<DeleteResult> {
  const module = moduleFor(req?.kind);
  const kind = module.info;
  checkTokens(req, true);
  if (kind.readOnly) throw new ValidationError(`${kind.plural} are read-only: ${kind.readOnlyReason ?? 'they expire by themselves (after an hour)'}`);
  if (req.gracePeriodSeconds !== undefined && (!Number.isInteger(req.gracePeriodSeconds) || req.gracePeriodSeconds < 0)) {
    throw new ValidationError(`gracePeriodSeconds must be a non-negative integer (got ${req.gracePeriodSeconds})`);
  }
  const key = objectKey(kind.plural, kind.namespaced ? req.namespace ?? 'default' : undefined, req.name);
  const done = await deleteObject(store, module, key, req.gracePeriodSeconds);
  if (!done) throw notFound(kind, req.name);
  return done;
}
