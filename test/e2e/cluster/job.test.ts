/**
 * Jobs end to end: `mk up` in a network namespace, then Jobs whose pods really run on the node
 * (containerd, runc, CNI): an Indexed Job whose pods print their index, waited on with `mk wait`;
 * a Job whose pods exit 1, Failed at its backoff limit; and a Job deleted with its pods.
 */
import type { Job, Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const jobYaml = (name: string, command: string, spec: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
${spec}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", ${JSON.stringify(command)}]
`;

describeE2e('Jobs on a one-machine cluster', () => {
  let c: TestCluster;
  const getJob = async (name: string): Promise<Job> => {
    const r = await c.mk(['get', 'job', name, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Job;
  };
  const podsOf = async (name: string): Promise<Pod[]> => {
    const r = await c.mk(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${name}`, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as { items: Pod[] }).items;
  };

  // Replacements after a failure wait 1 s doubling, rather than 10 s.
  beforeAll(async () => { c = await startCluster({ env: { MK_JOB_BACKOFF_BASE_MS: '1000' } }); });
  afterAll(async () => { await c?.destroy(); });

  it('runs an Indexed Job to completion; mk wait returns once it is Complete', async () => {
    const apply = await c.mk(['apply', '-f', '-'], {
      stdin: jobYaml('idx', 'echo index=$JOB_COMPLETION_INDEX', '  completions: 3\n  parallelism: 2\n  completionMode: Indexed'),
    });
    expect(apply).toMatchObject({ code: 0, stdout: 'job.batch/idx created\n' });
    const wait = await c.mk(['wait', '--for=condition=Complete', 'job/idx', '--timeout=240s'], { timeoutMs: 260_000 });
    expect(wait).toMatchObject({ code: 0, stdout: 'job.batch/idx condition met\n' });
    const job = await getJob('idx');
    expect(job.status).toMatchObject({ succeeded: 3, failed: 0, active: 0, completedIndexes: '0-2' });
    const pods = await podsOf('idx');
    expect(pods.map((p) => p.status?.phase)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    for (const p of pods) {
      const i = p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
      const logs = await c.mk(['logs', p.metadata.name]);
      expect(logs.stdout.trim()).toBe(`index=${i}`);
    }
    const table = await c.mk(['get', 'jobs']);
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\n/);
    expect(table.stdout).toMatch(/\nidx\s+Complete\s+3\/3\s+\d+s\s+/);
  });

  it('fails a Job whose pods exit 1 once backoffLimit is exceeded', async () => {
    await c.mk(['apply', '-f', '-'], { stdin: jobYaml('bad', 'exit 1', '  backoffLimit: 1') });
    const wait = await c.mk(['wait', '--for=condition=Failed', 'job/bad', '--timeout=240s'], { timeoutMs: 260_000 });
    expect(wait).toMatchObject({ code: 0, stdout: 'job.batch/bad condition met\n' });
    const job = await getJob('bad');
    expect(job.status?.failed).toBe(2);
    expect(job.status?.conditions?.find((x) => x.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect((await podsOf('bad')).map((p) => p.status?.phase)).toEqual(['Failed', 'Failed']);
  });

  it('deleting a running Job stops and removes its pods', async () => {
    await c.mk(['apply', '-f', '-'], { stdin: jobYaml('long', 'sleep 600', '  parallelism: 2\n  completions: 4') });
    await waitFor('two running pods', async () => {
      const pods = await podsOf('long');
      return pods.filter((p) => p.status?.phase === 'Running').length === 2 ? pods : null;
    }, 120_000);
    expect(await c.mk(['delete', 'job', 'long'])).toMatchObject({ code: 0 });
    await waitFor('the pods gone', async () => ((await podsOf('long')).length === 0 ? true : null), 120_000);
  });
});
