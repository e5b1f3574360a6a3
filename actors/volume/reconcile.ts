/**
 * The PV controller's decisions as pure functions: one for a claim (bind it, or say why it waits),
 * one for a volume (its phase, and whether it is reclaimed). They follow Kubernetes' PV controller
 * (pkg/controller/volume/persistentvolume/pv_controller.go: syncClaim, syncUnboundClaim,
 * syncBoundClaim, syncVolume) and its protection controllers (pvc-protection, pv-protection).
 *
 * Binding is two writes, as in Kubernetes: first the volume (claimRef and phase Bound), then the
 * claim (volumeName, the bind-completed annotation, status Bound). A crash between the two leaves a
 * volume whose claimRef names a claim that does not name it; the claim's next pass finds that
 * volume first (it is pre-bound to the claim) and finishes the binding, and the volume's pass
 * leaves it Bound meanwhile. Each write is made under the revision it was decided from.
 */
import {
  BIND_COMPLETED_ANNOTATION, BOUND_BY_CONTROLLER_ANNOTATION, claimClass, defaultClass, PV_PROTECTION_FINALIZER,
  PROVISIONED_BY_ANNOTATION, PVC_PROTECTION_FINALIZER, BETA_CLASS_ANNOTATION, SELECTED_NODE_ANNOTATION, timestamp,
  type ClaimPhase, type PersistentVolume, type PersistentVolumeClaim, type PersistentVolumePhase, type StorageClass,
} from '../../messages';
import { stableJson } from '../api/stable-json';
import { findBestVolume, isVolumeBoundToClaim, volumeFitError } from './binder';

/** An event the controller records about the object it decided on. */
export interface VolumeEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

/** The provisioner of classes whose volumes are made by hand. */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** Kubernetes' event messages (pkg/controller/volume/events and pv_controller.go). */
export const MESSAGES = {
  noClass: 'no persistent volumes available for this claim and no storage class is set',
  waitForFirstConsumer: 'waiting for first consumer to be created before binding',
  externalProvisioning: (p: string) => `Waiting for a volume to be created either by the external provisioner '${p}' or manually by the system `
    + 'administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.',
  classNotFound: (c: string) => `storageclass.storage.k8s.io "${c}" not found`,
  noProvisioner: `no volume plugin matched name: ${NO_PROVISIONER}`,
  cannotBind: (v: string, why: string) => `Cannot bind to requested volume "${v}": ${why}`,
  boundElsewhere: (v: string) => `volume "${v}" already bound to a different claim.`,
  lostReference: 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
  lostVolume: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
  misbound: 'Two claims are bound to the same volume, this one is bound incorrectly',
} as const;

/** What a claim's decision reads. */
export interface ClaimInput {
  claim: PersistentVolumeClaim;
  /** Every PersistentVolume. */
  volumes: readonly PersistentVolume[];
  /** Every StorageClass. */
  classes: readonly StorageClass[];
  /** Whether a pod that has not finished uses the claim (read only for a claim being deleted). */
  inUse: boolean;
  now: Date;
}

/** What to write for a claim, in this order: the volume, then the claim. Absent: unchanged. */
export interface ClaimDecision {
  volume?: PersistentVolume;
  claim?: PersistentVolumeClaim;
  events: VolumeEvent[];
}

const annotate = (o: { metadata: { annotations?: Record<string, string> } }, k: string, v: string): void => {
  o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [k]: v };
};
const unannotate = (o: { metadata: { annotations?: Record<string, string> } }, k: string): void => {
  if (!o.metadata.annotations || !(k in o.metadata.annotations)) return;
  const { [k]: _gone, ...rest } = o.metadata.annotations;
  if (Object.keys(rest).length > 0) o.metadata.annotations = rest; else delete o.metadata.annotations;
};

