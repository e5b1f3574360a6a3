/**
 * `mk get` and `mk delete` (the built CLI) against a real control plane: selectors and their
 * errors, `mk get all`, `delete -l/--all/--cascade`, and `mk get -w` as a stream that resumes,
 * relists when its revision expired, and stops on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { connectBus, EventRecorder, EVENTS_MAX_MSGS, ObjectStore, request, type Bus } from '../../../bus';
import { API, EVENTS_STREAM, type ApplyResult, type Event, type GetResult, type ListResult } from '../../../messages';
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
const streams: ChildProcess[] = [];

const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
const pod = (name: string, labels: Record<string, string> = {}, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels, ...meta }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});
const apply = async (o: unknown) => (await api<ApplyResult>('apply', { object: o })).object;
const mk = (args: string[]) => runCli(args, { env: { MK_HOME: dataDir } });
const podNames = async () => (await api<ListResult>('list', { kind: 'pods' })).items.map((o) => o.metadata.name).sort();

/** The JSON documents `mk get -w -o json` printed one after another (each opens a line with `{`). */
function jsonDocs(text: string): Event[] {
  return text.split(/^(?=\{)/m).filter((d) => d.trim() !== '').map((d) => JSON.parse(d) as Event);
}

/** Starts `mk ARGS` in the background, collecting its output. */
function stream(args: string[]) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), ...args], { env: { ...process.env, MK_HOME: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  streams.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    out: () => stdout,
    err: () => stderr,
    /** SIGTERMs it (by pid) and resolves with its exit code. */
    stop: async () => { process.kill(child.pid!, 'SIGTERM'); return exited; },
  };
}

beforeAll(async () => {
  ensureBuilt();
  server = await startNatsServer({ user: USER, pass: PASS });
  cp = await runControlPlane({ bus: { servers: server.url, user: USER, pass: PASS, name: 'cp-cli-watch' } });
  bus = await connectBus({ servers: server.url, user: USER, pass: PASS, name: 'cli-watch-test' });
  store = await ObjectStore.open(bus, { create: false });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-watch-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], user: USER, pass: PASS, nodeName: 'n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  for (const c of streams) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  await cp?.stop();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  for (const n of await podNames()) await api('delete', { kind: 'pods', name: n, gracePeriodSeconds: 0 });
});

