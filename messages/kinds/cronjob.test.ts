import type { KubeObject } from '../meta';
import { CronJobSchema, type CronJob } from '../cronjob';
import { CronJobKind } from './cronjob';

const NOW = Date.parse('2026-01-01T01:00:00Z');
const cj = (spec: Partial<CronJob['spec']> = {}, status: CronJob['status'] = {}): KubeObject => ({
  apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: {
    schedule: '0 3 * * *',
    jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' } } } },
    ...spec,
  },
  status,
}) as unknown as KubeObject;
const row = (o: KubeObject, wide = false) => Object.fromEntries(CronJobKind.columns
  .filter((c) => wide || !c.priority).map((c) => [c.name, c.value(o, NOW)]));

describe("kubectl's cronjob columns and description", () => {
  it('prints NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE', () => {
    expect(row(cj())).toEqual({
      NAME: 'nightly', SCHEDULE: '0 3 * * *', TIMEZONE: '<none>', SUSPEND: 'false', ACTIVE: '0', 'LAST SCHEDULE': '<none>', AGE: '60m',
    });
    const busy = cj({ timeZone: 'Europe/Paris', suspend: true },
      { active: [{ kind: 'Job', name: 'a' }, { kind: 'Job', name: 'b' }], lastScheduleTime: '2026-01-01T00:55:00Z' });
    expect(row(busy)).toMatchObject({ TIMEZONE: 'Europe/Paris', SUSPEND: 'true', ACTIVE: '2', 'LAST SCHEDULE': '5m' });
    expect(row(busy, true)).toMatchObject({ CONTAINERS: 'c', IMAGES: 'busybox', SELECTOR: '<none>' });
  });

  it('describes the schedule, policies, limits and active Jobs', () => {
    const text = CronJobKind.describer!.describe(cj({ concurrencyPolicy: 'Replace', startingDeadlineSeconds: 30 },
      { active: [{ kind: 'Job', name: 'nightly-29000000' }] }), { related: [], events: [], now: NOW });
    expect(text).toMatch(/^Schedule:\s+0 3 \* \* \*$/m);
    expect(text).toMatch(/^Concurrency Policy:\s+Replace$/m);
    expect(text).toMatch(/^Starting Deadline Seconds:\s+30s$/m);
    expect(text).toMatch(/^Active Jobs:\s+nightly-29000000$/m);
    expect(text).toMatch(/^\s+Restart Policy:\s+OnFailure$/m);
  });

  it('validates the job template as a Job and names a bad field', () => {
    const bad = cj({ jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } as CronJob['spec']['jobTemplate'] });
    const r = CronJobSchema.safeParse(bad);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path.join('.')).toBe('spec.jobTemplate.spec.template.spec.restartPolicy');
    expect(CronJobSchema.safeParse(cj({ schedule: '@hourly', timeZone: 'Asia/Tokyo' })).success).toBe(true);
    expect(CronJobSchema.safeParse(cj({ timeZone: 'Nowhere/Land' })).error?.issues[0].message).toMatch(/unknown time zone "Nowhere\/Land"/);
  });
});
