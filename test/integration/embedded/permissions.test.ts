/**
 * The permissions of an embedded cluster's identities (embedded/permissions.ts), with the real
 * credentials and config `mk up` writes, on a real nats-server. Every forbidden action is refused
 * by the server while something serves or holds what it aims at (so a refusal can only come from
 * the permissions), and every allowed one works. Two nodes, n1 and n2; n1 tries to act for n2.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import {
  connectBus, encode, ensureActorStream, ensureEventsStream, EventRecorder, JetStreamPersistenceEngine, listEvents, ObjectStore, request, serve, startInformer, type Bus,
} from '../../../bus';
import { serveWatch } from '../../../actors/api/watch';
import { setLogLevel } from '../../../common/log';
import type { Credentials } from '../../../embedded/credentials';
import { NODE_COMPONENT } from '../../../embedded/permissions';
import { startNodeIngress } from '../../../node-agent/ingress';
import { watchServiceNetwork } from '../../../node-agent/service-network/view';
import {
  API, encodeToken, eventSubject, inboxPrefix, isForbidden, isValidation, JOURNAL_STREAM, logsStreamSubject, NODE_PODS_BUCKET, nodeApiSubject,
  NODE_ROUTES_BUCKET, nodeJournalOwner, nodeSubject, objectKey, type KubeObject,
  ACTOR_STREAM, actorSubject, actorWildcard, telemetryProcess, keyFilter, LOCAL_PATH_CLEANUP_FINALIZER, LOCAL_PATH_PROVISIONER,
  localVolumesNudgeSubject, PROVISIONED_BY_ANNOTATION, type LocalVolumesResult,
} from '../../../messages';
import { serveLocalVolumesApi } from '../../../actors/node/local-volumes-api';
import { METRICS_SUBJECT, STATS_WILDCARD, statsSubject } from '../../../messages/usage';
import { forwardConnection } from '../../../cli/port-forward';
import type { Pod } from '../../../messages';
import { portForwardSubject } from '../../../messages/port-forward';
import { servePortForward } from '../../../node-agent/port-forward';
import { caught, waitFor } from '../../helpers/nats-server';
import { startSecuredNats, type SecuredNats } from '../../helpers/secured-nats';
import { AckPolicy, DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { OBJECTS_BUCKET } from '../../../messages/subjects';
import { ensureAsyncStreams, openAsyncQueue } from '../../../bus/function-async';
import { ASYNC_STREAM, asyncJobSubject, DLQ_STREAM, dlqSubject, JOB_HEADER, RESULTS_GET_SUBJECT } from '../../../messages/function-async';
import { EVENTS_STREAM } from '../../../messages';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { ensureTriggerStreams, setCapturedSubjects } from '../../../bus/trigger-streams';
import {
  fileTriggersNudgeSubject, TRIGGER_DLQ_STREAM, TRIGGER_EVENTS_STREAM, triggerFileSubject, triggerHttpSubject, type FileTriggersResult,
} from '../../../messages/trigger-subjects';
import { serveFileTriggersApi } from '../../../actors/node/file-triggers-api';

jest.setTimeout(30_000);

let nats: SecuredNats;
let creds: Credentials;
let caFile: string;
let cp: Bus;
let objects: ObjectStore;
let views: ObjectStore;

const connectAs = (user: string, pass?: string): Promise<Bus> => nats.connectAs(user, pass);

/** Resolves with the server's refusal of a subscription (it arrives asynchronously). */
const subscribeRefused = async (bus: Bus, subject: string): Promise<string> => {
  const refused = new Promise<string>((resolve) => {
    bus.nc.subscribe(subject, { callback: (err) => { if (err) resolve(String(err)); } });
  });
  await bus.nc.flush();
  return refused;
};

const pod = (name: string, node?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...(node ? { nodeName: node } : {}) },
});

beforeAll(async () => {
  setLogLevel('silent'); // the permission violations below are expected, and logged by the bus
  // A second node's identity, as a multi-node cluster's config has one per node.
  nats = await startSecuredNats('mk-perm-it', { extraNodes: ['n2'] });
  ({ creds, caFile } = nats);
  cp = await connectAs('control-plane');
  objects = await ObjectStore.open(cp);
  views = await ObjectStore.open(cp, { bucket: NODE_PODS_BUCKET, history: 1 });
  await JetStreamPersistenceEngine.open(cp);
  await ensureEventsStream(cp);
  await ensureActorStream(cp);
  await objects.create(objectKey('pods', 'default', 'mine'), pod('mine', 'n1'));
  await views.put(`n1.default.mine`, pod('mine', 'n1'));
  await views.put(`n2.default.theirs`, pod('theirs', 'n2'));
});

afterAll(async () => {
  await nats?.stop();
  setLogLevel('info');
});

describe('credentials', () => {
  it('are required, and wrong ones are refused', async () => {
    await connectAs('admin');
    await expect(connectAs('admin', 'wrong-password')).rejects.toThrow(/authorization failed/i);
    await expect(connectBus({ servers: `nats://127.0.0.1:${creds.port}`, name: 'anon', timeoutMs: 2000, caFile })).rejects.toThrow(/authoriz/i);
  });
});

