import { configurePersistence, dispatch, query, spawnPersistent, start, stop, type ActorContext, type PersistedEvent, type Ref } from 'nact';
import { connectBus, type Bus } from '../../../bus/connection';
import { JetStreamPersistenceEngine } from '../../../bus/persistence';
import { ConflictError, isConflict } from '../../../messages/errors';
import { caught, startNatsServer, type NatsServer } from '../../helpers/nats-server';

/** nact's typings call the elements DOM Events; they are PersistedEvents. */
const read = async (engine: JetStreamPersistenceEngine, key: string, offset: number, limit?: number, tags?: string[]) =>
  (await engine.events(key, offset, limit, tags)) as unknown as PersistedEvent[];

const ev = (key: string, n: number, data: unknown, tags: string[] = []) =>
  ({ key, sequenceNumber: n, data, tags, createdAt: Date.now(), isDeleted: false });

describe('JetStreamPersistenceEngine', () => {
  let server: NatsServer;
  const buses: Bus[] = [];
  const connect = async (name: string) => {
    const bus = await connectBus({ servers: server.url, name });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await server?.stop();
  });

  it('reads events back honouring offset, limit and tags', async () => {
    const engine = await JetStreamPersistenceEngine.open(await connect('engine-a'));
    const key = 'workflows/default/run-1'; // '/' and others are fine: keys are base64url-encoded
    for (let n = 1; n <= 6; n++) await engine.persist(ev(key, n, { step: n }, n % 2 === 0 ? ['even', 'x'] : ['x']));
    await engine.persist(ev('other', 1, {}));

    expect((await read(engine, key, 0)).map((e) => e.sequenceNumber)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await read(engine, key, 3)).map((e) => e.sequenceNumber)).toEqual([4, 5, 6]);
    expect((await read(engine, key, 1, 2)).map((e) => e.sequenceNumber)).toEqual([2, 3]);
    expect((await read(engine, key, 0, undefined, ['even'])).map((e) => e.sequenceNumber)).toEqual([2, 4, 6]);
    expect(await engine.events(key, 0).reduce((sum, e) => sum + (e.data as { step: number }).step, 0)).toBe(21);
    expect(await engine.events('never-written', 0)).toEqual([]);
  });

  it('rejects a stale writer with ConflictError', async () => {
    const one = await JetStreamPersistenceEngine.open(await connect('engine-1'));
    const two = await JetStreamPersistenceEngine.open(await connect('engine-2'));
    const key = 'stale-writer';
    for (let n = 1; n <= 3; n++) await one.persist(ev(key, n, n));
    expect(await two.events(key, 0)).toHaveLength(3);
    await two.persist(ev(key, 4, 'from two'));
    // one still believes event 3 is the last: the server's expected-sequence check refuses it.
    expect(isConflict(await caught(one.persist(ev(key, 4, 'from one'))))).toBe(true);
    // Without a cached position the journal itself shows event 4 exists.
    expect(await caught(one.persist(ev(key, 4, 'from one again')))).toBeInstanceOf(ConflictError);
    expect((await read(two, key, 3)).map((e) => e.data)).toEqual(['from two']);
  });

  it('appends a range of events as one message, under the same single-writer check', async () => {
    const one = await JetStreamPersistenceEngine.open(await connect('engine-range-1'));
    const two = await JetStreamPersistenceEngine.open(await connect('engine-range-2'));
    const key = 'ranges';
    await one.persist(ev(key, 1, 'first'));
    await one.persistRange(ev(key, 4, ['two', 'three', 'four']), 2);
    await one.persist(ev(key, 5, 'five'));
    expect((await read(two, key, 0)).map((e) => [e.sequenceNumber, e.data])).toEqual([[1, 'first'], [4, ['two', 'three', 'four']], [5, 'five']]);
    // A range must follow the last event: two knows 5, so a range from 5 (or before) is stale.
    expect(await caught(two.persistRange(ev(key, 7, ['x', 'y']), 5))).toBeInstanceOf(ConflictError);
    await two.persistRange(ev(key, 7, ['six', 'seven']), 6);
    // one still believes 5 is the last event: the server refuses its range after 5.
    expect(isConflict(await caught(one.persistRange(ev(key, 8, ['6', '7', '8']), 6)))).toBe(true);
    expect(String(await caught(one.persistRange(ev(key, 3, []), 4)))).toMatch(/not a range/);
  });

  it('keeps the newest snapshot', async () => {
    const engine = await JetStreamPersistenceEngine.open(await connect('engine-snap'));
    expect(await engine.latestSnapshot('snap')).toBeUndefined();
    await engine.takeSnapshot({ key: 'snap', sequenceNumber: 5, data: { v: 5 }, createdAt: 1 });
    await engine.takeSnapshot({ key: 'snap', sequenceNumber: 3, data: { v: 3 }, createdAt: 2 });
    expect(await engine.latestSnapshot('snap')).toEqual({ key: 'snap', sequenceNumber: 5, data: { v: 5 }, createdAt: 1 });
  });

  describe('with nact', () => {
    type CounterMsg = { type: 'inc'; by: number } | { type: 'get'; sender: Ref<Counter> };
    interface Counter { count: number; fromSnapshot?: boolean }

    const counter = async (state: Counter = { count: 0 }, msg: CounterMsg, ctx: ActorContext<CounterMsg, Ref<never>>): Promise<Counter> => {
      if (msg.type === 'inc') {
        // nact's typings leave `persist` and `recovering` off the context its persistent actors get.
        const pctx = ctx as unknown as { recovering?: boolean; persist: (m: CounterMsg) => Promise<void> };
        if (!pctx.recovering) await pctx.persist(msg);
        return { ...state, count: state.count + msg.by };
      }
      dispatch(msg.sender, state);
      return state;
    };

    const run = async (name: string, key: string, snapshotEvery: number | undefined, body: (ref: Ref<CounterMsg>) => Promise<void>) => {
      const engine = await JetStreamPersistenceEngine.open(await connect(name));
      const system = start(configurePersistence(engine));
      try {
        const ref = spawnPersistent(system, counter, key, 'counter', {
          snapshotEvery,
          // Marks state that went through a snapshot, so the test can tell how it was recovered.
          snapshotEncoder: (s: Counter) => ({ ...s, fromSnapshot: true }),
        }) as Ref<CounterMsg>;
        await body(ref);
      } finally {
        stop(system);
      }
    };
    const get = (ref: Ref<CounterMsg>) => query(ref, (sender: Ref<Counter>) => ({ type: 'get', sender }) as CounterMsg, 5000) as Promise<Counter>;

    it('recovers a persistent actor in a new system from its journal', async () => {
      await run('nact-1', 'counter-journal', undefined, async (ref) => {
        for (let i = 1; i <= 5; i++) dispatch(ref, { type: 'inc', by: i });
        expect((await get(ref)).count).toBe(15);
      });
      await run('nact-2', 'counter-journal', undefined, async (ref) => {
        expect(await get(ref)).toEqual({ count: 15 });
        dispatch(ref, { type: 'inc', by: 1 });
        expect((await get(ref)).count).toBe(16);
      });
      await run('nact-3', 'counter-journal', undefined, async (ref) => {
        expect((await get(ref)).count).toBe(16);
      });
    });

    it('recovers from the snapshot plus the events after it', async () => {
      await run('nact-snap-1', 'counter-snap', 3, async (ref) => {
        for (let i = 0; i < 7; i++) dispatch(ref, { type: 'inc', by: 1 });
        expect((await get(ref)).count).toBe(7);
      });
      const probe = await JetStreamPersistenceEngine.open(await connect('probe'));
      const snap = await probe.latestSnapshot('counter-snap');
      expect(snap.sequenceNumber).toBe(6);
      await run('nact-snap-2', 'counter-snap', 3, async (ref) => {
        expect(await get(ref)).toEqual({ count: 7, fromSnapshot: true });
      });
    });
  });
});
