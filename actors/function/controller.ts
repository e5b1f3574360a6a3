/**
 * The Function controller: keeps each function's instance pods at what its load asks for
 * (autoscale.ts), from the stats and demand signals gateways publish. It scales up at once on a
 * demand signal, down after the scale-down window (never while in panic mode), to zero after
 * idleSeconds; it drains an instance before deleting it (gateways send a draining pod no new
 * call, and the pod goes once every live gateway's view knows it drains and none has a call on
 * it, or the function's timeout after the last call seen on it); a changed spec replaces
 * instances new before old. Level-triggered: pods come from an informer, load from the last
 * gateway reports, lastInvocation from the status it wrote, so a restart re-derives everything.
 */
import type { Subscription } from '@nats-io/transport-node';
import { startInformer, type Informer, type ObjectStore, type Stored } from '../../bus';
import { decode } from '../../bus/request';
import {
  DRAINING_ANNOTATION, FUNCTION_DEMAND_WILDCARD, FUNCTION_LABEL, FUNCTION_STATS_WILDCARD,
  isAlreadyExists, isConflict, isNotFound, objectKey, parseKey, scalingSettings,
  type FunctionCondition, type FunctionDemand, type FunctionObject, type FunctionStatus, type GatewayStats, type KubeObject, type Pod,
} from '../../messages';
import { defaultFunction } from '../../messages/function';
import { admitCreate } from '../api/admission';
import { stableJson } from '../api/stable-json';
import { deleteObject } from '../deletion';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { decideScale, type PanicState, type Recommendation } from './autoscale';
import { drainable, type GatewayView } from './drain';
import { DRAINING_SINCE_ANNOTATION, instancePod, isReadyInstance, RECYCLE_ANNOTATION, templateHash } from './instance-pod';

/**
 * A gateway report older than this no longer counts (the gateway is gone). It is also how long a
 * started controller waits before it trusts the reports it has: by then every live gateway has
 * reported (they report every second), and until then a missing report means "unknown", never
 * "no calls".
 */
export const STATS_TTL_MS = 3_000;
/** While a function has instances or load, it is reconciled this often. */
const ACTIVE_RESYNC_MS = 1_000;

/** What the controller works with; now is for tests. */
export interface FunctionControllerDeps {
  store: ObjectStore;
  /** The Pod kind's module: its defaults and deletion policy apply to the instances. */
  pods: KindModule;
  now?: () => number;
}

