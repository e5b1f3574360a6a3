/**
 * The subject API's operations, generic over the kind modules: apply, get, list, delete. Objects
 * live in the object store unless their kind has a source of its own (events). Validation errors
 * are replies (ValidationError), never crashes; only store faults throw.
 */
import type { Bus, ObjectStore } from '../../bus';
import {
  FUNCTION_LABEL, ForbiddenError, MkError, NotFoundError, ValidationError, validateManifest, matches, matchesFields, parseFieldSelector, parseSelector, isAlreadyExists, isConflict,
  dns1123LabelError, dns1123SubdomainError, keyFilter, objectKey, NamespaceKind,
  type ApplyRequest, type ApplyResult, type DeleteRequest, type DeleteResult, type GetRequest, type GetResult,
  type KindInfo, type KubeObject, type ListRequest, type ListResult, type Trigger, type ValidateMode,
} from '../../messages';
import { deleteObject, deletionOutcome } from '../deletion';
import type { KindModule } from '../kind-module';
import { moduleFor, moduleOf } from '../kinds';
import { admitCreate, admitUpdate, allocated, resolveNamespace } from './admission';

export { allocated };
import type { NamespaceCache } from './namespace-cache';
import type { RecentObjects } from './recent-objects';

/**
 * What the handlers work on. `recent`: the objects this api wrote last, so a write can try the
 * store's compare-and-set without reading first (recent-objects.ts); `namespaces`: which
 * namespaces are active (namespace-cache.ts). Without them every write reads.
 */
export interface ApiContext { store: ObjectStore; bus: Bus; recent?: RecentObjects; namespaces?: NamespaceCache }

/**
 * Names and namespaces from a request become KV key tokens: anything but a DNS-1123 name (a
 * NATS wildcard such as `*` or `>`, a dot-separated path) is refused before it reaches the store.
 */
export function checkTokens(req: { namespace?: unknown; name?: unknown }, withName: boolean): void {
  if (req.namespace !== undefined) {
    const bad = typeof req.namespace === 'string' ? dns1123LabelError(req.namespace) : 'must be a string';
    if (bad) throw new ValidationError(`invalid namespace "${String(req.namespace)}": ${bad}`);
  }
  if (withName) {
    const bad = typeof req.name === 'string' ? dns1123SubdomainError(req.name) : 'must be a string';
    if (bad) throw new ValidationError(`invalid name "${String(req.name)}": ${bad}`);
  }
}

const VALIDATE_MODES: readonly unknown[] = ['strict', 'warn'] satisfies ValidateMode[];

/**
 * Every request's common shape, checked before a handler reads it: a JSON object whose dryRun is
 * a boolean and whose validate is "strict" or "warn". A request from any NATS client is refused
 * with Invalid, naming the field, rather than failing inside a handler.
 */
export function checkRequest<T>(req: T): T {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new ValidationError('a request must be a JSON object');
  const r = req as { dryRun?: unknown; validate?: unknown };
  if (r.dryRun !== undefined && typeof r.dryRun !== 'boolean') throw new ValidationError(`dryRun must be true or false (got ${JSON.stringify(r.dryRun)})`);
  if (r.validate !== undefined && !VALIDATE_MODES.includes(r.validate)) {
    throw new ValidationError(`validate must be "strict" or "warn" (got ${JSON.stringify(r.validate)})`);
  }
  return req;
}

/** kubectl's NotFound message: `pods "x" not found`. */
export function notFound(kind: KindInfo, name: string): NotFoundError {
  return new NotFoundError(`${kind.plural} "${name}" not found`);
}

/**
 * Throws NotFoundError when the namespace does not exist; returns whether it is being deleted.
 * A namespace `cache` knows as active is not read.
 */
export async function requireNamespace(store: ObjectStore, ns: string, cache?: NamespaceCache): Promise<boolean> {
  if (cache?.isActive(ns)) return false;
  const got = await store.get<KubeObject>(objectKey(NamespaceKind.plural, undefined, ns));
  if (!got) throw new NotFoundError(`namespaces "${ns}" not found`);
  return !!got.object.metadata.deletionTimestamp;
}

