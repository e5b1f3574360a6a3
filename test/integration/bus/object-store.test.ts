import { connectBus, type Bus } from '../../../bus/connection';
import { ObjectStore, type WatchEvent } from '../../../bus/object-store';
import { isAlreadyExists, isConflict, isNotFound, isValidation } from '../../../messages/errors';
import { caught, startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

interface Obj { metadata: { name: string; resourceVersion?: string }; spec: { n: number } }
const obj = (name: string, n = 0): Obj => ({ metadata: { name }, spec: { n } });

describe('ObjectStore', () => {
  let server: NatsServer;
  let bus: Bus;
  let store: ObjectStore;
  let bucketSeq = 0;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'test-object-store' });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    // A bucket per test: revisions and listings start from a clean slate.
    store = await ObjectStore.open(bus, { bucket: `objects-${++bucketSeq}` });
  });

  it('creates, gets, lists, updates and deletes', async () => {
    const input = obj('a', 1);
    const rev = await store.create('pods.default.a', input);
    expect(input.metadata.resourceVersion).toBeUndefined();
    const got = await store.get<Obj>('pods.default.a');
    expect(got).toEqual({ key: 'pods.default.a', revision: rev, object: { metadata: { name: 'a', resourceVersion: String(rev) }, spec: { n: 1 } } });

    await store.create('pods.other.b', obj('b'));
    await store.create('services.default.s', obj('s'));
    const all = await store.list<Obj>('pods.>');
    expect(all.items.map((i) => i.key)).toEqual(['pods.default.a', 'pods.other.b']);
    expect((await store.list('pods.default.>')).items.map((i) => i.key)).toEqual(['pods.default.a']);
    expect(all.revision).toBeGreaterThanOrEqual(rev);

    const rev2 = await store.update('pods.default.a', { ...got!.object, spec: { n: 2 } }, rev);
    expect(rev2).toBeGreaterThan(rev);
    expect((await store.get<Obj>('pods.default.a'))?.object.spec.n).toBe(2);

    await store.delete('pods.default.a', rev2);
    expect(await store.get('pods.default.a')).toBeNull();
    expect((await store.list('pods.>')).items.map((i) => i.key)).toEqual(['pods.other.b']);
    expect(isNotFound(await caught(store.delete('pods.default.a')))).toBe(true);
    // A deleted key can be created again.
    expect(await store.create('pods.default.a', obj('a', 3))).toBeGreaterThan(rev2);
  });

  it('reports a stale update as Conflict and a second create as AlreadyExists', async () => {
    const rev = await store.create('pods.default.c', obj('c'));
    await store.update('pods.default.c', obj('c', 1), rev);
    expect(isConflict(await caught(store.update('pods.default.c', obj('c', 2), rev)))).toBe(true);
    expect(isAlreadyExists(await caught(store.create('pods.default.c', obj('c'))))).toBe(true);
    expect(isConflict(await caught(store.delete('pods.default.c', rev)))).toBe(true);
    expect(isNotFound(await caught(store.update('pods.default.nope', obj('x'), rev)))).toBe(true);
    expect(isValidation(await caught(store.create('pods.default.big', { data: 'x'.repeat(1024 * 1024) })))).toBe(true);
    expect(isValidation(await caught(store.get('bad key')))).toBe(true);
  });

  it('lists consistently: a watch from revision+1 sees exactly the later changes, in order', async () => {
    await store.create('pods.default.a', obj('a'));
    await store.create('pods.default.b', obj('b'));
    const { items, revision } = await store.list<Obj>('pods.>');
    expect(items).toHaveLength(2);

    const a = await store.get<Obj>('pods.default.a');
    const r1 = await store.update('pods.default.a', obj('a', 1), a!.revision);
    await store.create('services.default.x', obj('x')); // not matched by the filter
    const r2 = await store.create('pods.default.c', obj('c'));
    await store.delete('pods.default.b');

    const seen: WatchEvent<Obj>[] = [];
    const w = await store.watch<Obj>('pods.>', { fromRevision: revision + 1 }, (ev) => { seen.push(ev); });
    try {
      await waitFor(() => seen.length >= 3, 'three events');
      expect(seen.map((e) => [e.type, e.key])).toEqual([['PUT', 'pods.default.a'], ['PUT', 'pods.default.c'], ['DELETE', 'pods.default.b']]);
      expect(seen[0].revision).toBe(r1);
      expect(seen[1].revision).toBe(r2);
      expect(seen[0].object?.metadata.resourceVersion).toBe(String(r1));
      expect(seen[2].object).toBeNull();
      const revs = seen.map((e) => e.revision);
      expect([...revs].sort((x, y) => x - y)).toEqual(revs);
    } finally {
      await w.stop();
    }
  });

  it('forgets the revisions of one key older than a given one, keeping later writers and other keys', async () => {
    const r1 = await store.create('secrets.default.a', obj('a', 1));
    const r2 = await store.update('secrets.default.a', obj('a', 2), r1);
    const r3 = await store.update('secrets.default.a', obj('a', 3), r2); // a writer after the one that forgets
    const other = await store.create('secrets.default.b', obj('b', 1));
    await store.forgetOlderRevisions('secrets.default.a', r2);
    const seen: number[] = [];
    const w = await store.watch('secrets.>', { includeHistory: true }, (ev) => { seen.push(ev.revision); });
    try {
      await waitFor(() => seen.length >= 3, 'history');
      expect(seen).toEqual([r2, r3, other]);
    } finally {
      await w.stop();
    }
    expect(isValidation(await caught(store.forgetOlderRevisions('secrets.default.a', 0)))).toBe(true);
  });

  it('watches only new changes by default, all retained history with includeHistory', async () => {
    const r0 = await store.create('pods.default.h', obj('h'));
    const fresh: number[] = [];
    const history: number[] = [];
    const w1 = await store.watch('pods.>', {}, (ev) => { fresh.push(ev.revision); });
    const w2 = await store.watch('pods.>', { includeHistory: true }, (ev) => { history.push(ev.revision); });
    try {
      const r1 = await store.update('pods.default.h', obj('h', 1), r0);
      await waitFor(() => fresh.length >= 1 && history.length >= 2, 'events');
      expect(fresh).toEqual([r1]);
      expect(history).toEqual([r0, r1]);
    } finally {
      await w1.stop();
      await w2.stop();
    }
  });

  it('redelivers an event whose handler threw, then goes on in order', async () => {
    const seen: number[] = [];
    let failures = 0;
    const w = await store.watch('pods.>', {}, (ev) => {
      if (ev.key === 'pods.default.f1' && failures++ === 0) throw new Error('transient');
      seen.push(ev.revision);
    });
    try {
      const r1 = await store.create('pods.default.f1', obj('f1'));
      const r2 = await store.create('pods.default.f2', obj('f2'));
      await waitFor(() => seen.length >= 2, 'both events');
      expect(seen).toEqual([r1, r2]);
      expect(failures).toBe(2);
    } finally {
      await w.stop();
    }
  });

  it('mutate retries under concurrent writers: 10 increments end at 10', async () => {
    await store.create('counters.default.c', { count: 0 });
    const results = await Promise.all(Array.from({ length: 10 }, () =>
      store.mutate<{ count: number }>('counters.default.c', (c) => ({ count: c.count + 1 }))));
    expect((await store.get<{ count: number }>('counters.default.c'))?.object.count).toBe(10);
    expect(results.map((r) => r?.object.count).sort((x, y) => x! - y!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await store.mutate('counters.default.c', () => null)).toBeNull();
    expect(isNotFound(await caught(store.mutate('counters.default.none', (c) => c)))).toBe(true);
  });

  it('mutate never hands fn the stored object itself', async () => {
    await store.create('pods.default.m', obj('m'));
    let first: Obj | undefined;
    const out = await store.mutate<Obj>('pods.default.m', (o) => { first = o; o.spec.n = 5; return o; });
    expect(out?.object.spec.n).toBe(5);
    expect(out?.object).not.toBe(first);
  });

  it('a list taken during concurrent writes plus the watch after it rebuild the final state', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `pods.default.k${i}`);
    const writer = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        const key = keys[(w * 7 + i) % keys.length];
        const cur = await store.get<Obj>(key);
        try {
          if (!cur) await store.create(key, obj(key, i));
          else if (i % 5 === 0) await store.delete(key, cur.revision);
          else await store.update(key, obj(key, i), cur.revision);
        } catch (err) {
          if (!isConflict(err) && !isAlreadyExists(err) && !isNotFound(err)) throw err;
        }
      }
    };
    const writing = Promise.all([0, 1, 2].map(writer));
    await waitFor(async () => (await store.list('pods.>')).revision > 10, 'some writes');
    const snapshot = await store.list<Obj>('pods.>');
    await writing;
    const final = await store.list<Obj>('pods.>');

    const state = new Map(snapshot.items.map((i) => [i.key, i.revision]));
    const w = await store.watch<Obj>('pods.>', { fromRevision: snapshot.revision + 1 }, (ev) => {
      if (ev.type === 'DELETE') state.delete(ev.key); else state.set(ev.key, ev.revision);
    });
    try {
      const want = new Map(final.items.map((i) => [i.key, i.revision]));
      await waitFor(() => JSON.stringify([...state].sort()) === JSON.stringify([...want].sort()), 'the watched state to equal the final list');
    } finally {
      await w.stop();
    }
  });
});

