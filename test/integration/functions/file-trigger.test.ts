/**
 * File triggers end to end without containerd: a real nats-server with the credentials and
 * permissions `mk up` writes, the built `mk control-plane` as a process of its own (SIGKILLed and
 * started again in the middle), and the node agent's file triggers (node-agent/triggers) running
 * in this process as node n1's identity, watching a temp directory. The target is a workflow of
 * Pass states, so each firing is a WorkflowRun whose input carries the change.
 *
 * Shown: create, write and delete of a file each fire once with their event; a burst of writes
 * within debounceMs fires once; a change the trigger's events leave out fires nothing; a change
 * made while no control plane runs is delivered once after it starts again, and one made while
 * nats-server is SIGKILLed once it is back; a deleted trigger's
 * path is no longer watched; the node api tells a node only its own triggers, and the bus refuses
 * a node's publish under another node's name. "Fires once" is counted after a later, independent
 * change was delivered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encode, ObjectStore, request, type Bus } from '../../../bus';
import { setLogLevel } from '../../../common/log';
import {
  API, isForbidden, nodeApiSubject, objectKey, TRIGGER_EVENTS_STREAM, triggerFileSubject,
  type FileTriggersResult, type Trigger, type WorkflowRunObject,
} from '../../../messages';
import { log } from '../../../node-agent/log';
import { startFileTriggers, type FileTriggers } from '../../../node-agent/triggers';
import { ensureBuilt, ROOT } from '../cli/run-cli';
import { caught, waitFor } from '../../helpers/nats-server';
import { startSecuredNats, type SecuredNats } from '../../helpers/secured-nats';

jest.setTimeout(300_000);

const DEBOUNCE_MS = 300;

let nats: SecuredNats | undefined;
let work: string;
let cp: ChildProcess | undefined;
let admin: Bus;
let observer: Bus;
let store: ObjectStore;
let n1: Bus;
let files: FileTriggers | undefined;

const connectAs = (user: string): Promise<Bus> => nats!.connectAs(user);

const api = <T>(verb: keyof typeof API, body: unknown): Promise<T> => request<T>(admin, API[verb], body);

/** Starts `mk control-plane` on the cluster's data directory (its own credentials); resolves once it answers. */
const startControlPlane = async (): Promise<void> => {
  cp = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'control-plane', '--lease-seconds', '2'], {
    env: { ...process.env, MK_HOME: nats!.dir }, stdio: ['ignore', 'ignore', 'ignore'],
  });
  await waitFor(async () => { await api('ping', {}); return true; }, 'control plane up', 60_000);
};
const killControlPlane = async (): Promise<void> => {
  const child = cp;
  cp = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await gone;
};

const fileTrigger = (name: string, file: Record<string, unknown>): Promise<unknown> => api('apply', {
  object: {
    apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name, namespace: 'default' },
    spec: { source: { file: { node: 'n1', debounceMs: DEBOUNCE_MS, ...file } }, target: { workflow: 'noop' } },
  },
});
const triggerOf = async (name: string): Promise<Trigger | undefined> => (await store.get<Trigger>(objectKey('triggers', 'default', name)))?.object;
const readyOf = async (name: string) => (await triggerOf(name))?.status?.conditions?.find((c) => c.type === 'Ready');

/** The changes each run of trigger `name` was given, oldest first. */
interface Fired { run: string; node: string; path: string; event: string; time: string; trigger: string; firing: string }
const fired = async (name: string): Promise<Fired[]> => {
  const { items } = await store.list<WorkflowRunObject>('workflowruns.default.>');
  return items.map((i) => i.object).filter((r) => r.metadata.labels?.['mk.io/trigger'] === name)
    .map((r) => ({ run: r.metadata.name, ...(r.spec.input as Omit<Fired, 'run'>) }))
    .sort((a, b) => Number(a.firing.split('-m').pop()) - Number(b.firing.split('-m').pop()));
};
/** Waits for a run of `name` for `file` with `event`; returns it. */
const firedFor = (name: string, file: string, event: string): Promise<Fired> =>
  waitFor(async () => (await fired(name)).find((f) => f.path === file && f.event === event), `${name} to fire ${event} of ${file}`, 60_000);
