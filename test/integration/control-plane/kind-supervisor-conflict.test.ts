/**
 * A kind supervisor whose informer's copy is not the store's: a write made from it is a Conflict,
 * and the retry starts from the store's copy rather than from the same copy again (which would be
 * a loop of Conflicts for as long as the watch stays behind, or forever where a cluster's servers'
 * copies diverged). And a supervisor that is stopping takes no more work from its controller's
 * timers. Against a real nats-server; the watch that never delivers is a fake (a store whose watch
 * drops every change), named as such.
 */
import { start, stop as stopActor } from 'nact';
import { connectBus, ObjectStore, type Bus, type Stored } from '../../../bus';
import { spawnKindSupervisor, type KindController } from '../../../actors';
import { isConflict } from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(60_000);

interface Obj { metadata: { name: string }; n: number; touched?: boolean }

describe('a kind supervisor after a Conflict', () => {
  let server: NatsServer;
  let bus: Bus;
  let store: ObjectStore;
  let system: ReturnType<typeof start> | undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'kind-supervisor-conflict' });
    store = await ObjectStore.open(bus);
  });
  afterAll(async () => {
    if (system) stopActor(system);
    await bus?.close();
    await server?.stop();
  });

  it('retries from the store\'s copy when the informer\'s is not the store\'s', async () => {
    const key = 'pods.default.a';
    await store.create<Obj>(key, { metadata: { name: 'a' }, n: 1 });
    // Fake: a store whose watch never delivers, so the informer keeps its first listing.
    const deaf = Object.create(store) as ObjectStore;
    deaf.watch = async () => ({ stop: async () => undefined });
    let conflicts = 0;
    let written = false;
    const controller: KindController = {
      plural: 'pods',
      async reconcile(k, observed) {
        const cur = observed as Stored<Obj> | null;
        if (!written) return { requeueAfterMs: 20 };
        if (!cur || cur.object.touched) return;
        try {
          await store.update(k, { ...cur.object, touched: true }, cur.revision);
        } catch (err) {
          if (isConflict(err)) conflicts++;
          throw err;
        }
      },
    };
    system = start();
    const listed = await store.get<Obj>(key);
    // Written once the informer listed (its first reconcile may run before): it never hears of it.
    const sup = spawnKindSupervisor(system, deaf, {
      ...controller,
      listed: async () => {
        await store.update<Obj>(key, { metadata: { name: 'a' }, n: 2 }, listed!.revision);
        written = true;
      },
    });
    try {
      const done = await waitFor('the write from the store\'s copy', async () => {
        const got = await store.get<Obj>(key);
        return got?.object.touched ? got.object : null;
      }, 10_000, 50);
      // The store's n (2), not the listing's: the retry wrote from the store's copy.
      expect(done.n).toBe(2);
      expect(conflicts).toBe(1);
    } finally {
      await sup.stop();
    }
  });

  it('takes no more work once stopping: a controller\'s late timer finds enqueue refusing, not a stopped actor', async () => {
    const key = 'pods.default.late';
    await store.create<Obj>(key, { metadata: { name: 'late' }, n: 1 });
    let enqueue: ((k: string) => unknown) | undefined;
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => { release = r; });
    let started = false;
    let stopped = false;
    system ??= start();
    const sup = spawnKindSupervisor(system, store, {
      plural: 'pods',
      bindEnqueue(e) { enqueue = e; },
      // The reconcile under way keeps stop() draining; the controller's own stop comes after.
      async reconcile(k) { if (k === key) { started = true; await held; } },
      async stop() { stopped = true; },
    });
    await waitFor('the reconcile under way', async () => started, 10_000);
    const stopping = sup.stop();
    // What a controller's timer or informer does before its own stop has run (the volume
    // controller's wake of pending claims, for one).
    expect(stopped).toBe(false);
    expect(enqueue!(key)).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
  });
});