/**
 * mk.api.apply: create, or update when it exists; reports created/configured/unchanged. It first
 * tries the store's compare-and-set on what this api last saw of the key (a create when it knows
 * none, an update at the revision it knows): when that write is accepted, the object was exactly
 * as seen, so the answer is the one a read would have given. Anything else (the key exists, it
 * changed, the guess says "unchanged" or is refused) reads the key and decides from what it holds.
 */
export async function apply({ store, recent, namespaces }: ApiContext, req: ApplyRequest): Promise<ApplyResult> {
  const { kind, object, warnings } = validateManifest(req.object, req.validate ?? 'strict');
  const module = moduleOf(kind);
  checkTokens({ namespace: req.namespace }, false);
  const namespace = resolveNamespace(kind, object, req.namespace);
  // A terminating namespace refuses new objects; those in it may still change (their finalizers go).
  const terminating = namespace ? await requireNamespace(store, namespace, namespaces) : false;
  const key = objectKey(kind.plural, namespace, object.metadata.name);
  const incoming = { ...object, metadata: { ...object.metadata, namespace } };
  // A kind that allocates (Services) reads first: its allocations are taken against what is stored.
  if (recent && !req.dryRun && !module.allocate) {
    const seen = recent.get(key);
    try {
      if (!seen && !terminating) {
        const created = admitCreate(module, object, namespace, new Date());
        const rev = await store.create(key, created);
        recent.remember(key, withRv(created, rev), rev);
        return { object: withRv(created, rev), result: 'created', warnings };
      }
      const next = seen && admitUpdate(module, seen.object, incoming);
      if (seen && next) {
        const rev = await store.update(key, next, seen.revision);
        recent.remember(key, withRv(next, rev), rev);
        return { object: withRv(next, rev), result: 'configured', warnings };
      }
    } catch (err) {
      // The guess was wrong (it exists, it changed, it went) or the kind refused the change to
      // what may be a stale copy: read and decide below. A bug is not a wrong guess.
      if (!(err instanceof MkError)) throw err;
      recent.forget(key);
    }
  }
  for (let attempt = 0; ; attempt++) {
    const existing = await store.get<KubeObject>(key);
    try {
      if (!existing) {
        if (terminating) throw new ValidationError(`namespace "${namespace}" is being deleted; nothing new can be created in it`);
        const created = await allocated(store, module, undefined, admitCreate(module, object, namespace, new Date()), req.dryRun, async (o) => {
          if (req.dryRun) return o;
          const rev = await store.create(key, o);
          recent?.remember(key, withRv(o, rev), rev);
          return withRv(o, rev);
        });
        return { object: created, result: 'created', warnings };
      }
      const next = admitUpdate(module, existing.object, incoming);
      if (!next) {
        recent?.remember(key, existing.object, existing.revision);
        return { object: existing.object, result: 'unchanged', warnings };
      }
      const updated = await allocated(store, module, existing.object, next, req.dryRun, async (o) => {
        if (req.dryRun) return o;
        const rev = await store.update(key, o, existing.revision);
        recent?.remember(key, withRv(o, rev), rev);
        return withRv(o, rev);
      });
      return { object: updated, result: 'configured', warnings };
    } catch (err) {
      // A concurrent writer won: re-read and decide again (bounded).
      const retry = isConflict(err) || isAlreadyExists(err);
      if (!retry || attempt >= 5) throw err;
    }
  }
}

