/**
 * Events on a real nats-server: the MK_EVENTS stream's configuration, recording, aggregation of
 * repeats, and listing with namespace and involvedObject filters.
 */
import { connectBus, type Bus } from '../../../bus/connection';
import { ensureEventsStream, EventRecorder, EVENTS_MAX_AGE_MS, listEvents } from '../../../bus/events';
import { EVENTS_STREAM, eventSubject, type KubeObject, type Pod } from '../../../messages';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

const pod = (name: string, uid: string, namespace = 'default'): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid }, spec: { containers: [] } });

describe('events', () => {
  let server: NatsServer;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'events-test' });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  it('lists nothing before any event was recorded', async () => {
    expect((await listEvents(bus)).items).toEqual([]);
  });

  it('creates the stream with file storage, subjects mk.events.<ns>.<kind>.<source> and a max age of one hour', async () => {
    await ensureEventsStream(bus);
    await ensureEventsStream(bus); // an existing stream is fine
    const { config } = await bus.jsm.streams.info(EVENTS_STREAM);
    expect(config).toMatchObject({ subjects: ['mk.events.*.*.*'], storage: 'file', max_age: EVENTS_MAX_AGE_MS * 1_000_000 });
  });

  it('records events on mk.events.<ns>.<kind> and lists them oldest first, filtered', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const rec = new EventRecorder(bus, { component: 'mk-node', host: 'n1' }, () => (t += 1000));
    const seen: string[] = [];
    const sub = bus.nc.subscribe('mk.events.>', { callback: (_e, m) => { seen.push(m.subject); } });
    rec.record(pod('web', 'u1'), 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
    rec.record(pod('web', 'u1'), 'Normal', 'Created', 'Created container app');
    rec.record(pod('db', 'u2'), 'Normal', 'Created', 'Created container db');
    rec.record(pod('web', 'u3', 'other'), 'Normal', 'Started', 'Started container app');
    await rec.flush();
    await waitFor(() => seen.length === 4, 'publications');
    sub.unsubscribe();
    expect(seen).toContain(eventSubject('other', 'Pod', { component: 'mk-node', host: 'n1' }));

    const all = (await listEvents(bus)).items;
    expect(all.map((e) => `${e.metadata.namespace}/${e.involvedObject.name} ${e.reason}`))
      .toEqual(['default/web Pulled', 'default/web Created', 'default/db Created', 'other/web Started']);
    expect(all[0]).toMatchObject({ type: 'Normal', count: 1, source: { component: 'mk-node', host: 'n1' }, involvedObject: { kind: 'Pod', uid: 'u1' } });
    expect((await listEvents(bus, { namespace: 'default' })).items).toHaveLength(3);
    expect((await listEvents(bus, { namespace: 'default', involvedName: 'web' })).items.map((e) => e.reason)).toEqual(['Pulled', 'Created']);
    expect((await listEvents(bus, { involvedUid: 'u3' })).items.map((e) => e.metadata.namespace)).toEqual(['other']);
    expect((await listEvents(bus, { involvedKind: 'Node' })).items).toEqual([]);
  });

  it('aggregates repeats: published again under one name, listed once with the highest count', async () => {
    const rec = new EventRecorder(bus, { component: 'mk-node' });
    const crashing: KubeObject = pod('crash', 'u9');
    for (let i = 0; i < 3; i++) rec.record(crashing, 'Warning', 'BackOff', 'Back-off restarting failed container app in pod crash_default(u9)');
    await rec.flush();
    const items = (await listEvents(bus, { involvedUid: 'u9' })).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'Warning', reason: 'BackOff', count: 3 });
    expect(items[0].metadata.name).toMatch(/^crash\.[0-9a-f]{16}$/);
    expect(items[0].firstTimestamp <= items[0].lastTimestamp).toBe(true);
  });

  it('makes the stream again for an event recorded after it was lost, instead of dropping that event', async () => {
    const rec = new EventRecorder(bus, { component: 'mk-node' });
    rec.record(pod('first', 'u20'), 'Normal', 'Pulled', 'before');
    await rec.flush();
    await bus.jsm.streams.delete(EVENTS_STREAM);
    rec.record(pod('lost', 'u21'), 'Normal', 'Pulled', 'after the stream went');
    await rec.flush();
    expect((await listEvents(bus, { involvedUid: 'u21' })).items.map((e) => e.message)).toEqual(['after the stream went']);
  });

  it('publishes a burst in order, every event of it stored (acknowledgements awaited a batch at a time)', async () => {
    const rec = new EventRecorder(bus, { component: 'default-scheduler' });
    const names = Array.from({ length: 300 }, (_, i) => `burst-${i}`);
    const seen: string[] = [];
    const sub = bus.nc.subscribe('mk.events.burst.>', { callback: (_e, m) => { seen.push((JSON.parse(new TextDecoder().decode(m.data)) as { involvedObject: { name: string } }).involvedObject.name); } });
    for (const n of names) rec.record(pod(n, `uid-${n}`, 'burst'), 'Normal', 'Scheduled', `Successfully assigned burst/${n} to n1`);
    await rec.flush(10_000);
    await waitFor(() => seen.length === names.length, 'every publication');
    sub.unsubscribe();
    expect(seen).toEqual(names);
    expect((await listEvents(bus, { namespace: 'burst' })).items.map((e) => e.involvedObject.name).sort()).toEqual([...names].sort());
  });

  it('never throws into the caller, even when the bus is closed', async () => {
    const other = await connectBus({ servers: server.url, name: 'events-closed' });
    const rec = new EventRecorder(other, { component: 'x' });
    await other.close();
    expect(() => rec.record(pod('a', 'u0'), 'Normal', 'Started', 'x')).not.toThrow();
    await rec.flush();
  });
});
