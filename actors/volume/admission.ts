/**
 * The storage kinds' defaults and update rules, as Kubernetes' API server applies them
 * (pkg/apis/core/v1/defaults.go, ValidatePersistentVolumeUpdate, ValidatePersistentVolumeClaimUpdate,
 * ValidateStorageClassUpdate): what the server fills in, which fields never change once created,
 * and which fields the controller owns (a claim's volumeName, a bound volume's claimRef), carried
 * over when a manifest written again does not mention them.
 */
import {
  BIND_COMPLETED_ANNOTATION, BOUND_BY_CONTROLLER_ANNOTATION, LOCAL_PATH_PROVISIONER, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER,
  storageBytes, ValidationError, PERSISTENT_VOLUME_SOURCES,
  type KubeObject, type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from '../../messages';
import { stableJson } from '../api/stable-json';
import { localPathBase } from './local-path';

const addFinalizer = (o: KubeObject, f: string): KubeObject['metadata'] => {
  const have = o.metadata.finalizers ?? [];
  return have.includes(f) ? o.metadata : { ...o.metadata, finalizers: [...have, f] };
};

/** Kubernetes' defaults for a volume (Retain, Filesystem) and its protection finalizer on create. */
export function defaultVolume(o: KubeObject): KubeObject {
  const pv = o as unknown as PersistentVolume;
  const spec = { ...pv.spec };
  spec.persistentVolumeReclaimPolicy ??= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  return { ...o, metadata: addFinalizer(o, PV_PROTECTION_FINALIZER), spec } as KubeObject;
}

/** Kubernetes' defaults for a claim (Filesystem; a null class is no field) and its protection finalizer. */
export function defaultClaim(o: KubeObject): KubeObject {
  const c = o as unknown as PersistentVolumeClaim;
  const spec = { ...c.spec };
  spec.volumeMode ??= 'Filesystem';
  if (spec.storageClassName === null) delete spec.storageClassName;
  return { ...o, metadata: addFinalizer(o, PVC_PROTECTION_FINALIZER), spec } as KubeObject;
}

/** Kubernetes' defaults for a class: reclaim Delete, bind Immediate. */
export function defaultStorageClass(o: KubeObject): KubeObject {
  const sc = o as unknown as StorageClass;
  return { ...sc, reclaimPolicy: sc.reclaimPolicy ?? 'Delete', volumeBindingMode: sc.volumeBindingMode ?? 'Immediate' } as unknown as KubeObject;
}

/** `next` with the controller's annotations of `existing` carried over when it does not have them. */
function keepAnnotations<T extends KubeObject>(existing: KubeObject, next: T, keys: readonly string[]): T {
  const carried: Record<string, string> = {};
  for (const k of keys) {
    const v = existing.metadata.annotations?.[k];
    if (v !== undefined && next.metadata.annotations?.[k] === undefined) carried[k] = v;
  }
  if (Object.keys(carried).length === 0) return next;
  return { ...next, metadata: { ...next.metadata, annotations: { ...(next.metadata.annotations ?? {}), ...carried } } };
}

const refuse = (kind: string, name: string, field: string, why: string): never => {
  throw new ValidationError(`${kind} "${name}" is invalid: ${field}: ${why}`, [`${field}: ${why}`]);
};

/**
 * A volume's update: its source and volume mode never change; a claimRef the manifest leaves out
 * is kept while the volume is Bound (removing it from a Released volume frees it, as in Kubernetes).
 */
export function admitVolumeUpdate(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as unknown as PersistentVolume;
  let next = keepAnnotations(existingObj, nextObj, [BOUND_BY_CONTROLLER_ANNOTATION]) as unknown as PersistentVolume;
  const name = existing.metadata.name;
  const had = existing.spec.claimRef;
  const ref = next.spec.claimRef;
  if (!ref && had && existing.status?.phase === 'Bound') {
    next = { ...next, spec: { ...next.spec, claimRef: had } };
  } else if (ref && had?.uid && !ref.uid && ref.namespace === had.namespace && ref.name === had.name) {
    // The user's pre-binding written again: the binding the server completed stays.
    next = { ...next, spec: { ...next.spec, claimRef: { ...had, ...ref, uid: had.uid } } };
  }
  for (const k of PERSISTENT_VOLUME_SOURCES) {
    if (stableJson(existing.spec[k]) !== stableJson(next.spec[k])) {
      refuse('PersistentVolume', name, 'spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation');
    }
  }
  if ((existing.spec.volumeMode ?? 'Filesystem') !== (next.spec.volumeMode ?? 'Filesystem')) refuse('PersistentVolume', name, 'spec.volumeMode', 'field is immutable');
  if (stableJson(existing.spec.nodeAffinity) !== stableJson(next.spec.nodeAffinity)) refuse('PersistentVolume', name, 'spec.nodeAffinity', 'field is immutable');
  return next as unknown as KubeObject;
}

/**
 * A claim's update: its spec is fixed once created, except that a bound claim may ask for more
 * storage (never less), and that the volumeName and class the server set are kept when a manifest
 * leaves them out (a class or volume may also be given once, where there was none).
 */
export function admitClaimUpdate(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as unknown as PersistentVolumeClaim;
  const next = keepAnnotations(existingObj, nextObj, [BOUND_BY_CONTROLLER_ANNOTATION, BIND_COMPLETED_ANNOTATION]) as unknown as PersistentVolumeClaim;
  const name = existing.metadata.name;
  const spec = { ...next.spec };
  spec.volumeName ??= existing.spec.volumeName;
  if (spec.storageClassName === undefined && existing.spec.storageClassName !== undefined) spec.storageClassName = existing.spec.storageClassName;
  const before = { ...existing.spec };
  // Given once where there was none: the server's own binding and retroactive default class.
  if (!before.volumeName) before.volumeName = spec.volumeName;
  if (before.storageClassName === undefined) before.storageClassName = spec.storageClassName;
  const was = storageBytes(existing.spec.resources.requests.storage);
  const now = storageBytes(spec.resources.requests.storage);
  if (now < was) refuse('PersistentVolumeClaim', name, 'spec.resources.requests.storage', `field can not be less than previous value (${existing.spec.resources.requests.storage})`);
  if (now > was && existing.status?.phase !== 'Bound') {
    refuse('PersistentVolumeClaim', name, 'spec', 'spec is immutable after creation except resources.requests for bound claims');
  }
  const strip = (s: PersistentVolumeClaim['spec']) => ({ ...s, volumeMode: s.volumeMode ?? 'Filesystem', resources: { ...s.resources, requests: undefined } });
  if (stableJson(strip(before)) !== stableJson(strip(spec))) {
    refuse('PersistentVolumeClaim', name, 'spec', 'spec is immutable after creation except resources.requests for bound claims');
  }
  return { ...next, spec } as unknown as KubeObject;
}

/**
 * A new local-path class must name a base directory its provisioner can use (other provisioners'
 * parameters are theirs to judge): refused here, with the parameter named, rather than with a
 * ProvisioningFailed event on every claim of the class.
 */
export function admitStorageClassCreate(obj: KubeObject): void {
  const sc = obj as unknown as StorageClass;
  if (sc.provisioner !== LOCAL_PATH_PROVISIONER) return;
  const dir = localPathBase(sc);
  if ('error' in dir) refuse('StorageClass', sc.metadata.name, dir.field, dir.error);
}

/** A class's provisioner, parameters, reclaim policy and binding mode never change (Kubernetes' rule). */
export function admitStorageClassUpdate(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as unknown as StorageClass;
  const next = nextObj as unknown as StorageClass;
  for (const f of ['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode'] as const) {
    if (stableJson(existing[f] ?? null) !== stableJson(next[f] ?? null)) {
      refuse('StorageClass', existing.metadata.name, f, `updates to ${f} are forbidden: delete the class and create it again`);
    }
  }
  return nextObj;
}
