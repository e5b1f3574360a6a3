/**
 * The CronJob controller across crashes: a control plane (the built `mk control-plane`, a process
 * of its own, on a clock thirty times faster: a `* * * * *` run every two seconds) is SIGKILLed
 * three times: twice from a watch of the Jobs, the moment a run's Job is created (before the
 * controller records it in the CronJob's status), and once for a while longer, so that several
 * scheduled times pass while no control plane runs. Shown: no run is ever created twice, a run
 * whose Job was created before the crash is recorded by the next control plane, and after the
 * long outage only the most recent missed run starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, request, startInformer, type Bus } from '../../../bus';
import { API, type CronJob, type GetResult, type Job } from '../../../messages';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { ensureBuilt, ROOT } from '../cli/run-cli';

jest.setTimeout(180_000);

const SCALE = 30;
const ORIGIN = Date.now();
let server: NatsServer;
let bus: Bus;
let store: ObjectStore;
let dataDir: string;
let cp: ChildProcess | undefined;

const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
const clock = () => ORIGIN + (Date.now() - ORIGIN) * SCALE;
const minuteOf = (name: string) => Number(name.split('-').pop());

async function startCp(): Promise<void> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'control-plane', '--lease-seconds', '2'], {
    env: { ...process.env, MK_HOME: dataDir, MK_CRONJOB_CLOCK_SCALE: String(SCALE), MK_CRONJOB_CLOCK_ORIGIN: String(ORIGIN) },
    stdio: ['ignore', 'ignore', 'ignore'],
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
  bus = await connectBus({ servers: server.url, name: 'cronjob-crash-test' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cronjob-crash-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], nodeName: 'n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  await killCp();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it('a control plane SIGKILLed as runs start never creates a run twice, and starts only the latest missed run', async () => {
  await startCp();
  store = await ObjectStore.open(bus, { create: false });
  /** Job name -> the uids it was created with (a run created twice would have two). */
  const created = new Map<string, Set<string>>();
  const order: string[] = [];
  let armed = false;
  const watch = await startInformer<Job>(store, 'jobs.default.>', (ev) => {
    const j = ev.object;
    if (!j || ev.type === 'DELETE' || !j.metadata.name.startsWith('crashy-')) return;
    const uids = created.get(j.metadata.name) ?? new Set<string>();
    const first = !uids.size;
    if (first) order.push(j.metadata.name);
    uids.add(j.metadata.uid ?? '');
    created.set(j.metadata.name, uids);
    if (armed && first && cp?.pid) {
      // The Job of a run is in the store; the CronJob's status does not say so yet.
      armed = false;
      process.kill(cp.pid, 'SIGKILL');
    }
  });
  try {
    await api('apply', {
      object: {
        apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'crashy' },
        spec: {
          schedule: '* * * * *',
          jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } } },
        },
      },
    });
    for (let kill = 0; kill < 2; kill++) {
      armed = true;
      const child = cp!;
      await until('the kill from the watch', () => (child.exitCode !== null || child.signalCode !== null ? true : undefined), 30_000, 5);
      cp = undefined;
      await startCp();
    }
    // A longer outage: at least four scheduled times pass with no control plane.
    const before = order.length;
    await until('a run', () => (order.length > before ? true : undefined), 30_000);
    await killCp();
    const lastBefore = minuteOf(order[order.length - 1]);
    const downUntil = clock() + 4 * 60_000;
    await until('four scheduled times to pass', () => (clock() > downUntil ? true : undefined), 30_000);
    const restartedAt = order.length;
    await startCp();
    await until('a run after the outage', () => (order.length > restartedAt ? true : undefined), 30_000);
    const firstAfter = minuteOf(order[restartedAt]);
    // At least three scheduled times between the two runs were missed; only the latest started.
    expect(firstAfter - lastBefore).toBeGreaterThanOrEqual(4);
    // Then the status records the runs, and the ones missed during the outage never start.
    const cj = await until('the status to record the newest run', async () => {
      const c = (await api<GetResult>('get', { kind: 'cronjobs', name: 'crashy' })).object as unknown as CronJob;
      const newest = order[order.length - 1];
      return c.status?.lastScheduleTime === new Date(minuteOf(newest) * 60_000).toISOString().replace('.000Z', 'Z') ? c : undefined;
    }, 30_000);
    expect(cj.status?.active?.length).toBe(order.length);
    for (const name of order.slice(restartedAt)) expect(minuteOf(name)).toBeGreaterThanOrEqual(firstAfter);
    for (const [name, uids] of created) expect([name, uids.size]).toEqual([name, 1]);
    process.stdout.write(`runs (minutes after the first): ${order.map((n) => minuteOf(n) - minuteOf(order[0])).join(', ')}; outage after run ${restartedAt}\n`);
  } finally {
    await watch.stop();
  }
});
