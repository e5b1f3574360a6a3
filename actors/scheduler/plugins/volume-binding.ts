/**
 * The VolumeBinding and VolumeRestrictions plugins in small (kubernetes/kubernetes
 * pkg/scheduler/framework/plugins/volumebinding and volumerestrictions;
 * https://kubernetes.io/docs/concepts/storage/persistent-volumes/#binding): a pod's claims are
 * read once per decision (the pre-filter), which refuses the pod everywhere when a claim is
 * missing, being deleted, Pending in an Immediate class or used by another pod under
 * ReadWriteOncePod; then per node a bound claim's volume must be reachable from the node (its
 * nodeAffinity), and a WaitForFirstConsumer claim not bound yet needs a free volume that fits and
 * is reachable there, or a class that provisions one (only on the node already selected for it, if
 * one is; for local-path, on a node with room for it). The same search, run for the chosen node,
 * is what the bind step binds (chooseVolumes).
 */
import {
  claimClass, LOCAL_PATH_CLASS_NAME, LOCAL_PATH_NODE_PATH_PARAMETER, LOCAL_PATH_PROVISIONER, matchesNodeSelectorTerm, memoryBytes, SELECTED_NODE_ANNOTATION,
  type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass,
} from '../../../messages';
import { findBestVolume } from '../../volume/binder';
import { NO_PROVISIONER } from '../../volume/reconcile';
import { FITS, type FilterReasons, type NodeInfo } from './types';

/** Kubernetes' reasons and messages (volumebinding and volumerestrictions plugins). */
export const VOLUME_REASONS = {
  claimNotFound: (name: string) => `persistentvolumeclaim "${name}" not found`,
  claimDeleting: (name: string) => `persistentvolumeclaim "${name}" is being deleted`,
  volumeNotFound: (claim: string, pv: string) => `pvc ${claim} bound to non-existent pv ${pv}`,
  unboundImmediate: 'pod has unbound immediate PersistentVolumeClaims',
  readWriteOncePod: 'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode',
  nodeConflict: 'node(s) had volume node affinity conflict',
  bindConflict: "node(s) didn't find available persistent volumes to bind",
  notEnoughSpace: 'node(s) did not have enough free storage',
} as const;

/** What the plugin reads of the cluster's storage (the scheduler's cache). */
export interface VolumeView {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  /** Every PersistentVolume. */
  volumes(): readonly PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
  /** The keys of the pods placed on a node (or being bound) that use the claim. */
  claimUsers(namespace: string, name: string): ReadonlySet<string>;
}

/**
 * A WaitForFirstConsumer claim not bound yet, whether its class makes volumes, and whether those
 * are local-path directories (bounded by what each node has room for).
 */
export interface DelayedClaim { claim: PersistentVolumeClaim; provisions: boolean; localPath: boolean }

/** The pod's claims as the pre-filter found them. */
export interface VolumeState {
  /** Bound claims with their volumes. */
  bound: { claim: PersistentVolumeClaim; volume: PersistentVolume }[];
  delayed: DelayedClaim[];
  /** Every PersistentVolume, for the delayed claims' search. */
  volumes: readonly PersistentVolume[];
}

/** The pre-filter's answer: a reason no node can fit, or the state the filter reads. */
export type VolumePreFilter = { reason: string } | { state: VolumeState | undefined };

/** True when the volume may be used from the node (no nodeAffinity: every node). */
export function volumeReachable(pv: PersistentVolume, node: Pick<Node, 'metadata'>): boolean {
  const terms = pv.spec.nodeAffinity?.required.nodeSelectorTerms;
  return !terms || terms.some((t) => matchesNodeSelectorTerm(t, node));
}

/**
 * True for a local-path class whose volumes the node's reported storage measures: the class `mk up`
 * makes (its directories are in the cluster's data directory, beside the node's) or one naming no
 * base. A class with a base of its own may be on another disk, which no node reports: not bounded.
 */
function measuredLocalPath(sc: StorageClass): boolean {
  return sc.provisioner === LOCAL_PATH_PROVISIONER && (sc.metadata.name === LOCAL_PATH_CLASS_NAME || !sc.parameters?.[LOCAL_PATH_NODE_PATH_PARAMETER]);
}

