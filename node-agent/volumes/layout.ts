/**
 * Where a pod's volumes live on the node, laid out like kubelet's
 * `/var/lib/kubelet/pods/<uid>/volumes/<plugin>/<name>`: `<podsRoot>/<uid>/volumes/<plugin>/<name>`.
 * Pod log directories (`<ns>_<name>_<uid>`) share the root; a uid never holds `_`, so the two
 * never meet.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { Volume } from './types';

/** The directory name of each volume plugin that keeps files of its own for the pod. */
export type VolumePlugin = 'empty-dir' | 'configmap' | 'secret' | 'downward-api' | 'nfs' | 'csi';

/** The directory under a pod's own directory that holds its volumes. */
export const VOLUMES_DIR = 'volumes';

const UID = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const VOLUME_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether `name` can be a pod uid's directory (no separator, dot or underscore). */
export const isPodUidDir = (name: string): boolean => UID.test(name);

/**
 * `podsRoot` with every symlink resolved, as /proc/self/mountinfo names mount points: the part
 * that does not exist yet is appended to its nearest existing ancestor's real path. Without this
 * a symlinked data directory hides every volume mount from the checks that compare paths.
 */
export function realPodsRoot(podsRoot: string): string {
  const abs = path.resolve(podsRoot);
  const rest: string[] = [];
  for (let dir = abs; ; dir = path.dirname(dir)) {
    try {
      return path.join(realpathSync(dir), ...rest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dir === path.dirname(dir)) throw e;
      rest.unshift(path.basename(dir));
    }
  }
}

/** The pod's own directory. Throws when `uid` could step out of the root. */
export function podDir(podsRoot: string, uid: string): string {
  if (!isPodUidDir(uid)) throw new Error(`pod uid ${JSON.stringify(uid)} cannot name a directory`);
  return path.join(path.resolve(podsRoot), uid);
}

/** `<podsRoot>/<uid>/volumes`. */
export const podVolumesDir = (podsRoot: string, uid: string): string => path.join(podDir(podsRoot, uid), VOLUMES_DIR);

/** One volume's directory. Throws when the name is not a DNS-1123 label (it would name a path). */
export function volumeDir(podsRoot: string, uid: string, plugin: VolumePlugin, name: string): string {
  if (!VOLUME_NAME.test(name) || name.length > 63) throw new Error(`volume name ${JSON.stringify(name)} is not a DNS-1123 label`);
  return path.join(podVolumesDir(podsRoot, uid), plugin, name);
}

/** The source a volume names, as a word for messages; undefined when it names none. */
export function volumeSource(v: Volume): keyof Omit<Volume, 'name'> | undefined {
  const sources = (['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'persistentVolumeClaim', 'csi'] as const).filter((k) => v[k] !== undefined);
  return sources.length === 1 ? sources[0] : undefined;
}
