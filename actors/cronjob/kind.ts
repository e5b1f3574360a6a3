/**
 * The CronJob kind's control-plane side: Kubernetes' defaults (concurrencyPolicy Allow, suspend
 * false, history limits 3 and 1), the Job template validated as a Job, and the controller.
 */
import { CronJobKind, type CronJob, type KubeObject } from '../../messages';
import type { KindModule } from '../kind-module';
import { cronJobController } from './controller';

/** The defaults of https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/cron-job-v1/#CronJobSpec. */
export function defaultCronJob(cj: CronJob): CronJob {
  const spec = { ...cj.spec };
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  return { ...cj, spec };
}

export const cronJobModule: KindModule = {
  info: CronJobKind,
  defaults: (o) => defaultCronJob(o as CronJob) as unknown as KubeObject,
  initialStatus: () => ({}),
  controller: (ctx) => cronJobController(ctx.store),
};