/** True when the class binds its claims once a pod uses them. */
function delayedClass(sc: StorageClass | undefined): boolean {
  return sc?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** Reads the pod's claims once; `key` is the pod's store key (its own use of a claim is no conflict). */
export function volumePreFilter(key: string, pod: Pod, view: VolumeView): VolumePreFilter {
  const names = [...new Set((pod.spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [])))];
  if (names.length === 0) return { state: undefined };
  const ns = pod.metadata.namespace ?? 'default';
  const state: VolumeState = { bound: [], delayed: [], volumes: [] };
  for (const name of names) {
    const claim = view.claim(ns, name);
    if (!claim) return { reason: VOLUME_REASONS.claimNotFound(name) };
    if (claim.metadata.deletionTimestamp) return { reason: VOLUME_REASONS.claimDeleting(name) };
    if (claim.spec.accessModes.includes('ReadWriteOncePod') && [...view.claimUsers(ns, name)].some((k) => k !== key)) {
      return { reason: VOLUME_REASONS.readWriteOncePod };
    }
    if (claim.spec.volumeName && claim.status?.phase === 'Bound') {
      const volume = view.volume(claim.spec.volumeName);
      if (!volume) return { reason: VOLUME_REASONS.volumeNotFound(name, claim.spec.volumeName) };
      state.bound.push({ claim, volume });
      continue;
    }
    const sc = view.storageClass(claimClass(claim));
    // A claim that names its volume, or of an Immediate class, is the PV controller's to bind.
    if (claim.spec.volumeName || !delayedClass(sc)) return { reason: VOLUME_REASONS.unboundImmediate };
    state.delayed.push({ claim, provisions: !!sc && sc.provisioner !== NO_PROVISIONER, localPath: !!sc && measuredLocalPath(sc) });
  }
  if (state.delayed.length) state.volumes = view.volumes();
  return { state };
}

/** The nodes' fields the volume search reads: its labels, and what storage it reports. */
type VolumeNode = Pick<Node, 'metadata' | 'status'>;

/**
 * What one local-path volume on the node may hold: the allocatable ephemeral-storage the node
 * reports (the file system of its data directory, where `mk up`'s class keeps its volumes), as
 * storage capacity tracking bounds a provisioned volume by the capacity its driver reports for the
 * node (CSIStorageCapacity). A directory reserves nothing, so the bound is per volume, not a sum;
 * undefined (no bound) while the node has not reported it.
 */
export function localPathRoom(node: VolumeNode): number | undefined {
  const q = node.status?.allocatable?.['ephemeral-storage'];
  return q === undefined ? undefined : memoryBytes(q);
}

/** True when the node has room for the volume the claim's class would provision. */
function provisionFits(d: DelayedClaim, node: VolumeNode): boolean {
  if (!d.localPath) return true;
  const room = localPathRoom(node);
  return room === undefined || memoryBytes(d.claim.spec.resources.requests.storage) <= room;
}

/** The volumes chosen for the delayed claims on one node: a free volume each, or none to provision. */
export type VolumePlan = { claim: PersistentVolumeClaim; volume?: PersistentVolume }[];

/**
 * For each delayed claim on `node`: the free volume it would bind (the smallest that fits and is
 * reachable from the node, one volume per claim), `provision` when none does and its class makes
 * volumes with room for it on the node; else the reason the node does not fit. A claim whose node
 * was already selected (an earlier pod's decision, the provisioner at work) is provisioned there and
 * fits no other node, as in Kubernetes' FindPodVolumes and checkVolumeProvisions: a second pod
 * sharing it must follow.
 */
export function planVolumes(state: VolumeState, node: VolumeNode): { plan: VolumePlan } | { reason: string } {
  const taken = new Set<string>();
  const plan: VolumePlan = [];
  for (const d of state.delayed) {
    const selected = d.claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
    if (selected !== undefined) {
      if (selected !== node.metadata.name || !d.provisions) return { reason: VOLUME_REASONS.bindConflict };
      plan.push({ claim: d.claim });
      continue;
    }
    const candidates = state.volumes.filter((v) => !taken.has(v.metadata.name) && volumeReachable(v, node));
    const volume = findBestVolume(d.claim, candidates);
    if (volume) {
      taken.add(volume.metadata.name);
      plan.push({ claim: d.claim, volume });
    } else if (!d.provisions) return { reason: VOLUME_REASONS.bindConflict };
    else if (!provisionFits(d, node)) return { reason: VOLUME_REASONS.notEnoughSpace };
    else plan.push({ claim: d.claim });
  }
  return { plan };
}

/** planVolumes' plan, or undefined when the node does not fit. */
export function chooseVolumes(state: VolumeState, node: VolumeNode): VolumePlan | undefined {
  const r = planVolumes(state, node);
  return 'plan' in r ? r.plan : undefined;
}

/** The per-node filter: bound volumes reachable, delayed claims satisfiable. */
export function volumeBindingFilter(node: NodeInfo, state: VolumeState | undefined): FilterReasons {
  if (!state) return FITS;
  if (state.bound.some((b) => !volumeReachable(b.volume, node.node))) return [VOLUME_REASONS.nodeConflict];
  if (!state.delayed.length) return FITS;
  const r = planVolumes(state, node.node);
  return 'reason' in r ? [r.reason] : FITS;
}
