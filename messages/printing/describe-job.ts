/**
 * `mk describe job`: the sections and wording of kubectl's JobDescriber
 * (kubernetes/kubectl pkg/describe/describe.go: describeJob).
 */
import type { Job } from '../batch';
import { describeTime, DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { writeConditions, writePodTemplate } from './describe-template';
import { age, humanDuration } from './time';

/** Describes a Job; `events` are its events, or undefined when none could be listed. */
export function describeJob(job: Job, events?: EventLike[], now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = job.metadata;
  const spec = job.spec;
  const st = job.status ?? {};
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  const sel = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  w.write(0, `Selector:\t${sel || '<none>'}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Parallelism:\t${spec.parallelism ?? 1}\n`);
  w.write(0, `Completions:\t${spec.completions ?? '<unset>'}\n`);
  w.write(0, `Completion Mode:\t${spec.completionMode ?? 'NonIndexed'}\n`);
  w.write(0, `Suspend:\t${spec.suspend ?? false}\n`);
  w.write(0, `Backoff Limit:\t${spec.backoffLimit ?? 6}\n`);
  if (spec.ttlSecondsAfterFinished !== undefined) w.write(0, `TTL Seconds After Finished:\t${spec.ttlSecondsAfterFinished}\n`);
  if (st.startTime) w.write(0, `Start Time:\t${describeTime(st.startTime)}\n`);
  if (st.completionTime) w.write(0, `Completed At:\t${describeTime(st.completionTime)}\n`);
  if (st.startTime && st.completionTime) w.write(0, `Duration:\t${humanDuration(Date.parse(st.completionTime) - Date.parse(st.startTime))}\n`);
  if (spec.activeDeadlineSeconds !== undefined) w.write(0, `Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s\n`);
  w.write(0, `Pods Statuses:\t${st.active ?? 0} Active (${st.ready ?? 0} Ready) / ${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed\n`);
  if (spec.completionMode === 'Indexed') w.write(0, `Completed Indexes:\t${st.completedIndexes || '<none>'}\n`);
  writePodTemplate(w, spec.template, { restartPolicy: true });
  writeConditions(w, st.conditions);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
