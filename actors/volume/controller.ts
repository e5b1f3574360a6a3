/**
 * The PV controller's two halves, thin shells around reconcile.ts: the claim controller (one
 * actor per PersistentVolumeClaim: binding, Pending and Lost, the pvc-protection finalizer) and
 * the volume controller (one actor per PersistentVolume: phases, reclaiming, the pv-protection
 * finalizer). Each reads what it needs from the store on every pass and writes under the
 * revisions it read (a Conflict is retried by the supervisor). Informers on the other kinds wake
 * the objects a change concerns: a volume's claim, the pending claims when a volume or class
 * appears, a claim's volumes when it changes or goes, a claim when a pod that uses it changes.
 */
import { EventRecorder, startInformer, type Informer, type ObjectStore, type RecordEvent } from '../../bus';
import {
  isLocalPathVolume, keyFilter, objectKey, parseKey, podClaimNames, PersistentVolumeClaimKind, PersistentVolumeKind, StorageClassKind,
  type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass,
} from '../../messages';
import { stableJson } from '../api/stable-json';
import { deleteObject } from '../deletion';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { reclaimFailed, reconcileClaim, reconcileVolume } from './reconcile';

/** The component the controller's events are recorded as (Kubernetes' name for it). */
export const PV_CONTROLLER_COMPONENT = 'persistentvolume-controller';

/** How often every volume and claim is looked at again, and a failed reclaim retried. */
const RESYNC_MS = 15_000;
/** How long changes of volumes and classes are gathered before the pending claims are woken. */
const WAKE_BATCH_MS = 20;

/**
 * Removes a reclaimed volume's data before its object is deleted (policy Delete). The node or a
 * provisioner does this for the volumes it made; throwing leaves the volume Failed, retried later.
 */
export interface VolumeReclaimer {
  deleteData(pv: PersistentVolume): Promise<void>;
}

/**
 * The data of a local-path volume is removed by its node once the object is being deleted (the
 * cleanup finalizer holds the object until then: actors/volume/local-path.ts). Any other volume's
 * data stays where it is (a host directory, an export), which is logged so that an
 * administrator can remove it.
 */
export const leaveDataReclaimer: VolumeReclaimer = {
  async deleteData(pv) {
    if (isLocalPathVolume(pv)) {
      log.info({ volume: pv.metadata.name, path: pv.spec.local?.path }, 'persistent volume reclaimed (Delete): its node removes the directory');
      return;
    }
    log.info({ volume: pv.metadata.name, spec: pv.spec }, 'persistent volume reclaimed (Delete): its data is left in place, no provisioner removes it');
  },
};

/** True while the pod may still use its volumes: it has not Succeeded or Failed. */
const podActive = (p: Pod): boolean => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

const claimKey = (ns: string, name: string): string => objectKey(PersistentVolumeClaimKind.plural, ns, name);

/** Options of both halves (tests inject events, clocks and reclaimers). */
export interface VolumeControllerOptions {
  recordEvent?: RecordEvent;
  reclaimer?: VolumeReclaimer;
  now?: () => Date;
}

const recorder = (store: ObjectStore, opts: VolumeControllerOptions): RecordEvent =>
  opts.recordEvent ?? new EventRecorder(store.bus, { component: PV_CONTROLLER_COMPONENT }).recordEvent;

/** The claim half: binds claims to volumes and keeps them while pods use them. */
export function claimController(store: ObjectStore, opts: VolumeControllerOptions = {}): KindController {
  const record = recorder(store, opts);
  const now = opts.now ?? (() => new Date());
  let enqueue: (key: string) => unknown = () => undefined;
  let informers: Informer[] = [];
  /** Claims not Bound: woken when a volume or class changes. */
  const pending = new Set<string>();
  /** Volume key -> the claim its claimRef names (for deletions, which carry no object). */
  const volumeClaims = new Map<string, string>();
  /** Pod key -> the claims it uses. */
  const podClaims = new Map<string, string[]>();
  let wakeTimer: NodeJS.Timeout | undefined;
  /**
   * Wakes every pending claim once for a burst of volume or class changes (a listing delivers
   * every volume): the supervisor queues one reconcile per wake, and each reads every volume.
   */
  const wakePending = (): void => {
    wakeTimer ??= setTimeout(() => {
      wakeTimer = undefined;
      for (const k of pending) enqueue(k);
    }, WAKE_BATCH_MS).unref();
  };

  return {
    plural: PersistentVolumeClaimKind.plural,
    resyncMs: RESYNC_MS,
    bindEnqueue(e) { enqueue = e; },
    async prepare() {
      await Promise.all(informers.map((i) => i.stop()));
      informers = [];
      volumeClaims.clear();
      podClaims.clear();
      informers.push(await startInformer<PersistentVolume>(store, keyFilter(PersistentVolumeKind.plural), (ev) => {
        const before = volumeClaims.get(ev.key);
        const ref = ev.type === 'DELETE' ? undefined : ev.object?.spec.claimRef;
        const now = ref ? claimKey(ref.namespace, ref.name) : undefined;
        if (now) volumeClaims.set(ev.key, now); else volumeClaims.delete(ev.key);
        if (before) enqueue(before);
        if (now && now !== before) enqueue(now);
        wakePending();
      }));
      informers.push(await startInformer<StorageClass>(store, keyFilter(StorageClassKind.plural), () => wakePending()));
      informers.push(await startInformer<Pod>(store, keyFilter('pods'), (ev) => {
        const before = podClaims.get(ev.key) ?? [];
        const { namespace } = parseKey(ev.key);
        const now = ev.type === 'DELETE' || !ev.object ? [] : podClaimNames(ev.object).map((n) => claimKey(namespace ?? 'default', n));
        if (now.length) podClaims.set(ev.key, now); else podClaims.delete(ev.key);
        for (const k of new Set([...before, ...now])) enqueue(k);
      }));
    },
    async stop() {
      clearTimeout(wakeTimer);
      wakeTimer = undefined;
      await Promise.all(informers.map((i) => i.stop()));
      informers = [];
    },
    async reconcile(key) {
      const cur = await store.get<PersistentVolumeClaim>(key);
      if (!cur) { pending.delete(key); return; }
      const claim = cur.object;
      const { namespace, name } = parseKey(key);
      const [volumes, classes] = await Promise.all([
        store.list<PersistentVolume>(keyFilter(PersistentVolumeKind.plural)),
        store.list<StorageClass>(keyFilter(StorageClassKind.plural)),
      ]);
      let inUse = false;
      if (claim.metadata.deletionTimestamp) {
        const pods = await store.list<Pod>(keyFilter('pods', namespace));
        inUse = pods.items.some((p) => podActive(p.object) && podClaimNames(p.object).includes(name));
      }
      const d = reconcileClaim({ claim, volumes: volumes.items.map((i) => i.object), classes: classes.items.map((i) => i.object), inUse, now: now() });
      if (d.volume) {
        // First the volume's claimRef, then the claim: a crash between is finished on the next pass.
        const pvKey = objectKey(PersistentVolumeKind.plural, undefined, d.volume.metadata.name);
        const stored = volumes.items.find((i) => i.key === pvKey);
        if (stored) await store.update(pvKey, d.volume, stored.revision);
      }
      if (d.claim) await store.update(key, d.claim, cur.revision);
      const after = d.claim ?? claim;
      for (const e of d.events) record(after, e.type, e.reason, e.message);
      if (d.volume && after.status?.phase === 'Bound') log.info({ key, volume: d.volume.metadata.name }, 'claim bound');
      if (after.status?.phase === 'Bound' || after.metadata.deletionTimestamp) pending.delete(key); else pending.add(key);
    },
  };
}

