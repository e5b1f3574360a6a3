/**
 * Starts the control plane: one nact ActorSystem with the api, the scheduler and one supervisor
 * per kind module that has a controller, over the object store on the bus.
 */
import { configurePersistence, start, stop as stopActor } from 'nact';
import { connectBus, JetStreamPersistenceEngine, ObjectStore, type BusOptions } from '../bus';
import { BUILTIN_NAMESPACES, isAlreadyExists, objectKey } from '../messages';
import { spawnApi, startWatchPublisher } from './api/api-actor';
import { admitCreate } from './api/admission';
import { startJournalGc } from './gc';
import type { ControllerContext } from './kind-module';
import { KIND_MODULES } from './kinds';
import { spawnKindSupervisor } from './kind-supervisor';
import { log } from './log';
import { namespaceModule } from './namespace/kind';
import { spawnScheduler } from './scheduler/scheduler-actor';

export interface ControlPlaneOptions { bus: BusOptions; dataDir?: string }
export interface ControlPlane { stop(): Promise<void> }

/** Connects to the bus, makes sure the built-in namespaces exist, and starts the actor tree. */
export async function runControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const bus = await connectBus({ ...opts.bus, name: opts.bus.name ?? 'mk-control-plane' });
  const store = await ObjectStore.open(bus);
  const engine = await JetStreamPersistenceEngine.open(bus);
  for (const name of BUILTIN_NAMESPACES) {
    const obj = admitCreate(namespaceModule, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined, new Date());
    try { await store.create(objectKey(namespaceModule.info.plural, undefined, name), obj); } catch (e) { if (!isAlreadyExists(e)) throw e; }
  }
  const system = start('mk-control-plane', configurePersistence(engine));
  const api = spawnApi(system, bus, store);
  const scheduler = spawnScheduler(system, store);
  const ctx: ControllerContext = { store, bus, scheduler, modules: KIND_MODULES };
  const supervisors = KIND_MODULES.flatMap((m) => (m.controller ? [spawnKindSupervisor(system, store, m.controller(ctx))] : []));
  const watch = await startWatchPublisher(bus, store);
  const gc = startJournalGc(store, engine);
  await api.ready;
  log.info({ supervisors: supervisors.length }, 'control plane started');
  return {
    async stop() {
      gc.stop();
      await api.stop();
      await watch.stop();
      await Promise.all(supervisors.map((s) => s.stop()));
      stopActor(system);
      await bus.close();
      log.info('control plane stopped');
    },
  };
}
