/**
 * What a run that is due does while earlier runs of the same owner still run: the concurrency
 * policy of Kubernetes' CronJob
 * (https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#concurrency-policy),
 * shared by the CronJob controller and triggers.
 */
import type { ConcurrencyPolicy } from '../messages/trigger';

/** `start` the new run; `skip` it; `replace`: stop the running ones, then start it. */
export type ConcurrencyDecision = 'start' | 'skip' | 'replace';

/**
 * The decision for a run that is due while `runningCount` earlier runs still run: Allow always
 * starts it; Forbid skips it while any runs; Replace replaces them. With none running, it starts.
 */
export function decideConcurrency(policy: ConcurrencyPolicy | undefined, runningCount: number): ConcurrencyDecision {
  if (runningCount <= 0) return 'start';
  if (policy === 'Forbid') return 'skip';
  if (policy === 'Replace') return 'replace';
  return 'start';
}
