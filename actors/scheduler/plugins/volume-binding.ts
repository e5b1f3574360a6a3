/**
 * The VolumeBinding and VolumeRestrictions plugins in small (kubernetes/kubernetes
 * pkg/scheduler/framework/plugins/volumebinding and volumerestrictions;
 * https://kubernetes.io/docs/concepts/storage/persistent-volumes/#binding): a pod's claims are
 * read once per decision (the pre-filter), which refuses the pod everywhere when a claim is
 * missing, being deleted, Pending in an Immediate class or used by another pod under
 * ReadWriteOncePod; then per node a bound claim's volume must be reachable from the node (its
 * nodeAffinity), and a WaitForFirstConsumer claim not bound yet needs a free volume that fits and
 * is reachable there, or a class that provisions one (only on the node already selected for it, if
 * one is). The same search, run for the chosen node,
 * is what the bind step binds (chooseVolumes).
 */
import {
  claimClass, matchesNodeSelectorTerm, SELECTED_NODE_ANNOTATION,
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

/** A WaitForFirstConsumer claim not bound yet, and whether its class makes volumes. */
export interface DelayedClaim { claim: PersistentVolumeClaim; provisions: boolean }

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
    state.delayed.push({ claim, provisions: !!sc && sc.provisioner !== NO_PROVISIONER });
  }
  if (state.delayed.length) state.volumes = view.volumes();
  return { state };
}

/**
 * For each delayed claim on `node`: the free volume it would bind (the smallest that fits and is
 * reachable from the node, one volume per claim), `provision` when none does and its class makes
 * volumes; undefined when some claim has neither. A claim whose node was already selected (an
 * earlier pod's decision, the provisioner at work) is provisioned there and fits no other node,
 * as in Kubernetes' FindPodVolumes and checkVolumeProvisions: a second pod sharing it must follow.
 */
export function chooseVolumes(state: VolumeState, node: Pick<Node, 'metadata'>): { claim: PersistentVolumeClaim; volume?: PersistentVolume }[] | undefined {
  const taken = new Set<string>();
  const out: { claim: PersistentVolumeClaim; volume?: PersistentVolume }[] = [];
  for (const d of state.delayed) {
    const selected = d.claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
    if (selected !== undefined) {
      if (selected !== node.metadata.name || !d.provisions) return undefined;
      out.push({ claim: d.claim });
      continue;
    }
    const candidates = state.volumes.filter((v) => !taken.has(v.metadata.name) && volumeReachable(v, node));
    const volume = findBestVolume(d.claim, candidates);
    if (volume) {
      taken.add(volume.metadata.name);
      out.push({ claim: d.claim, volume });
    } else if (d.provisions) out.push({ claim: d.claim });
    else return undefined;
  }
  return out;
}

/** The per-node filter: bound volumes reachable, delayed claims satisfiable. */
export function volumeBindingFilter(node: NodeInfo, state: VolumeState | undefined): FilterReasons {
  if (!state) return FITS;
  if (state.bound.some((b) => !volumeReachable(b.volume, node.node))) return [VOLUME_REASONS.nodeConflict];
  if (state.delayed.length && !chooseVolumes(state, node.node)) return [VOLUME_REASONS.bindConflict];
  return FITS;
}