describe('a node', () => {
  let n1: Bus;
  const asked: string[] = [];
  beforeAll(async () => {
    n1 = await connectAs('node-n1');
    // The control plane serves the node api for every node, so only the bus can refuse.
    serve(cp, 'mk.api.node.*.register', async (_req, msg) => { asked.push(msg.subject); return { node: msg.subject.split('.')[3] }; });
    serve(cp, API.apply, async () => ({ applied: true }));
    await cp.nc.flush();
  });

  it('asks the control plane on its own name, and not on another node\'s', async () => {
    expect(await request(n1, nodeApiSubject('n1', 'register'), {})).toEqual({ node: 'n1' });
    const err = await caught(request(n1, nodeApiSubject('n2', 'register'), {}, { timeoutMs: 2000 }));
    expect(isForbidden(err)).toBe(true);
    expect(asked).toEqual([nodeApiSubject('n1', 'register')]);
  });

  it('may not use the api that users use', async () => {
    expect(isForbidden(await caught(request(n1, API.apply, { object: pod('x') }, { timeoutMs: 2000 })))).toBe(true);
  });

  it('cannot write the object store directly', async () => {
    const direct = await ObjectStore.open(n1, { create: false });
    expect(isForbidden(await caught(direct.create(objectKey('pods', 'default', 'forged'), pod('forged'))))).toBe(true);
    expect(isForbidden(await caught(direct.put(objectKey('pods', 'default', 'mine'), pod('mine', 'n2'))))).toBe(true);
    expect(await objects.get(objectKey('pods', 'default', 'forged'))).toBeNull();
    expect((await objects.get<KubeObject & { spec: { nodeName: string } }>(objectKey('pods', 'default', 'mine')))?.object.spec.nodeName).toBe('n1');
  });

  it('reads and watches its own pods, not another node\'s', async () => {
    const mine = await ObjectStore.open(n1, { bucket: NODE_PODS_BUCKET, create: false });
    expect((await mine.list('n1.>')).items.map((i) => i.key)).toEqual(['n1.default.mine']);
    const seen: string[] = [];
    const informer = await startInformer(mine, 'n1.>', (ev) => { seen.push(ev.key); });
    await views.put('n1.default.later', pod('later', 'n1'));
    await waitFor(() => seen.includes('n1.default.later'), 'the new pod in the view');
    await informer.stop();
    expect(isForbidden(await caught(mine.list('n2.>')))).toBe(true);
    expect(isForbidden(await caught(mine.list('>')))).toBe(true);
    expect(isForbidden(await caught(mine.watch('n2.>', {}, () => undefined)))).toBe(true);
    expect(isForbidden(await caught(mine.put('n1.default.forged', pod('forged', 'n1'))))).toBe(true);
  });

  it('reads every node\'s route, and can neither write nor delete one, its own included', async () => {
    const routes = await ObjectStore.open(cp, { bucket: NODE_ROUTES_BUCKET, history: 1 });
    await routes.put('n1', { name: 'n1', podCIDR: '10.244.0.0/24', internalIP: '172.30.0.11' });
    await routes.put('n2', { name: 'n2', podCIDR: '10.244.1.0/24', internalIP: '172.30.0.12' });
    const seen = await ObjectStore.open(n1, { bucket: NODE_ROUTES_BUCKET, create: false });
    expect((await seen.list('>')).items.map((i) => i.key)).toEqual(['n1', 'n2']);
    const watched: string[] = [];
    const informer = await startInformer(seen, '>', (ev) => { watched.push(ev.key); });
    await routes.put('n3', { name: 'n3', podCIDR: '10.244.2.0/24', internalIP: '172.30.0.13' });
    await waitFor(() => watched.includes('n3'), 'the new node\'s route');
    await informer.stop();
    const forged = { name: 'n2', podCIDR: '10.244.1.0/24', internalIP: '172.30.0.11' };
    expect(isForbidden(await caught(seen.put('n2', forged)))).toBe(true);
    expect(isForbidden(await caught(seen.put('n1', forged)))).toBe(true);
    expect(isForbidden(await caught(seen.delete('n2')))).toBe(true);
    expect(String(await caught(n1.jsm.streams.purge(`KV_${NODE_ROUTES_BUCKET}`)))).toMatch(/permission/i);
    expect((await routes.get('n2'))?.object).toEqual({ name: 'n2', podCIDR: '10.244.1.0/24', internalIP: '172.30.0.12' });
  });

  it('journals as itself only', async () => {
    const own = await JetStreamPersistenceEngine.open(n1, { owner: nodeJournalOwner('n1'), create: false });
    const ev = (n: number) => ({ data: { n }, sequenceNumber: n, key: 'pod-backoff-u1', createdAt: Date.now(), isDeleted: false, tags: [] });
    await own.persist(ev(1));
    await own.takeSnapshot({ data: { n: 1 }, sequenceNumber: 1, key: 'pod-backoff-u1', createdAt: Date.now() });
    expect(await own.events('pod-backoff-u1', 0)).toHaveLength(1);
    expect(await own.latestSnapshot('pod-backoff-u1')).toMatchObject({ sequenceNumber: 1 });
    const other = await JetStreamPersistenceEngine.open(n1, { owner: nodeJournalOwner('n2'), create: false });
    expect(isForbidden(await caught(other.persist(ev(1))))).toBe(true);
    expect(isForbidden(await caught(other.takeSnapshot({ data: {}, sequenceNumber: 1, key: 'k', createdAt: Date.now() })))).toBe(true);
    expect(isForbidden(await caught(JetStreamPersistenceEngine.open(n1, { owner: 'control-plane' }).then((e) => e.persist(ev(1)))))).toBe(true);
  });

  it('records events as itself, and may not pose as another component', async () => {
    const rec = new EventRecorder(n1, { component: NODE_COMPONENT, host: 'n1' }, Date.now, { create: false });
    rec.record(pod('mine', 'n1'), 'Normal', 'Started', 'Started container c');
    await rec.flush();
    await waitFor(async () => (await listEvents(cp)).items.some((e) => e.reason === 'Started'), 'the node\'s event');
    const published = await caught(n1.js.publish(eventSubject('default', 'Pod', { component: NODE_COMPONENT, host: 'n2' }), new Uint8Array()));
    expect(isForbidden(published) || /permission/i.test(String(published))).toBe(true);
    const scheduler = await caught(n1.js.publish(eventSubject('default', 'Pod', { component: 'default-scheduler' }), new Uint8Array()));
    expect(/permission/i.test(String(scheduler))).toBe(true);
  });

  it('may not make, purge or delete streams', async () => {
    for (const attempt of [
      () => n1.jsm.streams.add({ name: 'EVIL', subjects: ['evil.>'] }),
      () => n1.jsm.streams.purge(JOURNAL_STREAM),
      () => n1.jsm.streams.delete(`KV_${NODE_PODS_BUCKET}`),
    ]) expect(String(await caught(attempt()))).toMatch(/permission/i);
    expect((await cp.jsm.streams.info(`KV_${NODE_PODS_BUCKET}`)).state.messages).toBeGreaterThan(0);
  });

  it('serves its own subjects for the admin, and cannot listen on another node\'s or on others\' replies', async () => {
    const admin = await connectAs('admin');
    const served = serve(n1, nodeSubject('n1', 'ping'), async () => ({ node: 'n1' }));
    await served.ready;
    expect(await request(admin, nodeSubject('n1', 'ping'), {})).toEqual({ node: 'n1' });
    await served.stop();
    // Someone serves n2's exec, so a refusal is the bus's, not "nobody answers".
    const n2 = await connectAs('node-n2');
    const n2exec = serve(n2, nodeSubject('n2', 'exec'), async () => ({ exitCode: 0 }));
    await n2exec.ready;
    expect(isForbidden(await caught(request(n1, nodeSubject('n2', 'exec'), {}, { timeoutMs: 2000 })))).toBe(true);
    await n2exec.stop();
    expect(await subscribeRefused(n1, nodeSubject('n2', 'exec'))).toMatch(/permission/i);
    expect(await subscribeRefused(n1, `${inboxPrefix('node-n2')}.>`)).toMatch(/permission/i);
    expect(await subscribeRefused(n1, `${inboxPrefix('admin')}.>`)).toMatch(/permission/i);
    expect(await subscribeRefused(n1, 'mk.watch.>')).toMatch(/permission/i);
  });

  it('reads and releases only its own local-path volumes, through the node api, and hears only its own nudges', async () => {
    const volume = (name: string, node: string) => ({
      apiVersion: 'v1', kind: 'PersistentVolume',
      metadata: {
        name, uid: `uid-${name}`, annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER },
        finalizers: [LOCAL_PATH_CLEANUP_FINALIZER], deletionTimestamp: new Date().toISOString(),
      },
      spec: {
        capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete',
        local: { path: `/var/lib/mk/storage/${name}_default_data` },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
      },
    });
    await objects.create(objectKey('persistentvolumes', undefined, 'pvc-n1'), volume('pvc-n1', 'n1'));
    await objects.create(objectKey('persistentvolumes', undefined, 'pvc-n2'), volume('pvc-n2', 'n2'));
    const api = serveLocalVolumesApi(cp, objects);
    await api.ready;
    try {
      const mine = await request<LocalVolumesResult>(n1, nodeApiSubject('n1', 'local-volumes'), {});
      expect(mine.volumes.map((v) => v.name)).toEqual(['pvc-n1']);
      // Asking as n2 is refused by the bus; releasing n2's volume on its own name, by the control plane.
      expect(isForbidden(await caught(request(n1, nodeApiSubject('n2', 'local-volumes'), {}, { timeoutMs: 2000 })))).toBe(true);
      const other = await caught(request(n1, nodeApiSubject('n1', 'local-volume-cleaned'), { name: 'pvc-n2', uid: 'uid-pvc-n2' }));
      expect(isForbidden(other)).toBe(true);
      expect((await objects.get<KubeObject>(objectKey('persistentvolumes', undefined, 'pvc-n2')))?.object.metadata.finalizers).toEqual([LOCAL_PATH_CLEANUP_FINALIZER]);
      expect(await request(n1, nodeApiSubject('n1', 'local-volume-cleaned'), { name: 'pvc-n1', uid: 'uid-pvc-n1' })).toEqual({});
      expect((await objects.get<KubeObject>(objectKey('persistentvolumes', undefined, 'pvc-n1')))?.object.metadata.finalizers).toBeUndefined();
    } finally {
      await api.stop();
    }
    // The volumes themselves are not readable in the store, and another node's nudges not audible.
    const direct = await ObjectStore.open(n1, { create: false });
    expect(isForbidden(await caught(direct.list(keyFilter('persistentvolumes'))))).toBe(true);
    expect(await subscribeRefused(n1, localVolumesNudgeSubject('n2'))).toMatch(/permission/i);
  });

  it('publishes its own actor telemetry and serves its snapshots, never as another node', async () => {
    const admin = await connectAs('admin');
    const seen: string[] = [];
    const sub = admin.nc.subscribe(actorWildcard(), { callback: (_e, m) => { seen.push(m.subject); } });
    await admin.nc.flush();
    const mine = actorSubject(telemetryProcess('node', 'n1'), 'lifecycle');
    // MK_ACTORS captures both subjects: only the permissions can refuse the second.
    expect((await n1.js.publish(mine, encode({ process: 'node-n1', incarnation: 'i', events: [] }))).stream).toBe(ACTOR_STREAM);
    for (const verb of ['lifecycle', 'census'] as const) {
      const posing = await caught(n1.js.publish(actorSubject(telemetryProcess('node', 'n2'), verb), encode({})));
      expect(isForbidden(posing) || /permission/i.test(String(posing))).toBe(true);
    }
    await waitFor(async () => seen.includes(mine), 'the admin to see the node\'s telemetry');
    const served = serve(n1, actorSubject(telemetryProcess('node', 'n1'), 'snapshot'), async () => ({ total: 0 }));
    await served.ready;
    expect(await request(admin, actorSubject(telemetryProcess('node', 'n1'), 'snapshot'), {})).toEqual({ total: 0 });
    await served.stop();
    expect(await subscribeRefused(n1, actorSubject(telemetryProcess('node', 'n2'), 'snapshot'))).toMatch(/permission/i);
    expect(await subscribeRefused(n1, actorWildcard())).toMatch(/permission/i);
    sub.unsubscribe();
  });
});

