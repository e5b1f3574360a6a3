/**
 * The api actor: serves the subject API (mk.api.*, the watch streams of watch.ts among them) and
 * publishes every change of every object on mk.watch.<key> for watchers. Writes go through the
 * actor's mailbox into per-key lanes (write-lanes.ts): writes of one object run in arrival order,
 * writes of different objects overlap, at most WRITE_LIMIT at once; a namespace's deletion and
 * the creations in it never overlap. A write that loses a race to another writer re-reads and
 * decides again, so "created" and "configured" answer as if the writes had been serialized. Reads
 * need no ordering and are answered at once, so a large list never holds up a write.
 *
 * Let it crash: a write that fails with anything but an mk error (a bug, not a refusal or a
 * store fault) is answered as Internal and then thrown in the actor, whose supervisor restarts it
 * after a backoff; writes that arrive meanwhile wait in its mailbox, writes in flight finish.
 */
import { dispatch, query, spawn, type Ref } from 'nact';
import { encode, serve, startInformer, type Bus, type Informer, type ObjectStore } from '../../bus';
import {
  API, ErrorCodes, MkError, kindByPlural, kindOf, objectKey, parseKey, resolveKind, NamespaceKind,
  type ApplyRequest, type CreateRequest, type DeleteRequest, type PatchRequest, type UpdateRequest, type UpdateStatusRequest, type GetRequest, type KubeObject, type ListRequest, type WatchEvent,
} from '../../messages';
import { log } from '../log';
import { describeActor } from '../../common/actor-telemetry';
import { backoffOnCrash, DEFAULT_RESTART_POLICY, type RestartPolicy } from '../../common/supervision';
import { apply, checkRequest, gatewayList, get, list, remove } from './handlers';
import { serveWatch } from './watch';
import { timed } from './metrics';
import { Gates, WriteLanes } from './write-lanes';
import { NamespaceCache } from './namespace-cache';
import { RecentObjects } from './recent-objects';
import { create, patch, update, updateStatus } from './writes';

type Verb = 'apply' | 'delete' | 'create' | 'update' | 'patch' | 'updateStatus';
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
export type ApiMsg =
  | { type: 'api/request'; verb: Verb; req: unknown; sender: Ref<Outcome> }
  | { type: 'api/start' }
  | { type: 'api/fault'; error: unknown };
/** A write handler, by verb. */
export type WriteHandler = (req: never) => Promise<unknown>;

const REQUEST_TIMEOUT_MS = 30_000;
/** Writes in flight at once; more wait in arrival order (a flood costs queue memory, not store load). */
export const WRITE_LIMIT = 256;

/**
 * The api actor's restarts: the usual backoff, capped at 5 s, and never escalated. Escalating
 * would stop the api for good (its parent is the actor system), so a request that trips a bug
 * again and again could take every write of this control plane down; instead each crash pauses
 * new writes for a backoff and is answered as Internal.
 */
export const API_RESTART_POLICY: RestartPolicy = { ...DEFAULT_RESTART_POLICY, maxMs: 5_000, maxRestarts: Infinity };

/** Where a write goes: its object's lane, and the namespace gate it holds, if any. */
interface Route { key: string; gate?: { namespace: string; exclusive: boolean } }

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The lane of a request, from its raw fields (the handler validates them): the store key of the
 * object it writes. A request too malformed to name one gets the lane '' (its handler refuses
 * it). Creations of namespaced objects share their namespace's gate; a namespace's deletion holds
 * it alone.
 */
export function routeOf(verb: Verb, req: Record<string, unknown>): Route {
  if (verb === 'delete' || verb === 'patch') {
    const kind = typeof req.kind === 'string' ? resolveKind(req.kind) : undefined;
    const name = str(req.name);
    if (!kind || name === undefined) return { key: '' };
    const key = objectKey(kind.plural, kind.namespaced ? str(req.namespace) ?? 'default' : undefined, name);
    return verb === 'delete' && kind === NamespaceKind ? { key, gate: { namespace: name, exclusive: true } } : { key };
  }
  const o = req.object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null | undefined;
  const kind = o && typeof o.apiVersion === 'string' && typeof o.kind === 'string' ? kindOf(o.apiVersion, o.kind) : undefined;
  const name = str(o?.metadata?.name);
  if (!kind || name === undefined) return { key: '' };
  const namespace = kind.namespaced ? str(o?.metadata?.namespace) ?? str(req.namespace) ?? 'default' : undefined;
  const key = objectKey(kind.plural, namespace, name);
  const creates = verb === 'apply' || verb === 'create';
  return namespace && creates ? { key, gate: { namespace, exclusive: false } } : { key };
}

/** A failure that is not part of the protocol: a bug, thrown to the supervisor. */
function isFault(err: unknown): boolean {
  return !(err instanceof MkError) || err.code === ErrorCodes.Internal;
}

/**
 * Spawns the api actor and binds the subjects to it. `opts.handlers` replaces write handlers (tests
 * inject faults with it); `opts.writeLimit` the bound on writes in flight; `opts.restartPolicy`
 * the actor's (default API_RESTART_POLICY). Returns the actor, a
 * promise of the subscriptions being ready, and a function that unbinds them.
 */
