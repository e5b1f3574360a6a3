/**
 * The invariants of the storage kind (storage.ts), pure functions of a snapshot and of what the
 * node was seen to hold, so unit tests can drive them with synthetic worlds.
 *
 * Claims and volumes follow Kubernetes' PV controller: a Bound claim names its volume and the
 * volume's claimRef names the claim back with its uid; a volume whose claim is gone is Released,
 * and with the Delete reclaim policy its provisioner deletes it
 * (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reclaiming).
 */
import type { KubeObject, PersistentVolume, PersistentVolumeClaim, Pod } from '../../messages';
import type { Violation, WorldSnapshot } from './kind';

/** A claim the workload made, and whether its deletion was acknowledged. */
export interface ClaimRecord {
  name: string;
  namespace: string;
  /** Its apply was acknowledged: the store must have it (until its deletion). */
  applied: boolean;
  /** Its deletion was acknowledged: it must go. */
  deleted: boolean;
}

/** What the storage kind saw on the node after a snapshot (storage.ts's `observe`). */
export interface StorageProbe {
  /** The ReplicaSet pod the files were read from (`namespace/name`). */
  pod?: string;
  /** The marker file's content, as read from that pod; or why it could not be read. */
  marker?: string;
  markerError?: string;
  /** The mounted ConfigMap file's content; or why it could not be read. */
  config?: string;
  configError?: string;
  /** The pod uids that have a `volumes` directory under the node's pods root; or why it could not be listed. */
  volumeDirs?: string[];
  volumeDirsError?: string;
  /** Mount points under the node's pods root (from /proc/self/mountinfo); or why they could not be read. */
  mounts?: string[];
  mountsError?: string;
  /** The node's pods root, for messages and to map mount points to pod uids. */
  podsRoot?: string;
}

const claimKey = (c: { namespace: string; name: string }): string => `${c.namespace}/${c.name}`;
const v = (invariant: string, subject: string, detail: string, permanent = false): Violation => ({ invariant, subject, detail, permanent });

/**
 * Every claim applied and not deleted is in the store and Bound; every claim deleted is gone. A
 * Bound claim's volume exists, is Bound, and its claimRef names the claim with the claim's uid.
 */
export function checkClaims(records: readonly ClaimRecord[], world: WorldSnapshot): Violation[] {
  const claims = (world.objects?.get('persistentvolumeclaims') ?? []) as PersistentVolumeClaim[];
  const volumes = (world.objects?.get('persistentvolumes') ?? []) as PersistentVolume[];
  const out: Violation[] = [];
  for (const r of records) {
    const subject = `claim ${claimKey(r)}`;
    const c = claims.find((x) => x.metadata.name === r.name && (x.metadata.namespace ?? 'default') === r.namespace);
    if (r.deleted) {
      if (c) out.push(v('claim-gone', subject, `deleted, yet still in the store (${c.metadata.deletionTimestamp ? `terminating, finalizers ${JSON.stringify(c.metadata.finalizers ?? [])}` : c.status?.phase ?? 'no phase'})`));
      continue;
    }
    if (!c) {
      if (r.applied) out.push(v('claim-lost', subject, 'applied and never deleted, yet not in the store'));
      continue;
    }
    const phase = c.status?.phase ?? 'Pending';
    if (phase !== 'Bound') { out.push(v('claim-bound', subject, `phase ${phase}, not Bound${c.spec.volumeName ? ` (volumeName ${c.spec.volumeName})` : ''}`)); continue; }
    out.push(...checkBoundClaim(c, volumes));
  }
  return out;
}

