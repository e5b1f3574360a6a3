/**
 * The storage kinds as messages/ declares them: PersistentVolume (pv), PersistentVolumeClaim (pvc)
 * and StorageClass (sc), with the columns of kubectl's printPersistentVolume,
 * printPersistentVolumeClaim and printStorageClass (VOLUMEATTRIBUTESCLASS left out: mk has no
 * VolumeAttributesClass).
 */
import type { KindInfo } from '../kind';
import type { Pod } from '../pod';
import { describePersistentVolume, describePersistentVolumeClaim, describeStorageClass } from '../printing/describe-persistent-volume';
import { age } from '../printing/time';
import { accessModesText, claimClass, isDefaultClass, podClaimNames, volumeClass } from '../storage';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../persistent-volume';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let volumeModuleLoaded: typeof import('../persistent-volume') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const volumeModule = () => (volumeModuleLoaded ??= require('../persistent-volume') as typeof import('../persistent-volume'));

const pv = (o: unknown): PersistentVolume => o as PersistentVolume;
const pvc = (o: unknown): PersistentVolumeClaim => o as PersistentVolumeClaim;
const sc = (o: unknown): StorageClass => o as StorageClass;

/** A phase as kubectl prints it: Terminating once the object is being deleted. */
const phase = (o: PersistentVolume | PersistentVolumeClaim): string =>
  (o.metadata.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '');

/** kubectl's table of persistent volumes. */
export const PersistentVolumeKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  shortNames: ['pv'],
  namespaced: false,
  get schema() { return volumeModule().PersistentVolumeSchema; },
  storage: 'store',
  description: 'A piece of storage (a host directory, a local disk, an NFS export) that claims bind to; it outlives the pods that use it.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'CAPACITY', value: (o) => String(pv(o).spec?.capacity?.storage ?? '') },
    { name: 'ACCESS MODES', value: (o) => accessModesText(pv(o).spec?.accessModes) },
    { name: 'RECLAIM POLICY', value: (o) => pv(o).spec?.persistentVolumeReclaimPolicy ?? 'Retain' },
    { name: 'STATUS', value: (o) => phase(pv(o)) },
    { name: 'CLAIM', value: (o) => { const r = pv(o).spec?.claimRef; return r ? `${r.namespace}/${r.name}` : ''; } },
    { name: 'STORAGECLASS', value: (o) => volumeClass(pv(o)) },
    { name: 'REASON', value: (o) => pv(o).status?.reason ?? '' },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'VOLUMEMODE', priority: 1, value: (o) => pv(o).spec?.volumeMode ?? 'Filesystem' },
  ],
  fieldSelectors: { 'status.phase': (o) => pv(o).status?.phase },
  describer: { describe: (o, ctx) => describePersistentVolume(pv(o), ctx.events, ctx.now) },
};

/** kubectl's table of persistent volume claims. */
export const PersistentVolumeClaimKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  shortNames: ['pvc'],
  namespaced: true,
  get schema() { return volumeModule().PersistentVolumeClaimSchema; },
  storage: 'store',
  description: 'A request for storage of a size, access modes and class; the server binds it to a fitting volume, and pods mount the claim.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'STATUS', value: (o) => phase(pvc(o)) },
    { name: 'VOLUME', value: (o) => pvc(o).spec?.volumeName ?? '' },
    { name: 'CAPACITY', value: (o) => String(pvc(o).status?.capacity?.storage ?? '') },
    { name: 'ACCESS MODES', value: (o) => accessModesText(pvc(o).status?.accessModes) },
    { name: 'STORAGECLASS', value: (o) => claimClass(pvc(o)) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'VOLUMEMODE', priority: 1, value: (o) => pvc(o).spec?.volumeMode ?? 'Filesystem' },
  ],
  fieldSelectors: { 'status.phase': (o) => pvc(o).status?.phase },
  describer: {
    related: [{
      plural: 'pods',
      where: (p, c) => p.metadata.namespace === c.metadata.namespace && podClaimNames(p).includes(c.metadata.name),
    }],
    describe: (o, ctx) => describePersistentVolumeClaim(pvc(o), ctx.related[0] as Pod[], ctx.events, ctx.now),
  },
};

/** kubectl's table of storage classes; the default one is marked `(default)`. */
export const StorageClassKind: KindInfo = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  shortNames: ['sc'],
  namespaced: false,
  get schema() { return volumeModule().StorageClassSchema; },
  storage: 'store',
  description: 'A class of storage: which provisioner makes its volumes, their reclaim policy, and when claims of it are bound.',
  columns: [
    { name: 'NAME', value: (o) => (isDefaultClass(o) ? `${o.metadata.name} (default)` : o.metadata.name) },
    { name: 'PROVISIONER', value: (o) => sc(o).provisioner ?? '' },
    { name: 'RECLAIMPOLICY', value: (o) => sc(o).reclaimPolicy ?? 'Delete' },
    { name: 'VOLUMEBINDINGMODE', value: (o) => sc(o).volumeBindingMode ?? 'Immediate' },
    { name: 'ALLOWVOLUMEEXPANSION', value: (o) => String(sc(o).allowVolumeExpansion ?? false) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
  describer: { describe: (o, ctx) => describeStorageClass(sc(o), ctx.events, ctx.now) },
};