describe('usage reports', () => {
  it('a node publishes its own on mk.stats.<node>, which the control plane hears; another node\'s is refused', async () => {
    const n1 = await connectAs('node-n1');
    const refusals: string[] = [];
    void (async () => {
      for await (const s of n1.nc.status()) if (s.type === 'error') refusals.push(String(s.error));
    })();
    const heard: string[] = [];
    const sub = cp.nc.subscribe(STATS_WILDCARD, { callback: (_e, m) => { heard.push(m.subject); } });
    await cp.nc.flush();
    // n2's first: on one connection order holds, so once n1's arrives n2's would have too.
    n1.nc.publish(statsSubject('n2'), new TextEncoder().encode('{}'));
    n1.nc.publish(statsSubject('n1'), new TextEncoder().encode('{}'));
    await n1.nc.flush();
    await waitFor(async () => heard.includes(statsSubject('n1')), 'n1\'s report');
    await waitFor(async () => refusals.some((r) => /permission/i.test(r) && r.includes(statsSubject('n2'))), 'the refusal of n2\'s subject');
    expect(heard).toEqual([statsSubject('n1')]);
    sub.unsubscribe();
  });

  it('the admin may ask mk.api.metrics', async () => {
    const admin = await connectAs('admin');
    const served = serve(cp, METRICS_SUBJECT, async () => ({ items: [] }));
    await served.ready;
    expect(await request(admin, METRICS_SUBJECT, { kind: 'pods' })).toEqual({ items: [] });
    await served.stop();
  });
});

