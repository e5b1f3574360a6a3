/**
 * The subject API's writes besides apply, generic over the kind modules: create, update (a full
 * replace), patch (RFC 7386 merge, RFC 6902 JSON, strategic merge) and the status path. Every
 * write runs the same validation and admission as apply, honours an optional resourceVersion
 * precondition (Conflict, worded as kubectl words it, when the object changed since) and has a
 * server dry run that answers with what would be stored and stores nothing.
 */
import type { ObjectStore } from '../../bus';
import {
  AlreadyExistsError, ConflictError, ValidationError,
  applyPatch, isAlreadyExists, isConflict, isNotFound, jsonEqual, objectKey, validateManifest,
  type CreateRequest, type CreateResult, type KindInfo, type KubeObject, type PatchRequest, type PatchResult, type PatchType,
  type UpdateRequest, type UpdateResult, type UpdateStatusRequest,
} from '../../messages';
import { moduleFor, moduleOf } from '../kinds';
import { admitCreate, admitUpdate, resolveNamespace } from './admission';
import { allocated, checkTokens, notFound, requireNamespace, withRv, type ApiContext } from './handlers';
import type { RecentObjects } from './recent-objects';

const PATCH_TYPES: readonly unknown[] = ['merge', 'json', 'strategic'] satisfies PatchType[];

/** How often a write without a precondition re-reads and tries again after losing a race. */
const RETRIES = 5;

/** kubectl's wording of a stale write (an optimistic-concurrency failure). */
export function conflict(kind: KindInfo, name: string): ConflictError {
  return new ConflictError(
    `Operation cannot be fulfilled on ${kind.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

function alreadyExists(kind: KindInfo, name: string): AlreadyExistsError {
  return new AlreadyExistsError(`${kind.plural} "${name}" already exists`);
}

/** mk.api.create: AlreadyExists when present; with dryRun, admitted and returned, not stored. */
export async function create({ store, recent, namespaces }: ApiContext, req: CreateRequest): Promise<CreateResult> {
  const { kind, object, warnings } = validateManifest(req?.object, req.validate ?? 'strict');
  const module = moduleOf(kind);
  checkTokens({ namespace: req.namespace }, false);
  const namespace = resolveNamespace(kind, object, req.namespace);
  if (namespace && await requireNamespace(store, namespace, namespaces)) {
    throw new ValidationError(`namespace "${namespace}" is being deleted; nothing new can be created in it`);
  }
  const name = object.metadata.name;
  const key = objectKey(kind.plural, namespace, name);
  const admitted = admitCreate(module, object, namespace, new Date());
  if (req.dryRun) {
    if (await store.get(key)) throw alreadyExists(kind, name);
    return { object: await allocated(store, module, undefined, admitted, true, async (o) => o), warnings };
  }
  try {
    const created = await allocated(store, module, undefined, admitted, false, async (o) => {
      const rev = await store.create(key, o);
      recent?.remember(key, withRv(o, rev), rev);
      return withRv(o, rev);
    });
    return { object: created, warnings };
  } catch (err) {
    if (isAlreadyExists(err)) throw alreadyExists(kind, name);
    throw err;
  }
}

/**
 * mk.api.update: replaces spec, labels and annotations with the object's (status and the
 * server's metadata are kept; generation goes up when the spec changes). Its
 * metadata.resourceVersion and metadata.uid, when given, must be the live ones (Conflict otherwise).
 */
export async function update({ store, recent }: ApiContext, req: UpdateRequest): Promise<UpdateResult> {
  const { kind, object, warnings } = validateManifest(req?.object, req.validate ?? 'strict');
  const module = moduleOf(kind);
  checkTokens({ namespace: req.namespace }, false);
  const namespace = resolveNamespace(kind, object, req.namespace);
  const name = object.metadata.name;
  const metadata = { ...object.metadata };
  if (namespace) metadata.namespace = namespace; else delete metadata.namespace;
  const incoming = { ...object, metadata };
  const key = objectKey(kind.plural, namespace, name);
  const out = await write(store, recent, kind, key, name, object.metadata.resourceVersion, req.dryRun, (existing) => {
    // A uid names one incarnation: the object was deleted and made again since it was read.
    const uid = object.metadata.uid;
    if (uid && uid !== existing.metadata.uid) {
      throw new ConflictError(`Operation cannot be fulfilled on ${kind.plural} "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.metadata.uid ?? ''}`);
    }
    return admitUpdate(module, existing, incoming, { replace: true });
  });
  return { object: out.object, result: out.changed ? 'replaced' : 'unchanged', warnings };
}

/**
 * mk.api.patch: applies the patch to the live object, validates the result as a manifest (an
 * unknown field is Invalid, naming it) and admits it as an update, or, for the status
 * subresource, takes its status only.
 */
