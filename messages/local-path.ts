/**
 * mk's built-in local-path provisioner, as k3s ships Rancher's (https://github.com/rancher/local-path-provisioner):
 * its names (provisioner, annotations, finalizer, the default StorageClass `mk up` makes), how a
 * volume's directory is named, and what the control plane and a node agent say to each other
 * about those directories. No I/O.
 *
 * A claim of a class whose provisioner is LOCAL_PATH_PROVISIONER gets a `local` PersistentVolume
 * on one node: a directory `<base>/pvc-<claim uid>_<namespace>_<claim>`, where `<base>` is the
 * class parameter `nodePath`, else LOCAL_PATH_DEFAULT_BASE. The node agent makes the directory
 * and removes it when the volume is deleted with reclaim policy Delete.
 */
import type { PersistentVolume, StorageClass } from './persistent-volume';
import { DEFAULT_CLASS_ANNOTATION } from './storage';
import { encodeToken } from './names';

/** The provisioner name of mk's local-path volumes (StorageClass.provisioner). */
export const LOCAL_PATH_PROVISIONER = 'mk.io/local-path';
/** The StorageClass `mk up` makes (once, if absent): the default class, as on k3s. */
export const LOCAL_PATH_CLASS_NAME = 'local-path';
/** The class parameter naming the base directory of the volumes on each node. */
export const LOCAL_PATH_NODE_PATH_PARAMETER = 'nodePath';
/**
 * The base directory on each node when the class names none: mk's own, as k3s uses
 * `/var/lib/rancher/k3s/storage`. One path for every node, so the control plane needs to know
 * nothing of a node's data directory to name a volume's directory.
 */
export const LOCAL_PATH_DEFAULT_BASE = '/var/lib/mk/storage';
/** Set on a provisioned volume: the provisioner that made it (Kubernetes' annotation). */
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
/**
 * Keeps a local-path volume's object until its node has removed the directory (policy Delete) or
 * let it be (Retain): a crash between the object's deletion and the directory's removal loses
 * neither.
 */
export const LOCAL_PATH_CLEANUP_FINALIZER = 'mk.io/local-path-cleanup';
/** The node label the volumes' node affinity names (the node's name, as the kubelet sets it). */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/**
 * The StorageClass `mk up` makes: local-path, reclaim Delete, WaitForFirstConsumer, the default;
 * with `nodePath`, its volumes' directories are under it (`mk up` puts them in its data directory,
 * which `mk down --purge` removes), else under LOCAL_PATH_DEFAULT_BASE.
 */
export function localPathStorageClass(nodePath?: string): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS_NAME, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    ...(nodePath ? { parameters: { [LOCAL_PATH_NODE_PATH_PARAMETER]: nodePath } } : {}),
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** The claim a local-path volume was provisioned for (its claimRef). */
export interface LocalVolumeClaim {
  uid: string;
  namespace: string;
  name: string;
}

/** The directory name of a claim's volume: `pvc-<uid>_<namespace>_<name>` (local-path's naming). */
export const localVolumeDirName = (claim: LocalVolumeClaim): string => `pvc-${claim.uid}_${claim.namespace}_${claim.name}`;

/** The directory of a claim's volume under `base`: `<base>/pvc-<uid>_<namespace>_<name>`. */
export function localVolumeDir(base: string, claim: LocalVolumeClaim): string {
  return `${base.replace(/\/+$/, '')}/${localVolumeDirName(claim)}`;
}

/** The claim a volume's claimRef names in full (uid, namespace, name), or undefined. */
export function localVolumeClaimOf(pv: Pick<PersistentVolume, 'spec'>): LocalVolumeClaim | undefined {
  const ref = pv.spec.claimRef;
  if (!ref?.uid || !ref.namespace || !ref.name) return undefined;
  return { uid: ref.uid, namespace: ref.namespace, name: ref.name };
}

/** True when the volume was made by the local-path provisioner. */
export function isLocalPathVolume(pv: Pick<PersistentVolume, 'metadata'>): boolean {
  return pv.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] === LOCAL_PATH_PROVISIONER;
}

/**
 * The node a volume's node affinity names by hostname (one term, `kubernetes.io/hostname In
 * [node]`, as the provisioner writes it), or undefined when it names no single node.
 */
export function volumeNodeName(pv: Pick<PersistentVolume, 'spec'>): string | undefined {
  const terms = pv.spec.nodeAffinity?.required.nodeSelectorTerms ?? [];
  if (terms.length !== 1) return undefined;
  const exprs = terms[0].matchExpressions ?? [];
  const host = exprs.find((e) => e.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.length === 1);
  return host?.values?.[0];
}

/** One local-path volume of a node, as the control plane tells the node (mk.api.node.<node>.local-volumes). */
export interface LocalVolume {
  /** The PersistentVolume's name and uid. */
  name: string;
  uid: string;
  /** The directory (the volume's local.path). */
  path: string;
  /** The claim the volume was provisioned for (its claimRef); the directory is named after it. */
  claim?: LocalVolumeClaim;
  reclaimPolicy: 'Retain' | 'Delete';
  /** The volume object is being deleted: the node removes the directory (Delete) or leaves it (Retain), then says so. */
  deleting: boolean;
}

/** The reply of mk.api.node.<node>.local-volumes: the local-path volumes whose node affinity names the node. */
export interface LocalVolumesResult {
  volumes: LocalVolume[];
}

/** mk.api.node.<node>.local-volume-cleaned: the node is done with a deleted volume's directory. */
export interface LocalVolumeCleanedRequest {
  name: string;
  uid: string;
}

/** What the control plane publishes to a node when its local-path volumes changed: `mk.node.<node>.local-volumes`. */
export function localVolumesNudgeSubject(node: string): string {
  return `mk.node.${encodeToken(node)}.local-volumes`;
}
