/**
 * `mk describe rs` in the shape of kubectl's ReplicaSetDescriber (kubernetes/kubectl
 * pkg/describe/describe.go: describeReplicaSet): selector, replicas current/desired, the phases
 * of its pods, the pod template, its conditions and events.
 */
import { formatSelector } from '../label-selector';
import type { Pod } from '../pod';
import type { ReplicaSet } from '../replicaset';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { writeConditions, writePodsStatus, writePodTemplate } from './describe-template';
import { age } from './time';

/** Describes `rs`; `pods` are the pods it controls (as `mk describe` read them), `events` its events. */
export function describeReplicaSet(rs: ReplicaSet, pods: Pod[], events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = rs.metadata;
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `Selector:\t${formatSelector(rs.spec?.selector)}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  const owner = md.ownerReferences?.find((r) => r.controller);
  if (owner) w.write(0, `Controlled By:\t${owner.kind}/${owner.name}\n`);
  w.write(0, `Replicas:\t${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired\n`);
  writePodsStatus(w, pods);
  writePodTemplate(w, rs.spec?.template);
  writeConditions(w, rs.status?.conditions);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