describe('ObjectStore watch across a server restart', () => {
  let server: NatsServer;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'test-watch-restart' });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  it.each(['restart', 'kill'] as const)('resumes without losing or repeating events (%s)', async (how) => {
    const store = await ObjectStore.open(bus, { bucket: `restart-${how}` });
    const seen: string[] = [];
    const w = await store.watch<Obj>('pods.>', {}, (ev) => { seen.push(ev.key); });
    try {
      for (let i = 0; i < 5; i++) await store.create(`pods.default.before${i}`, obj(`b${i}`));
      await waitFor(() => seen.length === 5, 'events before the restart');
      if (how === 'kill') server.kill();
      await server.restart();
      // Writes fail until the client has reconnected; retry each until it lands.
      for (let i = 0; i < 5; i++) {
        await waitFor(async () => (await store.create(`pods.default.after${i}`, obj(`a${i}`)).catch((e) => {
          if (isAlreadyExists(e)) return 1;
          throw e;
        })) > 0, `write ${i} after the restart`, 20_000);
      }
      await waitFor(() => seen.length >= 10, 'events after the restart', 30_000);
      expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `pods.default.before${i}`).concat([0, 1, 2, 3, 4].map((i) => `pods.default.after${i}`)));
    } finally {
      await w.stop();
    }
  }, 60_000);
});