/** A Bound claim's volume: there, Bound, and bound to this claim (name, namespace and uid). */
function checkBoundClaim(c: PersistentVolumeClaim, volumes: readonly PersistentVolume[]): Violation[] {
  const subject = `claim ${c.metadata.namespace ?? 'default'}/${c.metadata.name}`;
  const name = c.spec.volumeName;
  if (!name) return [v('claim-volume', subject, 'Bound, yet names no volume (spec.volumeName is empty)')];
  const pv = volumes.find((x) => x.metadata.name === name);
  if (!pv) return [v('claim-volume', subject, `Bound to volume ${name}, which is not in the store`)];
  const out: Violation[] = [];
  if (pv.status?.phase !== 'Bound') out.push(v('claim-volume', subject, `its volume ${name} is ${pv.status?.phase ?? 'without a phase'}, not Bound`));
  const ref = pv.spec.claimRef;
  if (!ref || ref.name !== c.metadata.name || ref.namespace !== (c.metadata.namespace ?? 'default') || ref.uid !== c.metadata.uid) {
    out.push(v('claim-volume', subject, `its volume ${name} has claimRef ${ref ? `${ref.namespace}/${ref.name} uid ${ref.uid ?? 'none'}` : 'none'}, not this claim (uid ${c.metadata.uid})`));
  }
  return out;
}

/**
 * Over every volume in the store: none is Bound to a claim the store does not have (by name and
 * uid), and none is Released with the Delete policy (its provisioner should have deleted it).
 */
export function checkVolumes(world: WorldSnapshot): Violation[] {
  const claims = (world.objects?.get('persistentvolumeclaims') ?? []) as PersistentVolumeClaim[];
  const volumes = (world.objects?.get('persistentvolumes') ?? []) as PersistentVolume[];
  const out: Violation[] = [];
  for (const pv of volumes) {
    const subject = `volume ${pv.metadata.name}`;
    const ref = pv.spec.claimRef;
    const phase = pv.status?.phase;
    if (phase === 'Bound') {
      const c = ref && claims.find((x) => x.metadata.name === ref.name && (x.metadata.namespace ?? 'default') === ref.namespace);
      if (!c) out.push(v('volume-bound', subject, `Bound to claim ${ref ? `${ref.namespace}/${ref.name}` : '(none)'}, which is not in the store`));
      else if (ref.uid && c.metadata.uid !== ref.uid) out.push(v('volume-bound', subject, `Bound to claim ${ref.namespace}/${ref.name} uid ${ref.uid}; the store's claim of that name has uid ${c.metadata.uid}`));
    }
    if (phase === 'Released' && pv.spec.persistentVolumeReclaimPolicy === 'Delete') {
      out.push(v('volume-released', subject, `Released with reclaim policy Delete (claim ${ref ? `${ref.namespace}/${ref.name}` : 'none'}), yet not deleted${pv.status?.message ? `: ${pv.status.message}` : ''}`));
    }
  }
  return out;
}

/** The marker written (and acknowledged) before is read back unchanged from the ReplicaSet's current pod. */
export function checkMarker(expected: string | undefined, probe: StorageProbe | undefined): Violation[] {
  if (expected === undefined) return [];
  const subject = `marker ${probe?.pod ?? '(no pod)'}`;
  if (!probe?.pod) return [v('marker', subject, 'no Running pod of the ReplicaSet to read the marker from')];
  if (probe.marker === undefined) return [v('marker', subject, `could not read the marker: ${probe.markerError ?? 'not read'}`)];
  if (probe.marker.trim() !== expected) return [v('marker', subject, `the claim's marker file holds ${JSON.stringify(probe.marker.trim())}, not ${JSON.stringify(expected)} written before`)];
  return [];
}

/**
 * The mounted ConfigMap file holds its latest value: the last acknowledged one, or one whose
 * apply was still unacknowledged after it (`pending`, which may have gone through).
 */
export function checkConfigValue(acknowledged: string, pending: readonly string[], probe: StorageProbe | undefined): Violation[] {
  const subject = `configmap file ${probe?.pod ?? '(no pod)'}`;
  if (!probe?.pod) return [v('configmap', subject, 'no Running pod of the ReplicaSet to read the ConfigMap file from')];
  if (probe.config === undefined) return [v('configmap', subject, `could not read the mounted file: ${probe.configError ?? 'not read'}`)];
  const got = probe.config.trim();
  if (got === acknowledged || pending.includes(got)) return [];
  return [v('configmap', subject, `the mounted file holds ${JSON.stringify(got)}, not the ConfigMap's latest value ${JSON.stringify(acknowledged)}`)];
}

