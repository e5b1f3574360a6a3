/**
 * The garbage collector across a crash: a control plane (the built `mk control-plane`, a process
 * of its own) is SIGKILLed right after an owner's deletion, while its dependents are being
 * collected; the next control plane finishes the cascade, in the background and in the
 * foreground, and leaves no dependent behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { API, type ApplyResult, type KubeObject, type ListResult } from '../../../messages';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';
import { ensureBuilt, ROOT } from '../cli/run-cli';

jest.setTimeout(120_000);

const DEPENDENTS = 150;
let server: NatsServer;
let bus: Bus;
let dataDir: string;
let cp: ChildProcess | undefined;
/** Dependents left when each control plane was killed (how far into the cascade it got). */
const left: number[] = [];

const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
const pod = (name: string, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});
const names = async (): Promise<string[]> => (await api<ListResult>('list', { kind: 'pods' })).items.map((o) => o.metadata.name);

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
  bus = await connectBus({ servers: server.url, name: 'gc-crash-test' });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gc-crash-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], nodeName: 'n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  process.stdout.write(`dependents left at the kill: ${left.join(', ')} of ${DEPENDENTS}\n`);
  await killCp();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it.each([['Background'], ['Foreground']])('%s: a control plane killed mid-cascade leaves no dependent behind once restarted', async (policy) => {
  await startCp();
  const prefix = policy.toLowerCase().slice(0, 2);
  const owner: KubeObject = (await api<ApplyResult>('apply', { object: pod(`${prefix}-owner`) })).object;
  const ref = { apiVersion: 'v1', kind: 'Pod', name: owner.metadata.name, uid: owner.metadata.uid, blockOwnerDeletion: true };
  await Promise.all(Array.from({ length: DEPENDENTS }, (_, i) => api('apply', { object: pod(`${prefix}-d${i}`, { ownerReferences: [ref] }) })));
  expect((await names()).filter((n) => n.startsWith(`${prefix}-d`))).toHaveLength(DEPENDENTS);
  const store = await ObjectStore.open(bus, { create: false });
  const dependents = async () => (await store.list<KubeObject>('pods.>')).items.filter((i) => i.object.metadata.name.startsWith(`${prefix}-d`)).length;
  await api('delete', { kind: 'pods', name: owner.metadata.name, propagationPolicy: policy });
  // Killed once the collector has begun: the first dependent gone.
  await waitFor(async () => (await dependents()) < DEPENDENTS, 'the cascade begun', 30_000);
  await killCp();
  left.push(await dependents());
  await startCp();
  await waitFor(async () => !(await names()).some((n) => n.startsWith(`${prefix}-`)), 'owner and dependents gone', 30_000);
  await killCp();
});
