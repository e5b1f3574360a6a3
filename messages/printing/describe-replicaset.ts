/**
 * `mk describe rs` in the shape of kubectl's ReplicaSetDescriber (kubernetes/kubectl
 * pkg/describe/describe.go: describeReplicaSet): selector, replicas current/desired, the phases
 * of its pods, the pod template, its conditions and events.
 */
import { envValueText } from './env-text';
import { formatSelector } from '../label-selector';
import type { Pod } from '../pod';
import type { ReplicaSet } from '../replicaset';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
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
  const phase = (p: string) => pods.filter((x) => (x.status?.phase ?? 'Pending') === p).length;
  w.write(0, `Pods Status:\t${phase('Running')} Running / ${phase('Pending')} Waiting / ${phase('Succeeded')} Succeeded / ${phase('Failed')} Failed\n`);
  w.write(0, 'Pod Template:\n');
  const template = rs.spec?.template;
  writeLabels(w, '  Labels', template?.metadata?.labels);
  w.write(1, 'Containers:\n');
  for (const c of template?.spec?.containers ?? []) {
    w.write(2, `${c.name}:\n`);
    w.write(3, `Image:\t${c.image}\n`);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ');
    w.write(3, `Port:\t${ports || '<none>'}\n`);
    if (c.command?.length) w.write(3, `Command:\t${c.command.join(' ')}\n`);
    if (c.args?.length) w.write(3, `Args:\t${c.args.join(' ')}\n`);
    w.write(3, `Environment:\t${(c.env ?? []).map((e) => `${e.name}=${envValueText(e).replace(/\t/g, ' ')}`).join(', ') || '<none>'}\n`);
  }
  const conditions = rs.status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tReason\n');
    w.write(1, '----\t------\t------\n');
    for (const c of conditions) w.write(1, `${c.type}\t${c.status}\t${c.reason ?? ''}\n`);
  }
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