/** The pod uid a mount point under `podsRoot` belongs to, if any. */
export function mountPodUid(podsRoot: string, mount: string): string | undefined {
  const root = podsRoot.replace(/\/+$/, '');
  if (!mount.startsWith(`${root}/`)) return undefined;
  return mount.slice(root.length + 1).split('/')[0] || undefined;
}

/**
 * On the node: no pod volume directory (`<podsRoot>/<uid>/volumes`) and no mount under
 * `<podsRoot>/<uid>/` of a pod the store does not have (any namespace).
 */
export function checkNodeVolumes(world: WorldSnapshot, probe: StorageProbe | undefined): Violation[] {
  const pods = world.objects?.get('pods') as KubeObject[] | undefined;
  if (!pods) return [];
  if (!probe) return [v('volume-probe', 'node', 'the node was not probed')];
  const live = new Set((pods as Pod[]).map((p) => p.metadata.uid));
  const out: Violation[] = [];
  if (probe.volumeDirs) {
    for (const uid of probe.volumeDirs) if (!live.has(uid)) out.push(v('volume-dir', `pod uid ${uid}`, `${probe.podsRoot ?? '<pods root>'}/${uid}/volumes is still on the node; the store has no pod of that uid`));
  } else out.push(v('volume-probe', 'node', `the pods root could not be listed: ${probe.volumeDirsError ?? 'not read'}`));
  if (probe.mounts && probe.podsRoot) {
    for (const m of probe.mounts) {
      const uid = mountPodUid(probe.podsRoot, m);
      if (uid && !live.has(uid)) out.push(v('volume-mount', `pod uid ${uid}`, `${m} is still mounted; the store has no pod of that uid`));
    }
  } else out.push(v('volume-probe', 'node', `the mounts could not be read: ${probe.mountsError ?? 'not read'}`));
  return out;
}

/**
 * After the cleanup: the workload's claims are gone, and so are the volumes bound to them (by the
 * claims' uids) and the volume directories and mounts of the pods it ever had.
 */
export function checkStorageCleaned(claimUids: ReadonlySet<string>, podUids: ReadonlySet<string>, mine: (x: KubeObject) => boolean, world: WorldSnapshot, probe: StorageProbe | undefined): Violation[] {
  const out: Violation[] = [];
  for (const plural of ['persistentvolumeclaims', 'configmaps', 'secrets', 'replicasets']) {
    for (const x of world.objects?.get(plural) ?? []) {
      if (mine(x) || (plural === 'persistentvolumeclaims' && claimUids.has(x.metadata.uid ?? ''))) {
        out.push(v('cleanup', `${plural} ${x.metadata.namespace ?? 'default'}/${x.metadata.name}`, 'still in the store after its deletion'));
      }
    }
  }
  for (const pv of (world.objects?.get('persistentvolumes') ?? []) as PersistentVolume[]) {
    const uid = pv.spec.claimRef?.uid;
    if (uid && claimUids.has(uid)) out.push(v('cleanup', `volume ${pv.metadata.name}`, `still in the store (${pv.status?.phase ?? 'no phase'}) after its claim ${pv.spec.claimRef?.namespace}/${pv.spec.claimRef?.name} was deleted`));
  }
  for (const uid of probe?.volumeDirs ?? []) if (podUids.has(uid)) out.push(v('cleanup', `pod uid ${uid}`, `its volume directory is still on the node after the pod's deletion`));
  for (const m of probe?.mounts ?? []) {
    const uid = probe?.podsRoot ? mountPodUid(probe.podsRoot, m) : undefined;
    if (uid && podUids.has(uid)) out.push(v('cleanup', `pod uid ${uid}`, `${m} is still mounted after the pod's deletion`));
  }
  return out;
}