/** `obj` with its resourceVersion set to the store revision `rev`. */
export function withRv(obj: KubeObject, rev: number): KubeObject {
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

/**
 * The test of a list or watch request's label and field selectors. Throws ValidationError for a
 * selector that is not a string or does not parse (naming the problem).
 */
export function selection(kind: KindInfo, req: { labelSelector?: unknown; fieldSelector?: unknown }): (o: KubeObject) => boolean {
  for (const f of ['labelSelector', 'fieldSelector'] as const) {
    if (req[f] !== undefined && typeof req[f] !== 'string') throw new ValidationError(`${f} must be a string such as "app=web"`);
  }
  const labels = req.labelSelector ? parseSelector(req.labelSelector as string) : [];
  const fields = req.fieldSelector ? parseFieldSelector(kind, req.fieldSelector as string) : [];
  return (o) => matches(labels, o.metadata.labels) && matchesFields(kind, fields, o);
}

/** mk.api.list: one namespace, or all when `namespace` is absent; optional label and field selectors. */
export async function list({ store, bus }: ApiContext, req: ListRequest): Promise<ListResult> {
  const module = moduleFor(req?.kind);
  const kind = module.info;
  checkTokens(req, false);
  if (module.source) return module.source(bus).list(req);
  const select = selection(kind, req);
  const { items, revision } = await store.list<KubeObject>(keyFilter(kind.plural, kind.namespaced ? req.namespace : undefined));
  const objects = items.map((i) => i.object).filter(select);
  objects.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  return { items: objects, resourceVersion: String(revision) };
}

/**
 * mk.api.gateway.list: what a function gateway may read, and nothing else: Functions, pods
 * selected by the label `mk.io/function` (exactly that selector: instance pods only), and the
 * HTTP triggers it routes, each cut to its name, namespace, uid, creation time and HTTP source
 * (never another source's subject or filters, nor a target or its input).
 */
export async function gatewayList(ctx: ApiContext, req: ListRequest): Promise<ListResult> {
  const plural = req?.kind;
  const ok = plural === 'functions' || plural === 'triggers' ? !req.labelSelector && !req.fieldSelector
    : plural === 'pods' && req.labelSelector === FUNCTION_LABEL && !req.fieldSelector;
  if (!ok) {
    throw new ForbiddenError(`a gateway may list only functions, HTTP triggers, and pods by the label ${FUNCTION_LABEL}: not ${String(plural)}${req?.labelSelector ? ` -l ${req.labelSelector}` : ''}`);
  }
  const out = await list(ctx, req);
  if (plural !== 'triggers') return out;
  const routes = (out.items as unknown as Trigger[]).filter((t) => t.spec?.source?.http).map((t) => ({
    apiVersion: t.apiVersion, kind: t.kind,
    metadata: { name: t.metadata.name, namespace: t.metadata.namespace, uid: t.metadata.uid, creationTimestamp: t.metadata.creationTimestamp },
    spec: { source: { http: t.spec.source.http } },
  }));
  return { ...out, items: routes as unknown as KubeObject[] };
}

/**
 * mk.api.delete, by the kind's deletion policy (actors/deletion.ts): a pod bound to a node is
 * marked (deletionTimestamp + grace period) and its node agent finishes the deletion; a namespace
 * is marked and emptied by its controller; an object with finalizers, or deleted with the
 * Foreground or Orphan propagation policy, is marked and kept until its finalizers are emptied;
 * anything else goes at once (its dependents after it, by the garbage collector).
 */
export async function remove({ store, recent, namespaces }: ApiContext, req: DeleteRequest): Promise<DeleteResult> {
  const module = moduleFor(req?.kind);
  const kind = module.info;
  checkTokens(req, true);
  if (kind.readOnly) throw new ValidationError(`${kind.plural} are read-only: ${kind.readOnlyReason ?? 'they expire by themselves (after an hour)'}`);
  if (req.gracePeriodSeconds !== undefined && (!Number.isInteger(req.gracePeriodSeconds) || req.gracePeriodSeconds < 0)) {
    throw new ValidationError(`gracePeriodSeconds must be a non-negative integer (got ${req.gracePeriodSeconds})`);
  }
  const key = objectKey(kind.plural, kind.namespaced ? req.namespace ?? 'default' : undefined, req.name);
  if (req.dryRun) return dryRunDelete(store, module, key, req);
  recent?.forget(key);
  // Creations in a namespace being deleted must read it from the store until its mark is seen.
  const namespace = kind === NamespaceKind ? namespaces : undefined;
  namespace?.forget(req.name);
  const done = await deleteObject(store, module, key, { gracePeriodSeconds: req.gracePeriodSeconds, propagationPolicy: req.propagationPolicy });
  if (done) namespace?.trustFrom(req.name, Number(done.object.metadata.resourceVersion));
  if (!done) throw notFound(kind, req.name);
  return done;
}

/** A server dry run of a delete: the policy decides as it would, and nothing is written. */
async function dryRunDelete(store: ObjectStore, module: KindModule, key: string, req: DeleteRequest): Promise<DeleteResult> {
  const got = await store.get<KubeObject>(key);
  if (!got) throw notFound(module.info, req.name);
  const opts = { gracePeriodSeconds: req.gracePeriodSeconds, propagationPolicy: req.propagationPolicy };
  return { object: got.object, result: deletionOutcome(module, got.object, opts) };
}
