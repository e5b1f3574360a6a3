/**
 * The node's pod volumes: sets up every volume of a pod before its containers are created
 * (kubelet's volume manager: https://kubernetes.io/docs/concepts/storage/volumes/), keeps
 * configMap, secret and downwardAPI files current on each sync, and removes a pod's volumes when
 * it is gone (tmpfs and nfs unmounted first; hostPath contents and a PersistentVolume's
 * hostPath or local directory never touched). Every step is idempotent,
 * so an agent killed at any point finishes the work on its next pass.
 */
import { chmod, lstat, mkdir, readdir, readFile, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Pod } from '../../messages/pod';
import { isNotFound, isValidation } from '../../messages/errors';
import { FUNCTION_CODE_CSI_DRIVER } from '../../messages/function-names';
import { memoryBytes } from '../../messages/quantity';
import type { EnvContext, EnvObjects } from '../pods/env';
import { writeAtomic } from './atomic-writer';
import type { MountedVolume, PodVolumeMap } from './container-mounts';
import { VolumeError } from './errors';
import { mountsUnder } from '../containerd/cleanup';
import { codeInUse, codeOfPod, type FunctionCodeCache } from './function-code';
import { setUpHostPath } from './host-path';
import { isPodUidDir, podDir, podVolumesDir, realPodsRoot, volumeDir, volumeSource, type VolumePlugin } from './layout';
import { setVolumeOwnership } from './ownership';
import { setUpClaimVolume } from './persistent';
import { configMapPayload, downwardAPIPayload, secretPayload } from './payloads';
import { SUBPATHS_DIR, subPathBinder, type SubPathBinder } from './subpath';
import { systemMounter, type Mounter } from './tmpfs';
import { podVolumes, type Volume } from './types';
import { diskUsageBytes } from './usage';

/** How the node keeps pod volumes. */
export interface PodVolumesOptions {
  /** The root of per-pod directories: `<podsRoot>/<uid>/volumes/<plugin>/<name>`. */
  podsRoot: string;
  /** Directories hostPath volumes may be in (after resolving symlinks); none: hostPath is refused. */
  hostPathRoots?: readonly string[];
  /** tmpfs mounts (tests pass a fake); default mount(8)/umount(8). */
  mounter?: Mounter;
  /** The size of a memory emptyDir without sizeLimit; default the node's memory. */
  nodeMemoryBytes?: number;
  /** This node's name and labels, which a local PersistentVolume's nodeAffinity must match. */
  node?: { metadata: { name: string; labels?: Record<string, string> } };
  /** Functions' code, for `functions.mk.io` csi volumes; none: such a volume cannot be set up. */
  functionCode?: FunctionCodeCache;
  /** The kernel's file system list, for nfs (default /proc/filesystems; tests pass their own). */
  procFilesystems?: string;
  log?: Logger;
}

/** The plugins whose directories hold only what the pod's run made or copied (no user data to keep). */
const EPHEMERAL_PLUGINS: readonly VolumePlugin[] = ['empty-dir', 'configmap', 'secret', 'downward-api', 'csi'];

/** What setting up a pod's volumes reads besides the pod. */
export interface VolumeSources {
  /** The ConfigMaps and Secrets of the pod's namespace, and the pod's claims and their volumes. */
  objects: EnvObjects;
  /** The node's allocatable: a limit a container does not set (downwardAPI resourceFieldRef). */
  allocatable?: EnvContext['allocatable'];
}

/** A node's pod volumes; see the module comment. */
export class PodVolumes {
  private readonly mounter: Mounter;
  private readonly opts: PodVolumesOptions;
  constructor(opts: PodVolumesOptions) {
    // Mount points are compared with /proc/self/mountinfo, which names real paths.
    this.opts = { ...opts, podsRoot: realPodsRoot(opts.podsRoot) };
    this.mounter = opts.mounter ?? systemMounter;
  }

