/**
 * The dashboard's server against a real nats-server with the embedded cluster's identities and
 * permissions (the config `mk up` writes), a real control plane, and websocket clients: the feed's
 * snapshots and deltas, its refusals (garbage, unknown kinds, subjects and writes the bus denies
 * the read-only identity), the token flow, the time scrubber, a workflow run's status as the page
 * colours its graph, and a NATS restart. Actor telemetry
 * comes from a fake process (it answers snapshots and publishes as a telemetry publisher would).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { connectBus, request, serve, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { setLogLevel } from '../../../common/log';
import { serveDashboardTokens, startDashboardServer, type DashboardServer, type TokenReply } from '../../../dashboard/server';
import type { AtResult, DeltaFrame, ErrorFrame, ResultFrame, SnapshotFrame, TableDelta, TableSnapshot, TreeRow } from '../../../dashboard/protocol';
import { prepareClusterFiles, type Credentials } from '../../../embedded/credentials';
import { clusterPaths } from '../../../embedded/paths';
import { tlsPaths } from '../../../embedded/tls';
import { findNatsServer, waitForPort } from '../../../embedded/supervise';
import {
  API, DASHBOARD_TOKEN_SUBJECT, logsCancelSubject, logsStreamSubject, nodeSubject,
  type ApplyResult, type GetResult, type KubeObject, type LogsChunk, type LogsRequest,
} from '../../../messages';
import { statsSubject, type NodeUsageReport } from '../../../messages/usage';
import { ACTOR_STREAM, actorSubject, type ActorInfo, type ActorSnapshotReply, type ActorSnapshotRequest, type ProcessStats } from '../../../messages/telemetry';
import { terminate } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { FeedClient } from './feed-client';
import { layoutMachine, type LaidNode } from '../../../dashboard/web/src/workflow-layout';
import { asMachine, canonicalJson } from '../../../dashboard/web/src/workflow-spec';
import { stateStatuses } from '../../../dashboard/web/src/workflow-status';

jest.setTimeout(120_000);

let dir: string;
let creds: Credentials;
let caFile: string;
let server: ChildProcess;
let cp: ControlPlane;
let cpBus: Bus;
let admin: Bus;
let dash: DashboardServer;
let tokenService: { stop(): Promise<void> };
const clients: FeedClient[] = [];
let servers: string;

/** A frame as the workflow test reads it. */
type ServerMessageLike = { type: string; sub?: number };

const freePort = (): Promise<number> => new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => resolve(p));
  });
});

const startNats = async (): Promise<void> => {
  server = spawn(findNatsServer()!, ['-c', clusterPaths(dir).natsConf], { stdio: 'ignore' });
  await waitForPort(creds.port, 15_000);
};

const pod = (name: string, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});
const applyPod = (p: KubeObject): Promise<ApplyResult> => request<ApplyResult>(admin, API.apply, { object: p });

const open = async (headers: Record<string, string> = {}): Promise<FeedClient> => {
  const c = await FeedClient.open(dash.url, headers);
  clients.push(c);
  await c.next((f) => f.type === 'hello', 'hello');
  return c;
};