export async function patch({ store, recent }: ApiContext, req: PatchRequest): Promise<PatchResult> {
  const module = moduleFor(req?.kind);
  const kind = module.info;
  checkTokens(req, true);
  if (kind.readOnly) throw new ValidationError(`${kind.plural} are read-only: they cannot be patched`);
  if (!PATCH_TYPES.includes(req.type)) {
    throw new ValidationError(`unknown patch type ${JSON.stringify(req.type)}: use "merge" (RFC 7386), "json" (RFC 6902) or "strategic"`);
  }
  if (req.type !== 'json' && (typeof req.patch !== 'object' || req.patch === null || Array.isArray(req.patch))) {
    throw new ValidationError('a merge patch must be a JSON object, such as {"metadata": {"labels": {"app": "web"}}}');
  }
  if (req.subresource !== undefined && req.subresource !== 'status') throw new ValidationError(`unknown subresource ${JSON.stringify(req.subresource)}: only "status" can be patched apart`);
  if (req.resourceVersion !== undefined && typeof req.resourceVersion !== 'string') throw new ValidationError('resourceVersion must be a string');
  const namespace = kind.namespaced ? req.namespace ?? 'default' : undefined;
  const key = objectKey(kind.plural, namespace, req.name);
  // As in Kubernetes, a merge patch that names a resourceVersion makes it a precondition.
  const named = req.type !== 'json' ? (req.patch as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion : undefined;
  const precondition = req.resourceVersion ?? (typeof named === 'string' ? named : undefined);
  const out = await write(store, recent, kind, key, req.name, precondition, req.dryRun, (existing) => {
    const patched = applyPatch(req.type, existing, req.patch);
    const { object } = validateManifest(patched, 'strict');
    checkIdentity(kind, existing, object);
    if (req.subresource === 'status') return withStatus(existing, object.status);
    return admitUpdate(module, existing, object, { replace: true });
  });
  return { object: out.object, result: out.changed ? 'patched' : 'unchanged' };
}

/**
 * mk.api.update-status: writes the object's status onto the live object, like Kubernetes' /status
 * subresource: spec, metadata and generation stay as they are.
 */
export async function updateStatus({ store, recent }: ApiContext, req: UpdateStatusRequest): Promise<UpdateResult> {
  const { kind, object, warnings } = validateManifest(req?.object, 'strict');
  checkTokens({ namespace: req.namespace }, false);
  const namespace = resolveNamespace(kind, object, req.namespace);
  const name = object.metadata.name;
  const key = objectKey(kind.plural, namespace, name);
  const out = await write(store, recent, kind, key, name, object.metadata.resourceVersion, req.dryRun, (existing) => withStatus(existing, object.status));
  return { object: out.object, result: out.changed ? 'replaced' : 'unchanged', warnings };
}

/** A patch may not turn an object into another one. */
function checkIdentity(kind: KindInfo, existing: KubeObject, next: KubeObject): void {
  for (const [field, was, now] of [
    ['apiVersion', existing.apiVersion, next.apiVersion],
    ['kind', existing.kind, next.kind],
    ['metadata.name', existing.metadata.name, next.metadata.name],
    ['metadata.namespace', existing.metadata.namespace, next.metadata.namespace],
    ['metadata.uid', existing.metadata.uid, next.metadata.uid],
  ] as const) {
    if (was !== now) {
      throw new ValidationError(`${kind.singular} "${existing.metadata.name}" is invalid: ${field}: cannot change (from ${JSON.stringify(was)} to ${JSON.stringify(now)})`, [`${field}: field is immutable`]);
    }
  }
}

function withStatus(existing: KubeObject, status: unknown): KubeObject | null {
  if (status !== undefined && (typeof status !== 'object' || status === null || Array.isArray(status))) {
    throw new ValidationError(`${existing.kind} "${existing.metadata.name}" is invalid: status must be an object`, ['status: must be an object']);
  }
  if (jsonEqual(existing.status, status)) return null;
  const out = { ...existing };
  if (status === undefined) delete out.status; else out.status = status;
  return out;
}

/**
 * Read, change, write at the revision read. `change` returns null for "nothing to do". With a
 * precondition, a stale revision is a Conflict at once; without, a lost race is retried.
 */
async function write(
  store: ObjectStore, recent: RecentObjects | undefined, kind: KindInfo, key: string, name: string, precondition: string | undefined, dryRun: boolean | undefined,
  change: (existing: KubeObject) => KubeObject | null,
): Promise<{ object: KubeObject; changed: boolean }> {
  if (precondition !== undefined && typeof precondition !== 'string') throw new ValidationError('metadata.resourceVersion must be a string');
  // An empty resourceVersion is none, as in Kubernetes (an edited `mk get -o yaml` may carry one).
  if (precondition === '') precondition = undefined;
  for (let attempt = 0; ; attempt++) {
    const existing = await store.get<KubeObject>(key);
    if (!existing) throw notFound(kind, name);
    if (precondition !== undefined && precondition !== String(existing.revision)) throw conflict(kind, name);
    const next = change(existing.object);
    if (!next) return { object: existing.object, changed: false };
    try {
      const module = moduleOf(kind);
      const object = await allocated(store, module, existing.object, next, dryRun, async (o) => {
        if (dryRun) return withRv(o, existing.revision);
        const rev = await store.update(key, o, existing.revision);
        recent?.remember(key, withRv(o, rev), rev);
        return withRv(o, rev);
      });
      return { object, changed: true };
    } catch (err) {
      if (isNotFound(err)) throw notFound(kind, name);
      if (!isConflict(err)) throw err;
      if (precondition !== undefined || attempt >= RETRIES) throw conflict(kind, name);
    }
  }
}