  /** The allowed hostPath roots, as configured. */
  get hostPathRoots(): readonly string[] { return this.opts.hostPathRoots ?? []; }

  /**
   * Sets up (or brings up to date) every volume of `pod` and returns them by name. Throws
   * VolumeError for what the pod asks wrongly or the node refuses; other errors (the control plane
   * not answering, I/O) as they are. Files of unchanged objects are not rewritten.
   */
  async setUp(pod: Pod, sources: VolumeSources): Promise<PodVolumeMap> {
    const out = new Map<string, MountedVolume>();
    const volumes = podVolumes(pod);
    if (volumes.length === 0) return out;
    // Only root on the node looks inside (kubelet keeps its pod directories 0750): the runtime
    // bind-mounts each volume into the containers as root.
    try {
      await mkdir(podVolumesDir(this.opts.podsRoot, pod.metadata.uid ?? ''), { recursive: true, mode: 0o750 });
    } catch (e) {
      throw new VolumeError(volumes[0].name, (e as Error).message);
    }
    const fsGroup = pod.spec.securityContext?.fsGroup;
    for (const v of volumes) {
      if (out.has(v.name)) throw new VolumeError(v.name, `two volumes of the pod are named "${v.name}"`);
      const mounted = await this.setUpVolume(pod, v, sources);
      if (fsGroup !== undefined && mounted.fsGroupOwned) await this.own(pod, v, mounted, fsGroup);
      out.set(v.name, mounted);
    }
    return out;
  }

  /** The volumes (`<pod uid>/<name>`) whose files got the pod's fsGroup since this agent started. */
  private readonly owned = new Set<string>();

  /** Forgets which volumes of the pod with `uid` were given to its fsGroup. */
  private forgetOwned(uid: string): void {
    for (const k of this.owned) if (k.startsWith(`${uid}/`)) this.owned.delete(k);
  }

  /**
   * Gives the volume's files to the pod's fsGroup (ownership.ts): a configMap, secret or
   * downwardAPI volume on every pass (its files may be new), an emptyDir or local volume once per
   * agent run, as kubelet does at mount (the group's setgid directories keep later files in it).
   */
  private async own(pod: Pod, v: Volume, mounted: MountedVolume, gid: number): Promise<void> {
    const key = `${pod.metadata.uid ?? ''}/${v.name}`;
    const payload = !!(v.configMap ?? v.secret ?? v.downwardAPI);
    if (!payload && this.owned.has(key)) return;
    try {
      await setVolumeOwnership(mounted.hostPath, gid, mounted.readOnly, pod.spec.securityContext?.fsGroupChangePolicy ?? 'Always');
    } catch (e) {
      throw new VolumeError(v.name, `cannot give the volume to fsGroup ${gid}: ${(e as Error).message}`);
    }
    if (!payload) this.owned.add(key);
  }

