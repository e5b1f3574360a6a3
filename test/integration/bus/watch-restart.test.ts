/**
 * Watches across server restarts, against a real nats-server that is SIGKILLed and started again:
 * with its store (the reconnect itself resumes the watch from its last revision, not its consumer
 * being found lost) and without it (the informer relists and reports what vanished). And
 * compaction: deletions older than a threshold are removed, a watch from before the compacted
 * revision is refused.
 */
import { connectBus, type Bus } from '../../../bus/connection';
import { startInformer, type Informer, type InformerEvent } from '../../../bus/informer';
import { busLog } from '../../../bus/log';
import { ObjectStore, type WatchEvent } from '../../../bus/object-store';
import { isExpired } from '../../../messages/errors';
import { caught, startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

interface Obj { metadata: { name: string }; n: number }
const obj = (name: string, n = 0): Obj => ({ metadata: { name }, n });

describe('watches across a server restart', () => {
  let server: NatsServer;
  let bus: Bus;
  const stops: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'test-watch-restart' });
  });
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await bus?.close();
    await server?.stop();
  });

  it('resumes from its last revision when the bus reconnects to the server back with its store', async () => {
    const store = await ObjectStore.open(bus, { bucket: 'restart-keep' });
    const seen: WatchEvent<Obj>[] = [];
    const w = await store.watch<Obj>('pods.>', {}, (ev) => { seen.push(ev); });
    stops.push(() => w.stop());
    await store.create('pods.default.before', obj('before'));
    await waitFor(() => seen.length === 1, 'the change before the restart');
    // The bus log's warnings, and how many there were when the bus reconnected (this listener runs
    // after the watch's own, which was added first).
    const warn = jest.spyOn(busLog, 'warn');
    let warningsAtReconnect: number | undefined;
    const unlisten = bus.onReconnect(() => { warningsAtReconnect ??= warn.mock.calls.length; });

    try {
      server.kill();
      await server.restart();
      await waitFor(async () => (await bus.jsm.streams.info(store.stream)).state.messages > 0, 'the bus to reconnect', 10_000);
      for (let i = 0; i < 5; i++) await store.create(`pods.default.after-${i}`, obj(`after-${i}`, i));
      await waitFor(() => seen.length === 6, 'the changes after the restart', 30_000);
      expect(warningsAtReconnect).toBeDefined();
      // The reconnect moved the watch to a new consumer: after it, the watch never found its
      // consumer lost (missed heartbeats, consumer not found) nor saw it end by itself, which is
      // how it resumes when nothing tells it of the reconnect.
      const after = warn.mock.calls.slice(warningsAtReconnect).map((c) => String(c[1]));
      expect(after.filter((m) => /^watch consumer (lost|ended)/.test(m))).toEqual([]);
    } finally {
      unlisten();
      warn.mockRestore();
    }
    // In order, each once: nothing replayed, nothing skipped.
    expect(seen.map((e) => e.key)).toEqual(['pods.default.before', ...[0, 1, 2, 3, 4].map((i) => `pods.default.after-${i}`)]);
    expect(seen.map((e) => e.revision)).toEqual([...seen.map((e) => e.revision)].sort((a, b) => a - b));
  }, 60_000);

  it('relists when the server comes back without its store, reporting what vanished', async () => {
    const store = await ObjectStore.open(bus, { bucket: 'restart-wipe' });
    await store.create('pods.default.gone', obj('gone'));
    await store.create('pods.default.kept', obj('kept', 1));
    const view = new Map<string, Obj>();
    const events: InformerEvent<Obj>[] = [];
    const informer: Informer = await startInformer<Obj>(store, 'pods.>', (ev) => {
      events.push(ev);
      if (ev.type === 'DELETE') view.delete(ev.key); else view.set(ev.key, ev.object!);
    });
    stops.push(() => informer.stop());
    expect([...view.keys()].sort()).toEqual(['pods.default.gone', 'pods.default.kept']);

    server.kill();
    await server.restart({ wipe: true });
    // The bucket's owner makes it again after the reconnect (the control plane does this).
    await waitFor(async () => { await store.ensure(); return true; }, 'the bucket to be made again', 10_000);
    await store.create('pods.default.kept', obj('kept', 2));
    await store.create('pods.default.new', obj('new', 3));

    await waitFor(() => !view.has('pods.default.gone') && view.get('pods.default.new')?.n === 3 && view.get('pods.default.kept')?.n === 2,
      'the informer to match the new store', 15_000);
    expect(events.find((e) => e.key === 'pods.default.gone' && e.type === 'DELETE')).toBeDefined();
    expect([...view.keys()].sort()).toEqual(['pods.default.kept', 'pods.default.new']);
  }, 60_000);
});

describe('compaction', () => {
  let server: NatsServer;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'test-compaction' });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  it('removes old delete markers, keeps keys written again, and refuses a watch from before it', async () => {
    const store = await ObjectStore.open(bus, { bucket: 'compact' });
    for (const n of ['a', 'b', 'c']) await store.create(`pods.default.${n}`, obj(n));
    const before = (await store.list('pods.>')).revision;
    await store.delete('pods.default.a');
    await store.delete('pods.default.b');
    await store.create('pods.default.b', obj('b', 2));
    const info = () => bus.jsm.streams.info(store.stream);
    const messagesBefore = (await info()).state.messages;

    const { removed, revision } = await store.compact(0);
    expect(removed).toBe(1); // a's marker; b lives again
    expect(revision).toBeGreaterThan(before);
    expect(await store.compactedRevision()).toBe(revision);
    expect((await info()).state.messages).toBeLessThan(messagesBefore);
    expect((await store.list('pods.>')).items.map((i) => i.key)).toEqual(['pods.default.b', 'pods.default.c']);
    expect((await store.get<Obj>('pods.default.b'))?.object.n).toBe(2);

    const err = await caught(store.watch('pods.>', { fromRevision: before }, () => undefined));
    expect(isExpired(err)).toBe(true);
    expect(String(err)).toMatch(/compacted at revision \d+.*list again/);
    const w = await store.watch('pods.>', { fromRevision: revision + 1 }, () => undefined);
    await w.stop();
  });
});
