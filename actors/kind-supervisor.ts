/**
 * One supervisor per kind: an informer on the kind's key prefix in the object store, and one child
 * actor per object. A child is level-triggered: on any message it calls the kind's reconcile(key),
 * which re-reads what it needs and writes; when the object is deleted the child reconciles once
 * more (so derived state can go) and stops. The result decides what is next (STYLE.md): a requeue
 * delay sets a timer, a Conflict retries soon, any other error crashes the child, which its
 * supervisor restarts with backoff (common/supervision.ts). The informer relists whenever its watch
 * cannot resume (a server restart without its store, compaction), so no change is ever missed.
 */
import { dispatch, spawn, stop, type Ref } from 'nact';
import { startInformer, type Informer, type ObjectStore, type Stored } from '../bus';
import { actorName, isConflict, keyFilter, kindByPlural, parseKey } from '../messages';
import { describeActor } from '../common/actor-telemetry';
import { backoffOnCrash } from '../common/supervision';
import { log } from './log';

/** How long stop() waits, at most, for the reconciles under way. */
const STOP_DRAIN_MS = 5_000;

/** Resolves once every promise in `pending` (as it is now) settled, or after `ms`. */
async function drain(pending: ReadonlySet<Promise<unknown>>, ms: number): Promise<void> {
  if (pending.size === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  await Promise.race([Promise.allSettled([...pending]), late]);
  clearTimeout(timer);
}

/** What a kind plugs into its supervisor. */
export interface KindController {
  plural: string;
  /**
   * The supervisor's actor name, when not the plural: for a controller of objects another kind
   * owns (the endpoints controller reconciles services), so the two never share a name.
   */
  name?: string;
  /**
   * Reconciles one object by key; the object may be gone. Throws on unexpected faults. `observed`
   * is the object as the supervisor's informer last delivered it (null: deleted), which spares a
   * read of the store: it may be behind the store, so a write made from it must carry its
   * revision (a Conflict is retried soon). Controllers may ignore it and read the store.
   */
  reconcile(key: string, observed: Stored<unknown> | null): Promise<{ requeueAfterMs?: number } | void>;
  /** Periodic resync of every object (level-triggered safety net). */
  resyncMs?: number;
  /** Makes the controller's own buckets again after the server lost its store (called on every reconnect). */
  ensure?(): Promise<void>;
  /**
   * Called on every (re)start of the supervisor, before it lists: a restarted informer knows no
   * earlier keys, so it reports no deletion that happened meanwhile, and state derived from the
   * objects (the nodes' views of pods) must be checked against the store here.
   */
  prepare?(): Promise<void>;
  /**
   * Called once the informer's first listing is in, and again on every resync, with a test of
   * whether the informer holds a key now: derived state of objects the informer never saw (deleted between prepare's look at
   * the store and the informer's listing) must go here, since no deletion will be delivered.
   */
  listed?(holds: (key: string) => boolean): Promise<void>;
  /** Called when the supervisor stops: ends what prepare() started (an informer of its own). */
  stop?(): Promise<void>;
  /**
   * Called once, when the supervisor is spawned, with a way to ask for a reconcile of one of the
   * kind's objects by key, for a change elsewhere that concerns it (a replica set's or a Job's pod). A key
   * the supervisor's informer does not hold is ignored (its listing will bring it): false then.
   */
  bindEnqueue?(enqueue: (key: string) => boolean): void;
}

type SupervisorMsg = { type: 'start' };
type ChildMsg = { type: 'reconcile' } | { type: 'final' };
interface ChildState { timer?: NodeJS.Timeout }

/** A running kind supervisor. */
export interface KindSupervisor {
  ref: Ref<SupervisorMsg>;
  /** Stops the informer, the resync timer, every object actor and the supervisor, and waits (5 s at most) for the reconciles under way. */
  stop(): Promise<void>;
  /** Reconciles `key` again if the informer holds it (see KindController.bindEnqueue). */
  enqueue(key: string): boolean;
}

/** Spawns the supervisor for one kind under `parent` and starts it. */
export function spawnKindSupervisor(parent: Ref<unknown>, store: ObjectStore, controller: KindController): KindSupervisor {
  const children = new Map<string, Ref<ChildMsg>>();
  /** Children doing their last reconcile: their name is taken until they stop. */
  const finalizing = new Map<string, Ref<ChildMsg>>();
  // Held outside the actor's state so a reset (which re-runs 'start') can stop the old ones.
  let informer: Informer | undefined;
  let resync: NodeJS.Timeout | undefined;
  /** Key -> the object as the informer last delivered it (gone once deleted). */
  const latest = new Map<string, Stored<unknown>>();
  /** The reconciles under way: stop() waits for them, so nothing acts after it returned. */
  const inFlight = new Set<Promise<unknown>>();
  let stopping = false;

  /**
   * After a Conflict from the copy at `revision`: the store's copy replaces it unless the informer
   * delivered another meanwhile (read faults: kept as is). The informer's copy is normally only
   * late; on a cluster whose servers' copies diverged it may even be ahead of the store's.
   */
  const refresh = async (key: string, revision: number | undefined): Promise<void> => {
    const got = await store.get<unknown>(key).catch(() => undefined);
    if (got && got.revision !== revision && latest.get(key)?.revision === revision) latest.set(key, got);
  };

  const child = (key: string): Ref<ChildMsg> => {
    let ref = children.get(key);
    if (ref) return ref;
    const { namespace, name } = parseKey(key);
    ref = spawn(
      sup,
      async (state: ChildState = {}, msg: ChildMsg, ctx): Promise<ChildState> => {
        if (state.timer) clearTimeout(state.timer);
        if (stopping) return {};
        let requeueAfterMs: number | undefined;
        const observed = latest.get(key);
        const run = (async () => controller.reconcile(key, observed ?? null))();
        inFlight.add(run);
        try {
          const res = await run;
          requeueAfterMs = res?.requeueAfterMs;
        } catch (err) {
          if (!isConflict(err)) throw err;
          // The copy the informer delivered is not the store's: the retry starts from the store's,
          // not from the same copy again (a watch running late would make a loop of Conflicts).
          if (observed) await refresh(key, observed.revision);
          requeueAfterMs = 20 + Math.random() * 80;
        } finally {
          inFlight.delete(run);
        }
        // The last reconcile of a deleted object: also when it comes as a restart's wake-up, for the
        // intent outlives a crash of the child (it is the supervisor's, not the child's state).
        if (msg.type === 'final' || finalizing.has(key)) {
          stop(ctx.self);
          return {};
        }
        if (requeueAfterMs === undefined) return {};
        const self = ctx.self;
        // Requeue timers never keep the process alive on their own (the bus connection does).
        return { timer: setTimeout(() => dispatch(self, { type: 'reconcile' }), requeueAfterMs).unref() };
      },
      actorName(namespace, name),
      {
        onCrash: backoffOnCrash({ type: 'reconcile' }, (f, m) => log.warn({ ...f, key }, m)),
        afterStop: (state: ChildState | undefined) => {
          if (state?.timer) clearTimeout(state.timer);
          if (finalizing.get(key) === ref) finalizing.delete(key);
        },
      },
    );
    describeActor(ref, { kind: kindByPlural(controller.plural)?.singular ?? controller.plural, system: false, object: { kind: kindByPlural(controller.plural)?.kind ?? controller.plural, ...(namespace !== undefined ? { namespace } : {}), name } });
    children.set(key, ref);
    return ref;
  };

  /**
   * A change the informer delivered. Handled here rather than as a message to the supervisor: nact
   * copies an actor's map of children into the context of every message it handles, so with one
   * child per object each message would cost the number of objects.
   */
  const changed = (key: string, deleted: boolean): void => {
    // Stopped: the supervisor can take no child (a late informer event or a retry timer).
    if (stopping) return;
    if (finalizing.has(key)) {
      // The actor of the deleted object still has the name: look again once it is gone.
      setTimeout(() => changed(key, deleted), 20).unref();
    } else if (deleted) {
      // One last look (derived state of the object goes), then the child stops itself.
      const ref = children.get(key) ?? child(key);
      children.delete(key);
      finalizing.set(key, ref);
      dispatch(ref, { type: 'final' });
    } else {
      dispatch(child(key), { type: 'reconcile' });
    }
  };

  const sup: Ref<SupervisorMsg> = spawn(
    parent,
    async (state: Record<string, never> = {}, msg: SupervisorMsg): Promise<Record<string, never>> => {
      switch (msg.type) {
        case 'start': {
          await informer?.stop();
          // A (re)start begins with no children: nact's reset stopped any we had.
          children.clear();
          finalizing.clear();
          latest.clear();
          await controller.prepare?.();
          informer = await startInformer<unknown>(store, keyFilter(controller.plural), (ev) => {
            if (ev.type === 'DELETE') latest.delete(ev.key);
            else latest.set(ev.key, { key: ev.key, object: ev.object, revision: ev.revision });
            changed(ev.key, ev.type === 'DELETE');
          });
          await controller.listed?.((k) => latest.has(k));
          clearInterval(resync);
          if (controller.resyncMs) {
            resync = setInterval(() => {
              // A closed connection does not come back (a new leader term starts its own supervisors).
              if (store.bus.nc.isClosed()) { clearInterval(resync); return; }
              for (const ref of children.values()) dispatch(ref, { type: 'reconcile' });
              controller.listed?.((k) => latest.has(k))
                .catch((err: unknown) => log.warn({ err: String(err), kind: controller.plural }, 'resync of derived state failed; tried again on the next'));
            }, controller.resyncMs).unref();
          }
          return state;
        }
      }
    },
    controller.name ?? controller.plural,
    {
      onCrash: backoffOnCrash({ type: 'start' }, (f, m) => log.error({ ...f, kind: controller.plural }, m)),
    },
  );
  describeActor(sup, { kind: `${controller.name ?? controller.plural}-supervisor`, system: true });
  const enqueue = (key: string): boolean => {
    // After stop() a controller's own timers and informers may still call (they stop with it, last).
    if (stopping || !latest.has(key) || finalizing.has(key)) return false;
    dispatch(child(key), { type: 'reconcile' });
    return true;
  };
  controller.bindEnqueue?.(enqueue);
  dispatch(sup, { type: 'start' });
  return {
    ref: sup,
    enqueue,
    // The object actors are stopped here as well, not only with the supervisor (common/nact-fixes.ts).
    // The reconciles under way end first (each bounded by the store's timeouts, and STOP_DRAIN_MS
    // in all), so a controller that stopped does not act on what is written after (a stopped
    // leader's writes are also refused by its fenced store).
    async stop() {
      stopping = true;
      clearInterval(resync);
      await informer?.stop();
      for (const ref of [...children.values(), ...finalizing.values()]) stop(ref);
      children.clear();
      finalizing.clear();
      stop(sup);
      await drain(inFlight, STOP_DRAIN_MS);
      await controller.stop?.();
    },
  };
}
