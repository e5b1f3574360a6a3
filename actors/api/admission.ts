/**
 * Admission: what the api does to an object between validation and the store. Pure functions:
 * server-set metadata on create, defaults, immutability on update, and the "unchanged" test that
 * lets `apply` report like kubectl.
 */
import { randomUUID } from 'node:crypto';
import {
  defaultPod, qosClass, timestamp, ValidationError,
  type KindInfo, type KubeObject, type Node, type Pod,
} from '../../messages';

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

/** Applies kind defaults (Kubernetes' defaulting) to a validated object. */
export function withDefaults(obj: KubeObject): KubeObject {
  if (obj.kind === 'Pod') return defaultPod(obj as Pod) as KubeObject;
  return obj;
}

/** The object as first stored: server metadata set, defaults applied, status initialised. */
export function admitCreate(kind: KindInfo, obj: KubeObject, namespace: string | undefined, now: Date): KubeObject {
  const metadata = { ...obj.metadata };
  for (const f of SERVER_FIELDS) delete metadata[f];
  if (namespace) metadata.namespace = namespace; else delete metadata.namespace;
  metadata.uid = randomUUID();
  metadata.creationTimestamp = timestamp(now);
  metadata.generation = 1;
  const out = withDefaults({ ...obj, metadata });
  delete out.status;
  if (kind.kind === 'Pod') out.status = { phase: 'Pending', qosClass: qosClass((out as Pod).spec) };
  if (kind.kind === 'Namespace') out.status = { phase: 'Active' };
  return out;
}

/**
 * The object after applying `incoming` over `existing`, or null when nothing would change.
 * Spec changes bump generation; status, uid and timestamps are kept. Throws ValidationError for
 * changes Kubernetes forbids (a pod's spec is immutable except container images).
 */
export function admitUpdate(kind: KindInfo, existing: KubeObject, incoming: KubeObject): KubeObject | null {
  if (existing.metadata.deletionTimestamp) {
    throw new ValidationError(`${kind.singular} "${existing.metadata.name}" is being deleted; apply again once it is gone`);
  }
  const next = withDefaults(incoming);
  if (kind.kind === 'Pod') checkPodUpdate(existing as Pod, next as Pod);
  if (kind.kind === 'Node') keepPodCidr(existing as Node, next as Node);
  const labels = next.metadata.labels;
  const annotations = next.metadata.annotations;
  const specSame = stableJson(existing.spec) === stableJson(next.spec);
  const labelsSame = stableJson(existing.metadata.labels ?? {}) === stableJson(labels ?? {});
  const annSame = stableJson(existing.metadata.annotations ?? {}) === stableJson(annotations ?? {});
  if (specSame && labelsSame && annSame) return null;
  const metadata = { ...existing.metadata };
  if (labels) metadata.labels = labels; else delete metadata.labels;
  if (annotations) metadata.annotations = annotations; else delete metadata.annotations;
  if (!specSame) metadata.generation = (existing.metadata.generation ?? 1) + 1;
  return { ...existing, metadata, spec: next.spec };
}

/** A node's pod CIDR is assigned once; a manifest may omit it but not change it (its pods live there). */
function keepPodCidr(existing: Node, next: Node): void {
  const have = existing.spec?.podCIDR;
  if (!have) return;
  const want = next.spec?.podCIDR;
  if (want && want !== have) throw new ValidationError(`node "${existing.metadata.name}" already has pod CIDR ${have}; spec.podCIDR cannot change`);
  next.spec = { ...next.spec, podCIDR: have, podCIDRs: existing.spec?.podCIDRs ?? [have] };
}

function checkPodUpdate(existing: Pod, next: Pod): void {
  const strip = (p: Pod) => ({
    ...p.spec,
    containers: p.spec.containers.map((c) => ({ ...c, image: '' })),
    initContainers: p.spec.initContainers?.map((c) => ({ ...c, image: '' })),
    // The scheduler sets nodeName; a manifest without one does not mean "unbind".
    nodeName: undefined,
  });
  if (next.spec.nodeName && existing.spec.nodeName && next.spec.nodeName !== existing.spec.nodeName) {
    throw new ValidationError(`pod "${existing.metadata.name}" is already bound to node "${existing.spec.nodeName}"; spec.nodeName cannot change`);
  }
  if (stableJson(strip(existing)) !== stableJson(strip(next))) {
    throw new ValidationError(
      `pod "${existing.metadata.name}": pod updates may not change fields other than container images; delete the pod and create it again`,
    );
  }
  if (!next.spec.nodeName && existing.spec.nodeName) next.spec = { ...next.spec, nodeName: existing.spec.nodeName };
}

/** JSON with sorted keys and undefined dropped, so equal objects compare equal. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.keys(val).sort().filter((k) => val[k] !== undefined).map((k) => [k, val[k]]));
    }
    return val;
  }) ?? 'null';
}