describe('the dashboard', () => {
  it('reads the history of objects in the bucket, but never of a Secret, and hears no Secret change on mk.watch', async () => {
    await objects.create(objectKey('secrets', 'default', 'db'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' } });
    for (const user of ['dashboard', 'dashboard-write']) {
      const dashboard = await connectAs(user);
      const store = await ObjectStore.open(dashboard, { create: false });
      expect((await store.history(objectKey('pods', 'default', 'mine'))).length).toBeGreaterThan(0);
      expect(isForbidden(await caught(store.history(objectKey('secrets', 'default', 'db'))))).toBe(true);
      expect(isForbidden(await caught(store.list('secrets.>')))).toBe(true);
      expect(await subscribeRefused(dashboard, 'mk.watch.secrets.default.db')).toMatch(/permission/i);
      expect(await subscribeRefused(dashboard, 'mk.watch.secrets.>')).toMatch(/permission/i);
    }
  });
});

describe('the dashboard\'s consumers on the objects bucket', () => {
  it('are refused for any filter that takes in the Secrets (a wildcard in the kind\'s place, or the whole bucket)', async () => {
    await objects.create(objectKey('secrets', 'default', 'wild'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wild', namespace: 'default' } }).catch(() => undefined);
    const dashboard = await connectAs('dashboard');
    let n = 0;
    const consumer = (filter: string) => dashboard.jsm.consumers.add(`KV_${OBJECTS_BUCKET}`, {
      name: `probe-${++n}`, filter_subject: filter, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 5_000_000_000,
    });
    for (const filter of [`$KV.${OBJECTS_BUCKET}.>`, `$KV.${OBJECTS_BUCKET}.*.default.wild`, `$KV.${OBJECTS_BUCKET}.*.>`, `$KV.${OBJECTS_BUCKET}.secrets.default.wild`]) {
      expect(String(await caught(consumer(filter)))).toMatch(/permission|timeout/i);
    }
    // Its own kind of filter (one object's history) still works.
    await expect(consumer(`$KV.${OBJECTS_BUCKET}.pods.default.mine`)).resolves.toMatchObject({ config: { filter_subject: `$KV.${OBJECTS_BUCKET}.pods.default.mine` } });
  });
});

describe('the admin (the CLI)', () => {
  let admin: Bus;
  beforeAll(async () => { admin = await connectAs('admin'); });

  it('uses the api and talks to node agents', async () => {
    expect(await request(admin, API.apply, { object: pod('x') })).toEqual({ applied: true });
    const n1 = await connectAs('node-n1');
    const sub = admin.nc.subscribe(logsStreamSubject('n1', 's1'), { max: 1 });
    await admin.nc.flush();
    n1.nc.publish(logsStreamSubject('n1', 's1'), new TextEncoder().encode('{"data":""}'));
    for await (const m of sub) expect(m.subject).toBe(logsStreamSubject('n1', 's1'));
  });

  it('watches through the api, streamed to its own inbox and to no one else\'s', async () => {
    const watches = serveWatch(cp, objects);
    await watches.ready;
    try {
      await objects.create(objectKey('pods', 'default', 'watched'), pod('watched'));
      const subject = `${inboxPrefix('admin')}.watch-1`;
      const sub = admin.nc.subscribe(subject, { max: 1 });
      await admin.nc.flush();
      await request(admin, API.watch, { kind: 'pods', name: 'watched', subject });
      for await (const m of sub) expect(JSON.parse(new TextDecoder().decode(m.data))).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'watched' } } });
      await request(admin, API.unwatch, { subject });
      const elsewhere = await caught(request(admin, API.watch, { kind: 'pods', subject: `${inboxPrefix('node-n1')}.watch-2` }));
      expect(isForbidden(elsewhere)).toBe(true);
    } finally {
      await watches.stop();
    }
  });

  it('holds at most the per-client number of watch streams, whatever its connections', async () => {
    const watches = serveWatch(cp, objects, { maxPerClient: 2 });
    await watches.ready;
    const other = await connectAs('admin');
    try {
      const ask = (bus: Bus, n: number) => request(bus, API.watch, { kind: 'pods', subject: `${inboxPrefix('admin')}.cap-${n}` });
      await ask(admin, 1);
      await ask(other, 2);
      const refused = await caught(ask(other, 3));
      expect(isValidation(refused)).toBe(true);
      expect((refused as Error).message).toBe(`too many watches streaming to ${inboxPrefix('admin')}.* (2 at most for one client); stop some (mk.api.unwatch) and retry`);
      await request(admin, API.unwatch, { subject: `${inboxPrefix('admin')}.cap-1` });
      await ask(other, 3);
    } finally {
      await watches.stop();
      await other.close();
    }
  });

  it('may not use JetStream itself', async () => {
    expect(isForbidden(await caught(connectBus({
      servers: `nats://127.0.0.1:${creds.port}`, user: 'admin', pass: creds.users.admin, name: 'admin-js', timeoutMs: 3000, caFile,
    })))).toBe(true);
  });

  it('cannot write the store or act as a node', async () => {
    const direct = await ObjectStore.open(admin, { create: false });
    expect(isForbidden(await caught(direct.create(objectKey('pods', 'default', 'direct'), pod('direct'))))).toBe(true);
    expect(isForbidden(await caught(request(admin, nodeApiSubject('n1', 'register'), {}, { timeoutMs: 2000 })))).toBe(true);
    expect(await subscribeRefused(admin, `${inboxPrefix('node-n1')}.>`)).toMatch(/permission/i);
    expect(await subscribeRefused(admin, `mk.api.node.${encodeToken('n1')}.>`)).toMatch(/permission/i);
  });
});

