/**
 * mk.api.watch of events against a real nats-server: the api's watch and list (no control plane)
 * stream and list the
 * MK_EVENTS stream with the stream sequence as resourceVersion: ADDED, MODIFIED for a repeat's
 * new count, resuming from a resourceVersion, across a server restart without a gap or a repeat,
 * `too old resource version` once the stream dropped what was asked for, Expired when the stream
 * was lost, field selectors and their errors, and the per-identity limit on streams.
 */
import { connectBus, decode, EventRecorder, EVENTS_MAX_MSGS, ObjectStore, request, serve, type Bus, type Served } from '../../../bus';
import { list } from '../../../actors/api/handlers';
import { serveWatch } from '../../../actors/api/watch';
import {
  API, EVENTS_STREAM, isExpired, isValidation,
  type Event, type KubeObject, type ListRequest, type ListResult, type WatchStarted, type WatchStreamMessage,
} from '../../../messages';
import { caught, startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(60_000);

const MAX_PER_CLIENT = 3;

describe('mk.api.watch of events', () => {
  let server: NatsServer;
  let bus: Bus;
  let store: ObjectStore;
  let watches: Served;
  let lists: Served;
  let recorder: EventRecorder;
  let n = 0;
  const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
  const pod = (name: string, namespace = 'default'): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid: `uid-${name}` } });
  const record = async (name: string, reason: string, type: 'Normal' | 'Warning' = 'Normal', namespace = 'default') => {
    recorder.record(pod(name, namespace), type, reason, `${reason} ${name}`);
    await recorder.flush();
  };

  /** Subscribes to a fresh inbox, asks for a watch of events there, and collects what comes. */
  const watch = async (req: Record<string, unknown>) => {
    const subject = `_INBOX.events-w${++n}`;
    const got: WatchStreamMessage[] = [];
    const sub = bus.nc.subscribe(subject, { callback: (_e, m) => { got.push(decode<WatchStreamMessage>(m.data)); } });
    await bus.nc.flush();
    const stop = async () => {
      sub.unsubscribe();
      await api('unwatch', { subject }).catch(() => undefined);
    };
    try {
      const started = await api<WatchStarted>('watch', { kind: 'events', ...req, subject });
      /** `TYPE object reason count` of each change, in order. */
      const changes = () => got.flatMap((m) => (m.type === 'ADDED' || m.type === 'MODIFIED'
        ? [`${m.type} ${(m.object as unknown as Event).involvedObject.name} ${(m.object as unknown as Event).reason} ${(m.object as unknown as Event).count}`]
        : []));
      return { subject, got, started, changes, stop };
    } catch (e) {
      await stop();
      throw e;
    }
  };
  const lastSeq = async () => (await bus.jsm.streams.info(EVENTS_STREAM)).state.last_seq;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'events-watch-test' });
    store = await ObjectStore.open(bus);
    watches = serveWatch(bus, store, { maxPerClient: MAX_PER_CLIENT });
    lists = serve(bus, API.list, (r: ListRequest) => list({ bus, store }, r));
    await Promise.all([watches.ready, lists.ready]);
    recorder = new EventRecorder(bus, { component: 'test' });
  });
  afterAll(async () => {
    await watches?.stop();
    await lists?.stop();
    await bus?.close();
    await server?.stop();
  });

  it('lists the events there are, then streams new ones as ADDED and a repeat as MODIFIED, revision = stream sequence', async () => {
    await record('a', 'Scheduled');
    const w = await watch({ namespace: 'default' });
    try {
      await waitFor(() => w.got.some((m) => m.type === 'BOOKMARK'), 'the bookmark after the listing');
      expect(w.changes()).toEqual(['ADDED a Scheduled 1']);
      const bookmark = w.got.find((m) => m.type === 'BOOKMARK') as { revision: number };
      expect(String(bookmark.revision)).toBe(w.started.resourceVersion);
      expect(bookmark.revision).toBe(await lastSeq());
      await record('b', 'Pulled');
      await record('b', 'Pulled');
      await record('c', 'Started', 'Normal', 'other');
      await waitFor(() => w.changes().length === 3, 'the new events');
      expect(w.changes()).toEqual(['ADDED a Scheduled 1', 'ADDED b Pulled 1', 'MODIFIED b Pulled 2']);
      const last = w.got.at(-1) as { revision: number; object: KubeObject };
      expect(last.object.metadata.resourceVersion).toBe(String(last.revision));
      // The listing carries the same resourceVersion: the newest count's sequence.
      const { items } = await api<ListResult>('list', { kind: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=b' });
      expect(items.map((o) => o.metadata.resourceVersion)).toEqual([String(last.revision)]);
      // The stream numbers its messages, so that a client can tell one was lost.
      expect(w.got.map((m) => m.n)).toEqual(w.got.map((_, i) => i + 1));
    } finally {
      await w.stop();
    }
  });

  it('resumes from a resourceVersion: exactly the events after it', async () => {
    await record('r1', 'Created');
    const from = await lastSeq();
    await record('r2', 'Created');
    await record('r3', 'Created');
    const w = await watch({ resourceVersion: String(from), fieldSelector: 'reason=Created' });
    try {
      expect(w.started.resourceVersion).toBe(String(from));
      await waitFor(() => w.changes().length === 2, 'the events after it');
      expect(w.changes()).toEqual(['ADDED r2 Created 1', 'ADDED r3 Created 1']);
      expect(w.got.some((m) => m.type === 'ADDED' && m.revision <= from)).toBe(false);
    } finally {
      await w.stop();
    }
  });

  it('selects by namespace and by involvedObject, type and reason fields', async () => {
    const warnings = await watch({ fieldSelector: 'type=Warning', resourceVersion: String(await lastSeq()) });
    const other = await watch({ namespace: 'other', fieldSelector: 'involvedObject.kind=Pod,reason!=Killing' });
    const byName = await watch({ fieldSelector: 'involvedObject.name=s2,involvedObject.namespace=default' });
    try {
      await record('s1', 'BackOff', 'Warning');
      await record('s2', 'Pulled');
      await record('s3', 'Killing', 'Normal', 'other');
      await record('s4', 'FailedMount', 'Warning', 'other');
      await waitFor(() => warnings.changes().length === 2 && other.changes().length === 2 && byName.changes().length === 1, 'the selected events');
      expect(warnings.changes()).toEqual(['ADDED s1 BackOff 1', 'ADDED s4 FailedMount 1']);
      expect(other.changes()).toEqual(['ADDED c Started 1', 'ADDED s4 FailedMount 1']);
      expect(byName.changes()).toEqual(['ADDED s2 Pulled 1']);
    } finally {
      for (const w of [warnings, other, byName]) await w.stop();
    }
  });

  it('answers a watch of a kind in the store with the store\'s epoch, and refuses another epoch', async () => {
    const subject = `_INBOX.events-w${++n}`;
    const started = await api<WatchStarted>('watch', { kind: 'pods', subject });
    await api('unwatch', { subject });
    expect(started.epoch).toBe((await bus.jsm.streams.info(store.stream)).created);
    const other = await caught(api('watch', { kind: 'pods', subject: `_INBOX.events-w${++n}`, resourceVersion: started.resourceVersion, epoch: 'x' }));
    expect(isExpired(other)).toBe(true);
    expect((other as Error).message).toContain('is of a store that was made again since');
    expect(isValidation(await caught(api('watch', { kind: 'events', subject: `_INBOX.events-w${++n}`, epoch: 5 })))).toBe(true);
  });

  it('refuses an unknown field label, a malformed resourceVersion, and one the stream never reached', async () => {
    const unknown = await caught(watch({ fieldSelector: 'spec.nodeName=n1' }));
    expect(isValidation(unknown)).toBe(true);
    expect((unknown as Error).message).toBe('field label not supported: spec.nodeName');
    const listed = await caught(api('list', { kind: 'events', fieldSelector: 'involvedObject.fieldPath=x' }));
    expect((listed as Error).message).toBe('field label not supported: involvedObject.fieldPath');
    for (const rv of ['abc', '-1', '1.5', '1e3']) {
      const bad = await caught(watch({ resourceVersion: rv }));
      expect(isValidation(bad)).toBe(true);
      expect((bad as Error).message).toContain('resourceVersion must be a revision');
    }
    const ahead = await caught(watch({ resourceVersion: String((await lastSeq()) + 100) }));
    expect(isExpired(ahead)).toBe(true);
    expect((ahead as Error).message).toContain('too large resource version');
  });

  it('holds at most the per-client number of streams', async () => {
    const open = [];
    try {
      for (let i = 0; i < MAX_PER_CLIENT; i++) open.push(await watch({}));
      const refused = await caught(watch({}));
      expect(isValidation(refused)).toBe(true);
      expect((refused as Error).message).toContain(`(${MAX_PER_CLIENT} at most for one client)`);
      await open.pop()!.stop();
      open.push(await watch({}));
    } finally {
      for (const w of open) await w.stop();
    }
    // Each stream's consumer on the events stream goes with it.
    await waitFor(async () => (await bus.jsm.consumers.list(EVENTS_STREAM).next()).length === 0, 'no consumer left');
  });

  it('goes on across a server restart (same store) without a gap or a repeat, and a client resumes from its last revision', async () => {
    const from = await lastSeq();
    const w = await watch({ fieldSelector: 'reason=Restarted', resourceVersion: String(from) });
    try {
      await record('before', 'Restarted');
      await waitFor(() => w.changes().length === 1, 'the event before the restart');
      await server.restart();
      // Recorded as soon as the bus is back, perhaps before the watch's consumer is (a record
      // while the bus is still down is dropped by the recorder: never in the stream).
      await waitFor(async () => {
        await record('after', 'Restarted');
        return (await api<ListResult>('list', { kind: 'events', fieldSelector: 'involvedObject.name=after' }).catch(() => ({ items: [] }))).items.length > 0;
      }, 'an event recorded after the restart', 20_000);
      await record('after2', 'Restarted');
      await waitFor(() => w.changes().some((c) => c.startsWith('ADDED after2')), 'the events after the restart', 20_000);
      // Exactly what the stream holds since `from`, in its order, once each.
      const stored: number[] = [];
      for (let seq = from + 1; seq <= await lastSeq(); seq++) {
        const m = await bus.jsm.streams.getMessage(EVENTS_STREAM, { seq });
        if (m?.json<Event>().reason === 'Restarted') stored.push(seq);
      }
      const revs = w.got.flatMap((m) => (m.type === 'ADDED' || m.type === 'MODIFIED' ? [m.revision] : []));
      expect(revs).toEqual(stored);
      expect(w.changes()[0]).toBe('ADDED before Restarted 1');
      expect(w.changes().at(-1)).toBe('ADDED after2 Restarted 1');

      // A client that lost its stream asks again from the last revision it had: only what came since.
      const lastSeen = revs.at(-1)!;
      await w.stop();
      await record('later', 'Restarted');
      const again = await watch({ fieldSelector: 'reason=Restarted', resourceVersion: String(lastSeen) });
      try {
        await waitFor(() => again.changes().length === 1, 'the event after the last one seen');
        expect(again.changes()).toEqual(['ADDED later Restarted 1']);
      } finally {
        await again.stop();
      }
    } finally {
      await w.stop();
    }
  });

  it('says "too old resource version" for a revision the stream dropped (past its limits)', async () => {
    const old = await lastSeq();
    await record('o1', 'Old');
    await bus.jsm.streams.update(EVENTS_STREAM, { max_msgs: 2 });
    try {
      for (let i = 0; i < 4; i++) await record(`o${i + 2}`, 'Old');
      const { state } = await bus.jsm.streams.info(EVENTS_STREAM);
      expect(state.first_seq - 1).toBeGreaterThan(old);
      const err = await caught(watch({ resourceVersion: String(old) }));
      expect(isExpired(err)).toBe(true);
      expect((err as Error).message).toBe(`too old resource version: ${old} (${state.first_seq - 1})`);
      // From the highest dropped sequence on, nothing is missing.
      const ok = await watch({ resourceVersion: String(state.first_seq - 1), fieldSelector: 'reason=Old' });
      await waitFor(() => ok.changes().length === 2, 'the kept events');
      expect(ok.changes()).toEqual(['ADDED o4 Old 1', 'ADDED o5 Old 1']);
      await ok.stop();
    } finally {
      await bus.jsm.streams.update(EVENTS_STREAM, { max_msgs: EVENTS_MAX_MSGS });
    }
  });

  it('ends a stream with Expired when the server came back without the stream', async () => {
    const w = await watch({});
    try {
      await waitFor(() => w.got.some((m) => m.type === 'BOOKMARK'), 'the listing');
      await server.restart({ wipe: true });
      // The recorder makes the stream again with its next event.
      await waitFor(async () => {
        await record('new', 'Again');
        return w.got.some((m) => m.type === 'ERROR');
      }, 'the end of the stream', 30_000);
      const end = w.got.find((m) => m.type === 'ERROR') as { error: { code: string; message: string } };
      expect(end.error.code).toBe('Expired');
      expect(end.error.message).toContain('the events stream was made again');
      // A client that asks again from a revision of the old stream says which stream it had: the
      // new one may have grown past that revision, but it is not the same.
      expect(w.started.epoch).toBeTruthy();
      const again = await caught(watch({ resourceVersion: '1', epoch: w.started.epoch }));
      expect(isExpired(again)).toBe(true);
      expect((again as Error).message).toBe('resource version 1 is of an events stream that was made again since: list again');
      const fresh = await watch({ resourceVersion: '1' });
      expect(fresh.started.epoch).toBe((await bus.jsm.streams.info(EVENTS_STREAM)).created);
      expect(fresh.started.epoch).not.toBe(w.started.epoch);
      await fresh.stop();
    } finally {
      await w.stop();
    }
  });
});
