/**
 * The pod volume shapes the node mounts, with Kubernetes v1 field names
 * (https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/volume/).
 * Declared here as plain interfaces until the pod schema carries them; the schema's inferred
 * types have exactly these shapes.
 */
import type { Container, Pod } from '../../messages/pod';

/** A key of a ConfigMap or Secret written to `path` (relative, no `..`), with its own mode. */
export interface KeyToPath { key: string; path: string; mode?: number }
/** A scratch directory that lives as long as the pod; `Memory` puts it on a tmpfs. */
export interface EmptyDirVolumeSource { medium?: '' | 'Memory'; sizeLimit?: string }
/** What a hostPath must be (checked before mounting); '' checks nothing. */
export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';
/** A file or directory of the node. */
export interface HostPathVolumeSource { path: string; type?: HostPathType }
/** A ConfigMap's keys as files. */
export interface ConfigMapVolumeSource { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean }
/** A Secret's keys as files (on a tmpfs). */
export interface SecretVolumeSource { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean }
/** A field of the pod's metadata. */
export interface ObjectFieldSelector { apiVersion?: string; fieldPath: string }
/** A container's cpu or memory limit or request, in units of `divisor`. */
export interface ResourceFieldSelector { containerName?: string; resource: string; divisor?: string }
/** One file of a downwardAPI volume: exactly one of fieldRef and resourceFieldRef. */
export interface DownwardAPIVolumeFile { path: string; fieldRef?: ObjectFieldSelector; resourceFieldRef?: ResourceFieldSelector; mode?: number }
/** Fields of the pod as files. */
export interface DownwardAPIVolumeSource { items?: DownwardAPIVolumeFile[]; defaultMode?: number }
/** A claim on a PersistentVolume. */
export interface PersistentVolumeClaimVolumeSource { claimName: string; readOnly?: boolean }

/** A volume of the pod: a name and exactly one source. */
export interface Volume {
  name: string;
  emptyDir?: EmptyDirVolumeSource;
  hostPath?: HostPathVolumeSource;
  configMap?: ConfigMapVolumeSource;
  secret?: SecretVolumeSource;
  downwardAPI?: DownwardAPIVolumeSource;
  persistentVolumeClaim?: PersistentVolumeClaimVolumeSource;
}

/** Where a container sees a volume (or a path inside it with subPath/subPathExpr). */
export interface VolumeMount { name: string; mountPath: string; readOnly?: boolean; subPath?: string; subPathExpr?: string }

/** The pod's volumes (none when the spec has none). */
export function podVolumes(pod: Pod): Volume[] {
  return (pod.spec as { volumes?: Volume[] }).volumes ?? [];
}

/** The container's volume mounts (none when it has none). */
export function containerVolumeMounts(c: Container): VolumeMount[] {
  return (c as { volumeMounts?: VolumeMount[] }).volumeMounts ?? [];
}