/** How many changes the node published for trigger `name` (the stream keeps them all). */
const published = async (name: string, node = 'n1'): Promise<number> => {
  const subject = triggerFileSubject(node, 'default', name);
  const info = await observer.jsm.streams.info(TRIGGER_EVENTS_STREAM, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
};

/** A change on the catch-all trigger, fired after everything before it: what "once" is counted after. */
let markers = 0;
/** The catch-all trigger's directory: two levels that do not exist when it is made. */
const inbox = (): string => path.join(work, 'spool', 'in');
const marker = async (): Promise<void> => {
  const file = path.join(inbox(), `marker-${++markers}`);
  fs.writeFileSync(file, 'm');
  await firedFor('inbox', file, 'create');
};

beforeAll(async () => {
  setLogLevel('silent'); // the permission violations below are expected, and logged by the bus
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-file-trigger-work-'));
  ensureBuilt();
  nats = await startSecuredNats('mk-file-trigger-it', { extraNodes: ['n2'] });
  admin = await connectAs('admin');
  await startControlPlane();
  observer = await connectAs('control-plane');
  store = await ObjectStore.open(observer, { create: false });
  n1 = await connectAs('node-n1');
  // The node joins (its Node object), as an agent registers.
  await request(n1, nodeApiSubject('n1', 'register'), { status: {}, labels: { 'kubernetes.io/hostname': 'n1' } });
  await api('apply', { object: { apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: { name: 'noop', namespace: 'default' }, spec: { startAt: 'A', states: { A: { type: 'Pass', end: true } } } } });
  files = startFileTriggers({ bus: n1, nodeName: 'n1', log });
  // A catch-all on a directory that does not exist yet, nor its parent: watched until it appears.
  await fileTrigger('inbox', { path: inbox() });
  await waitFor(async () => (await readyOf('inbox'))?.status === 'True', 'inbox ready', 60_000);
  await waitFor(() => files!.watching().includes('default/inbox'), 'the node to watch inbox', 60_000);
  fs.mkdirSync(inbox(), { recursive: true });
}, 300_000);

afterAll(async () => {
  await files?.stop();
  await killControlPlane();
  await nats?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  setLogLevel('info');
});

describe('file triggers', () => {
  it('are Ready once bound, and their node is told', async () => {
    expect(await readyOf('inbox')).toMatchObject({ status: 'True', reason: 'Watching', message: `watching ${inbox()} on node n1` });
  });

  it('a create, a write and a delete of a file each fire once, with the change as the input', async () => {
    const file = path.join(inbox(), 'a.csv');
    fs.writeFileSync(file, 'one');
    const created = await firedFor('inbox', file, 'create');
    expect(created).toMatchObject({ node: 'n1', path: file, event: 'create', trigger: 'default/inbox', firing: created.run });
    expect(Date.parse(created.time)).not.toBeNaN();
    fs.appendFileSync(file, 'two');
    await firedFor('inbox', file, 'write');
    fs.rmSync(file);
    await firedFor('inbox', file, 'delete');
    await marker();
    expect((await fired('inbox')).filter((f) => f.path === file).map((f) => f.event)).toEqual(['create', 'write', 'delete']);
    const t = await waitFor(async () => {
      const got = await triggerOf('inbox');
      return (got?.status?.succeeded ?? 0) >= 4 ? got : undefined;
    }, 'the status counts', 60_000);
    expect(t.status?.lastFiringTime).toBeDefined();
  });

  it('a burst of changes within debounceMs fires once, as what it came to; in a directory made with the file too', async () => {
    const file = path.join(inbox(), 'deep', 'er', 'b.log');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '0');
    for (let i = 1; i < 20; i++) fs.appendFileSync(file, String(i));
    await firedFor('inbox', file, 'create');
    for (let i = 0; i < 20; i++) fs.appendFileSync(file, String(i));
    await firedFor('inbox', file, 'write');
    await marker();
    expect((await fired('inbox')).filter((f) => f.path === file).map((f) => f.event)).toEqual(['create', 'write']);
  });

  it('a change the trigger\'s events leave out fires nothing', async () => {
    const file = path.join(work, 'only-writes.txt');
    await fileTrigger('writes', { path: file, events: ['write'] });
    await waitFor(() => files!.watching().includes('default/writes'), 'the node to watch writes', 60_000);
    fs.writeFileSync(file, 'made');
    // The marker's window opened after the create's, so the create was decided (and dropped) first.
    await marker();
    expect(await published('writes')).toBe(0);
    fs.appendFileSync(file, 'more');
    await firedFor('writes', file, 'write');
    fs.rmSync(file);
    await marker();
    expect(await published('writes')).toBe(1);
    expect((await fired('writes')).map((f) => f.event)).toEqual(['write']);
  });

  it('a change made while no control plane runs is kept by the stream and fires once after it starts again', async () => {
    await killControlPlane();
    const file = path.join(inbox(), 'while-down.txt');
    const before = await published('inbox');
    fs.writeFileSync(file, 'x');
    // Acked by JetStream with no control plane: the node's publish is done.
    await waitFor(async () => (await published('inbox')) === before + 1, 'the node to publish the change', 30_000);
    await startControlPlane();
    await firedFor('inbox', file, 'create');
    await marker();
    expect((await fired('inbox')).filter((f) => f.path === file).map((f) => f.event)).toEqual(['create']);
  });

  it('a change made while nats-server is down (SIGKILLed) is published once it is back, and fires once', async () => {
    await nats!.kill();
    const file = path.join(inbox(), 'while-nats-down.txt');
    fs.writeFileSync(file, 'x');
    // The change fired on the node, and waits there: no server takes it.
    await waitFor(() => files!.unpublished() > 0, 'the change to wait for the bus', 30_000);
    await nats!.restart();
    await firedFor('inbox', file, 'create');
    expect(files!.unpublished()).toBe(0);
    await marker();
    expect((await fired('inbox')).filter((f) => f.path === file).map((f) => f.event)).toEqual(['create']);
  });

  it('a deleted trigger\'s path is no longer watched', async () => {
    const gone = path.join(work, 'gone');
    fs.mkdirSync(gone);
    await fileTrigger('gone', { path: gone });
    await waitFor(() => files!.watching().includes('default/gone'), 'the node to watch gone', 60_000);
    fs.writeFileSync(path.join(gone, 'first'), '1');
    await firedFor('gone', path.join(gone, 'first'), 'create');
    await api('delete', { kind: 'triggers', namespace: 'default', name: 'gone' });
    await waitFor(() => !files!.watching().includes('default/gone'), 'the node to stop watching gone', 60_000);
    fs.writeFileSync(path.join(gone, 'second'), '2');
    await marker();
    expect(await published('gone')).toBe(1);
  });

  it('the node api tells a node only its own file triggers; a node may not publish under another node\'s name', async () => {
    await api('apply', {
      object: {
        apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name: 'elsewhere', namespace: 'default' },
        spec: { source: { file: { node: 'n2', path: '/srv/drop' } }, target: { workflow: 'noop' } },
      },
    });
    // Bound all the same, and waiting for its node.
    expect(await waitFor(async () => {
      const r = await readyOf('elsewhere');
      return r?.reason === 'NodeNotFound' ? r : undefined;
    }, 'elsewhere to wait for n2', 60_000)).toMatchObject({ status: 'False', message: 'node n2 does not exist; /srv/drop is watched once it joins' });
    const mine = await request<FileTriggersResult>(n1, nodeApiSubject('n1', 'file-triggers'), {});
    expect(mine.triggers.map((t) => t.name)).toEqual(['inbox', 'writes']);
    expect(mine.triggers[0]).toEqual({
      namespace: 'default', name: 'inbox', uid: (await triggerOf('inbox'))!.metadata.uid, path: inbox(),
      events: ['create', 'write', 'delete'], debounceMs: DEBOUNCE_MS,
    });
    const n2 = await connectAs('node-n2');
    expect((await request<FileTriggersResult>(n2, nodeApiSubject('n2', 'file-triggers'), {})).triggers.map((t) => t.name)).toEqual(['elsewhere']);
    expect(isForbidden(await caught(request(n1, nodeApiSubject('n2', 'file-triggers'), {}, { timeoutMs: 2000 })))).toBe(true);
    const forged = await caught(n1.js.publish(triggerFileSubject('n2', 'default', 'elsewhere'), encode({ node: 'n2', path: '/srv/drop/x', event: 'create', time: new Date().toISOString() }), { timeout: 2000 }));
    expect(isForbidden(forged) || /permission/i.test(String(forged))).toBe(true);
    expect(await published('elsewhere', 'n2')).toBe(0);
  });
});
