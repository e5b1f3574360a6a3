/**
 * The built CLI with CronJobs against a real nats-server and control plane: `mk apply` of the
 * example, `mk get cronjobs` in kubectl's columns, `mk create job NAME --from=cronjob/CJ`, `mk
 * describe cronjob` (with a run's event, on a controller clock thirty times faster), and bad
 * input refused with a clear error and nothing created.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { request, type Bus } from '../../../bus';
import { API, CRONJOB_INSTANTIATE, isNotFound, type CronJob, type GetResult, type Job } from '../../../messages';
import { caught, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { startCliCluster, stopCliCluster } from './cli-cluster';
import { ROOT, runCli, type CliResult } from './run-cli';

jest.setTimeout(120_000);

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let dir: string;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs: 60_000 });
const get = async <T>(kind: string, name: string) => (await request<GetResult>(bus, API.get, { kind, name })).object as unknown as T;

const saved = { scale: process.env.MK_CRONJOB_CLOCK_SCALE, origin: process.env.MK_CRONJOB_CLOCK_ORIGIN };

beforeAll(async () => {
  // The controller's clock runs thirty times faster: `* * * * *` fires every two seconds.
  process.env.MK_CRONJOB_CLOCK_SCALE = '30';
  process.env.MK_CRONJOB_CLOCK_ORIGIN = String(Date.now());
  ({ server, cp, bus, dir } = await startCliCluster('cj'));
}, 300_000);

afterAll(async () => {
  await stopCliCluster({ cp, bus, server, dir });
  for (const [k, v] of [['MK_CRONJOB_CLOCK_SCALE', saved.scale], ['MK_CRONJOB_CLOCK_ORIGIN', saved.origin]] as const) {
    if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
});

it('applies the example CronJob and lists it like kubectl get cronjobs', async () => {
  // The example, on a schedule that does not fire while the test runs (a run would be active).
  const f = path.join(dir, 'hello.yaml');
  fs.writeFileSync(f, fs.readFileSync(path.join(ROOT, 'examples', 'cronjob.yaml'), 'utf8').replace('"*/5 * * * mon-fri"', '"30 4 1 jan mon-fri"'));
  expect(await mk(['apply', '-f', f])).toEqual({ code: 0, stdout: 'cronjob.batch/hello created\n', stderr: '' });
  const table = await mk(['get', 'cronjobs']);
  expect(table.code).toBe(0);
  const [head, row] = table.stdout.trimEnd().split('\n');
  expect(head.split(/\s{2,}/)).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
  expect(row.split(/\s{2,}/).slice(0, 6)).toEqual(['hello', '30 4 1 jan mon-fri', 'Europe/Paris', 'false', '0', '<none>']);
  // The column of SCHEDULE starts where its header does (aligned).
  expect(row.indexOf('30 4')).toBe(head.indexOf('SCHEDULE'));
  const short = await mk(['get', 'cj', 'hello', '-o', 'json']);
  expect(JSON.parse(short.stdout)).toMatchObject({ kind: 'CronJob', spec: { concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3 } });
});

it('mk create job --from=cronjob/NAME makes a Job from the template, owned by the CronJob', async () => {
  expect(await mk(['create', 'job', 'hello-now', '--from=cronjob/hello'])).toEqual({ code: 0, stdout: 'job.batch/hello-now created\n', stderr: '' });
  const cj = await get<CronJob>('cronjobs', 'hello');
  const job = await get<Job>('jobs', 'hello-now');
  expect(job.metadata.annotations?.[CRONJOB_INSTANTIATE]).toBe('manual');
  expect(job.metadata.labels).toMatchObject({ app: 'hello' });
  expect(job.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'CronJob', name: 'hello', uid: cj.metadata.uid, controller: true })]);
  expect(job.spec.backoffLimit).toBe(2);
  expect(job.spec.template.spec.containers[0].command).toEqual(['sh', '-c', 'date; echo hello from the cluster']);
  // The CronJob counts it as active.
  await until('the Job listed as active', async () => ((await get<CronJob>('cronjobs', 'hello')).status?.active?.[0]?.name === 'hello-now' ? true : undefined));
  const table = await mk(['get', 'cronjobs', 'hello']);
  expect(table.stdout.trimEnd().split('\n')[1].split(/\s{2,}/)[4]).toBe('1');
  expect(await mk(['create', 'job', 'hello-now', '--from=cronjob/hello'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/already exists/) });
  const dry = await mk(['create', 'job', 'hello-dry', '--from=cronjob/hello', '--dry-run=server']);
  expect(dry).toMatchObject({ code: 0, stdout: 'job.batch/hello-dry created (server dry run)\n' });
  expect(isNotFound(await caught(get('jobs', 'hello-dry')))).toBe(true);
});