  private async setUpVolume(pod: Pod, v: Volume, sources: VolumeSources): Promise<MountedVolume> {
    const uid = pod.metadata.uid ?? '';
    const ns = pod.metadata.namespace ?? 'default';
    const source = volumeSource(v);
    const dirOf = (plugin: Parameters<typeof volumeDir>[2]): string => {
      try {
        return volumeDir(this.opts.podsRoot, uid, plugin, v.name);
      } catch (e) {
        throw new VolumeError(v.name, (e as Error).message);
      }
    };
    switch (source) {
      case 'emptyDir': {
        const medium = v.emptyDir!.medium ?? '';
        if (medium !== '' && medium !== 'Memory') throw new VolumeError(v.name, `emptyDir medium "${String(medium)}" is not supported: use "" or "Memory"`);
        const dir = dirOf('empty-dir');
        await mkdir(dir, { recursive: true });
        if (medium === 'Memory') await this.tmpfs(v.name, dir, 0o777, memoryBytes(v.emptyDir!.sizeLimit) || (this.opts.nodeMemoryBytes ?? totalmem()));
        // As kubelet: any user of the pod may write its scratch space (keeping fsGroup's setgid bit).
        const mode = (await stat(dir)).mode;
        if ((mode & 0o777) !== 0o777) await chmod(dir, (mode & 0o7000) | 0o777);
        return { hostPath: dir, readOnly: false, createSubPaths: true, fsGroupOwned: true };
      }
      case 'hostPath':
        return { hostPath: await setUpHostPath(v.name, v.hostPath!, this.hostPathRoots), readOnly: false, createSubPaths: true };
      case 'configMap': {
        const dir = dirOf('configmap');
        await writeAtomic(dir, await configMapPayload(v.name, v.configMap!, sources.objects, ns));
        return { hostPath: dir, readOnly: true, createSubPaths: false, fsGroupOwned: true };
      }
      case 'secret': {
        const dir = dirOf('secret');
        const payload = await secretPayload(v.name, v.secret!, sources.objects, ns);
        await mkdir(dir, { recursive: true });
        // Secrets live in memory only, as kubelet keeps them.
        await this.tmpfs(v.name, dir, 0o755);
        await writeAtomic(dir, payload);
        return { hostPath: dir, readOnly: true, createSubPaths: false, fsGroupOwned: true };
      }
      case 'downwardAPI': {
        const dir = dirOf('downward-api');
        await writeAtomic(dir, downwardAPIPayload(v.name, pod, v.downwardAPI!, { ...(sources.allocatable ? { allocatable: sources.allocatable } : {}) }));
        return { hostPath: dir, readOnly: true, createSubPaths: false, fsGroupOwned: true };
      }
      case 'persistentVolumeClaim':
        return setUpClaimVolume(v.name, v.persistentVolumeClaim!, sources.objects, {
          node: this.opts.node ?? { metadata: { name: '' } },
          namespace: ns,
          nfsDir: () => dirOf('nfs'),
          mounter: this.mounter,
          ...(this.opts.procFilesystems ? { procFilesystems: this.opts.procFilesystems } : {}),
        });
      case 'csi':
        return this.setUpCode(uid, v);
      default:
        throw new VolumeError(v.name, `volume "${v.name}" needs exactly one of emptyDir, hostPath, configMap, secret, downwardAPI, persistentVolumeClaim or csi`);
    }
  }

  /**
   * A `functions.mk.io` csi volume: the code of its digest from the node's cache, unpacked there
   * first when missing, mounted read-only. The pod's use is recorded before the cache is asked,
   * so collect, which reads the records again once it holds the digest, never removes code a pod
   * is about to mount (the cache unpacks it again when a removal was already under way).
   */
  private async setUpCode(uid: string, v: Volume): Promise<MountedVolume> {
    const csi = v.csi!;
    if (csi.driver !== FUNCTION_CODE_CSI_DRIVER) throw new VolumeError(v.name, `csi driver "${csi.driver}" is not supported: the only driver is "${FUNCTION_CODE_CSI_DRIVER}"`);
    const digest = csi.volumeAttributes?.digest ?? '';
    const cache = this.opts.functionCode;
    if (!cache) throw new VolumeError(v.name, 'this node keeps no function code (the node agent has no code cache)');
    try {
      cache.dirOf(digest);
    } catch (e) {
      throw new VolumeError(v.name, (e as Error).message);
    }
    const records = path.join(podVolumesDir(this.opts.podsRoot, uid), 'csi' satisfies VolumePlugin);
    await mkdir(records, { recursive: true, mode: 0o750 });
    const record = path.join(records, v.name);
    if ((await readFile(record, 'utf8').catch(() => '')) !== digest) await writeFile(record, digest, { mode: 0o640 });
    try {
      return { hostPath: await cache.ensure(digest), readOnly: true, createSubPaths: false };
    } catch (e) {
      if (isNotFound(e)) throw new VolumeError(v.name, `function code ${digest} not found in the code store: upload it again (mk apply of the Function)`);
      if (isValidation(e)) throw new VolumeError(v.name, `function code ${digest} cannot be used: ${(e as Error).message}`);
      throw e;
    }
  }

