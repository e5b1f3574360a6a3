/**
 * `mk wait` and `mk get jobs` (the built CLI) against a real control plane: a wait that ends when
 * a Job completes, --for=delete, --for=jsonpath, a timeout and a missing object (exit 1 with
 * kubectl's messages), a bad --for; and the job table's columns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { API, type ApplyResult } from '../../../messages';
import { finishPod, jobPods, running } from '../../helpers/job-node';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { ensureBuilt, ROOT, runCli } from './run-cli';

jest.setTimeout(60_000);

const USER = 'admin';
const PASS = 'test-password-0123456789';
let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let dataDir: string;
const children: ChildProcess[] = [];

const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
const apply = async (o: unknown) => (await api<ApplyResult>('apply', { object: o })).object;
const mk = (args: string[]) => runCli(args, { env: { MK_HOME: dataDir } });
const job = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
  spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' } }, ...spec },
});

/** Starts `mk ARGS` in the background; `exited` resolves with its code and output. */
function start(args: string[]) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), ...args], { env: { ...process.env, MK_HOME: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.once('exit', (code) => r({ code, stdout, stderr })));
  return { exited, done: () => child.exitCode !== null || child.signalCode !== null };
}

beforeAll(async () => {
  ensureBuilt();
  server = await startNatsServer({ user: USER, pass: PASS });
  cp = await runControlPlane({ bus: { servers: server.url, user: USER, pass: PASS, name: 'cp-cli-wait' } });
  bus = await connectBus({ servers: server.url, user: USER, pass: PASS, name: 'cli-wait-test' });
  store = await ObjectStore.open(bus, { create: false });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-wait-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], user: USER, pass: PASS, nodeName: 'n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  await cp?.stop();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it('waits until a Job completes, then prints kubectl\'s line; mk get jobs shows it Complete', async () => {
  await apply(job('w1', { completions: 2 }));
  const waiting = start(['wait', '--for=condition=Complete', 'job/w1', '--timeout=50s']);
  await until('w1 done', async () => {
    const next = (await jobPods(store, 'w1')).find((p) => running(p.object));
    if (next) await finishPod(store, next.key, 'Succeeded');
    return waiting.done() ? true : undefined;
  }, 50_000, 50);
  expect(await waiting.exited).toEqual({ code: 0, stdout: 'job.batch/w1 condition met\n', stderr: '' });
  const table = await mk(['get', 'jobs']);
  expect(table.code).toBe(0);
  const [header, row] = table.stdout.trimEnd().split('\n');
  expect(header.split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
  expect(row.split(/\s{2,}/).slice(0, 3)).toEqual(['w1', 'Complete', '2/2']);
  // kubectl's describe: the pods' tally, the conditions and the controller's events.
  const described = await until('the job events', async () => {
    const d = await mk(['describe', 'job', 'w1']);
    return d.stdout.includes('Completed') && d.stdout.includes('SuccessfulCreate') ? d.stdout : undefined;
  }, 20_000);
  expect(described).toMatch(/Pods Statuses:\s+0 Active \(0 Ready\) \/ 2 Succeeded \/ 0 Failed/);
  expect(described).toMatch(/Complete\s+True\s+CompletionsReached/);
  expect(described).toMatch(/Created pod: w1-[a-z0-9]{5}/);
});

it('times out with exit 1 and kubectl\'s message', async () => {
  await apply(job('w2', { suspend: true }));
  const r = await mk(['wait', '--for=condition=Complete', 'jobs', 'w2', '--timeout=1s']);
  expect(r).toMatchObject({ code: 1, stdout: '' });
  expect(r.stderr).toContain('error: timed out waiting for the condition on jobs/w2');
  // A condition already met answers at once, even with no time to wait.
  const met = await mk(['wait', '--for=condition=Suspended', 'job/w2', '--timeout=0']);
  expect(met).toMatchObject({ code: 0, stdout: 'job.batch/w2 condition met\n' });
});

it('--for=delete ends when the object goes; --for=jsonpath compares a field', async () => {
  await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'doomed' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const phase = await mk(['wait', '--for=jsonpath={.status.phase}=Pending', 'pod/doomed', '--timeout=5s']);
  expect(phase).toMatchObject({ code: 0, stdout: 'pod/doomed condition met\n' });
  const born = start(['wait', '--for=create', 'pod/late', '--timeout=30s']);
  await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'late' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  expect(await born.exited).toMatchObject({ code: 0, stdout: 'pod/late condition met\n' });
  const waiting = start(['wait', '--for=delete', 'pod/doomed', '--timeout=30s']);
  await api('delete', { kind: 'pods', name: 'doomed' });
  expect(await waiting.exited).toMatchObject({ code: 0, stdout: 'pod/doomed condition met\n' });
});

it('says what is wrong: a missing object, a bad --for, a bad --timeout', async () => {
  const missing = await mk(['wait', '--for=condition=Ready', 'pod/nope', '--timeout=2s']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('Error from server (NotFound): pods "nope" not found');
  const badFor = await mk(['wait', '--for=ready', 'pod/nope']);
  expect(badFor.code).toBe(1);
  expect(badFor.stderr).toContain('unrecognized condition: "ready"');
  const badTimeout = await mk(['wait', '--for=delete', 'pod/nope', '--timeout=soon']);
  expect(badTimeout.code).toBe(1);
  expect(badTimeout.stderr).toContain('--timeout: "soon" is not a duration');
});

it('waits for every object a selector (or --all) names, one line each', async () => {
  for (const n of ['sel-a', 'sel-b']) {
    await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: n, namespace: 'kube-system', labels: { app: 'sel' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  }
  const r = await mk(['wait', '--for=jsonpath={.status.phase}=Pending', 'pods', '-l', 'app=sel', '-n', 'kube-system', '--timeout=5s']);
  expect(r).toMatchObject({ code: 0, stdout: 'pod/sel-a condition met\npod/sel-b condition met\n' });
  const all = await mk(['wait', '--for=jsonpath={.status.phase}=Pending', 'pods', '--all', '-n', 'kube-system', '--timeout=5s']);
  expect(all).toMatchObject({ code: 0, stdout: 'pod/sel-a condition met\npod/sel-b condition met\n' });
  const none = await mk(['wait', '--for=delete', 'pods', '-l', 'app=none', '--timeout=1s']);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('no matching resources found');
});
