/**
 * Admission: what the api does to an object between validation and the store, generic over the
 * kind modules. Pure functions: server-set metadata on create, the kind's defaults and initial
 * status, the kind's update rules, and the "unchanged" test that lets `apply` report like kubectl.
 */
import { randomUUID } from 'node:crypto';
import { timestamp, ValidationError, type KindInfo, type KubeObject } from '../../messages';
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

/**
 * The object after applying `incoming` over `existing`, or null when nothing would change.
 * Spec changes bump generation; status, uid and timestamps are kept. Throws ValidationError for
 * an object being deleted and for changes the kind forbids.
 */
export function admitUpdate(module: KindModule, existing: KubeObject, incoming: KubeObject): KubeObject | null {
  const finalizers = incoming.metadata.finalizers;
  const finalizersSame = finalizers === undefined || stableJson(finalizers) === stableJson(existing.metadata.finalizers ?? []);
  if (existing.metadata.deletionTimestamp) {
    // While it is being deleted only finalizers may go (https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/).
    const removals = finalizers !== undefined && finalizers.every((f) => (existing.metadata.finalizers ?? []).includes(f));
    if (finalizersSame || !removals) {
      throw new ValidationError(`${module.info.singular} "${existing.metadata.name}" is being deleted; apply again once it is gone `
        + '(only removing finalizers is allowed meanwhile)');
    }
    return { ...existing, metadata: { ...existing.metadata, finalizers } };
  }
  let next = module.defaults ? module.defaults(incoming) : incoming;
  if (module.admitUpdate) next = module.admitUpdate(existing, next);
  const labels = next.metadata.labels;
  const annotations = next.metadata.annotations;
  const specSame = stableJson(existing.spec) === stableJson(next.spec);
  const labelsSame = stableJson(existing.metadata.labels ?? {}) === stableJson(labels ?? {});
  const annSame = stableJson(existing.metadata.annotations ?? {}) === stableJson(annotations ?? {});
  if (specSame && labelsSame && annSame && finalizersSame) return null;
  const metadata = { ...existing.metadata };
  if (!finalizersSame) metadata.finalizers = finalizers;
  // An empty map is stored as no map, as Kubernetes' JSON (omitempty) does.
  if (labels && Object.keys(labels).length > 0) metadata.labels = labels; else delete metadata.labels;
  if (annotations && Object.keys(annotations).length > 0) metadata.annotations = annotations; else delete metadata.annotations;
  if (!specSame) metadata.generation = (existing.metadata.generation ?? 1) + 1;
  return { ...existing, metadata, spec: next.spec };
}

export { stableJson };
