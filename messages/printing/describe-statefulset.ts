/**
 * `mk describe sts` in the shape of kubectl's StatefulSetDescriber (kubernetes/kubectl
 * pkg/describe/describe.go: describeStatefulSet): selector, replicas, update strategy, the phases
 * of its pods, the pod template, the volume claim templates and its events.
 */
import { formatSelector } from '../label-selector';
import type { Pod } from '../pod';
import type { StatefulSet } from '../statefulset';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { writePodsStatus, writePodTemplate } from './describe-template';
import { age } from './time';

/** Describes `sts`; `pods` are the pods it controls (as `mk describe` read them), `events` its events. */
export function describeStatefulSet(sts: StatefulSet, pods: Pod[], events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = sts.metadata;
  const spec = sts.spec;
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `CreationTimestamp:\t${md.creationTimestamp ?? '<unknown>'}\n`);
  w.write(0, `Selector:\t${formatSelector(spec?.selector)}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Replicas:\t${spec?.replicas ?? 1} desired | ${sts.status?.replicas ?? 0} total\n`);
  w.write(0, `Update Strategy:\t${spec?.updateStrategy?.type ?? 'RollingUpdate'}\n`);
  const partition = spec?.updateStrategy?.rollingUpdate?.partition;
  if (partition !== undefined) w.write(1, `Partition:\t${partition}\n`);
  w.write(0, `Pod Management Policy:\t${spec?.podManagementPolicy ?? 'OrderedReady'}\n`);
  writePodsStatus(w, pods);
  writePodTemplate(w, spec?.template);
  const claims = spec?.volumeClaimTemplates ?? [];
  w.write(0, `Volume Claims:\t${claims.length === 0 ? '<none>' : ''}\n`);
  for (const c of claims) {
    w.write(1, `Name:\t${c.metadata.name}\n`);
    w.write(1, `StorageClass:\t${c.spec.storageClassName ?? ''}\n`);
    writeLabels(w, '  Labels', c.metadata.labels);
    w.write(1, `Capacity:\t${c.spec.resources.requests.storage}\n`);
    w.write(1, `Access Modes:\t${c.spec.accessModes.join(', ')}\n`);
  }
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