  /**
   * Removes the node's function code no pod uses any more: everything unused when `atStart` (the
   * agent's start), otherwise code unused for the cache's keep time. Logs and swallows failures.
   */
  async collectFunctionCode(atStart = false): Promise<void> {
    const cache = this.opts.functionCode;
    if (!cache) return;
    try {
      await cache.collect(() => codeInUse(this.opts.podsRoot), ...(atStart ? [0] : []));
    } catch (err) {
      this.opts.log?.warn({ err: String(err) }, 'could not remove unused function code; trying again later');
    }
    // Code kept for its keep time is looked at again once that has passed, even if no pod goes meanwhile.
    if (!atStart && !this.codeCollectTimer) {
      this.codeCollectTimer = setTimeout(() => {
        this.codeCollectTimer = undefined;
        void this.collectFunctionCode();
      }, cache.keepUnusedMs + 1_000);
      this.codeCollectTimer.unref();
    }
  }

  private codeCollectTimer: NodeJS.Timeout | undefined;

  /**
   * Marks the code the pod's records name as used now, before the records go: the keep time of
   * code counts from its last pod's end, not from that pod's start. Never throws.
   */
  private async touchPodCode(uid: string): Promise<void> {
    const cache = this.opts.functionCode;
    if (!cache) return;
    for (const digest of await codeOfPod(this.opts.podsRoot, uid)) await cache.touch(digest);
  }

  /** Mounts a tmpfs at `dir` unless one is there already. */
  private async tmpfs(volume: string, dir: string, mode: number, sizeBytes?: number): Promise<void> {
    if (await this.mounter.isMountPoint(dir)) return;
    try {
      await this.mounter.mountTmpfs(dir, { mode, ...(sizeBytes ? { sizeBytes } : {}) });
    } catch (e) {
      throw new VolumeError(volume, `cannot mount a tmpfs at ${dir}: ${(e as Error).message}`);
    }
  }

  /**
   * The binder that gives the containers of the pod with `uid` race-free subPath mounts
   * (subpath.ts), or undefined when the mounter makes no mounts but tmpfs (tests' fakes).
   */
  subPathBinder(uid: string): SubPathBinder | undefined {
    const { mount } = this.mounter;
    if (!mount) return undefined;
    return subPathBinder(podDir(this.opts.podsRoot, uid), { mount: (args) => mount.call(this.mounter, args), unmountUnder: (d) => this.mounter.unmountUnder(d), isMountPoint: (d) => this.mounter.isMountPoint(d) });
  }

  /** Unmounts and removes the pod's subPath bind mounts (none are left for a container to use). */
  private async removeSubPaths(uid: string): Promise<void> {
    const dir = path.join(podDir(this.opts.podsRoot, uid), SUBPATHS_DIR);
    const top = await stat(dir).catch(() => undefined);
    if (!top) return;
    await this.mounter.unmountUnder(dir);
    await removeOnDevice(dir, top.dev);
  }

  /**
   * Says which disk emptyDir of `pod` uses more than its sizeLimit, in kubelet's words for the
   * eviction, or undefined when none does (memory ones are capped by their tmpfs instead).
   */
  async emptyDirOverLimit(pod: Pod): Promise<string | undefined> {
    for (const v of podVolumes(pod)) {
      const limit = v.emptyDir?.sizeLimit;
      if (!limit || v.emptyDir?.medium === 'Memory' || volumeSource(v) !== 'emptyDir') continue;
      const bytes = memoryBytes(limit);
      if (bytes <= 0) continue;
      let dir: string;
      try {
        dir = volumeDir(this.opts.podsRoot, pod.metadata.uid ?? '', 'empty-dir', v.name);
      } catch {
        continue;
      }
      if ((await diskUsageBytes(dir)) > bytes) return `Usage of EmptyDir volume "${v.name}" exceeds the limit "${limit}".`;
    }
    return undefined;
  }

