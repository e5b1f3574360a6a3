/**
 * The batch/v1 CronJob kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/cron-job-v1/ that mk runs.
 * Objects are strict: a field mk does not support is reported by name, never dropped.
 */
import { z } from 'zod';
import { JobSpec, type Job } from './batch';
import { cronProblem, timeZoneProblem } from './cron';
import type { ObjectReference } from './event';
import { ObjectMeta } from './meta';

/** The annotation a CronJob's Job carries: the time it was scheduled for (RFC 3339, in the CronJob's zone). */
export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** The annotation of a Job made by hand from a CronJob (`mk create job --from=cronjob/NAME`). */
export const CRONJOB_INSTANTIATE = 'cronjob.kubernetes.io/instantiate';

export const JobTemplateMeta = z.strictObject({
  labels: ObjectMeta.shape.labels.describe('Labels every Job of the CronJob gets.'),
  annotations: ObjectMeta.shape.annotations.describe('Annotations every Job of the CronJob gets.'),
}).meta({ title: 'JobTemplateMeta' });

export const JobTemplateSpec = z.strictObject({
  metadata: JobTemplateMeta.optional().describe('The labels and annotations of the Jobs.'),
  spec: JobSpec.describe('The spec of every Job, validated as a Job\'s.'),
}).meta({ title: 'JobTemplateSpec' });

export const CronJobSpec = z.strictObject({
  schedule: z.string().superRefine((v, ctx) => {
    const problem = cronProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: `Invalid value: "${v}": ${problem}` });
  }).describe(
    'When Jobs run, in cron syntax: minute hour day-of-month month day-of-week, with *, ranges, steps, '
    + 'lists and names (jan, mon), or a macro (@yearly @annually @monthly @weekly @daily @midnight @hourly).',
  ),
  timeZone: z.string().superRefine((v, ctx) => {
    const problem = timeZoneProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: `Invalid value: "${v}": ${problem}` });
  }).optional().describe('The IANA time zone the schedule is read in (Europe/Paris); UTC when omitted.'),
  concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).optional().describe(
    'What happens when a run is due while an earlier Job still runs: Allow (the default) starts it too, '
    + 'Forbid skips it, Replace deletes the running Jobs and starts the new one.',
  ),
  startingDeadlineSeconds: z.number().int().min(0, 'must be greater than or equal to 0').optional().describe(
    'Seconds after its scheduled time a missed run may still start; later it is skipped. No limit when omitted.',
  ),
  successfulJobsHistoryLimit: z.number().int().min(0, 'must be greater than or equal to 0').optional().describe(
    'How many succeeded Jobs are kept; older ones are deleted. Defaults to 3.',
  ),
  failedJobsHistoryLimit: z.number().int().min(0, 'must be greater than or equal to 0').optional().describe(
    'How many failed Jobs are kept; older ones are deleted. Defaults to 1.',
  ),
  suspend: z.boolean().optional().describe('True starts no new Job (running ones go on); false by default.'),
  jobTemplate: JobTemplateSpec.describe('The Job each run creates.'),
}).meta({ title: 'CronJobSpec' });
export type CronJobSpec = z.infer<typeof CronJobSpec>;

export interface CronJobStatus {
  /** The Jobs of the CronJob that still run. */
  active?: ObjectReference[];
  /** The scheduled time of the last Job the controller started (RFC 3339). */
  lastScheduleTime?: string;
  /** When the last Job of the CronJob succeeded (RFC 3339). */
  lastSuccessfulTime?: string;
}

export const CronJobSchema = z.strictObject({
  apiVersion: z.literal('batch/v1').describe('The API version of the kind: `batch/v1`.'),
  kind: z.literal('CronJob').describe('The kind of object: `CronJob`.'),
  metadata: ObjectMeta.describe("The CronJob's name, namespace, labels and the metadata the server keeps."),
  spec: CronJobSpec.describe('When Jobs run, how runs that overlap are handled, and the Job each run creates.'),
  status: z.unknown().optional().meta({
    title: 'CronJobStatus',
    description: 'What the CronJob controller last recorded (active Jobs, lastScheduleTime, lastSuccessfulTime). '
      + "A manifest's status is ignored.",
  }),
}).superRefine((c, ctx) => {
  // Job names are `<name>-<minutes since epoch>` (11 more characters), and at most 63 long.
  if (c.metadata.name.length > 52) {
    ctx.addIssue({ code: 'custom', path: ['metadata', 'name'], message: `a CronJob's name has at most 52 characters (its Jobs' names add 11); "${c.metadata.name}" has ${c.metadata.name.length}` });
  }
}).meta({ title: 'CronJob' });

export interface CronJob {
  apiVersion: 'batch/v1';
  kind: 'CronJob';
  metadata: ObjectMeta;
  spec: CronJobSpec;
  status?: CronJobStatus;
}

/** The name of the Job of the run scheduled at `scheduledMs`: `<cronjob>-<minutes since the epoch>`. */
export function cronJobRunName(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}

/**
 * A Job made from a CronJob's template: its labels and annotations, `annotations` added, and an
 * owner reference that makes the CronJob its controller (deleting the CronJob deletes it).
 */
export function jobFromCronJob(cj: CronJob, name: string, annotations: Record<string, string>): Job {
  const meta = cj.spec.jobTemplate.metadata ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      ...(cj.metadata.namespace ? { namespace: cj.metadata.namespace } : {}),
      ...(meta.labels ? { labels: { ...meta.labels } } : {}),
      annotations: { ...(meta.annotations ?? {}), ...annotations },
      ownerReferences: [{
        apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name, uid: cj.metadata.uid ?? '', controller: true, blockOwnerDeletion: true,
      }],
    },
    spec: structuredClone(cj.spec.jobTemplate.spec),
  };
}
