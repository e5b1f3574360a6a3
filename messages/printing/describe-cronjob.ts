/**
 * `mk describe cronjob`: the sections and wording of kubectl's CronJobDescriber
 * (kubernetes/kubectl pkg/describe/describe.go: describeCronJob).
 */
import type { CronJob } from '../cronjob';
import { describeTime, DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { writePodTemplate } from './describe-template';
import { age } from './time';

/** Describes a CronJob; `events` are its events, or undefined when none could be listed. */
export function describeCronJob(cj: CronJob, events?: EventLike[], now: number = Date.now()): string {
  const w = new DescribeWriter();
  const md = cj.metadata;
  const spec = cj.spec;
  const st = cj.status ?? {};
  const job = spec.jobTemplate.spec;
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  w.write(0, `Schedule:\t${spec.schedule}\n`);
  w.write(0, `Time Zone:\t${spec.timeZone ?? '<unset>'}\n`);
  w.write(0, `Concurrency Policy:\t${spec.concurrencyPolicy ?? 'Allow'}\n`);
  w.write(0, `Suspend:\t${spec.suspend ?? false}\n`);
  w.write(0, `Successful Job History Limit:\t${spec.successfulJobsHistoryLimit ?? 3}\n`);
  w.write(0, `Failed Job History Limit:\t${spec.failedJobsHistoryLimit ?? 1}\n`);
  w.write(0, `Starting Deadline Seconds:\t${spec.startingDeadlineSeconds === undefined ? '<unset>' : `${spec.startingDeadlineSeconds}s`}\n`);
  const sel = Object.entries(job.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  w.write(0, `Selector:\t${sel || '<unset>'}\n`);
  w.write(0, `Parallelism:\t${job.parallelism ?? '<unset>'}\n`);
  w.write(0, `Completions:\t${job.completions ?? '<unset>'}\n`);
  if (job.activeDeadlineSeconds !== undefined) w.write(0, `Active Deadline Seconds:\t${job.activeDeadlineSeconds}s\n`);
  writePodTemplate(w, job.template, { restartPolicy: true });
  w.write(0, `Last Schedule Time:\t${st.lastScheduleTime ? describeTime(st.lastScheduleTime) : '<unset>'}\n`);
  if (st.lastSuccessfulTime) w.write(0, `Last Successful Time:\t${describeTime(st.lastSuccessfulTime)}\n`);
  w.write(0, `Active Jobs:\t${st.active?.length ? st.active.map((r) => r.name).join(', ') : '<none>'}\n`);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}
