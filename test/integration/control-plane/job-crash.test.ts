/**
 * The Job controller across crashes: a control plane (the built `mk control-plane`, a process of
 * its own) is SIGKILLed again and again while a Job's pods finish, each time right after a pod
 * finished, when the controller is most likely between recording a pod, removing its finalizer
 * and counting it. The next control plane carries on: the Job completes with exactly as many
 * successes counted as pods succeeded, and never more pods than completions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { API, type GetResult, type Job } from '../../../messages';
import { finishPod, hasCondition, jobPods, running } from '../../helpers/job-node';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { ensureBuilt, ROOT } from '../cli/run-cli';

jest.setTimeout(180_000);

const COMPLETIONS = 8;
let server: NatsServer;
let bus: Bus;
let store: ObjectStore;
let dataDir: string;
let cp: ChildProcess | undefined;

const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);

async function startCp(): Promise<void> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'control-plane', '--lease-seconds', '2'], {
    env: { ...process.env, MK_HOME: dataDir, MK_JOB_BACKOFF_BASE_MS: '100' }, stdio: ['ignore', 'ignore', 'ignore'],
  });
  cp = child;
  await waitFor(async () => { await api('ping', {}); return true; }, 'control plane up', 30_000);
}

/** SIGKILLs the control plane (by its pid) and waits until it is gone. */
async function killCp(): Promise<void> {
  const child = cp;
  cp = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

beforeAll(async () => {
  ensureBuilt();
  server = await startNatsServer();
  bus = await connectBus({ servers: server.url, name: 'job-crash-test' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-job-crash-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], nodeName: 'n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  await killCp();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it('a control plane SIGKILLed while pods finish neither counts a pod twice nor loses one', async () => {
  await startCp();
  store = await ObjectStore.open(bus, { create: false });
  await api('apply', {
    object: {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'crashy' },
      spec: { completions: COMPLETIONS, parallelism: 3, template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } },
    },
  });
  let kills = 0;
  /** Kills that left a pod recorded and not yet counted, and the count at the last kill. */
  let midCount = 0;
  let counted = 0;
  const job = await until('the job to complete across crashes', async () => {
    const j = (await api<GetResult>('get', { kind: 'jobs', name: 'crashy' })).object as Job;
    if (hasCondition(j, 'Complete')) return j;
    const pods = await jobPods(store, 'crashy');
    const next = pods.find((p) => running(p.object));
    if (!next) return undefined;
    await finishPod(store, next.key, 'Succeeded');
    if (kills < 4) {
      // The first two are killed at once (the controller is reacting to that very pod); the next
      // two once the pod is recorded as finished, before it is counted, if that moment is caught.
      if (kills >= 2) {
        await until('the pod recorded or counted', async () => {
          const s = (await store.get<Job>('jobs.default.crashy'))?.object.status;
          return s?.uncountedTerminatedPods?.succeeded?.includes(next.object.metadata.uid!) || (s?.succeeded ?? 0) > counted ? true : undefined;
        }, 20_000, 2);
      }
      kills++;
      await killCp();
      const after = (await store.get<Job>('jobs.default.crashy'))?.object.status;
      if ((after?.uncountedTerminatedPods?.succeeded ?? []).length > 0) midCount++;
      counted = after?.succeeded ?? 0;
      await startCp();
    }
    return undefined;
  }, 150_000, 50);
  expect(kills).toBe(4);
  process.stdout.write(`kills with a pod recorded but not yet counted: ${midCount} of ${kills}\n`);
  const pods = await jobPods(store, 'crashy');
  const succeeded = pods.filter((p) => p.object.status?.phase === 'Succeeded');
  expect(job.status?.succeeded).toBe(succeeded.length);
  expect(job.status?.succeeded).toBe(COMPLETIONS);
  expect(job.status?.uncountedTerminatedPods).toEqual({ succeeded: [], failed: [] });
  expect(pods).toHaveLength(COMPLETIONS);
});
