/**
 * A Deployment across control-plane crashes: the built `mk control-plane` (a process of its own) is
 * SIGKILLed twice in the middle of a rolling update; each new control plane goes on from what the
 * store holds. In the end the new template's one ReplicaSet has every replica, the old one none, no
 * second set was made for the same template, and the sets' replicas never went beyond
 * replicas + maxSurge (sampled from the store throughout). A loop plays the node, writing pods
 * Ready through the store, so readiness goes on while no control plane runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { API, objectKey, type Deployment, type Pod, type ReplicaSet } from '../../../messages';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';
import { ensureBuilt, ROOT } from '../cli/run-cli';

jest.setTimeout(180_000);

const N = 10;
const SURGE = 2;
let server: NatsServer;
let bus: Bus;
let store: ObjectStore;
let dataDir: string;
let cp: ChildProcess | undefined;
const loops = { stop: false, node: Promise.resolve(), sampler: Promise.resolve() };
let maxTotal = 0;

const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
const setsNow = async () => (await store.list<ReplicaSet>('replicasets.default.>')).items.map((i) => i.object)
  .filter((r) => r.metadata.name.startsWith('roll-'));
const deployNow = async () => (await store.get<Deployment>(objectKey('deployments', 'default', 'roll')))?.object;
const image = (r: ReplicaSet) => r.spec.template.spec.containers[0].image;

async function startCp(): Promise<void> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'control-plane'], {
    env: { ...process.env, MK_HOME: dataDir }, stdio: ['ignore', 'ignore', 'ignore'],
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
  bus = await connectBus({ servers: server.url, name: 'deploy-crash-test' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-deploy-crash-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], nodeName: 'n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  loops.stop = true;
  await loops.node;
  await loops.sampler;
  await killCp();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it('a control plane killed twice mid-rollout finishes it, with one set per template and surge kept', async () => {
  await startCp();
  store = await ObjectStore.open(bus, { create: false });
  loops.node = (async () => {
    while (!loops.stop) {
      const pods = (await store.list<Pod>('pods.default.>')).items;
      for (const { key, object: p } of pods) {
        if (p.metadata.deletionTimestamp || p.status?.phase === 'Running') continue;
        await store.mutate<Pod>(key, (cur) => ({
          ...cur, status: { ...cur.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
        })).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const spec = (img: string) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'roll' },
    spec: {
      replicas: N, minReadySeconds: 1, selector: { matchLabels: { app: 'roll' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: SURGE, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: 'roll' } }, spec: { containers: [{ name: 'c', image: img }] } },
    },
  });
  await api('apply', { object: spec('v1') });
  const done = (img: string) => async () => {
    const d = await deployNow();
    const s = d?.status;
    return d && d.spec.template.spec.containers[0].image === img && s?.observedGeneration === d.metadata.generation
      && s?.updatedReplicas === N && s.replicas === N && s.availableReplicas === N ? d : undefined;
  };
  await waitFor(done('v1'), 'v1 rolled out', 60_000);
  loops.sampler = (async () => {
    while (!loops.stop) {
      maxTotal = Math.max(maxTotal, (await setsNow()).reduce((n, r) => n + (r.spec.replicas ?? 0), 0));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await api('apply', { object: spec('v2') });
  const newAt: number[] = [];
  for (let k = 0; k < 2; k++) {
    const floor = newAt[k - 1] ?? 0;
    await waitFor(async () => {
      const fresh = (await setsNow()).find((r) => image(r) === 'v2');
      return (fresh?.spec.replicas ?? 0) > floor;
    }, `new set past ${floor} replicas`, 60_000);
    await killCp();
    const sets = await setsNow();
    newAt.push(sets.find((r) => image(r) === 'v2')?.spec.replicas ?? 0);
    await startCp();
  }
  await waitFor(done('v2'), 'v2 rolled out', 120_000);
  const sets = await setsNow();
  expect(sets).toHaveLength(2);
  expect(sets.find((r) => image(r) === 'v2')?.spec.replicas).toBe(N);
  expect(sets.find((r) => image(r) === 'v1')?.spec.replicas).toBe(0);
  expect(maxTotal).toBeLessThanOrEqual(N + SURGE);
  // The first kill came before the rollout was done, or the test proved nothing.
  expect(newAt[0]).toBeLessThan(N);
  const pods = (await store.list<Pod>('pods.default.>')).items.filter((i) => !i.object.metadata.deletionTimestamp);
  expect(pods).toHaveLength(N);
  await killCp();
});