function withFinalizer(o: { metadata: { finalizers?: string[] } }, f: string, want: boolean): void {
  const have = o.metadata.finalizers ?? [];
  if (want && !have.includes(f)) o.metadata.finalizers = [...have, f];
  if (!want && have.includes(f)) {
    const rest = have.filter((x) => x !== f);
    if (rest.length > 0) o.metadata.finalizers = rest; else delete o.metadata.finalizers;
  }
}

/** Sets a volume's phase; the transition time moves only when the phase does. */
function setVolumePhase(pv: PersistentVolume, phase: PersistentVolumePhase, now: Date, why?: { reason: string; message: string }): void {
  const was = pv.status?.phase;
  const status: NonNullable<PersistentVolume['status']> = { phase };
  if (why) { status.reason = why.reason; status.message = why.message; }
  status.lastPhaseTransitionTime = was === phase && pv.status?.lastPhaseTransitionTime ? pv.status.lastPhaseTransitionTime : timestamp(now);
  pv.status = status;
}

function setClaimPending(c: PersistentVolumeClaim): void {
  c.status = { phase: 'Pending' };
}

function setClaimLost(c: PersistentVolumeClaim, message: string, events: VolumeEvent[]): void {
  // Said once, when the claim enters Lost, as Kubernetes does.
  if (c.status?.phase !== 'Lost') events.push({ type: 'Warning', reason: 'ClaimLost', message });
  c.status = { phase: 'Lost' as ClaimPhase };
}

/**
 * Binds `pv` and `c` to each other (both are copies, changed in place): the volume's claimRef
 * and phase Bound, the claim's volumeName, bind-completed annotation and status Bound. Written in
 * that order (volume, then claim) by the PV controller and by the scheduler's bind step alike.
 */
export function bind(pv: PersistentVolume, c: PersistentVolumeClaim, now: Date): void {
  const ns = c.metadata.namespace ?? 'default';
  const ref = pv.spec.claimRef;
  if (!ref || ref.uid !== c.metadata.uid || ref.name !== c.metadata.name || ref.namespace !== ns) {
    if (!ref) annotate(pv, BOUND_BY_CONTROLLER_ANNOTATION, 'yes');
    pv.spec.claimRef = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: ns, name: c.metadata.name, ...(c.metadata.uid ? { uid: c.metadata.uid } : {}) };
  }
  setVolumePhase(pv, 'Bound', now);
  if (c.spec.volumeName !== pv.metadata.name) {
    if (!c.spec.volumeName) annotate(c, BOUND_BY_CONTROLLER_ANNOTATION, 'yes');
    c.spec.volumeName = pv.metadata.name;
  }
  annotate(c, BIND_COMPLETED_ANNOTATION, 'yes');
  c.status = { phase: 'Bound', accessModes: [...pv.spec.accessModes], capacity: { storage: pv.spec.capacity.storage } };
}

/**
 * Why an unbound claim that names no volume waits, as an event (Kubernetes' syncUnboundClaim). A
 * delayed claim the scheduler chose a node for waits for its provisioner, as any other would.
 */
function waitingEvent(c: PersistentVolumeClaim, sc: StorageClass | undefined, delayed: boolean): VolumeEvent {
  const cls = claimClass(c);
  if (delayed && !c.metadata.annotations?.[SELECTED_NODE_ANNOTATION]) return { type: 'Normal', reason: 'WaitForFirstConsumer', message: MESSAGES.waitForFirstConsumer };
  if (cls === '') return { type: 'Normal', reason: 'FailedBinding', message: MESSAGES.noClass };
  if (!sc) return { type: 'Warning', reason: 'ProvisioningFailed', message: MESSAGES.classNotFound(cls) };
  if (sc.provisioner === NO_PROVISIONER) return { type: 'Warning', reason: 'ProvisioningFailed', message: MESSAGES.noProvisioner };
  return { type: 'Normal', reason: 'ExternalProvisioning', message: MESSAGES.externalProvisioning(sc.provisioner) };
}