beforeAll(async () => {
  setLogLevel('silent');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-dash-it-'));
  creds = prepareClusterFiles(clusterPaths(dir), { nodeName: 'n1', port: await freePort() });
  caFile = tlsPaths(dir).caCert;
  servers = `nats://127.0.0.1:${creds.port}`;
  await startNats();
  const as = (user: string) => ({ servers, user, pass: creds.users[user], caFile });
  cp = await runControlPlane({ bus: { ...as('control-plane'), name: 'dash-it-cp' } });
  cpBus = await connectBus({ ...as('control-plane'), name: 'dash-it-cp-tokens' });
  admin = await connectBus({ ...as('admin'), name: 'dash-it-admin', checkJetStream: false });
  const t = await serveDashboardTokens(cpBus);
  tokenService = t.served;
  dash = await startDashboardServer({
    port: 0, server: 'dash-it', tickMs: 50,
    read: { ...as('dashboard'), name: 'dash-it-read' },
    write: { ...as('dashboard-write'), name: 'dash-it-write' },
    redeem: (tok) => t.tokens.redeem(tok),
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await dash?.stop();
  await tokenService?.stop();
  await cp?.stop();
  await admin?.close();
  await cpBus?.close();
  if (server) await terminate(server);
  fs.rmSync(dir, { recursive: true, force: true });
  setLogLevel('info');
});

describe('the feed', () => {
  it('answers garbage with an error frame and keeps the connection', async () => {
    const c = await open();
    c.raw('{"type": "subscribe", "id": 1, "params": {"topic": "objects", "limit": 9999}}');
    const bad = await c.next<ErrorFrame>((f) => f.type === 'error' && f.id === 1, 'an error for the invalid subscribe');
    expect(bad.error.code).toBe('BadRequest');
    expect(bad.error.message).toMatch(/params\.(kind|limit)/);
    c.raw('not json at all');
    await c.next<ErrorFrame>((f) => f.type === 'error' && /not JSON/.test(f.error.message), 'an error for garbage');
    c.raw(JSON.stringify({ type: 'teleport', id: 2 }));
    const unknown = await c.next<ErrorFrame>((f) => f.type === 'error' && f.id === 2, 'an error for the unknown type');
    expect(unknown.error).toMatchObject({ code: 'UnknownType', message: expect.stringContaining('"teleport"') });
    expect(c.closed).toBe(false);
    const ok = await c.ask({ type: 'subscribe', params: { topic: 'objects', kind: 'namespaces' } });
    expect(ok.type).toBe('result');
  });

  it('names a kind that does not exist', async () => {
    const c = await open();
    const r = await c.ask({ type: 'subscribe', params: { topic: 'objects', kind: 'widgets' } }) as ErrorFrame;
    expect(r.type).toBe('error');
    expect(r.error.code).toBe('UnknownKind');
    expect(r.error.message).toContain('"widgets"');
  });

  it('refuses a page of another site (Origin)', async () => {
    const port = new URL(dash.url).port;
    await expect(FeedClient.open(dash.url, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const c = await open({ origin: `http://127.0.0.1:${port}` });
    expect(c.closed).toBe(false);
  });

  it('sends a snapshot of pods, then an upsert when a pod is applied, from the watch it already has', async () => {
    const c = await open();
    const r = await c.ask({ type: 'subscribe', params: { topic: 'objects', kind: 'pods', namespace: 'default' } }) as ResultFrame;
    expect(r.type).toBe('result');
    const snap = await c.next<TableSnapshot<'objects'>>((f) => f.type === 'snapshot' && f.sub === r.sub, 'the snapshot');
    expect(snap.columns?.map((col) => col.name)).toContain('NAME');
    // Every list and watch of pods asked of the api from now on (the control plane may read them).
    const asked: string[] = [];
    const spies = [API.list, API.watch].map((subject) => cpBus.nc.subscribe(subject, {
      callback: (_e, m) => { if ((m.json<{ kind?: string }>()).kind === 'pods') asked.push(subject); },
    }));
    await cpBus.nc.flush();
    try {
      const from = c.frames.length;
      await applyPod(pod('fresh'));
      const d = await c.next<TableDelta<'objects'>>((f) => f.type === 'delta' && f.sub === r.sub
        && !!(f as TableDelta<'objects'>).upsert?.some((row) => row.name === 'fresh'), 'the upsert of pod fresh', 30_000, from);
      expect(d.total).toBe(snap.total + 1);
      // The change came live over the pods watch the dashboard had open: not from a list or a new
      // watch, which is how it catches up once it finds its watch silent or a message missing.
      expect(asked).toEqual([]);
    } finally {
      for (const s of spies) s.unsubscribe();
    }
  });

  it('shows one object with its events, and its changes as deltas; nodes and lag answer too', async () => {
    await applyPod(pod('watched'));
    const c = await open();
    const r = await c.ask({ type: 'subscribe', params: { topic: 'object', kind: 'po', name: 'watched' } }) as ResultFrame;
    expect(r.type).toBe('result');
    const snap = await c.next<SnapshotFrame & { topic: 'object' }>((f) => f.type === 'snapshot' && f.sub === r.sub, 'the object snapshot');
    expect(snap.detail.object?.metadata.name).toBe('watched');
    expect(snap.detail.lag).toMatchObject({ generation: 1 });
    const from = c.frames.length;
    await applyPod(pod('watched', { tier: 'web' }));
    const d = await c.next<DeltaFrame & { topic: 'object' }>((f) => f.type === 'delta' && f.sub === r.sub
      && !!(f as { object?: KubeObject }).object?.metadata.labels?.tier, 'the object delta', 5_000, from);
    expect(d.object?.metadata.labels).toEqual({ tier: 'web' });
    // No node can take it: the scheduler's FailedScheduling event is among its events.
    const failed = (e: { reason?: string }) => e.reason === 'FailedScheduling';
    await c.next((f) => (f as { sub?: number }).sub === r.sub && (
      (f.type === 'snapshot' && (f as { detail: { events: { reason?: string }[] } }).detail.events.some(failed))
      || (f.type === 'delta' && !!(f as { events?: { upsert?: { reason?: string }[] } }).events?.upsert?.some(failed))),
    'the FailedScheduling event', 15_000);
    for (const params of [{ topic: 'nodes' }, { topic: 'lag' }, { topic: 'hot', by: 'rate' }]) {
      const ok = await c.ask({ type: 'subscribe', params }) as ResultFrame;
      expect(ok.type).toBe('result');
      await c.next((f) => f.type === 'snapshot' && f.sub === ok.sub, `the ${params.topic} snapshot`);
    }
  });

  it('follows a container\'s log and a pod\'s usage from a fake node agent', async () => {
    // The fake node agent `n1`: it answers log requests and streams one chunk, and publishes usage.
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    let cancelled = false;
    const logs = serve<LogsRequest, LogsChunk>(cpBus, nodeSubject('n1', 'logs'), async (req) => {
      if (req.follow) {
        const id = req.follow.streamId;
        cpBus.nc.subscribe(logsCancelSubject('n1', id), { max: 1, callback: () => { cancelled = true; } });
        setTimeout(() => cpBus.nc.publish(logsStreamSubject('n1', id), JSON.stringify({ data: b64('second line\n') })), 50);
      }
      return { data: b64('first line\n') };
    });
    await cpBus.nc.flush();
    try {
      await applyPod({ ...pod('logger'), spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } });
      const c = await open();
      // The dashboard's pod feed is a watch: a pod applied a moment ago may not be in it yet, and
      // until it is the subscription is refused NotFound. Asked again until it is known.
      let r = await c.ask({ type: 'subscribe', params: { topic: 'logs', pod: 'logger' } }) as ResultFrame | ErrorFrame;
      for (const deadline = Date.now() + 10_000; r.type === 'error' && r.error.code === 'NotFound' && Date.now() < deadline;) {
        r = await c.ask({ type: 'subscribe', params: { topic: 'logs', pod: 'logger' } }) as ResultFrame | ErrorFrame;
      }
      if (r.type === 'error') throw new Error(`the logs subscription was refused: ${r.error.code}: ${r.error.message}`);
      expect(r.type).toBe('result');
      const snap = await c.next<SnapshotFrame & { topic: 'logs' }>((f) => f.type === 'snapshot' && f.sub === r.sub, 'the log');
      expect(snap.data).toBe('first line\n');
      await c.next((f) => f.type === 'delta' && f.sub === r.sub && (f as { append?: string }).append === 'second line\n', 'the followed line');
      await c.ask({ type: 'unsubscribe', sub: r.sub });
      await until('the follow to be cancelled', () => (cancelled ? true : undefined), 5_000);

      const u = await c.ask({ type: 'subscribe', params: { topic: 'usage', kind: 'pods', name: 'logger' } }) as ResultFrame;
      expect(u.type).toBe('result');
      await c.next((f) => f.type === 'snapshot' && f.sub === u.sub, 'the usage snapshot');
      const report: NodeUsageReport = {
        node: 'n1', timestamp: new Date().toISOString(), windowSeconds: 5, usage: { cpuNanoCores: 5e8, memoryBytes: 2 ** 30 },
        capacity: { cpuNanoCores: 4e9, memoryBytes: 2 ** 33 },
        pods: [{ namespace: 'default', name: 'logger', uid: 'u', cpuNanoCores: 1e6, memoryBytes: 4096, containers: [] }],
      };
      await until('a usage sample', () => {
        cpBus.nc.publish(statsSubject('n1'), JSON.stringify(report));
        const d = c.frames.find((f) => f.type === 'delta' && f.sub === u.sub);
        return d ? (d as { append: { cpuNanoCores: number }[] }).append[0] : undefined;
      }, 5_000, 100).then((sample) => expect(sample.cpuNanoCores).toBe(1e6));
    } finally {
      await logs.stop();
    }
  });

  it('refuses a subject subscription outside the permissions, naming the subject', async () => {
    const c = await open();
    const r = await c.ask({ type: 'subscribe', params: { topic: 'subject', subject: 'mk.journal.>' } }) as ErrorFrame;
    expect(r.type).toBe('error');
    expect(r.error.code).toBe('Forbidden');
    expect(r.error.subject).toBe('mk.journal.>');
    expect(r.error.message).toContain('mk.journal.>');
    const ok = await c.ask({ type: 'subscribe', params: { topic: 'subject', subject: 'mk.watch.pods.>' } });
    expect(ok.type).toBe('result');
  });

  it('has a read-only session\'s delete refused by the bus, and the pod stays', async () => {
    await applyPod(pod('victim'));
    const c = await open();
    const r = await c.ask({ type: 'delete', kind: 'pods', namespace: 'default', name: 'victim' }) as ErrorFrame;
    expect(r.type).toBe('error');
    expect(r.error.code).toBe('Forbidden');
    expect(r.error.message).toContain('Permissions Violation for Publish to "mk.api.delete"');
    expect(r.error.message).toContain('read-only');
    const still = await request<GetResult>(admin, API.get, { kind: 'pods', namespace: 'default', name: 'victim' });
    expect(still.object.metadata.name).toBe('victim');
  });
});

describe('write sessions', () => {
  const post = (token: string): Promise<Response> => fetch(`${dash.url}session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }),
  });

  it('a token opens one session, once; its apply with a stale resourceVersion gets Conflict', async () => {
    const { token } = await request<TokenReply>(admin, DASHBOARD_TOKEN_SUBJECT, {});
    const first = await post(token);
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect((await post(token)).status).toBe(403);

    const c = await open({ cookie: cookie.split(';')[0] });
    expect(c.frames[0]).toMatchObject({ type: 'hello', writable: true, identity: 'dashboard-write' });
    const v1 = await applyPod(pod('stale'));
    const v2 = await applyPod(pod('stale', { edited: 'yes' }));
    const text = JSON.stringify({ ...pod('stale', { mine: 'yes' }) });
    const r = await c.ask({ type: 'apply', text, resourceVersion: v1.object.metadata.resourceVersion }) as ErrorFrame;
    expect(r.type).toBe('error');
    expect(r.error.code).toBe('Conflict');
    expect(r.error.resourceVersion).toBe(v2.object.metadata.resourceVersion);
    const ok = await c.ask({ type: 'apply', text, resourceVersion: v2.object.metadata.resourceVersion }) as ResultFrame;
    expect(ok).toMatchObject({ type: 'result', value: { result: 'configured' } });
    // Pods have no replicas: the api refuses the patch, and says why.
    const scale = await c.ask({ type: 'scale', kind: 'pods', name: 'stale', replicas: 3 }) as ErrorFrame;
    expect(scale.type).toBe('error');
    expect(scale.error.code).toBe('Invalid');
    const del = await c.ask({ type: 'delete', kind: 'pod', name: 'stale' }) as ResultFrame;
    expect(del.type).toBe('result');
  });
});

describe('Secrets', () => {
  it('are shown with keys and sizes only: object view, table, time scrubber and raw subjects never carry a value', async () => {
    const value = Buffer.from('s3cret-dashboard-value').toString('base64');
    await request<ApplyResult>(admin, API.apply, {
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dash-secret', namespace: 'default' }, data: { password: value } },
    });
    const c = await open();
    const r = await c.ask({ type: 'subscribe', params: { topic: 'object', kind: 'secrets', name: 'dash-secret' } }) as ResultFrame;
    expect(r.type).toBe('result');
    // The kind's feed may hear of the new Secret just after the snapshot: then a delta brings it.
    const shown = (f: { type: string; sub?: number }): KubeObject | undefined => (f.sub !== r.sub ? undefined
      : f.type === 'snapshot' ? (f as SnapshotFrame & { topic: 'object' }).detail.object ?? undefined
        : f.type === 'delta' ? (f as { object?: KubeObject }).object : undefined);
    const frame = await c.next((f) => shown(f) !== undefined, 'the Secret in the object view');
    expect((shown(frame) as unknown as { data: unknown }).data).toEqual({ password: '<22 bytes>' });
    const t = await c.ask({ type: 'subscribe', params: { topic: 'objects', kind: 'secrets', namespace: 'default' } }) as ResultFrame;
    expect(t.type).toBe('result');
    await c.next((f) => f.type === 'snapshot' && f.sub === t.sub, 'the Secrets table');
    const at = await c.ask({ type: 'at', time: new Date().toISOString(), object: { kind: 'secrets', name: 'dash-secret' } }) as ErrorFrame;
    expect(at.type).toBe('error');
    expect(at.error.code).toBe('Forbidden');
    const raw = await c.ask({ type: 'subscribe', params: { topic: 'subject', subject: 'mk.watch.secrets.>' } }) as ErrorFrame;
    expect(raw.type).toBe('error');
    expect(raw.error.code).toBe('Forbidden');
    expect(JSON.stringify(c.frames)).not.toContain(value);
  });
});

describe('workflows', () => {
  it('shows a run and the Workflow it names to the read-only identity, and the run\'s status colours every state of its graph', async () => {
    const spec = {
      startAt: 'Check',
      states: {
        Check: { type: 'Choice', choices: [{ variable: '$.fan', booleanEquals: true, next: 'Fan' }], default: 'Done' },
        Fan: {
          type: 'Parallel', resultPath: '$.branches', next: 'Each',
          branches: [{ startAt: 'A', states: { A: { type: 'Pass', end: true } } }, { startAt: 'B', states: { B: { type: 'Pass', end: true } } }],
        },
        Each: { type: 'Map', itemsPath: '$.items', resultPath: null, next: 'Done', itemProcessor: { startAt: 'Work', states: { Work: { type: 'Pass', end: true } } } },
        Done: { type: 'Succeed' },
      },
    };
    await request<ApplyResult>(admin, API.apply, { object: { apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: { name: 'graph', namespace: 'default' }, spec } });
    await request<ApplyResult>(admin, API.apply, {
      object: { apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name: 'graph-run', namespace: 'default' }, spec: { workflowRef: { name: 'graph' }, input: { fan: true, items: [1, 2, 3] } } },
    });
    const c = await open();
    const objectOf = (sub: number | undefined) => (f: { type: string; sub?: number }): KubeObject | undefined => (f.sub !== sub ? undefined
      : f.type === 'snapshot' ? (f as SnapshotFrame & { topic: 'object' }).detail.object ?? undefined
        : f.type === 'delta' ? (f as { object?: KubeObject }).object : undefined);
    const wf = await c.ask({ type: 'subscribe', params: { topic: 'object', kind: 'workflows', namespace: 'default', name: 'graph' } }) as ResultFrame;
    expect(wf.type).toBe('result');
    const wfFrame = await c.next((f) => objectOf(wf.sub)(f) !== undefined, 'the Workflow in the object view');
    const machine = asMachine(objectOf(wf.sub)(wfFrame)?.spec);
    expect(machine).toBeDefined();
    const run = await c.ask({ type: 'subscribe', params: { topic: 'object', kind: 'workflowruns', namespace: 'default', name: 'graph-run' } }) as ResultFrame;
    expect(run.type).toBe('result');
    const phase = (f: ServerMessageLike) => (objectOf(run.sub)(f)?.status as { phase?: string } | undefined)?.phase;
    const done = await c.next((f) => phase(f) === 'Succeeded', 'the run to succeed', 30_000);
    const status = objectOf(run.sub)(done)?.status as Parameters<typeof stateStatuses>[1];
    // Every state of the graph, nested ones too, is found from the engine's paths, and all succeeded.
    const ids = (nodes: LaidNode[]): string[] => nodes.flatMap((n) => [n.id, ...n.groups.flatMap((g) => ids(g.layout.nodes))]);
    const all = ids(layoutMachine(machine!).nodes).sort();
    expect(all).toEqual(['Check', 'Done', 'Each', 'Each/*/Work', 'Fan', 'Fan/0/A', 'Fan/1/B']);
    const statuses = stateStatuses(machine!, status);
    // The page hashes the Workflow it reads as the run pinned it, so it warns of no change here.
    expect(createHash('sha256').update(canonicalJson(objectOf(wf.sub)(wfFrame)?.spec)).digest('hex')).toBe((status as { specHash?: string }).specHash);
    expect(Object.fromEntries(all.map((id) => [id, statuses.get(id) ?? 'not-reached']))).toEqual(Object.fromEntries(all.map((id) => [id, 'succeeded'])));
  });
});

describe('the time scrubber', () => {
  it('returns a deleted pod at a time it existed', async () => {
    const created = await applyPod(pod('gone'));
    const existed = new Date().toISOString();
    await request(admin, API.delete, { kind: 'pods', namespace: 'default', name: 'gone' });
    await until('pod gone to be removed', async () => {
      try {
        await request(admin, API.get, { kind: 'pods', namespace: 'default', name: 'gone' });
        return undefined;
      } catch {
        return true;
      }
    }, 10_000);
    const c = await open();
    const then = await c.ask({ type: 'at', time: existed, object: { kind: 'pods', name: 'gone' } }) as ResultFrame;
    expect(then.type).toBe('result');
    expect(then.value).toMatchObject({ object: { deleted: false, object: { metadata: { name: 'gone', uid: created.object.metadata.uid } } } });
    const now = await c.ask({ type: 'at', time: new Date().toISOString(), object: { kind: 'pods', name: 'gone' } }) as ResultFrame;
    expect(now.value).toMatchObject({ object: { deleted: true, object: { metadata: { name: 'gone' } } } });
  });
});

describe('the actor tree in the past', () => {
  it('is rebuilt from the last census before the time and the lifecycle after it', async () => {
    // A fake telemetry publisher's messages (the contract of messages/telemetry.ts), in the stream
    // the control plane makes.
    await until(`the ${ACTOR_STREAM} stream`, () => cpBus.jsm.streams.info(ACTOR_STREAM).then(() => true, () => undefined), 10_000);
    const info = (p: string): ActorInfo => ({ path: p, name: p.split('/').pop()!, kind: 'pod', system: false, since: '2026-01-01T00:00:00Z' });
    const proc = 'node-hist';
    await cpBus.js.publish(actorSubject(proc, 'census'), JSON.stringify({
      process: proc, incarnation: 'h1', at: new Date().toISOString(), seq: 2, actors: [info('/a'), info('/a/b')],
    }));
    await cpBus.js.publish(actorSubject(proc, 'lifecycle'), JSON.stringify({
      process: proc, incarnation: 'h1', events: [{ type: 'spawned', seq: 3, at: new Date().toISOString(), actor: info('/a/c') }],
    }));
    const between = new Date().toISOString();
    await until('a later clock tick', () => (new Date().toISOString() > between ? true : undefined), 1_000, 5);
    await cpBus.js.publish(actorSubject(proc, 'lifecycle'), JSON.stringify({
      process: proc, incarnation: 'h1', events: [{ type: 'stopped', seq: 4, at: new Date().toISOString(), path: '/a' }],
    }));
    const c = await open();
    const then = await c.ask({ type: 'at', time: between, process: proc }) as ResultFrame;
    expect(then.type).toBe('result');
    expect((then.value as AtResult).tree.rows.map((r) => r.path)).toEqual(['/a', '/a/b', '/a/c']);
    const now = await c.ask({ type: 'at', time: new Date().toISOString(), process: proc }) as ResultFrame;
    expect((now.value as AtResult).tree.total).toBe(0);
  });
});

describe('the actor tree', () => {
  const ACTORS = 10_000;
  const self: ProcessStats = { pid: 42, role: 'node', actors: ACTORS, cpuSeconds: 1, rssBytes: 1, heapUsedBytes: 1, eventLoopLagMs: 0 };
  const actors: ActorInfo[] = Array.from({ length: ACTORS }, (_, i) => ({
    path: `/pods/p${String(i).padStart(5, '0')}`, parent: '/pods', name: `p${i}`, kind: 'pod', system: false, since: '2026-01-01T00:00:00Z',
  }));

  it('loads 10,000 actors of a fake process, pages them and sends deltas', async () => {
    // The fake telemetry publisher: a process `node-fake` that answers snapshots and publishes stats.
    const proc = 'node-fake';
    // A full collection before each reading, so the difference is what the trees keep.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const heap = (): number => { gc(); return process.memoryUsage().heapUsed; };
    const before = heap();
    const raw = cpBus.nc.subscribe(actorSubject(proc, 'snapshot'), {
      callback: (_e, m) => {
        const req = JSON.parse(new TextDecoder().decode(m.data)) as ActorSnapshotRequest;
        const offset = req.offset ?? 0;
        const reply: ActorSnapshotReply = { process: proc, incarnation: 'inc-1', seq: 1, total: ACTORS, actors: actors.slice(offset, offset + (req.limit ?? 1000)), self };
        m.respond(new TextEncoder().encode(JSON.stringify(reply)));
      },
    });
    await cpBus.nc.flush();
    const stats = () => cpBus.nc.publish(actorSubject(proc, 'stats'), JSON.stringify({
      process: proc, incarnation: 'inc-1', at: new Date().toISOString(), self, actors: [],
    }));
    try {
      stats();
      await until('10,000 actors loaded', () => (dash.trees.size >= ACTORS ? true : (stats(), undefined)), 30_000, 200);
      const heapMb = (heap() - before) / 2 ** 20;
      // What 10,000 actors cost the server (the fake's own list was made before the first reading):
      // at most this much. Not at least anything: what earlier tests left may be freed meanwhile.
      expect(heapMb).toBeLessThan(50);
      console.info(`dashboard actor trees: ${dash.trees.size} actors, heap grew ${heapMb.toFixed(1)} MiB`);

      const c = await open();
      const r = await c.ask({ type: 'subscribe', params: { topic: 'tree', process: proc, offset: 9_900, limit: 500 } }) as ResultFrame;
      const snap = await c.next<TableSnapshot<'tree'>>((f) => f.type === 'snapshot' && f.sub === r.sub, 'the tree snapshot');
      expect(snap.total).toBe(ACTORS);
      expect(snap.rows).toHaveLength(100);
      expect(snap.rows[0].path).toBe('/pods/p09900');
      expect(snap.processes?.map((p) => p.process)).toContain(proc);

      const from = c.frames.length;
      cpBus.nc.publish(actorSubject(proc, 'lifecycle'), JSON.stringify({
        process: proc, incarnation: 'inc-1', events: [
          { type: 'spawned', seq: 2, at: new Date().toISOString(), actor: { ...actors[0], path: '/pods/p99999', name: 'p99999' } },
          { type: 'stopped', seq: 3, at: new Date().toISOString(), path: '/pods/p09999' },
        ],
      }));
      const d = await c.next<TableDelta<'tree'>>((f) => f.type === 'delta' && f.sub === r.sub && !!(f as TableDelta<'tree'>).upsert, 'the tree delta', 5_000, from);
      expect(d.upsert!.map((x: TreeRow) => x.path)).toEqual(['/pods/p99999']);
      expect(d.remove).toEqual([`${proc} /pods/p09999`]);
    } finally {
      raw.unsubscribe();
    }
  });
});

describe('a NATS restart', () => {
  it('the feed resumes: deltas flow again', async () => {
    const c = await open();
    const r = await c.ask({ type: 'subscribe', params: { topic: 'objects', kind: 'pods' } }) as ResultFrame;
    await c.next((f) => f.type === 'snapshot' && f.sub === r.sub, 'the snapshot');
    await terminate(server);
    await startNats();
    const from = c.frames.length;
    await until('pod after-restart applied', async () => applyPod(pod('after-restart')), 60_000, 500);
    await c.next((f) => f.type === 'delta' && f.sub === r.sub
      && !!(f as TableDelta<'objects'>).upsert?.some((row) => row.name === 'after-restart'), 'the upsert after the restart', 60_000, from);
  });
});