describe('selectors', () => {
  it('select by labels and fields, and name what is wrong with a bad selector', async () => {
    await apply(pod('a', { app: 'web', tier: 'front' }));
    await apply(pod('b', { app: 'db' }));
    const byLabel = await mk(['get', 'pods', '-l', 'app in (web),tier', '-o', 'name']);
    expect(byLabel).toMatchObject({ code: 0, stdout: 'pod/a\n' });
    const byField = await mk(['get', 'pods', '--field-selector', 'metadata.name!=a,status.phase=Pending', '-o', 'name']);
    expect(byField).toMatchObject({ code: 0, stdout: 'pod/b\n' });
    for (const [args, why] of [
      [['-l', 'env in (a'], 'unbalanced parentheses'],
      [['-l', 'env in a'], '"in" needs a parenthesized list of values'],
      [['-l', '=x'], 'label key is empty'],
      [['-l', 'bad key=x'], 'unexpected "key"'],
      [['--field-selector', 'spec.foo=x'], 'field label not supported: spec.foo'],
    ] as const) {
      const r = await mk(['get', 'pods', ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(why);
    }
  });

  it('mk get all prints each kind with kind/name', async () => {
    await apply(pod('a'));
    const r = await mk(['get', 'all']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS/);
    expect(r.stdout).toMatch(/^pod\/a\s+0\/1\s+Pending/m);
    const json = JSON.parse((await mk(['get', 'all', '-o', 'json'])).stdout) as { kind: string; items: unknown[] };
    expect(json).toMatchObject({ kind: 'List', items: [{ kind: 'Pod' }] });
  });
});

describe('mk delete', () => {
  it('deletes by label, by field, and --all; a bad selector deletes nothing', async () => {
    for (const [n, app] of [['a', 'web'], ['b', 'web'], ['c', 'db'], ['d', 'db']]) await apply(pod(n, { app }));
    const bad = await mk(['delete', 'pods', '-l', 'app in (web']);
    expect(bad.code).toBe(1);
    expect(await podNames()).toEqual(['a', 'b', 'c', 'd']);
    expect(await mk(['delete', 'pods', '-l', 'app=web'])).toMatchObject({ code: 0, stdout: 'pod "a" deleted\npod "b" deleted\n' });
    expect(await mk(['delete', 'pods', '--field-selector', 'metadata.name=c'])).toMatchObject({ code: 0, stdout: 'pod "c" deleted\n' });
    expect(await podNames()).toEqual(['d']);
    expect(await mk(['delete', 'pods', '--all'])).toMatchObject({ code: 0, stdout: 'pod "d" deleted\n' });
    expect(await podNames()).toEqual([]);
  });

  it('--cascade=orphan keeps the dependents; the default cascade takes them along', async () => {
    const owner = await apply(pod('owner'));
    const ref = { apiVersion: 'v1', kind: 'Pod', name: 'owner', uid: owner.metadata.uid };
    await apply(pod('dep', {}, { ownerReferences: [ref] }));
    expect((await mk(['delete', 'pod', 'owner', '--cascade=orphan'])).code).toBe(0);
    expect(await podNames()).toEqual(['dep']);
    expect((await api<GetResult>('get', { kind: 'pods', name: 'dep' })).object.metadata.ownerReferences).toBeUndefined();
    const owner2 = await apply(pod('owner2'));
    await apply(pod('dep2', {}, { ownerReferences: [{ ...ref, name: 'owner2', uid: owner2.metadata.uid }] }));
    expect((await mk(['delete', 'pod', 'owner2'])).code).toBe(0);
    await until('dep2 collected', async () => ((await podNames()).includes('dep2') ? undefined : true), 15_000);
    const bad = await mk(['delete', 'pod', 'dep', '--cascade=sideways']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cascade/);
    expect(await podNames()).toEqual(['dep']);
  });
});

describe('mk get -w', () => {
  it('lists, then prints each change as a JSON object, until SIGTERM', async () => {
    await apply(pod('first'));
    const w = stream(['get', 'pods', '-w', '-o', 'json']);
    await until('the listing', () => (w.out().includes('"name": "first"') ? true : undefined), 20_000);
    await apply(pod('second', { v: '1' }));
    await until('the new pod', () => (w.out().includes('"name": "second"') ? true : undefined), 20_000);
    expect(await w.stop()).toBe(0);
    // One object per change, each a whole JSON document.
    const docs = w.out().split(/\n(?=\{)/).map((d) => JSON.parse(d) as { metadata: { name: string } });
    expect(docs[0].metadata.name).toBe('first');
    expect(docs.some((d) => d.metadata.name === 'second')).toBe(true);
  });

  it('--watch-only -o yaml prints only changes, as documents separated by ---', async () => {
    await apply(pod('old'));
    const w = stream(['get', 'pods', '--watch-only', '-o', 'yaml', '-l', 'w=y']);
    // The stream is up once a change made now is printed.
    await until('a change', async () => { await apply(pod('new', { w: 'y', t: String(Date.now()) })); return w.out().includes('name: new') ? true : undefined; }, 20_000, 500);
    await apply(pod('new2', { w: 'y' }));
    await until('the second change', () => (w.out().includes('name: new2') ? true : undefined), 20_000);
    expect(await w.stop()).toBe(0);
    expect(w.out()).not.toContain('name: old');
    expect(w.out()).toMatch(/\n---\n/);
  });

  it('resumes from --resource-version, and relists when that revision has expired', async () => {
    const { resourceVersion } = await api<ListResult>('list', { kind: 'pods' });
    await apply(pod('since'));
    const resumed = stream(['get', 'pods', '--watch-only', '--resource-version', resourceVersion, '-o', 'name']);
    await until('the change since', () => (resumed.out().includes('pod/since') ? true : undefined), 20_000);
    expect(await resumed.stop()).toBe(0);

    await apply(pod('doomed'));
    await api('delete', { kind: 'pods', name: 'doomed' });
    await store.compact(0);
    const expired = stream(['get', 'pods', '--watch-only', '--resource-version', resourceVersion, '-o', 'name']);
    await until('the relisting', () => (expired.out().includes('pod/since') ? true : undefined), 20_000);
    expect(expired.err()).toContain('watch expired');
    await apply(pod('after'));
    await until('a change after the relist', () => (expired.out().includes('pod/after') ? true : undefined), 20_000);
    expect(await expired.stop()).toBe(0);
    expect(expired.out()).not.toContain('pod/doomed');
  });

  it('asks again from its last revision when the control plane restarts (the heartbeats stop)', async () => {
    const w = stream(['get', 'pods', '-w', '-o', 'name']);
    await apply(pod('before-restart'));
    await until('the stream', () => (w.out().includes('pod/before-restart') ? true : undefined), 20_000);
    await cp.stop();
    cp = await runControlPlane({ bus: { servers: server.url, user: USER, pass: PASS, name: 'cp-cli-watch-2' } });
    await apply(pod('after-restart'));
    await until('the change after the restart', () => (w.out().includes('pod/after-restart') ? true : undefined), 40_000);
    expect(await w.stop()).toBe(0);
    expect(w.err()).not.toContain('watch expired');
  });

  it('goes on after the server lost its store: the stream says Expired, the CLI relists', async () => {
    await apply(pod('kept'));
    const w = stream(['get', 'pods', '-w', '-o', 'name']);
    await until('the listing', () => (w.out().includes('pod/kept') ? true : undefined), 20_000);
    await server.restart({ wipe: true });
    await until('the relisting', () => (w.err().includes('watch expired') ? true : undefined), 30_000).catch((e) => { throw new Error(`${String(e)} OUT ${w.out()} ERR ${w.err()}`); });
    await until('a change after it', async () => {
      await apply(pod('reborn', { t: String(Date.now()) })).catch(() => undefined);
      return w.out().includes('pod/reborn') ? true : undefined;
    }, 30_000, 500);
    expect(await w.stop()).toBe(0);
  });

  it('exits 0 on a SIGTERM sent the moment the listing shows, before the stream is open', async () => {
    await apply(pod('listed-first'));
    for (let round = 0; round < 3; round++) {
      const w = stream(['get', 'pods', '-w', '-o', 'name']);
      await until('the listing', () => (w.out().includes('pod/listed-first') ? true : undefined), 20_000, 5);
      expect(await w.stop()).toBe(0);
    }
  });

  it('watches events by the fields of their object', async () => {
    const w = stream(['get', 'events', '-w', '--field-selector', 'involvedObject.name=ev1', '-o', 'name']);
    // Neither pod can be placed (there is no node): the scheduler records an event for each.
    await apply(pod('ev1'));
    await apply(pod('ev2'));
    await until('an event of ev1', () => (/^event\/ev1\./m.test(w.out()) ? true : undefined), 20_000);
    await until('an event of ev2 recorded', async () => {
      const { items } = await api<ListResult>('list', { kind: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=ev2' });
      return items.length > 0 ? true : undefined;
    }, 20_000);
    expect(await w.stop()).toBe(0);
    expect(w.out()).not.toMatch(/event\/ev2\./);
  });

  it('streams new events with -o json, and goes on without a repeat after the server restarts', async () => {
    const recorder = new EventRecorder(bus, { component: 'cli-test' });
    const target = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid: `u-${name}` } });
    const record = async (name: string) => { recorder.record(target(name), 'Normal', 'Noted', `noted ${name}`); await recorder.flush(); };
    await record('j0');
    const w = stream(['get', 'events', '-w', '--watch-only', '-o', 'json', '--field-selector', 'reason=Noted']);
    // Once the watch runs (a new stream answers the api), each new event is printed.
    await until('the first event', async () => {
      await record('j1');
      return jsonDocs(w.out()).length > 0 ? true : undefined;
    }, 20_000, 500);
    const before = jsonDocs(w.out());
    expect(before[0]).toMatchObject({ kind: 'Event', reason: 'Noted', involvedObject: { name: 'j1' } });
    expect(before.some((e) => e.involvedObject.name === 'j0')).toBe(false);
    await server.restart();
    await until('an event after the restart', async () => {
      await record('j2');
      return jsonDocs(w.out()).some((e) => e.involvedObject.name === 'j2') ? true : undefined;
    }, 40_000, 500).catch((e) => { throw new Error(`${String(e)} OUT ${w.out()} ERR ${w.err()}`); });
    expect(await w.stop()).toBe(0);
    // Each count of each event once, in the stream's order.
    const revs = jsonDocs(w.out()).map((e) => Number(e.metadata.resourceVersion));
    expect(new Set(revs).size).toBe(revs.length);
    expect([...revs].sort((a, b) => a - b)).toEqual(revs);
  });

  it('relists events when the stream dropped what the watch asked for, printing nothing twice', async () => {
    const recorder = new EventRecorder(bus, { component: 'cli-test' });
    const record = async (name: string) => {
      recorder.record({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `u-${name}` } }, 'Normal', 'Dropped', name);
      await recorder.flush();
    };
    const old = (await bus.jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    await bus.jsm.streams.update(EVENTS_STREAM, { max_msgs: 2 });
    try {
      for (const name of ['d1', 'd2', 'd3']) await record(name);
    } finally {
      await bus.jsm.streams.update(EVENTS_STREAM, { max_msgs: EVENTS_MAX_MSGS });
    }
    const w = stream(['get', 'events', '-w', '--resource-version', String(old), '-o', 'name', '--field-selector', 'reason=Dropped']);
    await until('the relisting', () => (w.err().includes('watch expired') ? true : undefined), 20_000)
      .catch((e) => { throw new Error(`${String(e)} OUT ${w.out()} ERR ${w.err()}`); });
    await until('a change after it', async () => {
      await record('d4');
      return /^event\/d4\./m.test(w.out()) ? true : undefined;
    }, 20_000, 500);
    expect(await w.stop()).toBe(0);
    const lines = w.out().split('\n').filter((l) => /^event\/d[23]\./.test(l));
    expect(lines).toHaveLength(2);
    expect(new Set(lines).size).toBe(2);
  });

  it('relists events when the server came back without the events stream', async () => {
    const recorder = new EventRecorder(bus, { component: 'cli-test' });
    const target = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wiped', namespace: 'default', uid: 'u-wiped' } };
    const w = stream(['get', 'events', '-w', '-o', 'name', '--field-selector', 'reason=Wiped']);
    await until('the first event', async () => {
      recorder.record(target, 'Normal', 'Wiped', 'before');
      await recorder.flush();
      return /^event\/wiped\./m.test(w.out()) ? true : undefined;
    }, 20_000, 500);
    const printed = w.out().split('\n').filter(Boolean).length;
    await server.restart({ wipe: true });
    // The recorder makes the stream again with the first event it can publish.
    await until('the event after the relisting', async () => {
      recorder.record(target, 'Normal', 'Wiped', 'after');
      await recorder.flush();
      return w.err().includes('watch expired (the events stream') && w.out().split('\n').filter(Boolean).length > printed ? true : undefined;
    }, 40_000, 500).catch((e) => { throw new Error(`${String(e)} OUT ${w.out()} ERR ${w.err()}`); });
    expect(await w.stop()).toBe(0);
  });

  it('mk events -w --types Warning prints the new warnings only; bad types are refused', async () => {
    const recorder = new EventRecorder(bus, { component: 'cli-test' });
    const target = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'loud', namespace: 'default', uid: 'u-loud' } };
    const w = stream(['events', '-w', '--types', 'warning', '--for', 'pod/loud', '--no-headers']);
    await until('a warning', async () => {
      recorder.record(target, 'Normal', 'Quiet', 'nothing to see');
      recorder.record(target, 'Warning', 'Loud', 'look here');
      await recorder.flush();
      return /Warning\s+Loud\s+pod\/loud\s+look here/.test(w.out()) ? true : undefined;
    }, 20_000, 500).catch((e) => { throw new Error(`${String(e)} OUT ${w.out()} ERR ${w.err()}`); });
    expect(await w.stop()).toBe(0);
    expect(w.out()).not.toContain('Quiet');
    const bad = await mk(['events', '--types', 'Error']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--types: "Error" is not an event type (valid --types are Normal or Warning)');
    const label = await mk(['get', 'events', '-w', '--field-selector', 'spec.nodeName=n1']);
    expect(label.code).toBe(1);
    expect(label.stderr).toContain('field label not supported: spec.nodeName');
  });

  it('refuses bad watch flags', async () => {
    expect((await mk(['get', 'pods', '-w', '--resource-version', 'x'])).stderr).toContain('--resource-version must be a revision');
    expect((await mk(['get', 'pods', '--resource-version', '3'])).code).toBe(1);
    expect((await mk(['get', 'pods', 'a', 'b', '-w'])).stderr).toContain('single resource name');
  });
});