describe('the writes of the api', () => {
  const verbs = [API.create, API.update, API.patch, API.updateStatus];
  beforeAll(async () => {
    for (const v of verbs) serve(cp, v, async (_req, msg) => ({ served: msg.subject }));
    await cp.nc.flush();
  });

  it('are open to the admin and closed to nodes', async () => {
    const admin = await connectAs('admin');
    const n1 = await connectAs('node-n1');
    try {
      for (const v of verbs) {
        expect(await request(admin, v, {})).toEqual({ served: v });
        expect(isForbidden(await caught(request(n1, v, {}, { timeoutMs: 2000 })))).toBe(true);
      }
    } finally {
      await admin.close();
      await n1.close();
    }
  });
});

describe('a node\'s ingress proxy', () => {
  it('reads Ingresses, Services and EndpointSlices as the node, and routes by them', async () => {
    const upstream = http.createServer((_req, res) => res.end('served'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.2', r));
    const port = (upstream.address() as net.AddressInfo).port;
    await objects.put(objectKey('services', 'default', 'web'), { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80, targetPort: port }] } });
    await objects.put(objectKey('endpointslices', 'default', 'web-1'), {
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', ports: [{ port }], endpoints: [{ addresses: ['127.0.0.2'] }],
    });
    await objects.put(objectKey('ingresses', 'default', 'web'), {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' },
      spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
    });
    const n1 = await connectAs('node-n1');
    const store = await ObjectStore.open(n1, { create: false });
    const source = await watchServiceNetwork({ store, log: console, allowLoopbackEndpoints: true });
    const ingress = await startNodeIngress({ store, source, port: 0, host: '127.0.0.1' });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: ingress.port, path: '/', agent: false }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => { b += c.toString(); });
          res.on('end', () => resolve(`${res.statusCode} ${b}`));
        }).on('error', reject);
      });
      expect(body).toBe('200 served');
      expect(isForbidden(await caught(store.list('pods.>')))).toBe(true);
    } finally {
      await ingress.stop();
      await source.stop();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });
});

