/**
 * The node's half of the local-path provisioner (messages/local-path.ts): the node agent owns the
 * node's disk, so it makes each local-path volume's directory (mode 0777, as Rancher's
 * local-path-provisioner makes it, so that a pod running as any user can write) and removes it
 * when the volume is deleted with reclaim policy Delete; with Retain the directory stays. Either
 * way it then tells the control plane, which drops the volume's cleanup finalizer: a crash before
 * that only repeats the removal.
 *
 * The control plane says which volumes are this node's (mk.api.node.<node>.local-volumes); the
 * agent asks at start, whenever the control plane nudges it (mk.node.<node>.local-volumes), and
 * every RESYNC_MS, one pass at a time.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { request, type Bus } from '../../bus';
import {
  isLocalPathVolume, localVolumeClaimOf, localVolumeDirName, localVolumesNudgeSubject, nodeApiSubject, volumeNodeName,
  type LocalVolume, type LocalVolumeCleanedRequest, type LocalVolumesResult, type PersistentVolume,
} from '../../messages';
import type { Logger } from '../../common/log';
import { startNudgedPass } from '../nudged-pass';

/** How often the agent looks at its local-path volumes without being nudged. */
const RESYNC_MS = 30_000;
/** How long one request to the control plane may take. */
const REQUEST_TIMEOUT_MS = 10_000;
/** The directories' mode: everyone may write (local-path's `mkdir -m 0777`). */
const DIR_MODE = 0o777;

/** What the node asks the control plane about its local-path volumes. */
export interface LocalVolumesClient {
  list(): Promise<LocalVolume[]>;
  /** The node is done with a deleted volume's directory. */
  cleaned(v: Pick<LocalVolume, 'name' | 'uid'>): Promise<void>;
}

/** The client on the node api, for `node`. */
export function localVolumesClient(bus: Bus, node: string): LocalVolumesClient {
  return {
    async list() {
      return (await request<LocalVolumesResult>(bus, nodeApiSubject(node, 'local-volumes'), {}, { timeoutMs: REQUEST_TIMEOUT_MS })).volumes;
    },
    async cleaned(v) {
      const req: LocalVolumeCleanedRequest = { name: v.name, uid: v.uid };
      await request(bus, nodeApiSubject(node, 'local-volume-cleaned'), req, { timeoutMs: REQUEST_TIMEOUT_MS });
    },
  };
}

/** A uuid as the api gives objects (any version): the claim uid in a provisioned volume's name. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Why `v.path` is not a directory this node may make or remove for the volume, or undefined. The
 * volume must be named `pvc-<claim uid>` after the claim it names (a uuid), and its path must be
 * normal and absolute (no `..`, no `//`, not `/`) and end in exactly the directory the provisioner
 * names for that claim, `pvc-<uid>_<namespace>_<claim>`: a hand-made volume carrying the
 * provisioner's annotation can never make the agent chmod or remove a directory it did not make.
 */
export function unsafeDirectory(v: Pick<LocalVolume, 'name' | 'path' | 'claim'>): string | undefined {
  const p = v.path;
  const claim = v.claim;
  if (!claim) return `volume ${v.name} names no claim (spec.claimRef with uid, namespace and name) whose directory it could be`;
  if (!UUID.test(claim.uid) || v.name !== `pvc-${claim.uid}`) {
    return `volume name ${JSON.stringify(v.name)} is not pvc-<claim uid> for its claim ${claim.namespace}/${claim.name} (uid ${JSON.stringify(claim.uid)}), as the provisioner names volumes`;
  }
  if (!path.isAbsolute(p) || path.normalize(p) !== p || p.split('/').includes('..')) return `"${p}" is not a normal absolute path`;
  const expected = localVolumeDirName(claim);
  if (p === '/' || path.basename(p) !== expected) return `"${p}" is not the directory "${expected}" as the provisioner names it for claim ${claim.namespace}/${claim.name}`;
  return undefined;
}