/**
 * A claim's decision: its protection finalizer, its class when it has none and a default exists
 * (Kubernetes' retroactive default class, for claims made before the default), its binding or why
 * it waits, and Lost when the volume it was bound to is gone. A claim being deleted only loses its
 * finalizer, once no pod that has not finished uses it.
 */
export function reconcileClaim(input: ClaimInput): ClaimDecision {
  const { volumes, classes, now } = input;
  const c = structuredClone(input.claim);
  const events: VolumeEvent[] = [];
  let pv: PersistentVolume | undefined;
  if (c.metadata.deletionTimestamp) {
    if (!input.inUse) withFinalizer(c, PVC_PROTECTION_FINALIZER, false);
    return changed(input.claim, c, undefined, undefined, events);
  }
  withFinalizer(c, PVC_PROTECTION_FINALIZER, true);
  if (c.spec.storageClassName === null) delete c.spec.storageClassName;
  if (c.spec.storageClassName === undefined && !c.metadata.annotations?.[BETA_CLASS_ANNOTATION] && !c.spec.volumeName) {
    const def = defaultClass(classes);
    if (def) c.spec.storageClassName = def.metadata.name;
  }
  const named = c.spec.volumeName ? volumes.find((v) => v.metadata.name === c.spec.volumeName) : undefined;
  if (c.metadata.annotations?.[BIND_COMPLETED_ANNOTATION]) {
    // Bound before (syncBoundClaim).
    if (!c.spec.volumeName) setClaimLost(c, MESSAGES.lostReference, events);
    else if (!named) setClaimLost(c, MESSAGES.lostVolume, events);
    else if (!named.spec.claimRef || isVolumeBoundToClaim(named, c)) bind(pv = structuredClone(named), c, now);
    else {
      if (c.status?.phase !== 'Lost') events.push({ type: 'Warning', reason: 'ClaimMisbound', message: MESSAGES.misbound });
      c.status = { phase: 'Lost' };
    }
  } else if (c.spec.volumeName) {
    // The user named the volume (syncUnboundClaim, volumeName set).
    const why = named && !named.spec.claimRef ? volumeFitError(named, c) : undefined;
    if (!named || named.metadata.deletionTimestamp) setClaimPending(c);
    else if (named.spec.claimRef && !isVolumeBoundToClaim(named, c)) {
      events.push({ type: 'Warning', reason: 'FailedBinding', message: MESSAGES.boundElsewhere(named.metadata.name) });
      setClaimPending(c);
    } else if (why) {
      events.push({ type: 'Warning', reason: 'FailedBinding', message: MESSAGES.cannotBind(named.metadata.name, why) });
      setClaimPending(c);
    } else bind(pv = structuredClone(named), c, now);
  } else {
    const sc = classes.find((x) => x.metadata.name === claimClass(c));
    const delayed = sc?.volumeBindingMode === 'WaitForFirstConsumer';
    // A delayed claim waits for a pod, unless a volume was pre-bound to it.
    const found = findBestVolume(c, delayed ? volumes.filter((v) => v.spec.claimRef) : volumes);
    if (found) bind(pv = structuredClone(found), c, now);
    else {
      events.push(waitingEvent(c, sc, delayed));
      setClaimPending(c);
    }
  }
  const original = pv ? volumes.find((v) => v.metadata.name === pv!.metadata.name) : undefined;
  return changed(input.claim, c, original, pv, events);
}

function changed(
  claimBefore: PersistentVolumeClaim, claim: PersistentVolumeClaim,
  volumeBefore: PersistentVolume | undefined, volume: PersistentVolume | undefined, events: VolumeEvent[],
): ClaimDecision {
  const out: ClaimDecision = { events };
  if (volume && stableJson(volume) !== stableJson(volumeBefore)) out.volume = volume;
  if (stableJson(claim) !== stableJson(claimBefore)) out.claim = claim;
  return out;
}

/** What a volume's decision reads. */
export interface VolumeInput {
  volume: PersistentVolume;
  /** The claim named by the volume's claimRef (by namespace and name), if it exists. */
  claim: PersistentVolumeClaim | undefined;
  now: Date;
}