describe('port-forward', () => {
  it('only the admin opens a stream, which reaches the pod; nodes and the dashboard are refused', async () => {
    const n1 = await connectAs('node-n1');
    const n2 = await connectAs('node-n2');
    const admin = await connectAs('admin');
    const dashboard = await connectAs('dashboard-write');
    const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as net.AddressInfo).port;
    const pods = new Map([['default/web', pod('web', 'n1') as Pod]]);
    const pf = servePortForward(n1, { nodeName: 'n1', pods, podIP: async () => '127.0.0.1' });
    await pf.ready;
    try {
      const req = { namespace: 'default', pod: 'web', port };
      const srv = net.createServer({ allowHalfOpen: true });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
      const client = net.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
      const relay = await forwardConnection(admin, 'n1', req, await accepted);
      srv.close();
      const back = new Promise<string>((r) => { let t = ''; client.on('data', (d) => { t += d; }); client.on('end', () => r(t)); });
      client.end('through the bus');
      expect(await back).toBe('through the bus');
      await relay.done;
      for (const other of [n2, dashboard]) {
        expect(isForbidden(await caught(request(other, portForwardSubject('n1'), req, { timeoutMs: 2000 })))).toBe(true);
      }
      expect(await subscribeRefused(n2, 'mk.node.n1.portforward.*.down')).toMatch(/permission/i);
      expect(await subscribeRefused(dashboard, 'mk.node.n1.portforward.*.down')).toMatch(/permission/i);
      expect(pf.streams()).toEqual([]);
    } finally {
      await pf.stop();
      echo.close();
    }
  });
});

describe('the function gateway', () => {
  it('reads through the api, reports its load, serves and answers the invoke subjects; nothing else', async () => {
    const gw = await connectAs('gateway');
    const admin = await connectAs('admin');
    const listed = serve(cp, API.gatewayList, async () => ({ items: [], resourceVersion: '1' }));
    const applied = serve(cp, API.apply, async () => ({ applied: true }));
    const anyList = serve(cp, API.list, async () => ({ items: [], resourceVersion: '1' }));
    await Promise.all([listed.ready, applied.ready, anyList.ready]);
    expect(await request(gw, API.gatewayList, { kind: 'functions' })).toEqual({ items: [], resourceVersion: '1' });
    // Not the general reads (they would give it Secrets): only its own list.
    for (const subject of [API.list, API.get, API.watch]) {
      expect(isForbidden(await caught(request(gw, subject, { kind: 'secrets' }, { timeoutMs: 2000 })))).toBe(true);
    }
    await anyList.stop();
    // Forbidden while the control plane serves it: only the bus can refuse.
    expect(isForbidden(await caught(request(gw, API.apply, { object: pod('x') }, { timeoutMs: 2000 })))).toBe(true);
    const direct = await ObjectStore.open(gw, { create: false }).catch((e: unknown) => e);
    if (direct instanceof ObjectStore) {
      expect(isForbidden(await caught(direct.create(objectKey('pods', 'default', 'gw-forged'), pod('gw-forged'))))).toBe(true);
    }
    expect(await subscribeRefused(gw, 'mk.watch.>')).toMatch(/permission/i);
    // Its reports reach the control plane.
    const heard: string[] = [];
    const sub = cp.nc.subscribe('mk.fn.>', { callback: (_e, m) => { heard.push(m.subject); } });
    await cp.nc.flush();
    gw.nc.publish('mk.fn.stats.gw-1', encode({}));
    gw.nc.publish('mk.fn.demand.default.add', encode({}));
    await waitFor(async () => heard.length === 2, 'the gateway\'s reports');
    sub.unsubscribe();
    // It serves the invoke subjects, and the admin (mk function invoke) may call them.
    gw.nc.subscribe('mk.fn.invoke.>', { queue: 'mk-gateways', callback: (_e, m) => { m.respond(encode({ status: 200, body: 'ok' })); } });
    await gw.nc.flush();
    const reply = await admin.nc.request('mk.fn.invoke.default.add', encode({}), { timeout: 2000 });
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toEqual({ status: 200, body: 'ok' });
    await Promise.all([listed.stop(), applied.stop()]);
  });
});

