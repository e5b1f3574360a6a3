import type { Job } from '../batch';
import { JobKind, jobCompletions, jobDuration, jobStatusWord } from './job';

const job = (spec: Partial<Job['spec']>, status: Job['status'] = {}): Job => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }, { name: 'd', image: 'alpine' }], restartPolicy: 'Never' } }, ...spec },
  status,
});
const cond = (type: string, status = 'True') => ({ type, status }) as NonNullable<NonNullable<Job['status']>['conditions']>[number];

describe("kubectl's job columns", () => {
  it('STATUS follows the conditions', () => {
    expect(jobStatusWord(job({}))).toBe('Running');
    expect(jobStatusWord(job({}, { conditions: [cond('Suspended')] }))).toBe('Suspended');
    expect(jobStatusWord(job({}, { conditions: [cond('Suspended', 'False')] }))).toBe('Running');
    expect(jobStatusWord(job({}, { conditions: [cond('FailureTarget')] }))).toBe('Failing');
    expect(jobStatusWord(job({}, { conditions: [cond('SuccessCriteriaMet'), cond('Complete')] }))).toBe('Complete');
    expect(jobStatusWord(job({}, { conditions: [cond('FailureTarget'), cond('Failed')] }))).toBe('Failed');
  });

  it('COMPLETIONS and DURATION', () => {
    expect(jobCompletions(job({ completions: 5 }, { succeeded: 2 }))).toBe('2/5');
    expect(jobCompletions(job({ completions: null, parallelism: 3 }))).toBe('0/1 of 3');
    const now = Date.parse('2026-01-01T00:01:00Z');
    expect(jobDuration(job({}), now)).toBe('');
    expect(jobDuration(job({}, { startTime: '2026-01-01T00:00:00Z' }), now)).toBe('60s');
    expect(jobDuration(job({}, { startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:00:12Z' }), now)).toBe('12s');
  });

  it('-o wide adds containers, images and the selector', () => {
    const j = job({ selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } } });
    const wide = Object.fromEntries(JobKind.columns.filter((c) => c.priority === 1).map((c) => [c.name, c.value(j, 0)]));
    expect(wide).toEqual({ CONTAINERS: 'c,d', IMAGES: 'busybox,alpine', SELECTOR: 'batch.kubernetes.io/controller-uid=u1' });
    expect(JobKind.columns.filter((c) => !c.priority).map((c) => c.name)).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
  });
});
