/**
 * The storage kinds' control-plane side: PersistentVolume and PersistentVolumeClaim with their
 * defaults, update rules and the PV controller's two halves, and StorageClass (no controller).
 * A claim that names no class gets the default class when it is created, as Kubernetes'
 * DefaultStorageClass admission plugin does; that needs the store, so it runs as the claim's
 * allocation step (KindModule.allocate), which the api calls between admission and the write, as
 * is the check that a claim asking for more storage is of a class that allows expansion.
 */
import {
  BETA_CLASS_ANNOTATION, claimClass, defaultClass, keyFilter, objectKey, PersistentVolumeClaimKind, PersistentVolumeKind,
  storageBytes, StorageClassKind, ValidationError,
  type KubeObject, type PersistentVolumeClaim, type StorageClass,
} from '../../messages';
import type { ObjectStore } from '../../bus';
import type { AllocationClaim, KindModule } from '../kind-module';
import {
  admitClaimUpdate, admitStorageClassCreate, admitStorageClassUpdate, admitVolumeUpdate, defaultClaim, defaultStorageClass, defaultVolume,
} from './admission';
import { claimController, volumeController } from './controller';
import { localPathProvisioner } from './local-path-controller';

/** The claim with the default class filled in when it is new and names none (no class exists: as it is). */
export async function withDefaultClass(store: ObjectStore, existing: KubeObject | undefined, next: KubeObject): Promise<KubeObject> {
  const claim = next as unknown as PersistentVolumeClaim;
  if (existing || claim.spec.storageClassName != null || claim.metadata.annotations?.[BETA_CLASS_ANNOTATION] !== undefined) return next;
  const { items } = await store.list<StorageClass>(keyFilter(StorageClassKind.plural));
  const def = defaultClass(items.map((i) => i.object));
  if (!def) return next;
  return { ...claim, spec: { ...claim.spec, storageClassName: def.metadata.name } } as unknown as KubeObject;
}

/**
 * Refuses a claim's request for more storage unless its class allows expansion (Kubernetes'
 * PersistentVolumeClaimResize admission). No resizer runs yet: an allowed growth is recorded in
 * the spec, and status.capacity stays the volume's size.
 */
export async function checkExpansion(store: ObjectStore, existing: KubeObject | undefined, next: KubeObject): Promise<void> {
  if (!existing) return;
  const was = existing as unknown as PersistentVolumeClaim;
  const now = next as unknown as PersistentVolumeClaim;
  if (storageBytes(now.spec.resources.requests.storage) <= storageBytes(was.spec.resources.requests.storage)) return;
  const cls = claimClass(was);
  const got = cls ? await store.get<StorageClass>(objectKey(StorageClassKind.plural, undefined, cls)) : null;
  if (!got?.object.allowVolumeExpansion) {
    throw new ValidationError(
      `persistentvolumeclaims "${was.metadata.name}" is forbidden: only dynamically provisioned pvc can be resized and the storageclass `
      + `that provisions the pvc must support resize (class ${cls ? `"${cls}" has no allowVolumeExpansion: true` : 'none'})`,
    );
  }
}

const nothingHeld = async (): Promise<void> => undefined;

export const persistentVolumeModule: KindModule = {
  info: PersistentVolumeKind,
  defaults: defaultVolume,
  initialStatus: () => ({ phase: 'Pending' }),
  admitUpdate: admitVolumeUpdate,
  controller: (ctx) => volumeController(ctx.store),
};

export const persistentVolumeClaimModule: KindModule = {
  info: PersistentVolumeClaimKind,
  defaults: defaultClaim,
  initialStatus: () => ({ phase: 'Pending' }),
  admitUpdate: admitClaimUpdate,
  async allocate(store, existing, next): Promise<AllocationClaim> {
    await checkExpansion(store, existing, next);
    return { object: await withDefaultClass(store, existing, next), undo: nothingHeld, done: nothingHeld };
  },
  controller: (ctx) => claimController(ctx.store),
};

/** StorageClass, whose controller is the built-in local-path provisioner (it works on claims). */
export const storageClassModule: KindModule = {
  info: StorageClassKind,
  defaults: defaultStorageClass,
  admitUpdate: admitStorageClassUpdate,
  // Parameters never change once created, so a create is the one place to check them.
  async allocate(_store, existing, next): Promise<AllocationClaim> {
    if (!existing) admitStorageClassCreate(next);
    return { object: next, undo: nothingHeld, done: nothingHeld };
  },
  controller: (ctx) => localPathProvisioner(ctx.store, persistentVolumeModule),
};