describe('HTTP triggers on the gateway', () => {
  it('the gateway lists triggers through its own list and publishes HTTP firings; not subject triggers\' subjects, dead letters or the streams', async () => {
    await ensureTriggerStreams(cp.jsm, cp.js, 1);
    await setCapturedSubjects(cp.jsm, ['orders.created']);
    const gw = await connectAs('gateway');
    const listed = serve(cp, API.gatewayList, async (r: { kind?: string }) => ({ items: [], resourceVersion: r.kind === 'triggers' ? '7' : '1' }));
    await listed.ready;
    expect(await request(gw, API.gatewayList, { kind: 'triggers' })).toEqual({ items: [], resourceVersion: '7' });
    // A firing goes into the events stream, and its ack comes back to the gateway's inbox.
    const js = jetstream(gw.nc, { checkAPI: false });
    const ack = await js.publish(triggerHttpSubject('default', 'hook'), encode({ order: 1 }), { timeout: 2000 });
    expect(ack.stream).toBe(TRIGGER_EVENTS_STREAM);
    const info = await cp.jsm.streams.info(TRIGGER_EVENTS_STREAM, { subjects_filter: '>' });
    expect(info.state.subjects).toEqual({ 'mk.trigger.http.default.hook': 1 });
    // Not a subject trigger's subject (that would fire it as if a user's service had), nor a dead letter.
    for (const subject of ['orders.created', 'mk.trigger.dlq.default.hook']) {
      expect(String(await caught(js.publish(subject, encode({}), { timeout: 2000 })))).toMatch(/permission/i);
    }
    // Nor reading, purging or deleting the streams, nor making a consumer on them.
    expect(String(await caught(gw.jsm.streams.purge(TRIGGER_EVENTS_STREAM)))).toMatch(/permission/i);
    expect(String(await caught(gw.jsm.streams.delete(TRIGGER_DLQ_STREAM)))).toMatch(/permission/i);
    expect(String(await caught(gw.jsm.consumers.add(TRIGGER_EVENTS_STREAM, { durable_name: 'gw-peek', ack_policy: AckPolicy.Explicit })))).toMatch(/permission/i);
    expect(String(await caught(gw.jsm.streams.getMessage(TRIGGER_EVENTS_STREAM, { seq: 1 })))).toMatch(/permission/i);
    const stored = await cp.jsm.streams.info(TRIGGER_EVENTS_STREAM, { subjects_filter: '>' });
    expect(stored.state.messages).toBe(1);
    // A node may not publish a firing.
    const node = await connectAs('node-n1');
    expect(String(await caught(node.js.publish(triggerHttpSubject('default', 'hook'), encode({}), { timeout: 2000 })))).toMatch(/permission/i);
    await listed.stop();
  });
});

