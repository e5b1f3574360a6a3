/**
 * The CronJob controller across crashes: a control plane (the built `mk control-plane`, a process
 * of its own, on a clock thirty times faster: a `* * * * *` run every two seconds) is SIGKILLed
 * three times: twice from a watch of the Jobs, the moment a run's Job is created (before the
 * controller records it in the CronJob's status), and once for a while longer, so that several
 * scheduled times pass while no control plane runs. Shown: no run is ever created twice, a run
 * whose Job was created before the crash is recorded by the next control plane, and after the
 * long outage only the most recent missed run starts.
 */
import { ObjectStore, startInformer } from '../../../bus';
import { API, type CronJob, type GetResult, type Job } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { until } from '../../helpers/wait';

jest.setTimeout(180_000);

const SCALE = 30;
const ORIGIN = Date.now();
let h: CrashingControlPlane;
let store: ObjectStore;

const api = <T>(verb: keyof typeof API, body: unknown) => h.api<T>(verb, body);
const clock = () => ORIGIN + (Date.now() - ORIGIN) * SCALE;
const minuteOf = (name: string) => Number(name.split('-').pop());

beforeAll(async () => {
  h = await crashingControlPlane('cronjob-crash-test', { args: ['--lease-seconds', '2'], env: { MK_CRONJOB_CLOCK_SCALE: String(SCALE), MK_CRONJOB_CLOCK_ORIGIN: String(ORIGIN) } });
}, 300_000);

afterAll(async () => {
  await h?.close();
});

it('a control plane SIGKILLed as runs start never creates a run twice, and starts only the latest missed run', async () => {
  await h.start();
  store = await ObjectStore.open(h.bus, { create: false });
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
    if (armed && first && h.pid()) {
      // The Job of a run is in the store; the CronJob's status does not say so yet.
      armed = false;
      process.kill(h.pid()!, 'SIGKILL');
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
      await until('the kill from the watch', () => (h.exited() ? true : undefined), 30_000, 5);
      await h.start();
    }
    // A longer outage: at least four scheduled times pass with no control plane.
    const before = order.length;
    await until('a run', () => (order.length > before ? true : undefined), 30_000);
    await h.kill();
    const lastBefore = minuteOf(order[order.length - 1]);
    const downUntil = clock() + 4 * 60_000;
    await until('four scheduled times to pass', () => (clock() > downUntil ? true : undefined), 30_000);
    const restartedAt = order.length;
    await h.start();
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