/** What to do for a volume: write it as `volume` (absent: unchanged), then reclaim it. */
export interface VolumeDecision {
  volume?: PersistentVolume;
  /** The claim is gone and the policy is Delete: the volume's data and object are to go. */
  reclaim?: 'delete';
  events: VolumeEvent[];
}

/**
 * A volume's decision (Kubernetes' syncVolume and pv-protection): Available while free or only
 * reserved by a user's claimRef, Bound while its claim exists (the claim's pass finishes a binding
 * half made), Released once the claim is gone (then reclaimed by policy: Retain keeps it Released,
 * Delete deletes it), freed again when its claim turned out bound to another volume (Released
 * and reclaimed like a volume whose claim is gone, when a provisioner made it for that claim). Its
 * protection finalizer stays while it is Bound and goes once it is being deleted and not Bound.
 */
export function reconcileVolume(input: VolumeInput): VolumeDecision {
  const v = structuredClone(input.volume);
  const { now } = input;
  const out: VolumeDecision = { events: [] };
  const deleting = !!v.metadata.deletionTimestamp;
  const ref = v.spec.claimRef;
  const phase = v.status?.phase;
  if (!ref || !ref.uid) {
    // Free, or reserved by the user for a claim not bound yet.
    if (phase !== 'Available') setVolumePhase(v, 'Available', now);
  } else {
    const claim = input.claim && input.claim.metadata.uid === ref.uid ? input.claim : undefined;
    if (!claim) {
      if (phase !== 'Released' && phase !== 'Failed') setVolumePhase(v, 'Released', now);
      if ((v.spec.persistentVolumeReclaimPolicy ?? 'Retain') === 'Delete' && !deleting) out.reclaim = 'delete';
    } else if (!claim.spec.volumeName || claim.spec.volumeName === v.metadata.name) {
      if (phase !== 'Bound') setVolumePhase(v, 'Bound', now);
    } else if (v.metadata.annotations?.[PROVISIONED_BY_ANNOTATION]) {
      // Made for this claim, which got another volume: nobody needs this one (Kubernetes' syncVolume
      // deletes a dynamically provisioned volume then; mk reclaims it by its policy, as when its
      // claim is gone, so Retain keeps its data Released rather than reserved for nobody).
      if (phase !== 'Released' && phase !== 'Failed') setVolumePhase(v, 'Released', now);
      if ((v.spec.persistentVolumeReclaimPolicy ?? 'Retain') === 'Delete' && !deleting) out.reclaim = 'delete';
    } else if (v.metadata.annotations?.[BOUND_BY_CONTROLLER_ANNOTATION]) {
      // The claim is bound to another volume: the controller's binding of this one is undone.
      delete v.spec.claimRef;
      unannotate(v, BOUND_BY_CONTROLLER_ANNOTATION);
      setVolumePhase(v, 'Available', now);
    } else {
      // The user's reservation stays; only the uid of the claim bound elsewhere goes.
      const { uid: _uid, resourceVersion: _rv, ...rest } = ref;
      v.spec.claimRef = rest;
      setVolumePhase(v, 'Available', now);
    }
  }
  withFinalizer(v, PV_PROTECTION_FINALIZER, !deleting || v.status?.phase === 'Bound');
  if (stableJson(v) !== stableJson(input.volume)) out.volume = v;
  return out;
}

/** A volume whose reclaim failed: Failed with the reason, as Kubernetes' deleteVolumeOperation leaves it. */
export function reclaimFailed(pv: PersistentVolume, message: string, now: Date): { volume: PersistentVolume; event: VolumeEvent } {
  const v = structuredClone(pv);
  setVolumePhase(v, 'Failed', now, { reason: 'VolumeFailedDelete', message });
  return { volume: v, event: { type: 'Warning', reason: 'VolumeFailedDelete', message } };
}
