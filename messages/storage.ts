/**
 * What the storage kinds (PersistentVolume, PersistentVolumeClaim, StorageClass) share that is not
 * a schema: their well-known names (finalizers, annotations), access modes as kubectl abbreviates
 * them, and the small reads both the binder and `mk get` make (a claim's class, a size in bytes).
 * No zod here: `mk get` prints these kinds without loading schemas.
 * (https://kubernetes.io/docs/concepts/storage/persistent-volumes/)
 */
import { parseQuantity } from './quantity';
import type { ObjectMeta } from './meta';

/** What the class reads take of an object: its metadata and the class its spec names. */
interface Classed { metadata: Pick<ObjectMeta, 'annotations'>; spec: { storageClassName?: string | null } }
/** What the default-class reads take of a StorageClass. */
type ClassMeta = { metadata: Pick<ObjectMeta, 'annotations' | 'name' | 'creationTimestamp' | 'deletionTimestamp'> };

/** Keeps a claim while a pod that is not finished uses it (Kubernetes' pvc-protection). */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
/** Keeps a volume while it is Bound to a claim (Kubernetes' pv-protection). */
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
/** The annotation that makes a StorageClass the default for claims that name none. */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** The beta spelling of the default-class annotation, which Kubernetes still honours. */
export const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
/** The beta annotation that named a claim's or volume's class before `storageClassName`. */
export const BETA_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
/** Set on a volume or claim whose binding the controller made (not the user's pre-binding). */
export const BOUND_BY_CONTROLLER_ANNOTATION = 'pv.kubernetes.io/bound-by-controller';
/** Set on a claim once the controller has finished binding it (its volumeName is final). */
export const BIND_COMPLETED_ANNOTATION = 'pv.kubernetes.io/bind-completed';

/**
 * Set on a WaitForFirstConsumer claim by the scheduler once a pod using it is bound to a node and
 * no existing volume fits there: the node a provisioner makes the volume for.
 */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';

/** The access modes Kubernetes defines, in the order kubectl prints them. */
export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

const SHORT: Record<AccessMode, string> = {
  ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP',
};

/** Access modes as kubectl prints them: `RWO,ROX`, each once, in a fixed order (GetAccessModesAsString). */
export function accessModesText(modes: readonly string[] | undefined): string {
  const have = new Set(modes ?? []);
  return ACCESS_MODES.filter((m) => have.has(m)).map((m) => SHORT[m]).join(',');
}

/** A storage quantity in bytes, or 0 when absent or malformed. */
export function storageBytes(q: string | number | undefined): number {
  if (q === undefined) return 0;
  return parseQuantity(q) ?? 0;
}

/** A volume's class: storageClassName, else the beta annotation, else "" (no class). */
export function volumeClass(pv: Classed): string {
  return pv.spec.storageClassName ?? pv.metadata.annotations?.[BETA_CLASS_ANNOTATION] ?? '';
}

/**
 * A claim's class: storageClassName, else the beta annotation, else "" (no class). A claim that
 * named no class at all was given the default one when it was created, if there was one.
 */
export function claimClass(claim: Classed): string {
  return claim.spec.storageClassName ?? claim.metadata.annotations?.[BETA_CLASS_ANNOTATION] ?? '';
}

/** True when the class carries the default-class annotation (either spelling) set to "true". */
export function isDefaultClass(sc: ClassMeta): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/**
 * The default class among `classes`, or undefined: with several, the newest (then the first by
 * name), as Kubernetes' DefaultStorageClass admission picks since 1.26.
 */
export function defaultClass<T extends ClassMeta>(classes: readonly T[]): T | undefined {
  const defaults = classes.filter((c) => isDefaultClass(c) && !c.metadata.deletionTimestamp);
  defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')
    || a.metadata.name.localeCompare(b.metadata.name));
  return defaults[0];
}

/**
 * The names of the claims a pod mounts (spec.volumes[].persistentVolumeClaim.claimName), read
 * without the pod schema's types so that it holds whatever volumes the pod declares.
 */
export function podClaimNames(pod: { spec?: unknown }): string[] {
  const volumes = (pod.spec as { volumes?: unknown } | undefined)?.volumes;
  if (!Array.isArray(volumes)) return [];
  const out: string[] = [];
  for (const v of volumes) {
    const name = (v as { persistentVolumeClaim?: { claimName?: unknown } } | null)?.persistentVolumeClaim?.claimName;
    if (typeof name === 'string' && name) out.push(name);
  }
  return out;
}