/** The scale-down window of `fn` in ms: its `mk.io/scale-down-window` annotation (seconds), else 60 s. */
export function scaleDownWindowMs(fn: FunctionObject): number {
  return scalingSettings(fn.metadata.annotations).windowMs;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

const fnKey = (ns: string, name: string): string => objectKey('functions', ns, name);

/** The Function kind's controller (see above). Throws only store faults; the supervisor retries. */
export function functionController(deps: FunctionControllerDeps): KindController {
  const { store, pods: podModule } = deps;
  const now = deps.now ?? Date.now;
  /** Instance pods by function key, then pod name. */
  const instances = new Map<string, Map<string, Pod>>();
  /** The last report of each gateway, with when it came. */
  const reports = new Map<string, { stats: GatewayStats; got: number }>();
  /** Demand signals newer than the reports: function key -> gateway -> load. */
  const demands = new Map<string, Map<string, { load: number; got: number }>>();
  const histories = new Map<string, Recommendation[]>();
  /** Panic mode per function key (absent when not panicking). */
  const panics = new Map<string, PanicState>();
  /** When a report last showed a call on an instance (ms), by pod key. */
  const lastCallOn = new Map<string, number>();
  /** When the informer first showed an instance draining (the mark is committed by then), by pod key. */
  const drainSeen = new Map<string, number>();
  /** The function key of each instance pod key. */
  const ownerOfPod = new Map<string, string>();
  let informer: Informer | undefined;
  let subs: Subscription[] = [];
  let enqueue: (key: string) => boolean = () => false;
  /** When the controller (re)started: its reports are complete STATS_TTL_MS later. */
  let startedAt = now();

  const ownerKey = (pod: Pod): string | undefined => {
    const ref = pod.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Function');
    const fn = pod.metadata.labels?.[FUNCTION_LABEL];
    return ref && fn === ref.name ? fnKey(pod.metadata.namespace ?? 'default', ref.name) : undefined;
  };

  /** The load of one function summed over the live gateways, its pods' calls, its last call and what to recycle. */
  const loadOf = (ns: string, name: string) => {
    const t = now();
    let inFlight = 0;
    let queued = 0;
    let asyncPending = 0;
    let last: number | undefined;
    let url: string | undefined;
    const perPod = new Map<string, number>();
    const recycle = new Set<string>();
    /** Each live gateway's view of the function's instances. */
    const views: GatewayView[] = [];
    for (const [gw, r] of reports) {
      if (t - r.got > STATS_TTL_MS) { reports.delete(gw); continue; }
      url ??= r.stats.url;
      const view: GatewayView = { gateway: gw, viewAt: r.stats.viewAt, at: r.stats.at, pods: {} };
      views.push(view);
      for (const f of r.stats.functions) {
        if (f.namespace !== ns || f.name !== name) continue;
        Object.assign(view.pods, f.pods);
        inFlight += f.inFlight;
        queued += f.queued;
        asyncPending = Math.max(asyncPending, f.asyncPending ?? 0);
        for (const [p, n] of Object.entries(f.pods)) perPod.set(p, (perPod.get(p) ?? 0) + n);
        for (const p of f.recycle ?? []) recycle.add(p);
        if (f.lastInvocation) last = Math.max(last ?? 0, Date.parse(f.lastInvocation));
      }
    }
    // Queued async calls are load too (a function at zero with only those scales up); the ones a
    // gateway took are in its inFlight and queued as well, so the larger count is taken, not the sum.
    let load = Math.max(inFlight + queued, asyncPending);
    for (const [gw, d] of demands.get(fnKey(ns, name)) ?? []) {
      const reported = reports.get(gw);
      if (reported && reported.got > d.got) continue;
      if (t - d.got > STATS_TTL_MS) continue;
      load = Math.max(load, d.load);
      last = Math.max(last ?? 0, d.got);
    }
    return { load, perPod, recycle, last, url, views };
  };

  const createInstance = async (fn: FunctionObject): Promise<void> => {
    const ns = fn.metadata.namespace ?? 'default';
    for (let attempt = 0; ; attempt++) {
      const pod = admitCreate(podModule, instancePod(fn) as unknown as KubeObject, ns, new Date(now())) as unknown as Pod;
      try {
        await store.create(objectKey('pods', ns, pod.metadata.name), pod);
        let m = instances.get(fnKey(ns, fn.metadata.name));
        if (!m) instances.set(fnKey(ns, fn.metadata.name), (m = new Map()));
        m.set(pod.metadata.name, pod);
        return;
      } catch (err) {
        if (!isAlreadyExists(err) || attempt >= 3) throw err;
      }
    }
  };

  const deleteInstance = async (pod: Pod): Promise<void> => {
    const ns = pod.metadata.namespace ?? 'default';
    try {
      await deleteObject(store, podModule, objectKey('pods', ns, pod.metadata.name));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  };

  /** Forgets what was kept of a deleted function, so one re-created under its name starts clean. */
  const forget = (key: string): void => {
    histories.delete(key);
    demands.delete(key);
    panics.delete(key);
    for (const p of instances.get(key)?.keys() ?? []) {
      const { namespace } = parseKey(key);
      lastCallOn.delete(objectKey('pods', namespace, p));
      drainSeen.delete(objectKey('pods', namespace, p));
    }
    instances.delete(key);
  };

  /** Marks `pod` draining (and recycled: it held a call past the timeout), once. */
  const markDraining = async (pod: Pod, recycled = false): Promise<void> => {
    const key = objectKey('pods', pod.metadata.namespace ?? 'default', pod.metadata.name);
    await store.mutate<Pod>(key, (cur) => {
      if (cur.metadata.uid !== pod.metadata.uid || cur.metadata.deletionTimestamp) return null;
      if (cur.metadata.annotations?.[DRAINING_ANNOTATION] === 'true' && (!recycled || cur.metadata.annotations[RECYCLE_ANNOTATION] === 'true')) return null;
      const since = cur.metadata.annotations?.[DRAINING_SINCE_ANNOTATION] ?? String(now());
      return {
        ...cur,
        metadata: {
          ...cur.metadata,
          annotations: {
            ...cur.metadata.annotations, [DRAINING_ANNOTATION]: 'true', [DRAINING_SINCE_ANNOTATION]: since,
            ...(recycled ? { [RECYCLE_ANNOTATION]: 'true' } : {}),
          },
        },
      };
    }).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
  };

  return {
    plural: 'functions',
    resyncMs: 30_000,
    bindEnqueue: (fn) => { enqueue = fn; },
    async prepare() {
      await informer?.stop();
      for (const s of subs) s.unsubscribe();
      instances.clear();
      ownerOfPod.clear();
      drainSeen.clear();
      startedAt = now();
      informer = await startInformer<Pod>(store, 'pods.>', (ev) => {
        const prev = ownerOfPod.get(ev.key);
        if (prev) instances.get(prev)?.delete(parseKey(ev.key).name);
        ownerOfPod.delete(ev.key);
        const pod = ev.object;
        const owner = pod ? ownerKey(pod) : undefined;
        if (!pod || !owner) { lastCallOn.delete(ev.key); drainSeen.delete(ev.key); }
        else if (pod.metadata.annotations?.[DRAINING_ANNOTATION] === 'true' && !drainSeen.has(ev.key)) drainSeen.set(ev.key, now());
        if (pod && owner) {
          let m = instances.get(owner);
          if (!m) instances.set(owner, (m = new Map()));
          m.set(pod.metadata.name, pod);
          ownerOfPod.set(ev.key, owner);
          enqueue(owner);
        }
        if (prev && prev !== owner) enqueue(prev);
      });
      const nc = store.bus.nc;
      subs = [
        nc.subscribe(FUNCTION_STATS_WILDCARD, {
          callback: (_e, msg) => {
            try {
              const stats = decode<GatewayStats>(msg.data);
              const got = now();
              reports.set(stats.gateway, { stats, got });
              for (const f of stats.functions) {
                for (const [pod, n] of Object.entries(f.pods)) if (n > 0) lastCallOn.set(objectKey('pods', f.namespace, pod), got);
              }
              for (const f of stats.functions) if (f.inFlight + f.queued + (f.asyncPending ?? 0) > 0 || (f.recycle?.length ?? 0) > 0) enqueue(fnKey(f.namespace, f.name));
            } catch (err) { log.warn({ err, subject: msg.subject }, 'a gateway report that does not parse'); }
          },
        }),
        nc.subscribe(FUNCTION_DEMAND_WILDCARD, {
          callback: (_e, msg) => {
            try {
              const d = decode<FunctionDemand>(msg.data);
              const key = fnKey(d.namespace, d.name);
              let m = demands.get(key);
              if (!m) demands.set(key, (m = new Map()));
              m.set(d.gateway, { load: d.inFlight + d.queued, got: now() });
              enqueue(key);
            } catch (err) { log.warn({ err, subject: msg.subject }, 'a demand signal that does not parse'); }
          },
        }),
      ];
    },
    async stop() {
      for (const s of subs) s.unsubscribe();
      subs = [];
      await informer?.stop();
      informer = undefined;
    },
    async reconcile(key, observed) {
      const cur = observed as Stored<FunctionObject> | null;
      if (!cur) {
        // Its instances go with it through the garbage collector.
        forget(key);
        return;
      }
      const fn = defaultFunction(cur.object);
      const ns = fn.metadata.namespace ?? 'default';
      const name = fn.metadata.name;
      const spec = fn.spec;
      const t = now();
      const hash = templateHash(fn);
      const all = [...(instances.get(key)?.values() ?? [])].filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === fn.metadata.uid));
      const { load, perPod, recycle, last: reportedLast, url, views } = loadOf(ns, name);
      const statusLast = fn.status?.lastInvocation ? Date.parse(fn.status.lastInvocation) : undefined;
      const last = Math.max(reportedLast ?? 0, statusLast ?? 0) || undefined;

      // Until every live gateway has reported since the start, the load is not known: nothing is
      // drained away, scaled down or deleted for want of calls.
      const warm = t - startedAt >= STATS_TTL_MS;
      // A function being deleted (foreground or orphan) wants no instance.
      const deleting = Boolean(fn.metadata.deletionTimestamp);

      // Instances a gateway saw hold a call past the timeout are drained (gateways already send
      // them nothing) and replaced at once; they go below, once no call is left on them.
      const recycled = (p: Pod): boolean => recycle.has(p.metadata.name) || p.metadata.annotations?.[RECYCLE_ANNOTATION] === 'true';
      for (const p of all) if (recycle.has(p.metadata.name) && !p.metadata.deletionTimestamp) await markDraining(p, true);
      const live = all.filter((p) => !p.metadata.deletionTimestamp);
      const isDraining = (p: Pod): boolean => p.metadata.annotations?.[DRAINING_ANNOTATION] === 'true' || recycled(p);
      const draining = live.filter(isDraining);
      const serving = live.filter((p) => !isDraining(p));
      const fresh = serving.filter((p) => p.metadata.annotations?.['mk.io/function-template'] === hash);
      const stale = serving.filter((p) => p.metadata.annotations?.['mk.io/function-template'] !== hash);

      const scaling = scalingSettings(fn.metadata.annotations);
      const decision = decideScale({
        load, concurrency: spec.concurrency ?? 1, minInstances: spec.minInstances ?? 0, maxInstances: spec.maxInstances ?? 10,
        idleSeconds: spec.idleSeconds ?? 60, windowMs: scaling.windowMs, panicWindowMs: scaling.panicWindowMs, panicThreshold: scaling.panicThreshold,
        current: serving.length, ready: serving.filter(isReadyInstance).length, lastInvocation: last,
        history: histories.get(key) ?? [], panic: panics.get(key), now: t,
      });
      histories.set(key, decision.history);
      if (decision.panic) panics.set(key, decision.panic); else panics.delete(key);
      const desired = deleting ? 0 : warm ? decision.desired : Math.max(decision.desired, serving.length);

      // New instances first; old ones drain once enough new ones are ready (maxUnavailable 0).
      if (!deleting) for (let i = fresh.length; i < desired; i++) await createInstance(fn);
      const freshReady = fresh.filter(isReadyInstance).length;
      const staleToDrain = desired === 0 ? stale.length : Math.max(0, Math.min(stale.length, freshReady + stale.length - desired));
      const surplus = Math.max(0, fresh.length - desired);
      // Unready and idle instances go first.
      const order = (a: Pod, b: Pod) => Number(isReadyInstance(a)) - Number(isReadyInstance(b))
        || (perPod.get(a.metadata.name) ?? 0) - (perPod.get(b.metadata.name) ?? 0);
      const victims = [...[...stale].sort(order).slice(0, staleToDrain), ...[...fresh].sort(order).slice(0, surplus)];
      for (const p of victims) {
        if (isReadyInstance(p)) await markDraining(p);
        else await deleteInstance(p);
      }
      // A draining instance goes once every live gateway's view knows it drains and none has a
      // call on it, or the function's timeout after the last call seen on it; never before the
      // reports are complete (a report not yet heard may carry its calls).
      for (const p of warm ? draining : []) {
        const podKey = objectKey('pods', ns, p.metadata.name);
        // Marked just now (this pass) when the informer has not shown the annotation yet.
        const since = Number(p.metadata.annotations?.[DRAINING_SINCE_ANNOTATION] ?? t);
        const go = drainable({
          pod: p.metadata.name, since, markedAt: drainSeen.get(podKey), lastCall: lastCallOn.get(podKey),
          timeoutMs: (spec.timeoutSeconds ?? 60) * 1000, views, now: t,
        });
        if (go) await deleteInstance(p);
      }

      const after = [...(instances.get(key)?.values() ?? [])].filter((p) => !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((r) => r.uid === fn.metadata.uid));
      const ready = after.filter((p) => isReadyInstance(p) && p.metadata.annotations?.[DRAINING_ANNOTATION] !== 'true').length;
      const condition: FunctionCondition = ready > 0
        ? { type: 'Ready', status: 'True', reason: 'InstancesReady', message: `${ready} instance(s) ready` }
        : (spec.minInstances ?? 0) === 0
          ? { type: 'Ready', status: 'True', reason: 'ScaledToZero', message: 'no instance runs; the first call starts one' }
          : { type: 'Ready', status: 'False', reason: 'InstancesStarting', message: 'waiting for an instance to become ready' };
      const scalingCond: FunctionCondition = decision.panic
        ? {
          type: 'Scaling', status: 'True', reason: 'Panic',
          message: `panic mode since ${iso(decision.panic.since)}: the panic window asked for at least ${Math.round(scaling.panicThreshold * 100)}% `
            + `of the ready instances; nothing is scaled down until ${scaling.windowMs / 1000}s pass without that`,
        }
        : { type: 'Scaling', status: 'False', reason: 'Stable', message: 'scaling on the stable window' };
      const transition = (c: FunctionCondition): FunctionCondition => {
        const prev = fn.status?.conditions?.find((x) => x.type === c.type);
        return {
          ...c,
          lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : iso(t),
          observedGeneration: fn.metadata.generation,
        };
      };
      const status: FunctionStatus = {
        instances: after.length,
        readyInstances: ready,
        ...(url ?? fn.status?.url ? { url: url ? `${url}/function/${ns}/${name}` : fn.status?.url } : {}),
        ...(last ? { lastInvocation: new Date(Math.floor(last / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
        conditions: [transition(condition), transition(scalingCond)],
        observedGeneration: fn.metadata.generation,
      };
      if (stableJson(status) !== stableJson(cur.object.status ?? null)) {
        try {
          await store.update(key, { ...cur.object, status }, cur.revision);
        } catch (err) {
          if (!isConflict(err)) throw err;
          return { requeueAfterMs: 50 };
        }
      }
      const busy = after.length > 0 || load > 0 || draining.length > 0 || decision.panic !== undefined;
      return busy ? { requeueAfterMs: ACTIVE_RESYNC_MS } : undefined;
    },
  };
}
