/**
 * The pod volume shapes the node mounts: the pod schema's own types
 * (messages/volumes.ts, Kubernetes v1 field names), and the two reads the node makes of them.
 */
import type { Container, Pod } from '../../messages/pod';
import type { Volume, VolumeMount } from '../../messages/volumes';

export type {
  ConfigMapVolumeSource, CSIVolumeSource, DownwardAPIVolumeFile, DownwardAPIVolumeSource, EmptyDirVolumeSource, HostPathType, HostPathVolumeSource,
  KeyToPath, PersistentVolumeClaimVolumeSource, SecretVolumeSource, Volume, VolumeMount,
} from '../../messages/volumes';

/** The pod's volumes (none when the spec has none). */
export function podVolumes(pod: Pod): Volume[] {
  return pod.spec.volumes ?? [];
}

/** The container's volume mounts (none when it has none). */
export function containerVolumeMounts(c: Container): VolumeMount[] {
  return c.volumeMounts ?? [];
}
