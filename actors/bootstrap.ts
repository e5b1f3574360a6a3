/**
 * Starts a control plane replica: one nact ActorSystem with the api and the node api, and, while
 * it leads (actors/leadership.ts), the scheduler and one supervisor per kind module that has a
 * controller, over the object store on the bus. The control
 * plane owns the buckets and streams: it makes them at start and again after every reconnect, so
 * a server that comes back without its store is made whole (the built-in namespaces included).
 */
import { ensureAsyncStreams } from '../bus/function-async';
import { ensureTriggerStreams } from '../bus/trigger-streams';
import { openCodeBucket } from '../bus/function-code';
import { configurePersistence, spawn, start, stop as stopActor, type Ref } from 'nact';
import {
  shareInformers, checkKeyCanary, checkSealedSecrets, connectBus, DEFAULT_LEASE_SECONDS, ensureActorStream, ensureEventsStream, JetStreamPersistenceEngine,
  ObjectStore, sealStoredSecrets, type Bus, type BusOptions, type Informer, type KeyRing, untilJetStreamReady,
} from '../bus';
// Not through bus/index: only the processes that run actors load actor telemetry (nact, prom-client).
import { startActorFeed } from '../bus/actor-feed';
import { backoffDelay, sleep } from '../common/backoff';
import { actorTelemetryWanted, describeActor } from '../common/actor-telemetry';
import { BUILTIN_NAMESPACES, isAlreadyExists, localPathStorageClass, objectKey, telemetryProcess, type KubeObject } from '../messages';
import { spawnApi, startWatchPublisher } from './api/api-actor';
import { admitCreate } from './api/admission';
import { startGarbageCollector } from './garbage-collector';
import { hpaSyncPeriodFromEnv } from './hpa/controller';
import { startMaintenance } from './gc';
import type { ControllerContext } from './kind-module';
import { KIND_MODULES } from './kinds';
import { resolveSettings, useSettings, type ControlPlaneSettings } from './settings';
import { spawnKindSupervisor, type KindController, type KindSupervisor } from './kind-supervisor';
import { controlPlaneIdentity, startLeadership, type LeaderWork } from './leadership';
import { log } from './log';
import { startMetrics, type MetricsOptions, type MetricsService } from './metrics';
import { namespaceModule } from './namespace/kind';
import { serveNodeApi } from './node/node-api';
import { serveLocalVolumesApi } from './node/local-volumes-api';
import { serveFileTriggersApi } from './node/file-triggers-api';
import { spawnScheduler, type SchedulerConfig } from './scheduler/scheduler-actor';
import { storageClassModule } from './volume/kind';

/** How to run a control plane. */
export interface ControlPlaneOptions {
  bus: BusOptions;
  dataDir?: string;
  /** The lease time in seconds (default 15): how long a dead leader's work waits for a standby. */
  leaseSeconds?: number;
  /** The scheduler's policy and queue settings (defaults: least-allocated, 5 min flush). */
  scheduler?: SchedulerConfig;
  /** Node lifecycle and default tolerations; they override the environment's (actors/settings.ts). */
  settings?: Partial<ControlPlaneSettings>;
  /** The lease holder identity (default `<host>_<pid>_<random>`). */
  identity?: string;
  /** The metrics actor's settings (how soon a silent node is forgotten). */
  metrics?: MetricsOptions;
  /**
   * The keys Secrets are encrypted with in the store (the key ring's `source` names its file).
   * Without, Secrets are stored in clear, and a store holding encrypted ones refuses the start.
   */
  encryptionKeys?: KeyRing;
  /**
   * Make the built-in `local-path` StorageClass (the default class, mk.io/local-path) when the
   * store has none of that name, at every start, with its volumes under `nodePath` on each node
   * (absent: LOCAL_PATH_DEFAULT_BASE); a class of that name is never changed. `mk up` and
   * `mk control-plane` ask for it; absent, a bare control plane makes no class.
   */
  defaultStorageClass?: { nodePath?: string };
}
/** A running control plane replica. */
export interface ControlPlane {
  /** Its lease holder identity. */
  identity: string;
  /** True while it leads (holds the lease and runs the controllers). */
  isLeader(): boolean;
  /** Stops it; a leader stops its controllers and gives the lease up first. */
  stop(): Promise<void>;
}