describe('file triggers on nodes', () => {
  it('a node publishes changes only under its own name, reads only its own file triggers and hears only its own nudges', async () => {
    await ensureTriggerStreams(cp.jsm, cp.js, 1);
    const fileTrigger = (name: string, node: string): KubeObject => ({
      apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name, namespace: 'default', uid: `uid-${name}` },
      spec: { target: { workflow: 'wf' }, source: { file: { node, path: `/srv/${name}`, events: ['create'], debounceMs: 50 } } },
    });
    await objects.create(objectKey('triggers', 'default', 'drop-n1'), fileTrigger('drop-n1', 'n1'));
    await objects.create(objectKey('triggers', 'default', 'drop-n2'), fileTrigger('drop-n2', 'n2'));
    const n1 = await connectAs('node-n1');
    const body = (node: string) => encode({ node, path: '/srv/x', event: 'create', time: new Date().toISOString() });
    // Its own: acked by the events stream (the ack comes to its inbox).
    const ack = await n1.js.publish(triggerFileSubject('n1', 'default', 'drop-n1'), body('n1'), { timeout: 2000 });
    expect(ack.stream).toBe(TRIGGER_EVENTS_STREAM);
    // Another node's: refused by the server, though the stream captures the subject.
    const posing = await caught(n1.js.publish(triggerFileSubject('n2', 'default', 'drop-n2'), body('n2'), { timeout: 2000 }));
    expect(isForbidden(posing) || /permission/i.test(String(posing))).toBe(true);
    const info = await cp.jsm.streams.info(TRIGGER_EVENTS_STREAM, { subjects_filter: 'mk.trigger.file.>' });
    expect(info.state.subjects).toEqual({ 'mk.trigger.file.n1.default.drop-n1': 1 });
    // Nor any other firing subject.
    expect(String(await caught(n1.js.publish(triggerHttpSubject('default', 'drop-n1'), encode({}), { timeout: 2000 })))).toMatch(/permission/i);
    const api = serveFileTriggersApi(cp, objects);
    await api.ready;
    try {
      const mine = await request<FileTriggersResult>(n1, nodeApiSubject('n1', 'file-triggers'), {});
      expect(mine.triggers.map((t) => t.name)).toEqual(['drop-n1']);
      expect(isForbidden(await caught(request(n1, nodeApiSubject('n2', 'file-triggers'), {}, { timeoutMs: 2000 })))).toBe(true);
    } finally {
      await api.stop();
    }
    expect(await subscribeRefused(n1, fileTriggersNudgeSubject('n2'))).toMatch(/permission/i);
  });
});

describe('async function calls', () => {
  it('the gateway queues, pulls, acks, dead-letters and keeps results; it may not purge or delete the streams, nodes may not read results, the CLI may not queue past a gateway', async () => {
    await ensureAsyncStreams(cp.jsm, cp.js, 1);
    const gw = await connectAs('gateway');
    const q = await openAsyncQueue(gw.nc);
    const h = natsHeaders();
    h.set(JOB_HEADER, JSON.stringify({ id: 'perm-1', namespace: 'default', name: 'add', created: new Date().toISOString() }));
    const ack = await q.js.publish(asyncJobSubject('default', 'add'), encode({ a: 1 }), { msgID: 'perm-1', headers: h });
    expect(ack.stream).toBe(ASYNC_STREAM);
    const info = await q.jsm.streams.info(ASYNC_STREAM, { subjects_filter: 'mk.fn.async.*.*' });
    expect(info.state.subjects).toEqual({ 'mk.fn.async.default.add': 1 });
    const batch = await (await q.consumer()).fetch({ max_messages: 1, expires: 2000 });
    const got: string[] = [];
    for await (const m of batch) { got.push(m.headers?.get(JOB_HEADER) ?? ''); await m.ackAck(); }
    expect(got).toHaveLength(1);
    await q.results.put('perm-1', encode({ status: 'Succeeded' }));
    expect((await q.results.get('perm-1'))?.json()).toEqual({ status: 'Succeeded' });
    await q.js.publish(dlqSubject('default', 'add'), encode({}), { headers: h });
    const dl = await q.jsm.direct.getMessage(DLQ_STREAM, { seq: 1, next_by_subj: 'mk.fn.dlq.*.*' });
    expect(dl?.subject).toBe('mk.fn.dlq.default.add');
    expect(await q.jsm.streams.deleteMessage(DLQ_STREAM, dl!.seq, false)).toBe(true);
    // Never the streams themselves, nor another stream.
    expect(String(await caught(q.jsm.streams.purge(ASYNC_STREAM)))).toMatch(/permission/i);
    expect(String(await caught(q.jsm.streams.delete(DLQ_STREAM)))).toMatch(/permission/i);
    expect(String(await caught(q.jsm.streams.purge(EVENTS_STREAM)))).toMatch(/permission/i);
    expect(String(await caught(q.jsm.consumers.add(ASYNC_STREAM, { durable_name: 'gw-own', ack_policy: AckPolicy.Explicit })))).toMatch(/permission/i);
    // A node may not read the results; the CLI may not queue a job past a gateway's checks.
    const node = await connectAs('node-n1');
    const nodeQ = await openAsyncQueue(node.nc);
    expect(String(await caught(nodeQ.results.get('perm-1')))).toMatch(/permission|timeout/i);
    const admin = await connectAs('admin');
    const adminQ = await openAsyncQueue(admin.nc);
    expect(String(await caught(adminQ.js.publish(asyncJobSubject('default', 'add'), encode({}), { headers: h, timeout: 2000 })))).toMatch(/permission/i);
    // The CLI's requests about async calls reach a gateway.
    gw.nc.subscribe(RESULTS_GET_SUBJECT, { queue: 'mk-gateways', callback: (_e, m) => { m.respond(encode({ status: 200, body: 'ok' })); } });
    await gw.nc.flush();
    const reply = await admin.nc.request(RESULTS_GET_SUBJECT, encode({ id: 'perm-1' }), { timeout: 2000 });
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toEqual({ status: 200, body: 'ok' });
  });
});
