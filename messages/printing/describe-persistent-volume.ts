/**
 * `mk describe` of the storage kinds, as kubectl's PersistentVolumeDescriber,
 * PersistentVolumeClaimDescriber and StorageClassDescriber print them
 * (kubernetes/kubectl pkg/describe/describe.go).
 */
import type { Pod } from '../pod';
import type { NodeSelectorTerm } from '../scheduling';
import { accessModesText, claimClass, isDefaultClass, volumeClass } from '../storage';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../persistent-volume';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age } from './time';

const finalizers = (f: string[] | undefined): string => `[${(f ?? []).join(' ')}]`;

/** kubectl's printNodeSelectorTermsMultilineWithIndent: `key in [a, b]`, one requirement a line. */
function writeTerm(w: DescribeWriter, title: string, term: NodeSelectorTerm): void {
  w.write(2, `${title}:\t`);
  const reqs = term.matchExpressions ?? [];
  if (reqs.length === 0) { w.writeRaw('<none>\n'); return; }
  reqs.forEach((r, i) => {
    if (i > 0) w.write(2, '\t');
    const values = r.values?.length ? ` [${r.values.join(', ')}]` : '';
    w.writeRaw(`${r.key} ${r.operator.toLowerCase()}${values}\n`);
  });
}

function writeSource(w: DescribeWriter, pv: PersistentVolume): void {
  w.write(0, 'Source:\n');
  const s = pv.spec;
  if (s.hostPath) {
    w.write(2, 'Type:\tHostPath (bare host directory volume)\n');
    w.write(2, `Path:\t${s.hostPath.path}\n`);
    w.write(2, `HostPathType:\t${s.hostPath.type ?? ''}\n`);
  } else if (s.local) {
    w.write(2, 'Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n');
    w.write(2, `Path:\t${s.local.path}\n`);
  } else if (s.nfs) {
    w.write(2, 'Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n');
    w.write(2, `Server:\t${s.nfs.server}\n`);
    w.write(2, `Path:\t${s.nfs.path}\n`);
    w.write(2, `ReadOnly:\t${s.nfs.readOnly ?? false}\n`);
  }
}

/** kubectl describe pv. */
export function describePersistentVolume(pv: PersistentVolume, events: EventLike[] | undefined, now: number): string {
  const w = new DescribeWriter();
  const s = pv.spec;
  w.write(0, `Name:\t${pv.metadata.name}\n`);
  writeLabels(w, 'Labels', pv.metadata.labels);
  writeAnnotations(w, 'Annotations', pv.metadata.annotations);
  w.write(0, `Finalizers:\t${finalizers(pv.metadata.finalizers)}\n`);
  w.write(0, `StorageClass:\t${volumeClass(pv)}\n`);
  w.write(0, `Status:\t${pv.metadata.deletionTimestamp ? `Terminating (lasts ${age(pv.metadata.deletionTimestamp, now)})` : pv.status?.phase ?? ''}\n`);
  w.write(0, `Claim:\t${s.claimRef ? `${s.claimRef.namespace}/${s.claimRef.name}` : ''}\n`);
  w.write(0, `Reclaim Policy:\t${s.persistentVolumeReclaimPolicy ?? 'Retain'}\n`);
  w.write(0, `Access Modes:\t${accessModesText(s.accessModes)}\n`);
  w.write(0, `VolumeMode:\t${s.volumeMode ?? 'Filesystem'}\n`);
  w.write(0, `Capacity:\t${s.capacity.storage}\n`);
  const terms = s.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) w.write(0, 'Node Affinity:\t<none>\n');
  else {
    w.write(0, 'Node Affinity:\t\n');
    w.write(1, 'Required Terms:\t\n');
    terms.forEach((t, i) => writeTerm(w, `Term ${i}`, t));
  }
  w.write(0, `Message:\t${pv.status?.message ?? ''}\n`);
  writeSource(w, pv);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}

/** kubectl describe pvc; `pods` are those of its namespace that mount it (Used By). */
export function describePersistentVolumeClaim(c: PersistentVolumeClaim, pods: Pod[], events: EventLike[] | undefined, now: number): string {
  const w = new DescribeWriter();
  w.write(0, `Name:\t${c.metadata.name}\n`);
  w.write(0, `Namespace:\t${c.metadata.namespace ?? 'default'}\n`);
  w.write(0, `StorageClass:\t${claimClass(c)}\n`);
  w.write(0, `Status:\t${c.metadata.deletionTimestamp ? `Terminating (lasts ${age(c.metadata.deletionTimestamp, now)})` : c.status?.phase ?? ''}\n`);
  w.write(0, `Volume:\t${c.spec.volumeName ?? ''}\n`);
  writeLabels(w, 'Labels', c.metadata.labels);
  writeAnnotations(w, 'Annotations', c.metadata.annotations);
  w.write(0, `Finalizers:\t${finalizers(c.metadata.finalizers)}\n`);
  w.write(0, `Capacity:\t${c.status?.capacity?.storage ?? ''}\n`);
  w.write(0, `Access Modes:\t${accessModesText(c.status?.accessModes)}\n`);
  w.write(0, `VolumeMode:\t${c.spec.volumeMode ?? 'Filesystem'}\n`);
  const names = pods.map((p) => p.metadata.name).sort();
  w.write(0, `Used By:\t${names.length ? names[0] : '<none>'}\n`);
  for (const n of names.slice(1)) w.write(0, `\t${n}\n`);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}

/** kubectl describe sc. */
export function describeStorageClass(sc: StorageClass, events: EventLike[] | undefined, now: number): string {
  const w = new DescribeWriter();
  w.write(0, `Name:\t${sc.metadata.name}\n`);
  w.write(0, `IsDefaultClass:\t${isDefaultClass(sc) ? 'Yes' : 'No'}\n`);
  const annotations = Object.entries(sc.metadata.annotations ?? {})
    .filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration').map(([k, v]) => `${k}=${v}`).sort();
  w.write(0, `Annotations:\t${annotations.join(',') || '<none>'}\n`);
  w.write(0, `Provisioner:\t${sc.provisioner}\n`);
  const params = Object.entries(sc.parameters ?? {}).map(([k, v]) => `${k}=${v}`).sort();
  w.write(0, `Parameters:\t${params.join(',') || '<none>'}\n`);
  w.write(0, `AllowVolumeExpansion:\t${sc.allowVolumeExpansion === undefined ? '<unset>' : String(sc.allowVolumeExpansion)}\n`);
  w.write(0, `MountOptions:\t${sc.mountOptions?.length ? sc.mountOptions.join(', ') : '<none>'}\n`);
  w.write(0, `ReclaimPolicy:\t${sc.reclaimPolicy ?? 'Delete'}\n`);
  w.write(0, `VolumeBindingMode:\t${sc.volumeBindingMode ?? 'Immediate'}\n`);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
