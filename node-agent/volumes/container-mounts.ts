/**
 * A container's volumeMounts as CRI mounts, as kubelet's makeMounts does
 * (kubernetes/kubernetes pkg/kubelet/kubelet_pods.go): each names a volume of the pod; subPath (or
 * subPathExpr, expanded with the container's environment) picks a path inside it, made as a
 * directory when missing in a volume that allows it, and refused when it resolves (through
 * symlinks) outside the volume (https://kubernetes.io/docs/concepts/storage/volumes/#using-subpath).
 */
import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Container } from '../../messages/pod';
import type { Mount } from '../cri/types';
import { expand } from '../pods/env';
import { VolumeError } from './errors';
import { isWithin, resolveExisting } from './host-path';
import type { SubPathBinder } from './subpath';
import { containerVolumeMounts } from './types';

/** A volume set up on the node, ready to mount. */
export interface MountedVolume {
  /** Where it is on the node (resolved). */
  hostPath: string;
  /** Mounted read-only whatever the mount asks (configMap, secret, downwardAPI). */
  readOnly: boolean;
  /** Whether a missing subPath is made as a directory (emptyDir, hostPath). */
  createSubPaths: boolean;
  /**
   * Whether the pod's fsGroup is given to its files (kubelet's ownership management: emptyDir,
   * configMap, secret, downwardAPI and a writable local volume; not hostPath or nfs).
   */
  fsGroupOwned?: boolean;
}

/** The pod's volumes set up on the node, by volume name. */
export type PodVolumeMap = ReadonlyMap<string, MountedVolume>;

/**
 * The CRI mounts of `c`'s volumeMounts, in order. `env` is the container's resolved environment
 * (for subPathExpr). `bind` (the node's, subpath.ts) gives each checked subPath a path no container
 * can swap; without one (tests' fake mounters) the checked path itself is mounted. Throws VolumeError for a mount naming no volume, a bad or escaping subPath.
 */
export async function containerMounts(
  c: Container, volumes: PodVolumeMap, env: readonly { name: string; value: string }[], bind?: SubPathBinder,
): Promise<Mount[]> {
  const out: Mount[] = [];
  const seen = new Set<string>();
  const vars = new Map(env.map((e) => [e.name, e.value]));
  for (const [index, vm] of containerVolumeMounts(c).entries()) {
    const vol = volumes.get(vm.name);
    if (!vol) throw new VolumeError(vm.name, `container ${c.name}: volumeMount "${vm.name}" names no volume of the pod`);
    if (!vm.mountPath) throw new VolumeError(vm.name, `container ${c.name}: volumeMount "${vm.name}" needs a mountPath`);
    if (seen.has(vm.mountPath)) throw new VolumeError(vm.name, `container ${c.name}: mountPath ${vm.mountPath} is used by two volumeMounts`);
    seen.add(vm.mountPath);
    if (vm.subPath && vm.subPathExpr) throw new VolumeError(vm.name, `container ${c.name}: volumeMount "${vm.name}" has both subPath and subPathExpr`);
    const sub = vm.subPath ?? (vm.subPathExpr !== undefined ? expand(vm.subPathExpr, (n) => vars.get(n)) : undefined);
    // An expanded subPathExpr may hold a Secret's value: messages (events, status) quote the expression.
    const what = vm.subPath
      ? `container ${c.name}: subPath ${JSON.stringify(vm.subPath)} of volume "${vm.name}"`
      : `container ${c.name}: subPathExpr ${JSON.stringify(vm.subPathExpr)} of volume "${vm.name}"`;
    const hostPath = sub ? await subPathOf(vm.name, vol, sub, { what, expanded: !vm.subPath, ...(bind ? { bind: (base, resolved) => bind({ volume: vm.name, container: c.name, index, base, resolved }) } : {}) }) : vol.hostPath;
    out.push({ containerPath: vm.mountPath, hostPath, readonly: !!vm.readOnly || vol.readOnly, propagation: 'PROPAGATION_PRIVATE' });
  }
  return out;
}

/**
 * The resolved path of `sub` inside the volume, made when missing and allowed. `what` names the
 * mount in messages; `expanded` (a subPathExpr's value) keeps `sub` and the paths made from it out
 * of them.
 */
async function subPathOf(
  volume: string, vol: MountedVolume, sub: string,
  how: { what: string; expanded: boolean; bind?: (base: string, resolved: string) => Promise<string> },
): Promise<string> {
  const { what, expanded } = how;
  const done = (resolved: string): Promise<string> => (how.bind ? how.bind(base, resolved) : Promise.resolve(resolved));
  const once = expanded ? ' once expanded' : '';
  if (path.isAbsolute(sub)) throw new VolumeError(volume, `${what} must be a relative path${once}`);
  if (sub.split('/').includes('..')) throw new VolumeError(volume, `${what} must not contain '..'${once}`);
  const check = (resolved: string): void => {
    if (!isWithin(resolved, base)) throw new VolumeError(volume, `${what} leaves the volume${expanded ? ' through a symlink' : `: it resolves to ${resolved}`}`);
  };
  let base = '';
  try {
    base = await realpath(vol.hostPath);
    const target = path.join(base, sub);
    const resolved = await resolveExisting(target);
    check(resolved);
    if (await stat(resolved).catch(() => undefined)) return await done(resolved);
    if (!vol.createSubPaths) throw new VolumeError(volume, `${what} does not exist in the volume`);
    await mkdir(resolved, { recursive: true, mode: 0o755 });
    // A symlink swapped in while the directories were made would show here.
    const again = await realpath(target);
    check(again);
    return await done(again);
  } catch (e) {
    if (e instanceof VolumeError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new VolumeError(volume, `${what} cannot be made or resolved in the volume: ${expanded ? err.code ?? 'I/O error' : err.message}`);
  }
}
