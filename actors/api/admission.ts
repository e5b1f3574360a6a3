/**
 * Admission: what the api does to an object between validation and the store, generic over the
 * kind modules. Pure functions: server-set metadata on create, the kind's defaults and initial
 * status, the kind's update rules, and the "unchanged" test that lets `apply` report like kubectl.
 */
import { randomUUID } from 'node:crypto';
import { timestamp, ValidationError, type KindInfo, type KubeObject } from '../../messages';
import type { ObjectStore } from '../../bus';
import type { KindModule } from '../kind-module';
import { stableJson } from './stable-json';

/** Metadata fields only the server writes; a manifest's values for them are ignored. */
const SERVER_FIELDS = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;

/**
 * Resolves the namespace of an object from its manifest and the request (`-n`). Cluster-scoped
 * kinds have none. A manifest namespace that contradicts `-n` is an error, as in kubectl.
 */
export function resolveNamespace(kind: KindInfo, obj: KubeObject, requested: string | undefined): string | undefined {
  if (!kind.namespaced) return undefined;
  const own = obj.metadata.namespace;
  if (own && requested && own !== requested) {
    throw new ValidationError(
      `the namespace of ${kind.singular} "${obj.metadata.name}" is "${own}" but the request is for namespace "${requested}": pass -n ${own} or remove metadata.namespace`,
    );
  }
  return own ?? requested ?? 'default';
}

/** The object as first stored: server metadata set, defaults applied, status initialised. */
export function admitCreate(module: KindModule, obj: KubeObject, namespace: string | undefined, now: Date): KubeObject {
  const metadata = { ...obj.metadata };
  for (const f of SERVER_FIELDS) delete metadata[f];
  if (namespace) metadata.namespace = namespace; else delete metadata.namespace;
  if (metadata.labels && Object.keys(metadata.labels).length === 0) delete metadata.labels;
  if (metadata.annotations && Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  metadata.uid = randomUUID();
  metadata.creationTimestamp = timestamp(now);
  metadata.generation = 1;
  const out = module.defaults ? module.defaults({ ...obj, metadata }) : { ...obj, metadata };
  delete out.status;
  const status = module.initialStatus?.(out);
  if (status !== undefined) out.status = status;
  return out;
}

/** How an update reads metadata lists that the incoming object does not have. */
export interface UpdateMode {
  /**
   * True for a write of the whole object (update, patch): an absent `finalizers` or
   * `ownerReferences` means none, as in Kubernetes' PUT, so a patch that removes them (a merge
   * patch's null, a JSON patch's remove) empties them. False (mk.api.apply): a manifest that does
   * not mention them leaves them as they are.
   */
  replace?: boolean;
}

/** The object's own top-level fields besides identity, metadata, spec and status (a ConfigMap's data). */
function content(o: KubeObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, spec: _s, status: _st, ...rest } = o;
  return rest;
}

/** The list as stored: an empty one is no list (omitempty). */
function setList<K extends 'finalizers' | 'ownerReferences'>(m: KubeObject['metadata'], field: K, v: KubeObject['metadata'][K]): void {
  if (v && v.length > 0) m[field] = v; else delete m[field];
}

/**
 * The object after applying `incoming` over `existing`, or null when nothing would change.
 * Spec changes bump generation; status, uid and timestamps are kept. Throws ValidationError for
 * changes the kind forbids, and, while the object is being deleted, for anything but removing
 * finalizers (https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/: no
 * finalizer may be added then; mk also keeps the rest as it was when the deletion began).
 */
export function admitUpdate(module: KindModule, existing: KubeObject, incoming: KubeObject, mode: UpdateMode = {}): KubeObject | null {
  const have = existing.metadata;
  const finalizers = incoming.metadata.finalizers ?? (mode.replace ? [] : have.finalizers ?? []);
  const owners = incoming.metadata.ownerReferences ?? (mode.replace ? [] : have.ownerReferences ?? []);
  let next = module.defaults ? module.defaults(incoming) : incoming;
  if (module.admitUpdate) next = module.admitUpdate(existing, next);
  const labels = next.metadata.labels;
  const annotations = next.metadata.annotations;
  const changed: string[] = [];
  if (stableJson(existing.spec) !== stableJson(next.spec)) changed.push('spec');
  if (stableJson(have.labels ?? {}) !== stableJson(labels ?? {})) changed.push('metadata.labels');
  if (stableJson(have.annotations ?? {}) !== stableJson(annotations ?? {})) changed.push('metadata.annotations');
  if (stableJson(have.ownerReferences ?? []) !== stableJson(owners)) changed.push('metadata.ownerReferences');
  const was = content(existing);
  const now = content(next);
  for (const k of Object.keys({ ...was, ...now })) if (stableJson(was[k]) !== stableJson(now[k])) changed.push(k);
  const finalizersSame = stableJson(finalizers) === stableJson(have.finalizers ?? []);
  if (have.deletionTimestamp) {
    const what = `${module.info.singular} "${have.name}" is being deleted`;
    const added = finalizers.filter((f) => !(have.finalizers ?? []).includes(f));
    if (added.length > 0) throw new ValidationError(`${what}: no new finalizers can be added (${added.join(', ')})`, ['metadata.finalizers: no new finalizers can be added while the object is being deleted']);
    if (changed.length > 0) {
      throw new ValidationError(`${what}: only its finalizers may be removed until it is gone, and this write also changes ${changed.join(', ')}; `
        + 'apply again once it is gone', changed.map((f) => `${f}: cannot change while the object is being deleted`));
    }
    if (finalizersSame) return null;
    const metadata = { ...have };
    setList(metadata, 'finalizers', finalizers);
    return { ...existing, metadata };
  }
  if (changed.length === 0 && finalizersSame) return null;
  const metadata = { ...have };
  setList(metadata, 'finalizers', finalizers);
  setList(metadata, 'ownerReferences', owners);
  // An empty map is stored as no map, as Kubernetes' JSON (omitempty) does.
  if (labels && Object.keys(labels).length > 0) metadata.labels = labels; else delete metadata.labels;
  if (annotations && Object.keys(annotations).length > 0) metadata.annotations = annotations; else delete metadata.annotations;
  if (changed.includes('spec')) metadata.generation = (have.generation ?? 1) + 1;
  const out: KubeObject = { ...content(next), apiVersion: existing.apiVersion, kind: existing.kind, metadata, spec: next.spec };
  if (existing.status !== undefined) out.status = existing.status;
  return out;
}

export { stableJson };

/**
 * Runs `write` on `next` with what the kind allocates for it (KindModule.allocate; as it is for
 * kinds that allocate nothing): the allocation is given back when the write fails, and what
 * `existing` held and `next` does not is given back once it succeeded.
 */
export async function allocated(
  store: ObjectStore, module: KindModule, existing: KubeObject | undefined, next: KubeObject, dryRun: boolean | undefined,
  write: (o: KubeObject) => Promise<KubeObject>,
): Promise<KubeObject> {
  if (!module.allocate) return write(next);
  const claim = await module.allocate(store, existing, next, !!dryRun);
  let out: KubeObject;
  try {
    out = await write(claim.object);
  } catch (err) {
    await claim.undo().catch(() => undefined);
    throw err;
  }
  await claim.done();
  return out;
}
