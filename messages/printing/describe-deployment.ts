/**
 * `mk describe deployment`, after kubectl's (k8s.io/kubectl pkg/describe/describe.go:
 * DeploymentDescriber): selector, replica counts, strategy, the pod template, conditions, the
 * old and new ReplicaSets and events.
 */
import type { Deployment } from '../deployment';
import { formatSelector } from '../label-selector';
import type { ReplicaSet } from '../replicaset';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { writeConditions, writePodTemplate } from './describe-template';
import { age } from './time';

const rsLine = (r: ReplicaSet) => `${r.metadata.name} (${r.status?.replicas ?? 0}/${r.spec?.replicas ?? 0} replicas created)`;

/** Describes `d`; `sets` are the ReplicaSets it controls, `events` its events. */
export function describeDeployment(d: Deployment, sets: ReplicaSet[], events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = d.metadata;
  const st = d.status ?? {};
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `CreationTimestamp:\t${md.creationTimestamp ?? '<unknown>'}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Selector:\t${formatSelector(d.spec?.selector)}\n`);
  w.write(0, `Replicas:\t${d.spec?.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | `
    + `${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable\n`);
  const strategy = d.spec?.strategy?.type ?? 'RollingUpdate';
  w.write(0, `StrategyType:\t${strategy}\n`);
  w.write(0, `MinReadySeconds:\t${d.spec?.minReadySeconds ?? 0}\n`);
  const ru = d.spec?.strategy?.rollingUpdate;
  if (strategy === 'RollingUpdate' && ru) {
    w.write(0, `RollingUpdateStrategy:\t${ru.maxUnavailable ?? '25%'} max unavailable, ${ru.maxSurge ?? '25%'} max surge\n`);
  }
  if (d.spec?.paused) w.write(0, 'Paused:\ttrue\n');
  writePodTemplate(w, d.spec?.template);
  writeConditions(w, st.conditions);
  const hash = (r: ReplicaSet) => r.metadata.labels?.['pod-template-hash'];
  const tplHash = d.spec?.template?.metadata?.labels?.['pod-template-hash'];
  const isNew = (r: ReplicaSet) => r.metadata.annotations?.['deployment.kubernetes.io/revision']
    === md.annotations?.['deployment.kubernetes.io/revision'] && (tplHash === undefined || hash(r) === tplHash);
  const newRs = sets.find(isNew);
  const old = sets.filter((r) => r !== newRs && (r.spec?.replicas ?? 0) > 0);
  w.write(0, `OldReplicaSets:\t${old.map(rsLine).join(', ') || '<none>'}\n`);
  w.write(0, `NewReplicaSet:\t${newRs ? rsLine(newRs) : '<none>'}\n`);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
