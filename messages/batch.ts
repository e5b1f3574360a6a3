/**
 * The batch/v1 Job kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/job-v1/ that mk runs.
 * Objects are strict: a field mk does not support is reported by name, never dropped.
 */
import { z } from 'zod';
import { ObjectMeta } from './meta';
import { PodSpec, RestartPolicy } from './pod';
import { LabelSelector } from './scheduling';

/** The label and annotation Kubernetes gives the pods of a Job (https://kubernetes.io/docs/reference/labels-annotations-taints/). */
export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const JOB_LEGACY_NAME_LABEL = 'job-name';
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** The finalizer that keeps a Job's pod until the Job has counted it. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export const JobPodTemplateMeta = z.strictObject({
  name: ObjectMeta.shape.name.optional().describe('Ignored: each pod gets a name of its own, made from the Job\'s name.'),
  labels: ObjectMeta.shape.labels.describe("Labels every pod gets, besides the Job's own (job-name, controller-uid)."),
  annotations: ObjectMeta.shape.annotations.describe('Annotations every pod gets.'),
}).meta({ title: 'JobPodTemplateMeta' });

export const JobPodTemplate = z.strictObject({
  metadata: JobPodTemplateMeta.optional().describe('The labels and annotations of the pods.'),
  spec: PodSpec.safeExtend({
    restartPolicy: RestartPolicy.optional().describe(
      "What the node does when a pod's container exits: OnFailure restarts it after a non-zero exit code (each restart "
      + 'counts toward backoffLimit), Never leaves it and the pod fails. Required: Always (the default of a pod) is refused.',
    ),
  }).superRefine((spec, ctx) => {
    if (spec.restartPolicy === undefined || spec.restartPolicy === 'Always') {
      ctx.addIssue({
        code: 'custom', path: ['restartPolicy'],
        message: `Unsupported value: "${spec.restartPolicy ?? 'Always'}": a Job's pods need restartPolicy "OnFailure" or "Never"`,
      });
    }
  }).meta({ title: 'PodSpec' }).describe('The spec of every pod; restartPolicy must be OnFailure or Never.'),
}).meta({ title: 'JobPodTemplate' });

export const JobSpec = z.strictObject({
  parallelism: z.number().int().min(0, 'must be greater than or equal to 0').optional().describe(
    'The most pods that run at once; 1 when omitted. 0 runs none (like suspend, without the condition).',
  ),
  completions: z.number().int().min(0, 'must be greater than or equal to 0').nullable().optional().describe(
    'How many pods must succeed. Omitted together with parallelism: 1. Null (or omitted while parallelism is set): '
    + 'the Job succeeds once any pod has succeeded and none runs any more (a work queue).',
  ),
  backoffLimit: z.number().int().min(0, 'must be greater than or equal to 0').optional().describe(
    'How many pod failures the Job tolerates; one more fails it (BackoffLimitExceeded). Defaults to 6.',
  ),
  activeDeadlineSeconds: z.number().int().min(1, 'must be greater than 0').optional().describe(
    'Seconds from the start after which the Job fails (DeadlineExceeded) and its running pods are deleted.',
  ),
  ttlSecondsAfterFinished: z.number().int().min(0, 'must be greater than or equal to 0').optional().describe(
    'Seconds after the Job finished (Complete or Failed) when it is deleted, its pods with it. Kept when omitted.',
  ),
  completionMode: z.enum(['NonIndexed', 'Indexed']).optional().describe(
    'NonIndexed (the default): any completions successes. Indexed: one success for each index 0..completions-1; each pod '
    + 'gets its index in JOB_COMPLETION_INDEX and the batch.kubernetes.io/job-completion-index annotation.',
  ),
  suspend: z.boolean().optional().describe(
    'True deletes the running pods and creates none until it is false again (condition Suspended); the deadline restarts on resume.',
  ),
  selector: LabelSelector.optional().describe(
    'The pods of the Job. Generated (controller-uid) unless manualSelector is true; mk tracks pods by their owner reference.',
  ),
  manualSelector: z.boolean().optional().describe('True keeps a selector given in the manifest instead of generating one.'),
  template: JobPodTemplate.describe('The pods the Job creates.'),
}).superRefine((s, ctx) => {
  if (s.completionMode === 'Indexed' && (s.completions === null || (s.completions === undefined && s.parallelism !== undefined))) {
    ctx.addIssue({ code: 'custom', path: ['completions'], message: 'Required value: an Indexed Job needs completions' });
  }
  if (s.manualSelector && !s.selector) {
    ctx.addIssue({ code: 'custom', path: ['selector'], message: 'Required value: manualSelector needs a selector' });
  }
  if (s.manualSelector && s.selector) {
    const labels = s.template.metadata?.labels ?? {};
    const miss = Object.entries(s.selector.matchLabels ?? {}).find(([k, v]) => labels[k] !== v);
    if (miss) {
      ctx.addIssue({ code: 'custom', path: ['template', 'metadata', 'labels'], message: `\`selector\` does not match template \`labels\` (${miss[0]}=${miss[1]})` });
    }
  }
}).meta({ title: 'JobSpec' });
export type JobSpec = z.infer<typeof JobSpec>;

export interface JobCondition {
  type: 'Complete' | 'Failed' | 'Suspended' | 'SuccessCriteriaMet' | 'FailureTarget';
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

export interface JobStatus {
  active?: number;
  ready?: number;
  succeeded?: number;
  failed?: number;
  startTime?: string;
  completionTime?: string;
  conditions?: JobCondition[];
  /** Indexed: the completed indexes, as Kubernetes writes them ("0-2,5"). */
  completedIndexes?: string;
  /** Pods that finished and are recorded here before their finalizer goes, then counted. */
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
}

export const JobSchema = z.strictObject({
  apiVersion: z.literal('batch/v1').describe('The API version of the kind: `batch/v1`.'),
  kind: z.literal('Job').describe('The kind of object: `Job`.'),
  metadata: ObjectMeta.describe("The Job's name, namespace, labels and the metadata the server keeps."),
  spec: JobSpec.describe('How many pods must succeed, how many run at once, and the pods themselves.'),
  status: z.unknown().optional().meta({
    title: 'JobStatus',
    description: 'What the Job controller last recorded (active, succeeded and failed pods, conditions). '
      + "A manifest's status is ignored.",
  }),
}).superRefine((j, ctx) => {
  // The name becomes the value of the pods' job-name label, which holds at most 63 characters.
  if (j.metadata.name.length > 63) {
    ctx.addIssue({ code: 'custom', path: ['metadata', 'name'], message: `a Job's name has at most 63 characters (it is the value of its pods' job-name label); "${j.metadata.name}" has ${j.metadata.name.length}` });
  }
}).meta({ title: 'Job' });

export interface Job {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: ObjectMeta;
  spec: JobSpec;
  status?: JobStatus;
}

/** The condition of `type` that is True, if any. */
export function jobCondition(job: Job, type: JobCondition['type']): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** Indexes as Kubernetes writes them: sorted, runs joined with '-' ("0-2,5"). */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(',');
}

/** The indexes of "0-2,5" (an empty or absent string: none). */
export function parseIndexes(s: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}
