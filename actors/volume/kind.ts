/**
 * The storage kinds' control-plane side: PersistentVolume and PersistentVolumeClaim with their
 * defaults, update rules and the PV controller's two halves, and StorageClass (no controller).
 * A claim that names no class gets the default class when it is created, as Kubernetes'
 * DefaultStorageClass admission plugin does; that needs the store, so it runs as the claim's
 * allocation step (KindModule.allocate), which the api calls between admission and the write.
 */
import {
  BETA_CLASS_ANNOTATION, defaultClass, keyFilter, PersistentVolumeClaimKind, PersistentVolumeKind, StorageClassKind,
  type KubeObject, type PersistentVolumeClaim, type StorageClass,
} from '../../messages';
import type { ObjectStore } from '../../bus';
import type { AllocationClaim, KindModule } from '../kind-module';
import {
  admitClaimUpdate, admitStorageClassUpdate, admitVolumeUpdate, defaultClaim, defaultStorageClass, defaultVolume,
} from './admission';
import { claimController, volumeController } from './controller';

/** The claim with the default class filled in when it is new and names none (no class exists: as it is). */
export async function withDefaultClass(store: ObjectStore, existing: KubeObject | undefined, next: KubeObject): Promise<KubeObject> {
  const claim = next as unknown as PersistentVolumeClaim;
  if (existing || claim.spec.storageClassName != null || claim.metadata.annotations?.[BETA_CLASS_ANNOTATION] !== undefined) return next;
  const { items } = await store.list<StorageClass>(keyFilter(StorageClassKind.plural));
  const def = defaultClass(items.map((i) => i.object));
  if (!def) return next;
  return { ...claim, spec: { ...claim.spec, storageClassName: def.metadata.name } } as unknown as KubeObject;
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
    return { object: await withDefaultClass(store, existing, next), undo: nothingHeld, done: nothingHeld };
  },
  controller: (ctx) => claimController(ctx.store),
};

export const storageClassModule: KindModule = {
  info: StorageClassKind,
  defaults: defaultStorageClass,
  admitUpdate: admitStorageClassUpdate,
};
