/** The Job kind as messages/ declares it: schema and kubectl's columns. */
import type { Job } from '../batch';
import type { KindInfo } from '../kind';
import type { KubeObject } from '../meta';
import { describeJob } from '../printing/describe-job';
import { age, humanDuration } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/pod.ts). */
// Loaded once, on first use (require() resolves the path again on every call: a cost on each write).
let batchModuleLoaded: typeof import('../batch') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const batchModule = () => (batchModuleLoaded ??= require('../batch') as typeof import('../batch'));

const isTrue = (j: Job, type: string): boolean => !!j.status?.conditions?.some((c) => c.type === type && c.status === 'True');

/** kubectl's STATUS of a Job: what its conditions say, else Running. */
export function jobStatusWord(o: KubeObject): string {
  const j = o as Job;
  if (isTrue(j, 'Complete')) return 'Complete';
  if (isTrue(j, 'Failed')) return 'Failed';
  if (isTrue(j, 'FailureTarget')) return 'Failing';
  if (isTrue(j, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (isTrue(j, 'Suspended')) return 'Suspended';
  return 'Running';
}

/** kubectl's COMPLETIONS: `2/5`, or `1/1 of 3` for a Job without completions. */
export function jobCompletions(o: KubeObject): string {
  const j = o as Job;
  const done = j.status?.succeeded ?? 0;
  const c = j.spec?.completions;
  return c === null || c === undefined ? `${done}/1 of ${j.spec?.parallelism ?? 1}` : `${done}/${c}`;
}

/** kubectl's DURATION: from start to completion (or now while it runs); empty before it starts. */
export function jobDuration(o: KubeObject, now: number): string {
  const s = (o as Job).status;
  if (!s?.startTime) return '';
  const end = s.completionTime ? Date.parse(s.completionTime) : now;
  return humanDuration(Math.max(0, end - Date.parse(s.startTime)));
}

/** kubectl's job table (pkg/printers/internalversion/printers.go printJob). */
export const JobKind: KindInfo = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  shortNames: [],
  namespaced: true,
  get schema() { return batchModule().JobSchema; },
  storage: 'store',
  description: 'Pods that run to completion: the Job keeps up to parallelism of them running until completions of them have succeeded, '
    + 'and fails after backoffLimit failures or activeDeadlineSeconds.',
  categories: ['all'],
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'STATUS', value: (o) => jobStatusWord(o) },
    { name: 'COMPLETIONS', value: (o) => jobCompletions(o) },
    { name: 'DURATION', value: (o, now) => jobDuration(o, now) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'CONTAINERS', priority: 1, value: (o) => (o as Job).spec?.template.spec.containers.map((c) => c.name).join(',') ?? '' },
    { name: 'IMAGES', priority: 1, value: (o) => (o as Job).spec?.template.spec.containers.map((c) => c.image).join(',') ?? '' },
    {
      name: 'SELECTOR', priority: 1,
      value: (o) => Object.entries((o as Job).spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>',
    },
  ],
  describer: { describe: (o, ctx) => describeJob(o as Job, ctx.events, ctx.now) },
};