it('mk describe cronjob prints kubectl\'s sections', async () => {
  const d = await mk(['describe', 'cronjob', 'hello']);
  expect(d.code).toBe(0);
  for (const line of [/^Name:\s+hello$/m, /^Schedule:\s+30 4 1 jan mon-fri$/m, /^Time Zone:\s+Europe\/Paris$/m, /^Concurrency Policy:\s+Forbid$/m,
    /^Suspend:\s+false$/m, /^Successful Job History Limit:\s+3$/m, /^Failed Job History Limit:\s+1$/m, /^Starting Deadline Seconds:\s+120s$/m,
    /^Last Schedule Time:\s+<unset>$/m, /^Active Jobs:\s+hello-now$/m, /Image:\s+busybox/]) {
    expect(d.stdout).toMatch(line);
  }
});

it('a run shows in mk get cronjobs (ACTIVE, LAST SCHEDULE) and in mk describe cronjob\'s events', async () => {
  const f = path.join(dir, 'tick.yaml');
  fs.writeFileSync(f, fs.readFileSync(path.join(ROOT, 'examples', 'cronjob.yaml'), 'utf8')
    .replace('name: hello', 'name: tick').replace('"*/5 * * * mon-fri"', '"* * * * *"').replace('concurrencyPolicy: Forbid', 'concurrencyPolicy: Allow'));
  expect(await mk(['apply', '-f', f])).toMatchObject({ code: 0, stdout: 'cronjob.batch/tick created\n' });
  const out = await until('a run in the events', async () => {
    const r = await mk(['describe', 'cronjob', 'tick']);
    return r.code === 0 && r.stdout.includes('SuccessfulCreate') ? r.stdout : undefined;
  }, 30_000, 200);
  expect(out).toMatch(/Normal +SuccessfulCreate .*Created job tick-\d+/);
  expect(out).toMatch(/^Last Schedule Time:\s+\w{3}, \d/m);
  const cells = (await mk(['get', 'cronjobs', 'tick'])).stdout.trimEnd().split('\n')[1].split(/\s{2,}/);
  expect(Number(cells[4])).toBeGreaterThanOrEqual(1);
  // On the fast clock the scheduled time is ahead of the real one, which kubectl prints <invalid>.
  expect(cells[5]).toMatch(/^(\d+s|<invalid>)$/);
  expect(await mk(['delete', 'cronjob', 'tick'])).toMatchObject({ code: 0 });
});

it('refuses bad input with a clear error and creates nothing', async () => {
  const cases: [string[], RegExp][] = [
    [['create', 'job', 'x1', '--from=cronjob/missing'], /not found/i],
    [['create', 'job', 'x2', '--from=deployment/hello'], /--from="deployment\/hello": give the CronJob as cronjob\/NAME/],
    [['create', 'job', 'x3'], /give --from=cronjob\/CRONJOB/],
    [['create', 'job', '--from=cronjob/hello'], /give the name of the Job/],
    [['create', 'namespace', 'x4', '--from=cronjob/hello'], /--from makes a Job/],
  ];
  for (const [args, re] of cases) {
    const r = await mk(args);
    expect([args.join(' '), r.code]).toEqual([args.join(' '), 1]);
    expect(r.stderr).toMatch(re);
  }
  for (const n of ['x1', 'x2', 'x3']) expect(isNotFound(await caught(get('jobs', n)))).toBe(true);
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, fs.readFileSync(path.join(ROOT, 'examples', 'cronjob.yaml'), 'utf8')
    .replace('name: hello', 'name: bad').replace('"*/5 * * * mon-fri"', '"*/5 * * * mon-fry"'));
  // The example itself is valid (a server dry run stores nothing).
  expect(await mk(['apply', '-f', path.join(ROOT, 'examples', 'cronjob.yaml'), '--dry-run=server'])).toMatchObject({ code: 0 });
  const r = await mk(['apply', '-f', bad]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/spec\.schedule.*invalid day of week "mon-fry"|spec\.schedule.*"fry"/);
  expect(isNotFound(await caught(get('cronjobs', 'bad')))).toBe(true);
});