/** The built-in namespaces: made once, and again if the store was lost. */
async function ensureNamespaces(store: ObjectStore): Promise<void> {
  for (const name of BUILTIN_NAMESPACES) {
    const obj = admitCreate(namespaceModule, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined, new Date());
    try { await store.create(objectKey(namespaceModule.info.plural, undefined, name), obj); } catch (e) { if (!isAlreadyExists(e)) throw e; }
  }
}

/**
 * The built-in `local-path` StorageClass, made when absent (as k3s applies its local-storage
 * manifest at start); one of that name, however a user changed it, is left as it is.
 */
export async function ensureLocalPathClass(store: ObjectStore, nodePath?: string): Promise<void> {
  const obj = admitCreate(storageClassModule, localPathStorageClass(nodePath) as unknown as KubeObject, undefined, new Date());
  try {
    await store.create(objectKey(storageClassModule.info.plural, undefined, obj.metadata.name), obj);
    log.info({ class: obj.metadata.name }, 'default StorageClass made');
  } catch (e) { if (!isAlreadyExists(e)) throw e; }
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
 * The leader's work for one term, under an actor of its own (`leader-<term>`): the scheduler, one
 * supervisor per kind with a controller, the watch publisher and maintenance, all writing through
 * `store` (fenced by the lease). Stops everything it started if a part fails to start.
 */
async function lead(
  system: Ref<unknown>, bus: Bus, store: ObjectStore, engine: JetStreamPersistenceEngine, term: number, schedulerConfig?: SchedulerConfig,
  metricsOptions?: MetricsOptions,
): Promise<LeaderWork & { controllers: KindController[] }> {
  const parent = spawn(system, (state: Record<string, never> = {}) => state, `leader-${term}`);
  describeActor(parent, { kind: 'leader', system: true });
  const controllers: KindController[] = [];
  const supervisors: KindSupervisor[] = [];
  let watch: Informer | undefined;
  let maintenance: { stop(): void } | undefined;
  let collector: { stop(): Promise<void> } | undefined;
  let metrics: MetricsService | undefined;
  const stop = async (): Promise<void> => {
    await metrics?.stop();
    maintenance?.stop();
    await watch?.stop();
    await collector?.stop();
    await Promise.all(supervisors.map((s) => s.stop()));
    stopActor(parent);
  };
  // Secrets still stored in clear or under an older key are sealed with the current one. Only a
  // failure to write is left for the next term: the Secrets stay readable meanwhile.
  await sealStoredSecrets(store).catch((err: unknown) => {
    log.error({ err: String(err), term }, 'could not encrypt the stored Secrets with the current key; the next term tries again');
  });
  // The scheduler's cache, the supervisors, the watch publisher and the collector all watch the
  // store: one watch between them, so each change crosses the bus and is decoded once.
  shareInformers(store);
  try {
    const scheduler = spawnScheduler(parent, store, schedulerConfig);
    const ctx: ControllerContext = { store, bus, scheduler, modules: KIND_MODULES };
    for (const m of KIND_MODULES) if (m.controller) controllers.push(await m.controller(ctx));
    for (const c of controllers) supervisors.push(spawnKindSupervisor(parent, store, c));
    watch = await startWatchPublisher(bus, store);
    collector = await startGarbageCollector(parent, store, KIND_MODULES);
    maintenance = startMaintenance(store, engine);
    metrics = startMetrics(parent, bus, store, metricsOptions);
    await metrics.ready;
  } catch (err) {
    await stop();
    throw err;
  }
  log.info({ supervisors: supervisors.length, term }, 'controllers started');
  return { controllers, stop };
}

/**
 * Connects to the bus, makes the store and the built-in namespaces, serves the api and campaigns
 * for the lease; the controllers run while this process leads (actors/leadership.ts). A bad
 * setting in the environment throws ValidationError naming it.
 */
export async function runControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  useSettings(resolveSettings(opts.settings));
  // Checked here, so that a bad MK_HPA_SYNC_PERIOD stops the start instead of every term's controllers.
  hpaSyncPeriodFromEnv();
  const bus = await connectBus({ ...opts.bus, name: opts.bus.name ?? 'mk-control-plane' });
  // A fresh cluster may take the buckets only once every server has joined: wait for that.
  const { store, engine } = await untilJetStreamReady('make the store', async () => {
    const made = { store: await ObjectStore.open(bus, { keys: opts.encryptionKeys }), engine: await JetStreamPersistenceEngine.open(bus) };
    await ensureEventsStream(bus);
    await ensureActorStream(bus);
    await openCodeBucket(bus.nc, { create: true, replicas: bus.replicas });
    await ensureAsyncStreams(bus.jsm, bus.js, bus.replicas);
    await ensureTriggerStreams(bus.jsm, bus.js, bus.replicas);
    await ensureNamespaces(made.store);
    if (opts.defaultStorageClass) await ensureLocalPathClass(made.store, opts.defaultStorageClass.nodePath);
    return made;
  }).catch(async (err: unknown) => { await bus.close(); throw err; });
  // Keys that cannot open the stored Secrets would fail every read of them: refuse to start.
  await checkSealedSecrets(store, 'the control plane was started without a key file')
    .catch(async (err: unknown) => { await bus.close(); throw err; });
  // Even before any Secret exists, keys other than the cluster's would seal Secrets the others cannot open.
  await checkKeyCanary(store).catch(async (err: unknown) => { await bus.close(); throw err; });
  if (!opts.encryptionKeys) log.warn('no encryption keys given: Secrets are stored in clear');
  const identity = opts.identity ?? controlPlaneIdentity();
  // Before the ActorSystem, so every actor is seen from its spawn (MK_ACTOR_TELEMETRY=off: none).
  const held: { leadership?: { isLeader(): boolean } } = {};
  const feed = actorTelemetryWanted()
    ? startActorFeed(bus, { process: telemetryProcess('control-plane', identity), role: 'control-plane', leading: () => held.leadership?.isLeader() ?? false })
    : undefined;
  const system = start('mk-control-plane', configurePersistence(engine));
  const api = spawnApi(system, bus, store);
  const nodeApi = serveNodeApi(bus, store);
  const localVolumesApi = serveLocalVolumesApi(bus, store);
  const fileTriggersApi = serveFileTriggersApi(bus, store);
  let controllers: KindController[] = [];
  const reconnects = ensureOnReconnect(bus, async () => {
    await store.ensure();
    await engine.ensure();
    await ensureEventsStream(bus);
    await ensureActorStream(bus);
    await openCodeBucket(bus.nc, { create: true, replicas: bus.replicas });
    await ensureAsyncStreams(bus.jsm, bus.js, bus.replicas);
    await ensureTriggerStreams(bus.jsm, bus.js, bus.replicas);
    for (const c of controllers) await c.ensure?.();
    await ensureNamespaces(store);
  });
  await Promise.all([api.ready, nodeApi.ready, localVolumesApi.ready, fileTriggersApi.ready]);
  const leadership = startLeadership({
    store,
    identity,
    leaseSeconds: opts.leaseSeconds,
    async lead(fenced, term) {
      const work = await lead(system, bus, fenced, engine, term, opts.scheduler, opts.metrics);
      controllers = work.controllers;
      return { stop: async () => { controllers = []; await work.stop(); } };
    },
  });
  held.leadership = leadership;
  log.info({ identity, leaseSeconds: opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS }, 'control plane started; campaigning for the lease');
  return {
    identity,
    isLeader: () => leadership.isLeader(),
    async stop() {
      await leadership.stop();
      reconnects.stop();
      await api.stop();
      await nodeApi.stop();
      await localVolumesApi.stop();
      await fileTriggersApi.stop();
      stopActor(system);
      await feed?.stop();
      await bus.close();
      log.info('control plane stopped');
    },
  };
}
