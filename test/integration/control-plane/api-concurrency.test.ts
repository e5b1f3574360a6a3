/**
 * The api's writes in parallel, against a real nats-server: concurrent applies of one new object
 * answer like serialized ones (one "created", never AlreadyExists), writes of different objects
 * all land, a flood beyond the bound on writes in flight waits instead of being refused, a
 * namespace's deletion and the creations in it do not interleave, a namespace not known active is
 * read from the store, and a write that crashes the api actor is answered while the actor
 * restarts and serves the writes after it.
 */
import { start, stop as stopSystem, type Ref } from 'nact';
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { crashRecords, DEFAULT_RESTART_POLICY } from '../../../common';
import {
  API, ErrorCodes, isNotFound, isValidation, MkError,
  type ApplyRequest, type ApplyResult, type CreateRequest, type GetResult, type KubeObject,
} from '../../../messages';
import { API_RESTART_POLICY, spawnApi, type WriteHandler } from '../../../actors/api/api-actor';
import { apply } from '../../../actors/api/handlers';
import { create } from '../../../actors/api/writes';
import { caught, startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(60_000);

const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const pod = (name: string, namespace: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

describe('api writes in parallel', () => {
  let server: NatsServer;
  let bus: Bus;
  let store: ObjectStore;
  let system: Ref<unknown> | undefined;
  let api: { stop(): Promise<void> } | undefined;
  const call = <T>(subject: string, body: unknown) => request<T>(bus, subject, body, { timeoutMs: 20_000 });

  /** Serves the api in a system of its own, with handlers replaced as given. */
  async function serveApi(opts: Parameters<typeof spawnApi>[3] = {}): Promise<void> {
    await api?.stop();
    if (system) stopSystem(system);
    system = start();
    const a = spawnApi(system, bus, store, opts);
    await a.ready;
    api = a;
  }

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'api-concurrency' });
    store = await ObjectStore.open(bus);
  });
  afterAll(async () => {
    await api?.stop();
    if (system) stopSystem(system);
    await bus?.close();
    await server?.stop();
  });

  it('answers concurrent applies of one new object with one "created" and the rest configured or unchanged', async () => {
    await serveApi();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      call<ApplyResult>(API.apply, { object: ns('same', { n: String(i % 3) }) })));
    const counts = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.result]: (acc[r.result] ?? 0) + 1 }), {});
    expect(counts.created).toBe(1);
    expect((counts.configured ?? 0) + (counts.unchanged ?? 0)).toBe(29);
    // Each answer is the object as stored by it: revisions are distinct for every write that changed it.
    const changed = results.filter((r) => r.result !== 'unchanged').map((r) => r.object.metadata.resourceVersion);
    expect(new Set(changed).size).toBe(changed.length);
    const got = (await call<GetResult>(API.get, { kind: 'namespaces', name: 'same' })).object;
    // The last write in arrival order is what stays (one lane, arrival order).
    expect(got.metadata.labels).toEqual({ n: String(29 % 3) });
  });

  it('answers like serialized writes when two api processes race for one new object', async () => {
    await serveApi();
    // A second api on the same queue group: the requests are spread over both.
    const other = start();
    const second = spawnApi(other, bus, store);
    await second.ready;
    try {
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
          call<ApplyResult>(API.apply, { object: ns(`raced-${round}`, { n: String(i % 2) }) })));
        expect(results.filter((r) => r.result === 'created')).toHaveLength(1);
        expect(results.every((r) => ['created', 'configured', 'unchanged'].includes(r.result))).toBe(true);
      }
    } finally {
      await second.stop();
      stopSystem(other);
    }
  });

  it('decides from the store, not from what it wrote last, when someone else changed the object since', async () => {
    await serveApi();
    await call(API.apply, { object: ns('moved', { v: '1' }) });
    const key = 'namespaces._cluster.moved';
    const changeBehindItsBack = async (v: string) => {
      const cur = (await store.get<KubeObject>(key))!;
      await store.update(key, { ...cur.object, metadata: { ...cur.object.metadata, labels: { v } } }, cur.revision);
    };
    await changeBehindItsBack('2');
    // What the api wrote last (v=1) equals the manifest, but the store holds v=2: configured.
    expect((await call<ApplyResult>(API.apply, { object: ns('moved', { v: '1' }) })).result).toBe('configured');
    await changeBehindItsBack('3');
    // The api's last write is stale (v=1 at an old revision); the store already holds v=3: unchanged.
    const same = await call<ApplyResult>(API.apply, { object: ns('moved', { v: '3' }) });
    expect(same.result).toBe('unchanged');
    expect(same.object.metadata.resourceVersion).toBe(String((await store.get(key))!.revision));
    // Deleted behind its back: created again, not an error.
    await store.delete(key);
    expect((await call<ApplyResult>(API.apply, { object: ns('moved', { v: '3' }) })).result).toBe('created');
  });

  it('lands concurrent updates of different objects, each once', async () => {
    await serveApi();
    const names = Array.from({ length: 60 }, (_, i) => `upd-${i}`);
    await Promise.all(names.map((n) => call(API.apply, { object: ns(n, { v: '0' }) })));
    const updated = await Promise.all(names.map((n) => call<ApplyResult>(API.apply, { object: ns(n, { v: '1' }) })));
    expect(updated.map((r) => r.result)).toEqual(names.map(() => 'configured'));
    for (const n of names) {
      const s = await store.get<KubeObject>(`namespaces._cluster.${n}`);
      expect(s?.object.metadata.labels).toEqual({ v: '1' });
    }
  });

  it('holds a flood beyond the bound in flight and answers all of it', async () => {
    let running = 0;
    let most = 0;
    // The first writes wait until the bound is reached (or 10 s pass, and `most` shows the shortfall),
    // so a slow machine that answers each write before the next arrives still fills every lane.
    let open!: () => void;
    const full = new Promise<void>((resolve) => { open = resolve; });
    const deadline = setTimeout(() => open(), 10_000);
    const counted: WriteHandler = async (r: ApplyRequest) => {
      running++;
      most = Math.max(most, running);
      if (running >= 4) open();
      try {
        await full;
        return await apply({ store, bus }, r);
      } finally { running--; }
    };
    await serveApi({ writeLimit: 4, handlers: { apply: counted } });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => call<ApplyResult>(API.apply, { object: ns(`flood-${i}`) })));
    expect(results.every((r) => r.result === 'created')).toBe(true);
    clearTimeout(deadline);
    expect(most).toBe(4);
    expect((await store.list('namespaces._cluster.>')).items.filter((i) => i.key.includes('flood-'))).toHaveLength(200);
  });

  it('never lets a creation in a namespace overlap the namespace\'s deletion', async () => {
    await serveApi();
    await call(API.apply, { object: ns('doomed') });
    // Creations sent before the deletion land before it (and are then being deleted with it);
    // those sent after are refused: the namespace is being deleted.
    const before = Array.from({ length: 10 }, (_, i) => call<ApplyResult>(API.apply, { object: pod(`early-${i}`, 'doomed') }));
    const deletion = call(API.delete, { kind: 'namespaces', name: 'doomed' });
    const after = Array.from({ length: 10 }, (_, i) => caught(call(API.apply, { object: pod(`late-${i}`, 'doomed') })));
    expect((await Promise.all(before)).map((r) => r.result)).toEqual(Array(10).fill('created'));
    await deletion;
    for (const err of await Promise.all(after)) {
      expect(isValidation(err)).toBe(true);
      expect((err as Error).message).toBe('namespace "doomed" is being deleted; nothing new can be created in it');
    }
    expect((await store.list<KubeObject>('pods.doomed.>')).items.map((i) => i.object.metadata.name).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `early-${i}`).sort());
  });

  it('reads a namespace it does not know as active, and follows marks written by others', async () => {
    await serveApi();
    const key = 'namespaces._cluster.elsewhere';
    // Made behind the api's back: not yet in its cache, read from the store.
    await store.create(key, ns('elsewhere'));
    expect((await call<ApplyResult>(API.apply, { object: pod('p1', 'elsewhere') })).result).toBe('created');
    // Marked for deletion by another writer: once the mark is delivered, creations are refused.
    const cur = (await store.get<KubeObject>(key))!;
    await store.update(key, { ...cur.object, metadata: { ...cur.object.metadata, deletionTimestamp: '2026-11-30T00:00:00Z' } }, cur.revision);
    await until('creations in the marked namespace to be refused', async () => {
      const err = await call(API.apply, { object: pod(`probe-${Date.now()}`, 'elsewhere') }).then(() => undefined, (e: unknown) => e);
      return err && isValidation(err) ? true : undefined;
    }, 10_000);
    // Gone altogether: NotFound, naming the namespace.
    await store.delete(key);
    await until('creations in the deleted namespace to be NotFound', async () => {
      const err = await call(API.create, { object: pod('p2', 'elsewhere') }).then(() => undefined, (e: unknown) => e);
      return err && isNotFound(err) && (err as Error).message === 'namespaces "elsewhere" not found' ? true : undefined;
    }, 10_000);
  });

  it('answers every write when one crashes the api actor mid-write, and serves again after the restart', async () => {
    const crashing: WriteHandler = async (r: CreateRequest) => {
      const out = await create({ store, bus }, r);
      // A bug after the store accepted the write: the actor must crash, the request be answered.
      if ((r.object as KubeObject).metadata.name === 'boom') throw new TypeError('injected fault after the write');
      return out;
    };
    await serveApi({ handlers: { create: crashing } });
    const restartsBefore = crashRecords().find((c) => c.path.endsWith('/api'))?.restarts ?? 0;
    const names = [...Array.from({ length: 20 }, (_, i) => `around-${i}`), 'boom', ...Array.from({ length: 20 }, (_, i) => `after-${i}`)];
    const outcomes = await Promise.all(names.map((n) => call(API.create, { object: ns(n) }).then(() => ({ n, e: undefined }), (e: unknown) => ({ n, e }))));
    for (const { n, e } of outcomes) {
      if (n === 'boom') {
        expect(e).toBeInstanceOf(MkError);
        expect((e as MkError).code).toBe(ErrorCodes.Internal);
        expect((e as Error).message).toBe('injected fault after the write');
      } else {
        expect(e).toBeUndefined();
      }
    }
    await until('the api actor to be restarted', () => ((crashRecords().find((c) => c.path.endsWith('/api'))?.restarts ?? 0) > restartsBefore ? true : undefined), 10_000);
    // Writes after the crash are served once the backoff is over.
    const r = await call<ApplyResult>(API.apply, { object: ns('after-restart') });
    expect(r.result).toBe('created');
    expect(isNotFound(await caught(call(API.get, { kind: 'namespaces', name: 'never-made' })))).toBe(true);
  });

  it('keeps serving writes after more crashes than the usual restart budget', async () => {
    const crashing: WriteHandler = async (r: CreateRequest) => {
      if ((r.object as KubeObject).metadata.name.startsWith('bug-')) throw new TypeError(`injected fault for ${(r.object as KubeObject).metadata.name}`);
      return create({ store, bus }, r);
    };
    // The api's own policy (never escalated), with short delays so the test does not wait for them.
    await serveApi({ handlers: { create: crashing }, restartPolicy: { ...API_RESTART_POLICY, initialMs: 5, maxMs: 20 } });
    for (let i = 0; i < DEFAULT_RESTART_POLICY.maxRestarts + 3; i++) {
      const err = await caught(call(API.create, { object: ns(`bug-${i}`) }));
      expect((err as MkError).code).toBe(ErrorCodes.Internal);
    }
    expect((await call<ApplyResult>(API.apply, { object: ns('still-served') })).result).toBe('created');
  });
});