export function spawnApi(
  parent: Ref<unknown>, bus: Bus, store: ObjectStore,
  opts: { handlers?: Partial<Record<Verb, WriteHandler>>; writeLimit?: number; restartPolicy?: RestartPolicy } = {},
): { ref: Ref<ApiMsg>; ready: Promise<void>; stop(): Promise<void> } {
  const ctx = { store, bus, recent: new RecentObjects(), namespaces: new NamespaceCache() };
  // Without its first listing (the bus is down) every write reads its namespace: slower, not wrong.
  const cached = ctx.namespaces.start(store).catch((err: unknown) => {
    log.warn({ err: String(err) }, 'no namespace cache: writes read their namespace from the store');
  });
  const handlers: Record<Verb, WriteHandler> = {
    apply: (r: ApplyRequest) => apply(ctx, r),
    delete: (r: DeleteRequest) => remove(ctx, r),
    create: (r: CreateRequest) => create(ctx, r),
    update: (r: UpdateRequest) => update(ctx, r),
    patch: (r: PatchRequest) => patch(ctx, r),
    updateStatus: (r: UpdateStatusRequest) => updateStatus(ctx, r),
    ...opts.handlers,
  };
  // The lanes track writes in flight, which outlive a restart of the actor: kept out of its state,
  // so a write that arrives after a restart still waits for the one of its key still running.
  const lanes = new WriteLanes(opts.writeLimit ?? WRITE_LIMIT);
  const gates = new Gates();
  const reply = (to: Ref<Outcome>, out: Outcome) => {
    try { dispatch(to, out); } catch (err) { log.warn({ err: String(err) }, 'could not answer a write: the requester is gone'); }
  };
  const ref: Ref<ApiMsg> = spawn(
    parent,
    (state: Record<string, never> = {}, msg: ApiMsg): Record<string, never> => {
      if (msg.type === 'api/fault') throw msg.error;
      if (msg.type !== 'api/request') return state;
      let route: Route;
      try {
        route = routeOf(msg.verb, checkRequest(msg.req) as Record<string, unknown>);
      } catch (error) {
        reply(msg.sender, { ok: false, error });
        return state;
      }
      const run = () => handlers[msg.verb](msg.req as never);
      const { gate } = route;
      lanes.run(route.key, gate ? () => gates.run(gate.namespace, gate.exclusive, run) : run).then(
        (value) => reply(msg.sender, { ok: true, value }),
        (error: unknown) => {
          reply(msg.sender, { ok: false, error });
          if (isFault(error)) {
            try { dispatch(ref, { type: 'api/fault', error }); } catch { /* stopped: nothing left to restart */ }
          }
        },
      );
      return state;
    },
    'api',
    { onCrash: backoffOnCrash({ type: 'api/start' }, (f, m) => log.error(f, m), opts.restartPolicy ?? API_RESTART_POLICY) },
  );
  describeActor(ref, { kind: 'api', system: true });
  const through = (verb: Verb) => async (req: unknown) => {
    const out = await query(ref, (sender: Ref<Outcome>) => ({ type: 'api/request' as const, verb, req, sender }), REQUEST_TIMEOUT_MS);
    if (!out.ok) throw out.error;
    return out.value as Record<string, unknown>;
  };
  const subs = [
    serve(bus, API.apply, timed('apply', through('apply')), { queue: 'mk-api' }),
    serve(bus, API.get, timed('get', (r: GetRequest) => get(ctx, checkRequest(r))), { queue: 'mk-api' }),
    serve(bus, API.list, timed('list', (r: ListRequest) => list(ctx, checkRequest(r))), { queue: 'mk-api' }),
    serve(bus, API.gatewayList, timed('gateway-list', (r: ListRequest) => gatewayList(ctx, checkRequest(r))), { queue: 'mk-api' }),
    serve(bus, API.delete, timed('delete', through('delete')), { queue: 'mk-api' }),
    serve(bus, API.ping, async () => ({ time: new Date().toISOString() }), { queue: 'mk-api' }),
    serveWatch(bus, store),
    serve(bus, API.create, timed('create', through('create')), { queue: 'mk-api' }),
    serve(bus, API.update, timed('update', through('update')), { queue: 'mk-api' }),
    serve(bus, API.patch, timed('patch', through('patch')), { queue: 'mk-api' }),
    serve(bus, API.updateStatus, timed('update-status', through('updateStatus')), { queue: 'mk-api' }),
  ];
  return {
    ref,
    ready: Promise.all([...subs.map((s) => s.ready), cached]).then(() => undefined),
    stop: async () => {
      await Promise.all(subs.map((s) => s.stop()));
      await ctx.namespaces.stop();
    },
  };
}

/**
 * Publishes each object change on mk.watch.<plural>.<ns>.<name>, from an informer on the whole
 * store (so a relist after a lost store publishes what vanished as DELETED). ADDED vs MODIFIED
 * comes from whether the key was known; a deleted object is no longer readable, so DELETED
 * carries kind, name and namespace only.
 */
export function startWatchPublisher(bus: Bus, store: ObjectStore): Promise<Informer> {
  return startInformer<KubeObject>(store, '>', (ev) => {
    const { plural, namespace, name } = parseKey(ev.key);
    const kind = kindByPlural(plural);
    if (!kind) {
      // Written by something other than mk's api (the bucket is the control plane's alone).
      log.warn({ key: ev.key, revision: ev.revision }, 'object of an unknown kind in the store; not published');
      return;
    }
    const object: KubeObject = ev.object ?? { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, ...(namespace ? { namespace } : {}) } };
    const type: WatchEvent['type'] = ev.type === 'DELETE' ? 'DELETED' : ev.previous === undefined ? 'ADDED' : 'MODIFIED';
    bus.nc.publish(`${API.watchPrefix}.${ev.key}`, encode({ type, object, revision: ev.revision } satisfies WatchEvent));
  });
}