  /**
   * Removes the volumes of the pod with `uid`: unmounts every tmpfs under them, then removes the
   * directories (hostPath volumes are not there and are never touched). Never descends into
   * another filesystem: throws, leaving its files, when something stays mounted.
   */
  async tearDown(uid: string): Promise<void> {
    this.forgetOwned(uid);
    await this.removeSubPaths(uid);
    const dir = podVolumesDir(this.opts.podsRoot, uid);
    const top = await stat(dir).catch(() => undefined);
    if (!top) return;
    await this.touchPodCode(uid);
    await this.mounter.unmountUnder(dir);
    await removeOnDevice(dir, top.dev);
    // The pod's directory goes too once nothing else of the pod is in it.
    await rmdir(podDir(this.opts.podsRoot, uid)).catch(() => undefined);
    this.opts.log?.info({ uid }, 'pod volumes removed');
    await this.collectFunctionCode();
  }

  /**
   * Gives back the node-local volumes of a pod that has finished (Succeeded, Failed, Evicted) while
   * its object stays, as kubelet does for terminated pods: emptyDir, configMap, secret and
   * downwardAPI directories are unmounted and removed; a claim's nfs mount and hostPath volumes are
   * never touched. Idempotent; throws, leaving files, when something stays mounted.
   */
  async releaseEphemeral(uid: string): Promise<void> {
    this.forgetOwned(uid);
    await this.removeSubPaths(uid);
    const dir = podVolumesDir(this.opts.podsRoot, uid);
    const top = await stat(dir).catch(() => undefined);
    if (!top) return;
    await this.touchPodCode(uid);
    let released = false;
    for (const plugin of EPHEMERAL_PLUGINS) {
      const pluginDir = path.join(dir, plugin);
      if (!(await lstat(pluginDir).catch(() => undefined))) continue;
      await this.mounter.unmountUnder(pluginDir);
      await removeOnDevice(pluginDir, top.dev);
      released = true;
    }
    if (released) this.opts.log?.info({ uid }, 'volumes of a finished pod released');
    if (released) await this.collectFunctionCode();
  }

  /**
   * Removes the volumes of every pod not in `keep` (pods deleted while the agent was away).
   * Returns their uids; a pod whose volumes cannot be removed is logged and left for next time.
   */
  async cleanOrphans(keep: ReadonlySet<string>): Promise<string[]> {
    const entries = await readdir(this.opts.podsRoot).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const uid of entries) {
      if (!isPodUidDir(uid) || keep.has(uid)) continue;
      if (!(await stat(path.join(this.opts.podsRoot, uid, 'volumes')).catch(() => undefined))) continue;
      try {
        await this.tearDown(uid);
        removed.push(uid);
      } catch (err) {
        this.opts.log?.warn({ uid, err: String(err) }, 'cannot remove the volumes of a pod that is gone; trying again on the next start');
      }
    }
    return removed;
  }
}

/**
 * Removes `dir` and everything in it, like `rm -rf`, but refuses to enter a directory on another
 * device than `dev`: a tmpfs or an nfs export still mounted there would otherwise lose its files.
 * Symlinks are removed, never followed.
 */
async function removeOnDevice(dir: string, dev: number): Promise<void> {
  // A bind mount of the same file system has the same device: mountinfo names it.
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`refusing to remove ${dir}: ${left.join(', ')} is another filesystem still mounted; unmount it first`);
  await removeTree(dir, dev);
}

/** removeOnDevice's walk, once no mount is known below `dir`. */
async function removeTree(dir: string, dev: number): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st) return;
  if (!st.isDirectory()) {
    await unlink(dir).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
    return;
  }
  if (st.dev !== dev) throw new Error(`refusing to remove ${dir}: ${dir} is another filesystem still mounted; unmount it first`);
  for (const name of await readdir(dir)) await removeTree(path.join(dir, name), dev);
  await rmdir(dir).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
}
