/**
 * `mk describe ds` in the shape of kubectl's DaemonSetDescriber (kubernetes/kubectl
 * pkg/describe/describe.go: describeDaemonSet): selector, node selector, the node counts of its
 * status, the phases of its pods, the pod template and its events.
 */
import type { DaemonSet } from '../daemonset';
import { formatSelector } from '../label-selector';
import type { Pod } from '../pod';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { writePodsStatus, writePodTemplate } from './describe-template';
import { age } from './time';

/** Describes `ds`; `pods` are the pods it controls (as `mk describe` read them), `events` its events. */
export function describeDaemonSet(ds: DaemonSet, pods: Pod[], events: EventLike[] | undefined, now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = ds.metadata;
  const s = ds.status;
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `Selector:\t${formatSelector(ds.spec?.selector)}\n`);
  const nodeSel = Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  w.write(0, `Node-Selector:\t${nodeSel || '<none>'}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Desired Number of Nodes Scheduled:\t${s?.desiredNumberScheduled ?? 0}\n`);
  w.write(0, `Current Number of Nodes Scheduled:\t${s?.currentNumberScheduled ?? 0}\n`);
  w.write(0, `Number of Nodes Scheduled with Up-to-date Pods:\t${s?.updatedNumberScheduled ?? 0}\n`);
  w.write(0, `Number of Nodes Scheduled with Available Pods:\t${s?.numberAvailable ?? 0}\n`);
  w.write(0, `Number of Nodes Misscheduled:\t${s?.numberMisscheduled ?? 0}\n`);
  writePodsStatus(w, pods);
  const strategy = ds.spec?.updateStrategy;
  const ru = strategy?.rollingUpdate;
  w.write(0, `Update Strategy:\t${strategy?.type ?? 'RollingUpdate'}${ru ? ` (max unavailable ${ru.maxUnavailable ?? 1}, max surge ${ru.maxSurge ?? 0})` : ''}\n`);
  writePodTemplate(w, ds.spec?.template);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
