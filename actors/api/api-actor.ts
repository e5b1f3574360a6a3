/**
 * The api actor: serves the subject API (mk.api.*, the watch streams of watch.ts among them) and
 * publishes every change of every object on mk.watch.<key> for watchers. Writes are handled one at a time in the actor, so "created" vs
 * "configured" decisions never race inside this process (the store's revisions guard the rest);
 * reads need no ordering and are answered at once, so a large list never holds up a write.
 */
import { dispatch, query, spawn, type Ref } from 'nact';
import { encode, serve, startInformer, type Bus, type Informer, type ObjectStore } from '../../bus';
import {
  API, kindByPlural, parseKey,
  type ApplyRequest, type CreateRequest, type DeleteRequest, type PatchRequest, type UpdateRequest, type UpdateStatusRequest, type GetRequest, type KubeObject, type ListRequest, type WatchEvent,
} from '../../messages';
import { log } from '../log';
import { backoffOnCrash } from '../../common/supervision';
import { apply, checkRequest, get, list, remove } from './handlers';
import { serveWatch } from './watch';
import { create, patch, update, updateStatus } from './writes';

type Verb = 'apply' | 'delete' | 'create' | 'update' | 'patch' | 'updateStatus';
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
export type ApiMsg = { type: 'api/request'; verb: Verb; req: unknown; sender: Ref<Outcome> } | { type: 'api/start' };

const REQUEST_TIMEOUT_MS = 30_000;

/** Spawns the api actor and binds the subjects to it. Returns a function that unbinds them. */
export function spawnApi(parent: Ref<unknown>, bus: Bus, store: ObjectStore): { ref: Ref<ApiMsg>; ready: Promise<void>; stop(): Promise<void> } {
  const ctx = { store, bus };
  const handlers: Record<Verb, (req: never) => Promise<unknown>> = {
    apply: (r: ApplyRequest) => apply(ctx, r),
    delete: (r: DeleteRequest) => remove(ctx, r),
    create: (r: CreateRequest) => create(ctx, r),
    update: (r: UpdateRequest) => update(ctx, r),
    patch: (r: PatchRequest) => patch(ctx, r),
    updateStatus: (r: UpdateStatusRequest) => updateStatus(ctx, r),
  };
  const ref: Ref<ApiMsg> = spawn(
    parent,
    async (state: Record<string, never> = {}, msg: ApiMsg): Promise<Record<string, never>> => {
      if (msg.type !== 'api/request') return state;
      try {
        dispatch(msg.sender, { ok: true, value: await handlers[msg.verb](checkRequest(msg.req) as never) });
      } catch (error) {
        dispatch(msg.sender, { ok: false, error });
      }
      return state;
    },
    'api',
    { onCrash: backoffOnCrash({ type: 'api/start' }, (f, m) => log.error(f, m)) },
  );
  const through = (verb: Verb) => async (req: unknown) => {
    const out = await query(ref, (sender: Ref<Outcome>) => ({ type: 'api/request' as const, verb, req, sender }), REQUEST_TIMEOUT_MS);
    if (!out.ok) throw out.error;
    return out.value as Record<string, unknown>;
  };
  const subs = [
    serve(bus, API.apply, through('apply'), { queue: 'mk-api' }),
    serve(bus, API.get, (r: GetRequest) => get(ctx, checkRequest(r)), { queue: 'mk-api' }),
    serve(bus, API.list, (r: ListRequest) => list(ctx, checkRequest(r)), { queue: 'mk-api' }),
    serve(bus, API.delete, through('delete'), { queue: 'mk-api' }),
    serve(bus, API.ping, async () => ({ time: new Date().toISOString() }), { queue: 'mk-api' }),
    serveWatch(bus, store),
    serve(bus, API.create, through('create'), { queue: 'mk-api' }),
    serve(bus, API.update, through('update'), { queue: 'mk-api' }),
    serve(bus, API.patch, through('patch'), { queue: 'mk-api' }),
    serve(bus, API.updateStatus, through('updateStatus'), { queue: 'mk-api' }),
  ];
  return {
    ref,
    ready: Promise.all(subs.map((s) => s.ready)).then(() => undefined),
    stop: async () => { await Promise.all(subs.map((s) => s.stop())); },
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
