/**
 * The local-path provisioner's control-plane half (decisions in local-path.ts): one actor per
 * PersistentVolumeClaim under a supervisor of its own, run by the leader beside the PV
 * controller. It makes the volume `pvc-<claim uid>` for a claim of a local-path class once the
 * scheduler has chosen the claim's node, and records the external provisioner's events on the
 * claim. It also tells a node, on `mk.node.<node>.local-volumes`, whenever one of that node's
 * local-path volumes changes, so that the node agent makes or removes the directory at once
 * (the agent also looks again on its own every so often, so a lost nudge only delays it).
 */
import { encode, EventRecorder, startInformer, type Informer, type ObjectStore, type RecordEvent } from '../../bus';
import {
  claimClass, isAlreadyExists, isLocalPathVolume, keyFilter, localVolumesNudgeSubject, NodeKind, objectKey, PersistentVolumeKind,
  SELECTED_NODE_ANNOTATION, StorageClassKind, volumeNodeName,
  type KubeObject, type Node, type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from '../../messages';
import { admitCreate } from '../api/admission';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { decideProvisioning, provisionedVolumeName } from './local-path';

/** The component the provisioner's events are recorded as. */
export const LOCAL_PATH_COMPONENT = 'mk.io/local-path_provisioner';

/** How often every claim is looked at again (a failed provisioning is retried then). */
const RESYNC_MS = 15_000;

/** Options (tests inject events and clocks). */
export interface LocalPathProvisionerOptions {
  recordEvent?: RecordEvent;
  now?: () => Date;
}

/**
 * The local-path provisioner as a controller of claims (supervisor `local-path-provisioner`);
 * `volumeModule` is the PersistentVolume kind module, whose defaults the volumes it makes get.
 */
export function localPathProvisioner(store: ObjectStore, volumeModule: KindModule, opts: LocalPathProvisionerOptions = {}): KindController {
  const record = opts.recordEvent ?? new EventRecorder(store.bus, { component: LOCAL_PATH_COMPONENT }).recordEvent;
  const now = opts.now ?? (() => new Date());
  let volumes: Informer | undefined;
  /** Volume key -> the node its affinity names (deletions carry no object). */
  const volumeNodes = new Map<string, string>();
  const nudge = (node: string): void => {
    try {
      store.bus.nc.publish(localVolumesNudgeSubject(node), encode({}));
    } catch (err) {
      log.warn({ node, err: String(err) }, 'could not tell the node its local-path volumes changed; it looks again on its own');
    }
  };

  return {
    plural: 'persistentvolumeclaims',
    name: 'local-path-provisioner',
    resyncMs: RESYNC_MS,
    async prepare() {
      await volumes?.stop();
      volumeNodes.clear();
      volumes = await startInformer<PersistentVolume>(store, keyFilter(PersistentVolumeKind.plural), (ev) => {
        const pv = ev.type === 'DELETE' ? undefined : ev.object;
        const node = pv && isLocalPathVolume(pv) ? volumeNodeName(pv) : undefined;
        const was = volumeNodes.get(ev.key);
        if (node) volumeNodes.set(ev.key, node); else volumeNodes.delete(ev.key);
        for (const n of new Set([was, node])) if (n) nudge(n);
      });
    },
    async stop() {
      await volumes?.stop();
      volumes = undefined;
    },
    async reconcile(key) {
      const cur = await store.get<PersistentVolumeClaim>(key);
      if (!cur) return;
      const claim = cur.object;
      const cls = claimClass(claim);
      const sc = cls ? (await store.get<StorageClass>(objectKey(StorageClassKind.plural, undefined, cls)))?.object : undefined;
      const pvKey = objectKey(PersistentVolumeKind.plural, undefined, provisionedVolumeName(claim));
      const selected = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
      const [existing, node] = await Promise.all([
        store.get<PersistentVolume>(pvKey),
        selected ? store.get<Node>(objectKey(NodeKind.plural, undefined, selected)) : Promise.resolve(null),
      ]);
      const d = decideProvisioning({ claim, storageClass: sc, volumeExists: !!existing, node: node?.object });
      if (d.action === 'none') return;
      if (d.action === 'fail') {
        record(claim, d.event.type, d.event.reason, d.event.message);
        // Tried again at the next resync (or change of the claim), as the event says.
        log.warn({ key, reason: d.event.message }, 'local-path volume not provisioned');
        return;
      }
      record(claim, d.events.before.type, d.events.before.reason, d.events.before.message);
      const pv = admitCreate(volumeModule, d.volume as unknown as KubeObject, undefined, now());
      try {
        await store.create(pvKey, pv);
      } catch (err) {
        // Made by an earlier pass (or another leader's): the PV controller binds it.
        if (isAlreadyExists(err)) return;
        throw err;
      }
      record(claim, d.events.after.type, d.events.after.reason, d.events.after.message);
      log.info({ key, volume: d.volume.metadata.name, node: selected, path: d.volume.spec.local?.path }, 'local-path volume provisioned');
    },
  };
}
