/** The CronJob kind as messages/ declares it: schema and kubectl's columns. */
import type { CronJob } from '../cronjob';
import type { KindInfo } from '../kind';
import type { KubeObject } from '../meta';
import { describeCronJob } from '../printing/describe-cronjob';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/pod.ts). */
let cronModuleLoaded: typeof import('../cronjob') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const cronModule = () => (cronModuleLoaded ??= require('../cronjob') as typeof import('../cronjob'));

const cj = (o: KubeObject): CronJob => o as CronJob;

/** kubectl's cronjob table (pkg/printers/internalversion/printers.go printCronJob). */
export const CronJobKind: KindInfo = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  shortNames: ['cj'],
  namespaced: true,
  get schema() { return cronModule().CronJobSchema; },
  storage: 'store',
  description: 'Jobs on a schedule: at each time the cron schedule names (in its time zone) the CronJob creates a Job from its '
    + 'template, handles overlapping runs by its concurrencyPolicy and keeps a limited history of finished Jobs.',
  categories: ['all'],
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'SCHEDULE', value: (o) => cj(o).spec?.schedule ?? '' },
    { name: 'TIMEZONE', value: (o) => cj(o).spec?.timeZone ?? '<none>' },
    { name: 'SUSPEND', value: (o) => String(cj(o).spec?.suspend ?? false) },
    { name: 'ACTIVE', value: (o) => String(cj(o).status?.active?.length ?? 0) },
    { name: 'LAST SCHEDULE', value: (o, now) => (cj(o).status?.lastScheduleTime ? age(cj(o).status?.lastScheduleTime, now) : '<none>') },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'CONTAINERS', priority: 1, value: (o) => cj(o).spec?.jobTemplate.spec.template.spec.containers.map((c) => c.name).join(',') ?? '' },
    { name: 'IMAGES', priority: 1, value: (o) => cj(o).spec?.jobTemplate.spec.template.spec.containers.map((c) => c.image).join(',') ?? '' },
    {
      name: 'SELECTOR', priority: 1,
      value: (o) => Object.entries(cj(o).spec?.jobTemplate.spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>',
    },
  ],
  describer: { describe: (o, ctx) => describeCronJob(o as CronJob, ctx.events, ctx.now) },
};
