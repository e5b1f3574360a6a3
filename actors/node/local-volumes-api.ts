/**
 * What the control plane serves node agents about their local-path volumes (messages/local-path.ts),
 * on `mk.api.node.<node>.local-volumes` and `mk.api.node.<node>.local-volume-cleaned`. Like
 * Kubernetes' node authorizer, a node sees only the volumes whose node affinity names it, and may
 * release (remove the cleanup finalizer of) only those, once they are being deleted and no longer bound.
 */
import type { Msg } from '@nats-io/transport-node';
import { serve, type Bus, type ObjectStore, type Served } from '../../bus';
import {
  dns1123SubdomainError, ForbiddenError, isLocalPathVolume, isNotFound, keyFilter, LOCAL_PATH_CLEANUP_FINALIZER, localVolumeClaimOf,
  nodeApiWildcard, objectKey, PersistentVolumeKind, PV_PROTECTION_FINALIZER, ValidationError, volumeNodeName,
  type LocalVolume, type LocalVolumeCleanedRequest, type LocalVolumesResult, type PersistentVolume,
} from '../../messages';
import { timed } from '../api/metrics';
import { log } from '../log';
import { nodeOf } from './node-api';

/** The volume as its node needs it, or undefined when it is not a local-path volume of `node`. */
export function localVolumeOf(pv: PersistentVolume, node: string): LocalVolume | undefined {
  if (!isLocalPathVolume(pv) || !pv.spec.local || volumeNodeName(pv) !== node) return undefined;
  // Released already: nothing is left for the node to do.
  if (pv.metadata.deletionTimestamp && !(pv.metadata.finalizers ?? []).includes(LOCAL_PATH_CLEANUP_FINALIZER)) return undefined;
  const deleting = reclaimable(pv);
  const claim = localVolumeClaimOf(pv);
  return {
    name: pv.metadata.name,
    uid: pv.metadata.uid ?? '',
    path: pv.spec.local.path,
    ...(claim ? { claim } : {}),
    reclaimPolicy: pv.spec.persistentVolumeReclaimPolicy === 'Delete' ? 'Delete' : 'Retain',
    deleting,
  };
}

/**
 * The volume is being deleted and no claim holds it any more, so its data may go. A deleted volume
 * that is still Bound keeps its object (pv-protection) and its data, which a pod may be writing:
 * like the external provisioner's shouldDelete, only a volume Released or Failed, or one whose
 * pv-protection finalizer is gone, is reclaimed
 * (kubernetes-sigs/sig-storage-lib-external-provisioner controller/controller.go, shouldDelete).
 */
export function reclaimable(pv: PersistentVolume): boolean {
  if (!pv.metadata.deletionTimestamp) return false;
  const phase = pv.status?.phase;
  return phase === 'Released' || phase === 'Failed' || !(pv.metadata.finalizers ?? []).includes(PV_PROTECTION_FINALIZER);
}

/** mk.api.node.<node>.local-volumes: the local-path volumes of `node`. */
export async function localVolumes(store: ObjectStore, node: string): Promise<LocalVolumesResult> {
  const { items } = await store.list<PersistentVolume>(keyFilter(PersistentVolumeKind.plural));
  const volumes: LocalVolume[] = [];
  for (const { object } of items) {
    const v = localVolumeOf(object, node);
    if (v) volumes.push(v);
  }
  return { volumes };
}

/**
 * mk.api.node.<node>.local-volume-cleaned: the node is done with a deleted volume's directory, so
 * its cleanup finalizer goes (the garbage collector removes the object once no finalizer is left).
 * A volume that is gone, or another volume of that name now, is answered as done. Forbidden for a
 * volume of another node; ValidationError for one not being deleted.
 */
export async function localVolumeCleaned(store: ObjectStore, node: string, req: LocalVolumeCleanedRequest): Promise<Record<string, never>> {
  if (typeof req?.name !== 'string' || dns1123SubdomainError(req.name)) throw new ValidationError(`invalid volume name ${JSON.stringify(req?.name)}`);
  if (typeof req.uid !== 'string' || req.uid === '') throw new ValidationError('uid must be a non-empty string');
  const key = objectKey(PersistentVolumeKind.plural, undefined, req.name);
  const written = await store.mutate<PersistentVolume>(key, (pv) => {
    if (pv.metadata.uid !== req.uid) return null;
    if (!isLocalPathVolume(pv) || volumeNodeName(pv) !== node) {
      throw new ForbiddenError(`node ${node} may not release persistentvolume ${req.name}: it is not a local-path volume of that node`);
    }
    if (!pv.metadata.deletionTimestamp) throw new ValidationError(`persistentvolume ${req.name} is not being deleted; its directory stays`);
    if (!reclaimable(pv)) throw new ValidationError(`persistentvolume ${req.name} is still bound to a claim; its directory stays until the claim releases it`);
    const finalizers = (pv.metadata.finalizers ?? []).filter((f) => f !== LOCAL_PATH_CLEANUP_FINALIZER);
    if (finalizers.length === (pv.metadata.finalizers ?? []).length) return null;
    if (finalizers.length) pv.metadata.finalizers = finalizers; else delete pv.metadata.finalizers;
    return pv;
  }).catch((err: unknown) => {
    if (isNotFound(err)) return null;
    throw err;
  });
  if (written) log.info({ key, node }, 'local-path volume released by its node');
  return {};
}

/** Serves both verbs for every node; `stop()` unsubscribes and waits for the requests in flight. */
export function serveLocalVolumesApi(bus: Bus, store: ObjectStore): { ready: Promise<void>; stop(): Promise<void> } {
  const kind = (): string => PersistentVolumeKind.plural;
  const subs: Served[] = [
    serve<unknown, LocalVolumesResult>(bus, nodeApiWildcard('local-volumes'),
      timed('local-volumes', (_req: unknown, msg: Msg) => localVolumes(store, nodeOf(msg.subject)), kind), { queue: 'mk-api' }),
    serve<LocalVolumeCleanedRequest, Record<string, never>>(bus, nodeApiWildcard('local-volume-cleaned'),
      timed('local-volume-cleaned', (req: LocalVolumeCleanedRequest, msg: Msg) => localVolumeCleaned(store, nodeOf(msg.subject), req), kind), { queue: 'mk-api' }),
  ];
  return {
    ready: Promise.all(subs.map((s) => s.ready)).then(() => undefined),
    stop: async () => { await Promise.all(subs.map((s) => s.stop())); },
  };
}
