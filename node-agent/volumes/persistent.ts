/**
 * persistentVolumeClaim volumes (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#claims-as-volumes):
 * the node reads the claim the pod names and the PersistentVolume it is bound to (through the
 * control plane, which lets it read only those), and mounts the volume's storage: a hostPath
 * (anywhere on the node: an administrator made the volume; its type checked as for a pod's
 * hostPath), a local directory (the node must match the volume's nodeAffinity), or an nfs export
 * mounted under the pod's volume directory. hostPath and local directories are bind-mounted by
 * the runtime as they are and never removed with the pod; an nfs mount is unmounted with the
 * pod's volumes. A claim not Bound yet is a VolumeError: the pod waits (FailedMount) and the next
 * sync tries again.
 */
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { matchesNodeSelectorTerm } from '../../messages/scheduling';
import type { PersistentVolume, PersistentVolumeClaim } from '../../messages/persistent-volume';
import type { MountedVolume } from './container-mounts';
import { ensureLocalVolumeDir } from '../storage/local-path';
import { VolumeError } from './errors';
import { ANY_ROOT, setUpHostPath } from './host-path';
import type { Mounter } from './tmpfs';
import type { PersistentVolumeClaimVolumeSource } from './types';

/** How the node reads a pod's claims and their volumes; undefined = not found. */
export interface ClaimReader {
  claim?(name: string): Promise<PersistentVolumeClaim | undefined>;
  volume?(name: string): Promise<PersistentVolume | undefined>;
}

/** What mounting a claim's volume needs of the node. */
export interface ClaimMountContext {
  /** This node: its name and the labels it registers with. */
  node: { metadata: { name: string; labels?: Record<string, string> } };
  /** The pod's namespace. */
  namespace: string;
  /** The directory an nfs export is mounted at (made here when needed). */
  nfsDir(): string;
  mounter: Mounter;
  /** The file listing the kernel's file systems (default /proc/filesystems). */
  procFilesystems?: string;
}

/**
 * mount(8)'s arguments for an nfs volume at `dir`: its mountOptions, `ro` when read-only, and
 * `server:path` (an IPv6 server in brackets). Pure: the arguments go to mount as an array.
 */
export function nfsMountArgs(pv: Pick<PersistentVolume, 'spec'>, dir: string, readOnly: boolean): string[] {
  const nfs = pv.spec.nfs;
  if (!nfs) throw new Error('the volume has no nfs source');
  const options = [...(pv.spec.mountOptions ?? [])];
  if (readOnly && !options.includes('ro')) options.push('ro');
  const server = nfs.server.includes(':') && !nfs.server.startsWith('[') ? `[${nfs.server}]` : nfs.server;
  return ['-t', 'nfs', ...(options.length ? ['-o', options.join(',')] : []), `${server}:${nfs.path}`, dir];
}

/** True when the kernel lists `fs` among its file systems (it can mount it without a module loaded on demand). */
export async function kernelSupports(fs: string, procFilesystems = '/proc/filesystems'): Promise<boolean> {
  const text = await readFile(procFilesystems, 'utf8').catch(() => '');
  return text.split('\n').some((line) => line.trim().split(/\s+/).pop() === fs);
}

/** True when the volume's nodeAffinity (if any) admits the node. */
function reachable(pv: PersistentVolume, node: ClaimMountContext['node']): boolean {
  const terms = pv.spec.nodeAffinity?.required.nodeSelectorTerms;
  return !terms || terms.some((t) => matchesNodeSelectorTerm(t, node));
}

/**
 * Sets up the volume of the claim `src` names and returns where it is. Throws VolumeError for a
 * claim or volume missing, not bound (to each other), not reachable from this node, or storage
 * the node cannot mount.
 */
export async function setUpClaimVolume(volume: string, src: PersistentVolumeClaimVolumeSource, reader: ClaimReader, ctx: ClaimMountContext): Promise<MountedVolume> {
  const name = src.claimName;
  if (!reader.claim || !reader.volume) throw new VolumeError(volume, `cannot read persistentvolumeclaim "${name}": this node has no access to the control plane's claims`);
  const claim = await reader.claim(name);
  if (!claim) throw new VolumeError(volume, `persistentvolumeclaim "${name}" not found`);
  // A claim being deleted is still mounted: its protection finalizer keeps it while the pod lives,
  // and a restarted container must find its data (the scheduler places no new pod on it).
  if (claim.status?.phase !== 'Bound' || !claim.spec.volumeName) {
    throw new VolumeError(volume, `PVC ${ctx.namespace}/${name} is not bound (phase ${claim.status?.phase ?? 'Pending'}): the pod waits for its volume`);
  }
  const pv = await reader.volume(claim.spec.volumeName);
  if (!pv) throw new VolumeError(volume, `persistentvolume "${claim.spec.volumeName}" of claim "${name}" not found`);
  const ref = pv.spec.claimRef;
  if (!ref || ref.name !== name || ref.namespace !== ctx.namespace || (ref.uid && ref.uid !== claim.metadata.uid)) {
    throw new VolumeError(volume, `persistentvolume "${pv.metadata.name}" is not bound to claim "${name}"`);
  }
  const readOnly = !!src.readOnly || !!pv.spec.nfs?.readOnly;
  if (pv.spec.hostPath) {
    return { hostPath: await setUpHostPath(volume, pv.spec.hostPath, ANY_ROOT), readOnly, createSubPaths: true };
  }
  if (pv.spec.local) {
    if (!reachable(pv, ctx.node)) {
      throw new VolumeError(volume, `local persistentvolume "${pv.metadata.name}" is not on node ${ctx.node.metadata.name} (its nodeAffinity does not match)`);
    }
    // A local-path volume's directory is made by the node's storage sync; made here too when the
    // pod comes first (the same checks: only a path the provisioner would name).
    await ensureLocalVolumeDir(pv, ctx.node.metadata.name);
    const where = pv.spec.local.path;
    const resolved = await realpath(where).catch(() => undefined);
    if (!resolved || !(await stat(resolved)).isDirectory()) throw new VolumeError(volume, `local persistentvolume "${pv.metadata.name}": ${where} is not a directory on this node`);
    return { hostPath: resolved, readOnly, createSubPaths: true, fsGroupOwned: !readOnly };
  }
  if (pv.spec.nfs) return { hostPath: await mountNfs(volume, pv, readOnly, ctx), readOnly, createSubPaths: true };
  throw new VolumeError(volume, `persistentvolume "${pv.metadata.name}" has no volume source this node can mount (hostPath, local or nfs)`);
}

/** Mounts the export at the pod's nfs directory unless it is mounted there already. */
async function mountNfs(volume: string, pv: PersistentVolume, readOnly: boolean, ctx: ClaimMountContext): Promise<string> {
  const dir = ctx.nfsDir();
  await mkdir(dir, { recursive: true, mode: 0o750 });
  if (await ctx.mounter.isMountPoint(dir)) return dir;
  const args = nfsMountArgs(pv, dir, readOnly);
  const what = `nfs export ${args[args.length - 2]}`;
  if (!(await kernelSupports('nfs', ctx.procFilesystems))) {
    throw new VolumeError(volume, `${what}: this node's kernel cannot mount NFS (no nfs in ${ctx.procFilesystems ?? '/proc/filesystems'}; load the nfs module or install the NFS client)`);
  }
  if (!ctx.mounter.mount) throw new VolumeError(volume, `${what}: this node mounts no network file systems`);
  try {
    await ctx.mounter.mount(args);
  } catch (e) {
    throw new VolumeError(volume, `${what}: mount ${args.join(' ')}: ${(e as Error).message}`);
  }
  return dir;
}
