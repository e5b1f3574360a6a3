/**
 * Starts the control plane: one nact ActorSystem with the api, the node api, the scheduler and one
 * supervisor per kind module that has a controller, over the object store on the bus. The control
 * plane owns the buckets and streams: it makes them at start and again after every reconnect, so
 * a server that comes back without its store is made whole (the built-in namespaces included).
 */
import { configurePersistence, start, stop as stopActor } from 'nact';
import { connectBus, ensureEventsStream, JetStreamPersistenceEngine, ObjectStore, type Bus, type BusOptions } from '../bus';
import { backoffDelay, sleep } from '../common/backoff';
import { BUILTIN_NAMESPACES, isAlreadyExists, objectKey } from '../messages';
import { spawnApi, startWatchPublisher } from './api/api-actor';
import { admitCreate } from './api/admission';
import { startGarbageCollector } from './garbage-collector';
import { startMaintenance } from './gc';
import type { ControllerContext } from './kind-module';
import { KIND_MODULES } from './kinds';
import { resolveSettings, useSettings, type ControlPlaneSettings } from './settings';
import { spawnKindSupervisor, type KindController } from './kind-supervisor';
import { log } from './log';
import { namespaceModule } from './namespace/kind';
import { serveNodeApi } from './node/node-api';
import { spawnScheduler, type SchedulerConfig } from './scheduler/scheduler-actor';

export interface ControlPlaneOptions {
  bus: BusOptions;
  dataDir?: string;
  /** The scheduler's policy and queue settings (defaults: least-allocated, 5 min flush). */
  scheduler?: SchedulerConfig;
}
export interface ControlPlane { stop(): Promise<void> }

/** The built-in namespaces: made once, and again if the store was lost. */
async function ensureNamespaces(store: ObjectStore): Promise<void> {
  for (const name of BUILTIN_NAMESPACES) {
    const obj = admitCreate(namespaceModule, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined, new Date());
    try { await store.create(objectKey(namespaceModule.info.plural, undefined, name), obj); } catch (e) { if (!isAlreadyExists(e)) throw e; }
  }
}

/**
 * After a reconnect, makes again whatever the server lost, retrying until it works (the server
 * may still be starting). One pass at a time; a reconnect during a pass runs another after it.
 */
function ensureOnReconnect(bus: Bus, ensure: () => Promise<void>): { stop(): void } {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const pass = async (): Promise<void> => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await ensure();
        return;
      } catch (err) {
        log.warn({ err: String(err), attempt }, 'could not make the store again after a reconnect; retrying');
        await sleep(backoffDelay({ initialMs: 200, maxMs: 5_000 }, attempt));
      }
    }
  };
  const unlisten = bus.onReconnect(() => {
    if (running) { again = true; return; }
    running = (async () => {
      do { again = false; await pass(); } while (again && !stopped);
    })().finally(() => { running = undefined; });
  });
  return { stop() { stopped = true; unlisten(); } };
}

/**
 * Connects to the bus, makes the store and the built-in namespaces, and starts the actor tree.
 * `settings` (node lifecycle, default tolerations) override the environment's
 * (actors/settings.ts); a bad value in the environment throws ValidationError naming it.
 */
export async function runControlPlane(opts: ControlPlaneOptions & { settings?: Partial<ControlPlaneSettings> }): Promise<ControlPlane> {
  useSettings(resolveSettings(opts.settings));
  const bus = await connectBus({ ...opts.bus, name: opts.bus.name ?? 'mk-control-plane' });
  const store = await ObjectStore.open(bus);
  const engine = await JetStreamPersistenceEngine.open(bus);
  await ensureEventsStream(bus);
  await ensureNamespaces(store);
  const system = start('mk-control-plane', configurePersistence(engine));
  const api = spawnApi(system, bus, store);
  const nodeApi = serveNodeApi(bus, store);
  const scheduler = spawnScheduler(system, store, opts.scheduler);
  const ctx: ControllerContext = { store, bus, scheduler, modules: KIND_MODULES };
  const controllers: KindController[] = [];
  for (const m of KIND_MODULES) if (m.controller) controllers.push(await m.controller(ctx));
  const supervisors = controllers.map((c) => spawnKindSupervisor(system, store, c));
  const reconnects = ensureOnReconnect(bus, async () => {
    await store.ensure();
    await engine.ensure();
    await ensureEventsStream(bus);
    for (const c of controllers) await c.ensure?.();
    await ensureNamespaces(store);
  });
  const watch = await startWatchPublisher(bus, store);
  const collector = await startGarbageCollector(system, store, KIND_MODULES);
  const maintenance = startMaintenance(store, engine);
  await Promise.all([api.ready, nodeApi.ready]);
  log.info({ supervisors: supervisors.length }, 'control plane started');
  return {
    async stop() {
      maintenance.stop();
      reconnects.stop();
      await api.stop();
      await nodeApi.stop();
      await watch.stop();
      await collector.stop();
      await Promise.all(supervisors.map((s) => s.stop()));
      stopActor(system);
      await bus.close();
      log.info('control plane stopped');
    },
  };
}
