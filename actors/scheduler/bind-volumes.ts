/**
 * The bind step for a pod's WaitForFirstConsumer claims (kube-scheduler's VolumeBinding Reserve
 * and PreBind): once the pod's node is chosen, each claim not bound yet is bound to the smallest
 * free volume that fits and is reachable from that node (the PV controller's own two writes:
 * the volume's claimRef, then the claim), or, when none is and its class makes volumes, is
 * annotated `volume.kubernetes.io/selected-node` for the provisioner.
 *
 * Where Kubernetes differs: its scheduler waits in PreBind until every claim is Bound (a
 * provisioned one too) before it writes the pod's node. mk binds the static volumes itself before
 * the pod, so such a pod is bound only with its claims Bound; a pod waiting for a provisioned
 * volume is bound at once, and its node does not start it until the claim is Bound (its volume
 * setup fails with FailedMount and is retried on the next sync). Either way no container runs
 * before its claims are Bound.
 */
import type { ObjectStore } from '../../bus';
import {
  ConflictError, objectKey, PersistentVolumeClaimKind, PersistentVolumeKind, SELECTED_NODE_ANNOTATION,
  type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod,
} from '../../messages';
import { isVolumeBoundToClaim } from '../volume/binder';
import { bind } from '../volume/reconcile';
import { chooseVolumes, volumePreFilter, type VolumeView } from './plugins/volume-binding';

/** What the bind step does for one claim: bind it to `volume`, or (no volume) ask for one on the node. */
export interface ClaimBinding { claim: PersistentVolumeClaim; volume?: PersistentVolume }

/**
 * The claims of `pod` (store key `key`) to bind for `node`, from the same view the decision read;
 * empty when it has none waiting. Throws ConflictError when the view no longer lets the pod fit
 * there (its pod actor asks again and the pod is decided afresh).
 */
export function planVolumeBindings(key: string, pod: Pod, view: VolumeView, node: Node): ClaimBinding[] {
  const pre = volumePreFilter(key, pod, view);
  if ('reason' in pre) throw new ConflictError(`pod ${key} cannot be bound: ${pre.reason}`);
  if (!pre.state?.delayed.length) return [];
  const plan = chooseVolumes(pre.state, node);
  if (!plan) throw new ConflictError(`pod ${key} cannot be bound to ${node.metadata.name}: its volumes were taken meanwhile`);
  return plan;
}

/**
 * The copies the bindings will write (volume and claim bound to each other, or the claim with its
 * selected node), for the cache to count at once so the next decision neither offers the same
 * volume nor sends another pod of the same claim to another node.
 */
export function assumedBindings(plan: readonly ClaimBinding[], node: string, now: Date): (PersistentVolume | PersistentVolumeClaim)[] {
  const out: (PersistentVolume | PersistentVolumeClaim)[] = [];
  for (const b of plan) {
    if (!b.volume) {
      if (b.claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION] === node) continue;
      const claim = structuredClone(b.claim);
      claim.metadata.annotations = { ...(claim.metadata.annotations ?? {}), [SELECTED_NODE_ANNOTATION]: node };
      out.push(claim);
      continue;
    }
    const pv = structuredClone(b.volume);
    const claim = structuredClone(b.claim);
    bind(pv, claim, now);
    out.push(pv, claim);
  }
  return out;
}

/**
 * Writes the plan for `node`: each volume binding as two writes under the revisions read now
 * (volume first, as the PV controller does; a crash between is finished by the PV controller,
 * which finds the volume pre-bound to the claim), each provisioning as the selected-node
 * annotation. Throws ConflictError when a volume was taken by another claim, or a claim's node
 * selected for another node, meanwhile, and the
 * store's errors as they are.
 */
export async function writeVolumeBindings(store: ObjectStore, plan: readonly ClaimBinding[], node: string, now: Date): Promise<void> {
  for (const b of plan) {
    const ns = b.claim.metadata.namespace ?? 'default';
    const claimKey = objectKey(PersistentVolumeClaimKind.plural, ns, b.claim.metadata.name);
    const claim = await store.get<PersistentVolumeClaim>(claimKey);
    if (!claim || claim.object.metadata.uid !== b.claim.metadata.uid) throw new ConflictError(`persistentvolumeclaim "${b.claim.metadata.name}" changed while its pod was being bound`);
    if (claim.object.status?.phase === 'Bound') continue; // bound meanwhile (the PV controller, a pre-binding)
    if (!b.volume) {
      const selected = claim.object.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
      if (selected === node) continue;
      // Another pod's decision sent the claim elsewhere meanwhile: never move it.
      if (selected !== undefined) throw new ConflictError(`persistentvolumeclaim "${b.claim.metadata.name}" was meanwhile selected for node ${selected}, not ${node}`);
      const next = structuredClone(claim.object);
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [SELECTED_NODE_ANNOTATION]: node };
      await store.update(claimKey, next, claim.revision);
      continue;
    }
    const pvKey = objectKey(PersistentVolumeKind.plural, undefined, b.volume.metadata.name);
    const pv = await store.get<PersistentVolume>(pvKey);
    if (!pv || pv.object.metadata.deletionTimestamp || (pv.object.spec.claimRef && !isVolumeBoundToClaim(pv.object, claim.object))) {
      throw new ConflictError(`persistentvolume "${b.volume.metadata.name}" was taken while pod's claim "${b.claim.metadata.name}" was being bound to it`);
    }
    const volume = structuredClone(pv.object);
    const bound = structuredClone(claim.object);
    bind(volume, bound, now);
    await store.update(pvKey, volume, pv.revision);
    await store.update(claimKey, bound, claim.revision);
  }
}
