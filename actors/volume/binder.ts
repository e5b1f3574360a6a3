/**
 * Which volume a claim binds: Kubernetes' PV controller's matching (findMatchingVolume and
 * checkVolumeSatisfyClaim in pkg/controller/volume/persistentvolume), as pure functions. A volume
 * fits a claim when it is of the claim's class ("" matches volumes with no class), at least as
 * large as the request, offers every access mode the claim asks for, has its volume mode and
 * carries the labels its selector wants. Of the free volumes that fit, the smallest is chosen; a
 * volume pre-bound to the claim (its claimRef names it) is chosen before any other, and for it
 * only size and volume mode count (the user chose it).
 */
import {
  accessModesText, claimClass, selectorMatches, storageBytes, volumeClass,
  type PersistentVolume, type PersistentVolumeClaim,
} from '../../messages';

/** True when the volume's claimRef names this claim (by namespace and name, and uid once set). */
export function isVolumeBoundToClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || ref.namespace !== (claim.metadata.namespace ?? 'default')) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

const mode = (m: string | undefined): string => m ?? 'Filesystem';
const tooSmall = (pv: PersistentVolume, claim: PersistentVolumeClaim): boolean =>
  storageBytes(claim.spec.resources.requests.storage) > storageBytes(pv.spec.capacity.storage);

/**
 * Why `pv` cannot satisfy `claim` (Kubernetes' wording), or undefined when it can. Used for a
 * claim that names its volume: its event says why the binding is refused.
 */
export function volumeFitError(pv: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (tooSmall(pv, claim)) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(claim)) return 'storageClassName does not match';
  if (mode(pv.spec.volumeMode) !== mode(claim.spec.volumeMode)) return 'incompatible volumeMode';
  const offered = new Set(pv.spec.accessModes);
  const missing = claim.spec.accessModes.filter((m) => !offered.has(m));
  if (missing.length > 0) return `incompatible accessMode (the volume offers ${accessModesText(pv.spec.accessModes) || 'none'})`;
  return undefined;
}

/** True when the claim's selector (if any) takes the volume's labels. */
function selected(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  return !claim.spec.selector || selectorMatches(claim.spec.selector, pv.metadata.labels);
}

/**
 * The volume `claim` should bind among `volumes`, or undefined when none fits: a volume
 * pre-bound to the claim first (when it fits), else the smallest free volume that fits (by name
 * among equals, so the choice is the same on every pass). Volumes being deleted, pre-bound to
 * another claim or bound already are never chosen.
 */
export function findBestVolume(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[]): PersistentVolume | undefined {
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (pv.metadata.deletionTimestamp || mode(pv.spec.volumeMode) !== mode(claim.spec.volumeMode)) continue;
    if (pv.spec.claimRef) {
      // Pre-bound by the user to this claim: only size and mode count, as in Kubernetes.
      if (isVolumeBoundToClaim(pv, claim) && !tooSmall(pv, claim)) return pv;
      continue;
    }
    if (volumeFitError(pv, claim) !== undefined || !selected(pv, claim)) continue;
    if (!best) { best = pv; continue; }
    const d = storageBytes(pv.spec.capacity.storage) - storageBytes(best.spec.capacity.storage);
    if (d < 0 || (d === 0 && pv.metadata.name < best.metadata.name)) best = pv;
  }
  return best;
}