/** The volume half: keeps volumes' phases, reclaims released ones and guards bound ones. */
export function volumeController(store: ObjectStore, opts: VolumeControllerOptions = {}): KindController {
  const record = recorder(store, opts);
  const now = opts.now ?? (() => new Date());
  const reclaimer = opts.reclaimer ?? leaveDataReclaimer;
  let enqueue: (key: string) => unknown = () => undefined;
  let claims: Informer | undefined;
  /** Claim key -> the volumes whose claimRef names it. */
  const claimVolumes = new Map<string, Set<string>>();
  /** Volume key -> the claim its claimRef named at its last pass. */
  const volumeClaim = new Map<string, string>();

  const track = (pvKey: string, claim: string | undefined): void => {
    const was = volumeClaim.get(pvKey);
    if (was === claim) return;
    if (was) {
      claimVolumes.get(was)?.delete(pvKey);
      if (claimVolumes.get(was)?.size === 0) claimVolumes.delete(was);
    }
    if (claim) {
      volumeClaim.set(pvKey, claim);
      claimVolumes.set(claim, (claimVolumes.get(claim) ?? new Set()).add(pvKey));
    } else volumeClaim.delete(pvKey);
  };

  return {
    plural: PersistentVolumeKind.plural,
    resyncMs: RESYNC_MS,
    bindEnqueue(e) { enqueue = e; },
    async prepare() {
      await claims?.stop();
      claims = await startInformer<PersistentVolumeClaim>(store, keyFilter(PersistentVolumeClaimKind.plural), (ev) => {
        for (const k of claimVolumes.get(ev.key) ?? []) enqueue(k);
      });
    },
    async stop() {
      await claims?.stop();
      claims = undefined;
    },
    async reconcile(key) {
      const cur = await store.get<PersistentVolume>(key);
      if (!cur) { track(key, undefined); return; }
      const ref = cur.object.spec.claimRef;
      const ck = ref ? claimKey(ref.namespace, ref.name) : undefined;
      track(key, ck);
      const claim = ck ? (await store.get<PersistentVolumeClaim>(ck))?.object : undefined;
      const d = reconcileVolume({ volume: cur.object, claim, now: now() });
      let pv = cur.object;
      let revision = cur.revision;
      if (d.volume) {
        revision = await store.update(key, d.volume, cur.revision);
        pv = d.volume;
        if (pv.status?.phase !== cur.object.status?.phase) log.info({ key, phase: pv.status?.phase }, 'volume phase changed');
      }
      for (const e of d.events) record(pv, e.type, e.reason, e.message);
      if (d.reclaim !== 'delete') return;
      try {
        await reclaimer.deleteData(pv);
      } catch (err) {
        const f = reclaimFailed(pv, String((err as Error)?.message ?? err), now());
        // Written only when it says something new: a write wakes this volume again at once.
        if (stableJson(f.volume) !== stableJson(pv)) await store.update(key, f.volume, revision);
        record(f.volume, f.event.type, f.event.reason, f.event.message);
        log.warn({ key, err }, 'could not remove the data of a released volume; retrying later');
        return { requeueAfterMs: RESYNC_MS };
      }
      await deleteObject(store, { info: PersistentVolumeKind }, key);
      log.info({ key }, 'released volume deleted (reclaim policy Delete)');
    },
  };
}
