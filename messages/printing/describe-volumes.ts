/**
 * The `Volumes:` section and a container's `Mounts:` lines of `mk describe`, worded as kubectl's
 * (kubernetes/kubectl pkg/describe/describe.go: describeVolumes and its print*VolumeSource,
 * describeContainerVolumes). A Secret volume shows the Secret's name only, never its data.
 */
import type { Volume, VolumeMount } from '../volumes';
import type { DescribeWriter } from './describe-writer';

/** `Mounts:` and one `path from volume (rw|ro[,path="sub"])` line per mount, by mount path; `<none>` without mounts. */
export function writeMounts(w: DescribeWriter, level: number, mounts: VolumeMount[] | undefined): void {
  if (!mounts?.length) {
    w.write(level, 'Mounts:\t<none>\n');
    return;
  }
  w.write(level, 'Mounts:\n');
  for (const m of [...mounts].sort((a, b) => (a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0))) {
    const flags = [m.readOnly ? 'ro' : 'rw'];
    if (m.subPath) flags.push(`path=${JSON.stringify(m.subPath)}`);
    w.write(level + 1, `${m.mountPath} from ${m.name} (${flags.join(',')})\n`);
  }
}

/** `Volumes:` with each volume's name, type and the fields of its source; `<none>` without volumes. */
export function writeVolumes(w: DescribeWriter, level: number, volumes: Volume[] | undefined): void {
  if (!volumes?.length) {
    w.write(level, 'Volumes:\t<none>\n');
    return;
  }
  w.write(level, 'Volumes:\n');
  for (const v of volumes) {
    w.write(level + 1, `${v.name}:\n`);
    for (const [key, value] of volumeFields(v)) w.write(level + 2, value === undefined ? `${key}:\n` : `${key}:\t${value}\n`);
    for (const line of downwardLines(v)) w.write(level + 3, `${line}\n`);
  }
}

/** The `Key: value` lines of a volume's source, in kubectl's order; a key without a value heads a list. */
function volumeFields(v: Volume): [string, string | undefined][] {
  if (v.emptyDir) {
    return [
      ['Type', "EmptyDir (a temporary directory that shares a pod's lifetime)"],
      ['Medium', v.emptyDir.medium ?? ''],
      ['SizeLimit', v.emptyDir.sizeLimit ?? '<unset>'],
    ];
  }
  if (v.hostPath) {
    return [['Type', 'HostPath (bare host directory volume)'], ['Path', v.hostPath.path], ['HostPathType', v.hostPath.type ?? '<none>']];
  }
  if (v.configMap) {
    return [['Type', 'ConfigMap (a volume populated by a ConfigMap)'], ['Name', v.configMap.name], ['Optional', String(v.configMap.optional ?? false)]];
  }
  if (v.secret) {
    return [['Type', 'Secret (a volume populated by a Secret)'], ['SecretName', v.secret.secretName], ['Optional', String(v.secret.optional ?? false)]];
  }
  if (v.downwardAPI) return [['Type', 'DownwardAPI (a volume populated by information about the pod)'], ['Items', undefined]];
  if (v.persistentVolumeClaim) {
    return [
      ['Type', 'PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)'],
      ['ClaimName', v.persistentVolumeClaim.claimName],
      ['ReadOnly', String(v.persistentVolumeClaim.readOnly ?? false)],
    ];
  }
  if (v.csi) {
    // kubectl's printCSIVolumeSource.
    const attrs = Object.entries(v.csi.volumeAttributes ?? {}).map(([k, val]) => `${k}=${val}`).join(',');
    return [
      ['Type', 'CSI (a Container Storage Interface (CSI) volume source)'],
      ['Driver', v.csi.driver],
      ['ReadOnly', String(v.csi.readOnly ?? false)],
      ['VolumeAttributes', attrs || '<none>'],
    ];
  }
  return [['Type', '<unknown>']];
}

/** A downward API volume's items: `metadata.labels -> labels`, `limits.cpu -> cpu`. */
function downwardLines(v: Volume): string[] {
  return (v.downwardAPI?.items ?? []).map((f) => `${f.fieldRef?.fieldPath ?? f.resourceFieldRef?.resource ?? ''} -> ${f.path}`);
}
