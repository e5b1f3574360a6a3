/**
 * The Job kind's control-plane side: Kubernetes' defaults (parallelism 1, completions 1 unless a
 * work queue, backoffLimit 6, NonIndexed, a generated controller-uid selector), the update rules
 * (the template, selector and completion mode are fixed once created) and the controller.
 */
import {
  JOB_CONTROLLER_UID_LABEL, JOB_LEGACY_CONTROLLER_UID_LABEL, JOB_LEGACY_NAME_LABEL, JOB_NAME_LABEL, JobKind, ValidationError,
  type Job, type KubeObject,
} from '../../messages';
import { stableJson } from '../api/stable-json';
import type { KindModule } from '../kind-module';
import { jobController } from './controller';

/** The defaults of https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/job-v1/#JobSpec. */
export function defaultJob(job: Job): Job {
  const s = job.spec;
  const spec = { ...s };
  // Neither given: one pod must succeed; parallelism alone: a work queue (completions null).
  if (s.completions === undefined) spec.completions = s.parallelism === undefined ? 1 : null;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  const uid = job.metadata.uid;
  if (!s.manualSelector && uid) {
    // The generated selector (https://kubernetes.io/docs/concepts/workloads/controllers/job/#specifying-your-own-pod-selector).
    spec.selector = { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid } };
    const labels = {
      ...(s.template.metadata?.labels ?? {}),
      [JOB_CONTROLLER_UID_LABEL]: uid, [JOB_LEGACY_CONTROLLER_UID_LABEL]: uid,
      [JOB_NAME_LABEL]: job.metadata.name, [JOB_LEGACY_NAME_LABEL]: job.metadata.name,
    };
    spec.template = { ...s.template, metadata: { ...(s.template.metadata ?? {}), labels } };
  }
  return { ...job, spec };
}

/**
 * A Job's template, selector and completion mode do not change once it is created (Kubernetes
 * also lets few other fields change); parallelism, suspend, the deadline, the backoff limit and
 * the ttl may. A manifest without the generated selector keeps the stored one.
 */
function admitJobUpdate(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as Job;
  let next = nextObj as Job;
  if (!next.spec.manualSelector && !existing.spec.manualSelector) {
    next = { ...next, spec: { ...next.spec, selector: existing.spec.selector, template: {
      ...next.spec.template,
      metadata: { ...(next.spec.template.metadata ?? {}), labels: { ...(next.spec.template.metadata?.labels ?? {}), ...(existing.spec.template.metadata?.labels ?? {}) } },
    } } };
  }
  const fixed: (keyof Job['spec'])[] = ['template', 'selector', 'completionMode', 'completions', 'manualSelector'];
  const changed = fixed.filter((f) => stableJson(existing.spec[f]) !== stableJson(next.spec[f]));
  if (changed.length > 0) {
    throw new ValidationError(
      `job "${existing.metadata.name}": spec.${changed.join(', spec.')} cannot change once the Job exists; delete the Job and create it again`,
    );
  }
  return next as KubeObject;
}

export const jobModule: KindModule = {
  info: JobKind,
  defaults: (o) => defaultJob(o as Job) as KubeObject,
  initialStatus: () => ({}),
  admitUpdate: admitJobUpdate,
  controller: (ctx) => jobController(ctx.store),
};
