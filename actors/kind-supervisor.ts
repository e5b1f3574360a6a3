/**
 * One supervisor per kind: it watches the kind's key prefix in the object store and keeps one
 * child actor per object. A child is level-triggered: on any message it calls the kind's
 * reconcile(key), which re-reads what it needs and writes. The result decides what is next
 * (STYLE.md): a requeue delay sets a timer, a Conflict retries at once, any other error crashes
 * the child, which its supervisor restarts with backoff (supervision.ts).
 */
import { dispatch, spawn, stop, type Ref } from 'nact';
import type { ObjectStore } from '../bus';
import { actorName, isConflict, keyFilter, parseKey } from '../messages';
import { log } from './log';
import { backoffOnCrash } from '../common/supervision';

/** What a kind plugs into its supervisor. */
export interface KindController {
  plural: string;
  /** Reconciles one object by key; the object may be gone. Throws on unexpected faults. */
  reconcile(key: string): Promise<{ requeueAfterMs?: number } | void>;
  /** Periodic resync of every object (level-triggered safety net). */
  resyncMs?: number;
}

type SupervisorMsg = { type: 'start' } | { type: 'changed'; key: string; deleted: boolean } | { type: 'resync' };
type ChildMsg = { type: 'reconcile' };
interface ChildState { timer?: NodeJS.Timeout }

/** A running kind supervisor. */
export interface KindSupervisor {
  ref: Ref<SupervisorMsg>;
  /** Stops the watch, the resync timer, every object actor and the supervisor. */
  stop(): Promise<void>;
}

/** Spawns the supervisor for one kind under `parent` and starts it. */
export function spawnKindSupervisor(parent: Ref<unknown>, store: ObjectStore, controller: KindController): KindSupervisor {
  const children = new Map<string, Ref<ChildMsg>>();
  // Held outside the actor's state so a reset (which re-runs 'start') can stop the old ones.
  let watch: { stop(): Promise<void> } | undefined;
  let resync: NodeJS.Timeout | undefined;

  const child = (key: string): Ref<ChildMsg> => {
    let ref = children.get(key);
    if (ref) return ref;
    const { namespace, name } = parseKey(key);
    ref = spawn(
      sup,
      async (state: ChildState = {}, _msg: ChildMsg, ctx): Promise<ChildState> => {
        if (state.timer) clearTimeout(state.timer);
        let requeueAfterMs: number | undefined;
        try {
          const res = await controller.reconcile(key);
          requeueAfterMs = res?.requeueAfterMs;
        } catch (err) {
          if (!isConflict(err)) throw err;
          requeueAfterMs = 20 + Math.random() * 80;
        }
        if (requeueAfterMs === undefined) return {};
        const self = ctx.self;
        // Requeue timers never keep the process alive on their own (the bus connection does).
        return { timer: setTimeout(() => dispatch(self, { type: 'reconcile' }), requeueAfterMs).unref() };
      },
      actorName(namespace, name),
      {
        onCrash: backoffOnCrash({ type: 'reconcile' }, (f, m) => log.warn({ ...f, key }, m)),
        afterStop: (state: ChildState | undefined) => { if (state?.timer) clearTimeout(state.timer); },
      },
    );
    children.set(key, ref);
    return ref;
  };

  const sup: Ref<SupervisorMsg> = spawn(
    parent,
    async (state: Record<string, never> = {}, msg: SupervisorMsg, ctx): Promise<Record<string, never>> => {
      switch (msg.type) {
        case 'start': {
          await watch?.stop();
          const { items, revision } = await store.list(keyFilter(controller.plural));
          // A (re)start begins with no children: nact's reset stopped any we had.
          children.clear();
          for (const i of items) dispatch(child(i.key), { type: 'reconcile' });
          const self = ctx.self;
          watch = await store.watch(keyFilter(controller.plural), { fromRevision: revision + 1 }, (ev) => {
            dispatch(self, { type: 'changed', key: ev.key, deleted: ev.type === 'DELETE' });
          });
          clearInterval(resync);
          if (controller.resyncMs) resync = setInterval(() => dispatch(self, { type: 'resync' }), controller.resyncMs).unref();
          return state;
        }
        case 'changed':
          if (msg.deleted) {
            const ref = children.get(msg.key);
            if (ref) { stop(ref); children.delete(msg.key); }
          } else {
            dispatch(child(msg.key), { type: 'reconcile' });
          }
          return state;
        case 'resync':
          for (const ref of children.values()) dispatch(ref, { type: 'reconcile' });
          return state;
      }
    },
    controller.plural,
    {
      onCrash: backoffOnCrash({ type: 'start' }, (f, m) => log.error({ ...f, kind: controller.plural }, m)),
    },
  );
  dispatch(sup, { type: 'start' });
  return {
    ref: sup,
    // nact's stop() does not reach grandchildren, so the supervisor stops its own.
    async stop() {
      clearInterval(resync);
      await watch?.stop();
      for (const ref of children.values()) stop(ref);
      children.clear();
      stop(sup);
    },
  };
}
