/** Volumes, claims and classes for the PV controller's unit tests. */
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../messages';
import { DEFAULT_CLASS_ANNOTATION } from '../../messages';

/** A free hostPath volume of `size`, ReadWriteOnce unless `spec` says otherwise. */
export function volume(name: string, size: string, spec: Partial<PersistentVolume['spec']> = {}, labels?: Record<string, string>): PersistentVolume {
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z', ...(labels ? { labels } : {}) },
    spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/data/${name}` }, persistentVolumeReclaimPolicy: 'Retain', ...spec },
    status: { phase: 'Available' },
  };
}

/** A claim in `default` asking for `size`, ReadWriteOnce unless `spec` says otherwise. */
export function claim(name: string, size: string, spec: Partial<PersistentVolumeClaim['spec']> = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...spec },
    status: { phase: 'Pending' },
  };
}

/** A StorageClass; `isDefault` annotates it as the default. */
export function storageClass(name: string, extra: Partial<StorageClass> = {}, isDefault = false): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name, creationTimestamp: '2026-01-01T00:00:00Z', ...(isDefault ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } } : {}) },
    provisioner: 'kubernetes.io/no-provisioner', ...extra,
  };
}