/**
 * Makes the directory of `pv` now if it is a local-path volume of `node` that is not being
 * deleted (the periodic pass would make it too): for a caller about to mount it. Does nothing for
 * any other volume. Throws when the directory cannot be made or is not named as the provisioner
 * names it.
 */
export async function ensureLocalVolumeDir(pv: PersistentVolume, node: string): Promise<void> {
  if (!isLocalPathVolume(pv) || !pv.spec.local || volumeNodeName(pv) !== node || pv.metadata.deletionTimestamp) return;
  const claim = localVolumeClaimOf(pv);
  await makeDirectory({ name: pv.metadata.name, path: pv.spec.local.path, ...(claim ? { claim } : {}) });
}

/** Makes a volume's directory, world-writable; throws for a path the provisioner would not name. */
async function makeDirectory(v: Pick<LocalVolume, 'name' | 'path' | 'claim'>): Promise<void> {
  const unsafe = unsafeDirectory(v);
  if (unsafe) throw new Error(`refusing to make the directory of volume ${v.name}: ${unsafe}`);
  await fs.mkdir(v.path, { recursive: true });
  // mkdir's mode is masked by the umask: set it as it must be.
  await fs.chmod(v.path, DIR_MODE);
}

/** What one pass did, for logs and tests. */
export interface SyncResult {
  created: string[];
  removed: string[];
  kept: string[];
  failed: string[];
}

/**
 * One pass over the node's local-path volumes: makes the directory of every live volume, removes
 * that of every volume being deleted with policy Delete (and keeps it with Retain), and reports
 * each deleted one as done. A failure with one volume is logged and left for the next pass.
 */
export async function syncLocalVolumes(volumes: readonly LocalVolume[], client: LocalVolumesClient, log: Logger): Promise<SyncResult> {
  const out: SyncResult = { created: [], removed: [], kept: [], failed: [] };
  for (const v of volumes) {
    const unsafe = unsafeDirectory(v);
    try {
      if (!v.deleting) {
        await makeDirectory(v);
        out.created.push(v.name);
        continue;
      }
      if (v.reclaimPolicy === 'Delete' && !unsafe) {
        await fs.rm(v.path, { recursive: true, force: true });
        out.removed.push(v.name);
        log.info({ volume: v.name, path: v.path }, 'local-path volume directory removed (reclaim policy Delete)');
      } else {
        if (unsafe) log.warn({ volume: v.name, path: v.path, reason: unsafe }, 'local-path volume directory left in place: not removed by the agent');
        else log.info({ volume: v.name, path: v.path }, 'local-path volume directory kept (reclaim policy Retain)');
        out.kept.push(v.name);
      }
      await client.cleaned(v);
    } catch (err) {
      out.failed.push(v.name);
      log.warn({ volume: v.name, path: v.path, err: String(err) }, 'local-path volume directory not handled; retrying on the next pass');
    }
  }
  return out;
}

/** The running local-path storage of a node. */
export interface LocalPathStorage {
  /** Runs a pass now (after the one in progress, if any); resolves when it is done. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the node's local-path storage: a pass now, on every nudge and every `resyncMs`. */
export function startLocalPathStorage(opts: {
  bus: Bus; nodeName: string; log: Logger; client?: LocalVolumesClient; resyncMs?: number;
}): LocalPathStorage {
  const { bus, nodeName, log } = opts;
  const client = opts.client ?? localVolumesClient(bus, nodeName);
  const passes = startNudgedPass({
    bus, nudgeSubject: localVolumesNudgeSubject(nodeName), everyMs: opts.resyncMs ?? RESYNC_MS,
    pass: async () => {
      try {
        await syncLocalVolumes(await client.list(), client, log);
      } catch (err) {
        log.warn({ node: nodeName, err: String(err) }, 'could not list the local-path volumes of the node; retrying later');
      }
    },
  });
  return { sync: () => passes.sync(), stop: () => passes.stop() };
}
