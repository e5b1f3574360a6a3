/**
 * The lives and load of this process's nact actors, as actor telemetry reports them
 * (messages/telemetry.ts), without any bus I/O: the bus feed (bus/actor-feed.ts) drains it.
 *
 * Cost is what shapes it: at 10,000 actors it must stay under 2 % of a CPU. A message costs two
 * performance.now() calls and a few additions on the actor's own record (plus one when it has to
 * wait in the mailbox); nothing is allocated per message but a timing in a small sample. The
 * once-a-second collection walks only the actors that changed (a dirty set) and the mailboxes
 * that are not empty, never the whole tree. Lifecycle changes are queued as they happen and
 * turned into the contract's shapes only when collected.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ActorCrash, ActorInfo, ActorLifecycle, ActorStats, KeptObject } from '../../messages/telemetry';
import { COUNTS_CRASHES, noteCrash, restartsOf } from '../supervision';
import { nactPatched, patchNact, unpatchNact, type NactActor, type NactHooks, type QueuedMessage } from './nact-patch';
import { actorMetrics } from './prometheus';
import { kindFromName, percentile99, summarizeMessage } from './figures';

/** What a spawn site knows about the actor it made (describeActor). */
export interface ActorMeta {
  /** Its role: `api`, `pod-supervisor`, `pod`, ... (default: its name without a `-<n>` suffix). */
  kind?: string;
  /** mk's own machinery (default true). */
  system?: boolean;
  /** The object it keeps. */
  object?: KeptObject;
}

/** Timings kept per actor and interval for the p99: beyond this, a reservoir sample. */
export const SAMPLE_CAP = 256;
/** Lifecycle changes kept while nobody collects them; later ones are dropped (and counted). */
export const MAX_PENDING_CHANGES = 100_000;
/** How much of an error's message a crash keeps. */
const ERROR_CHARS = 1000;

interface ActorRecord {
  actor: NactActor;
  /** nact's path string (`system://a/b`): the key of supervision's crash records. */
  key: string;
  path: string;
  parent?: string;
  name: string;
  since: number;
  meta?: ActorMeta;
  info?: ActorInfo;
  stopped: boolean;
  /** A message is scheduled (handleMessage) and its handler has not started yet. */
  pending: boolean;
  /** When the handler of the current message started (0: none running). */
  t0: number;
  handled: number;
  sumMs: number;
  samples: number[];
  maxWaitMs: number;
  lastDepth: number;
  dirty: boolean;
  queued: boolean;
  lastCrash?: ActorCrash;
  last?: ActorStats;
  countedKind?: string;
}

type Pending =
  | { type: 'spawned'; seq: number; at: number; r: ActorRecord }
  | { type: 'stopped'; seq: number; at: number; r: ActorRecord }
  | { type: 'crashed'; seq: number; at: number; r: ActorRecord; crash: ActorCrash; restarts: number }
  | { type: 'restarted'; seq: number; at: number; r: ActorRecord; restarts: number };

/** A fresh symbol each time telemetry is enabled, so records of an earlier run are ignored. */
let REC: symbol = Symbol('mk.actorTelemetry');
let users = 0;
let incarnation = '';
let seq = 0;
let dropped = 0;
let lastStatsAt = 0;
const live = new Map<string, ActorRecord>();
const dirty = new Set<ActorRecord>();
const queued = new Set<ActorRecord>();
let pending: Pending[] = [];

const rec = (a: NactActor): ActorRecord | undefined => (a as unknown as Record<symbol, ActorRecord | undefined>)[REC];

function markDirty(r: ActorRecord): void {
  if (!r.dirty) { r.dirty = true; dirty.add(r); }
}

function change(p: Pending): void {
  if (pending.length >= MAX_PENDING_CHANGES) { dropped++; return; }
  pending.push(p);
}

const hooks: NactHooks = {
  initialized(a) {
    const r = rec(a);
    if (r) {
      if (r.stopped) return;
      markDirty(r);
      change({ type: 'restarted', seq: ++seq, at: Date.now(), r, restarts: restartsOf(r.key) });
      return;
    }
    const key = a.path.toString();
    const parent = a.parent ? rec(a.parent as NactActor) : undefined;
    const made: ActorRecord = {
      actor: a, key, path: `/${a.path.parts.join('/')}`, name: a.name, since: Date.now(), stopped: false, pending: false, t0: 0,
      handled: 0, sumMs: 0, samples: [], maxWaitMs: 0, lastDepth: 0, dirty: false, queued: false,
      ...(parent ? { parent: parent.path } : {}),
    };
    (a as unknown as Record<symbol, ActorRecord>)[REC] = made;
    live.set(key, made);
    change({ type: 'spawned', seq: ++seq, at: made.since, r: made });
  },
  queued(a, entry: QueuedMessage) {
    entry.t = performance.now();
    const r = rec(a);
    if (r && !r.queued) { r.queued = true; queued.add(r); }
  },
  started(a) {
    const r = rec(a);
    if (r) r.pending = true;
  },
  handling(a) {
    const r = rec(a);
    if (r?.pending) { r.pending = false; r.t0 = performance.now(); }
  },
  next(a) {
    const r = rec(a);
    if (!r) return;
    const head = a.mailbox.peekFront();
    if (r.t0 === 0 && head === undefined) return;
    const now = performance.now();
    if (r.t0 !== 0) {
      const ms = now - r.t0;
      r.t0 = 0;
      r.handled++;
      r.sumMs += ms;
      if (r.samples.length < SAMPLE_CAP) r.samples.push(ms);
      else { const j = Math.floor(Math.random() * r.handled); if (j < SAMPLE_CAP) r.samples[j] = ms; }
      markDirty(r);
    }
    if (head?.t !== undefined && now - head.t > r.maxWaitMs) { r.maxWaitMs = now - head.t; markDirty(r); }
  },
  crashed(a, msg, error) {
    const r = rec(a);
    if (!r) return;
    r.t0 = 0;
    r.pending = false;
    const text = error instanceof Error ? error.message : String(error);
    const crash: ActorCrash = { at: new Date().toISOString(), error: text.length > ERROR_CHARS ? text.slice(0, ERROR_CHARS) : text };
    const message = summarizeMessage(msg);
    if (message !== undefined) crash.message = message;
    r.lastCrash = crash;
    const onCrash = a.onCrash as Record<symbol, unknown> | undefined;
    if (!onCrash?.[COUNTS_CRASHES]) noteCrash(r.key, error);
    markDirty(r);
  },
  crashHandled(a) {
    const r = rec(a);
    if (r?.lastCrash) change({ type: 'crashed', seq: ++seq, at: Date.now(), r, crash: r.lastCrash, restarts: restartsOf(r.key) });
  },
  stopping(a) {
    const r = rec(a);
    if (!r || r.stopped) return;
    r.stopped = true;
    live.delete(r.key);
    change({ type: 'stopped', seq: ++seq, at: Date.now(), r });
    // The subtree goes with it (common/nact-fixes.ts stops the children after this hook): report
    // it stopped at once, in one batch with its root.
    for (const c of a.children.values()) hooks.stopping(c);
  },
};

/**
 * Starts recording every actor spawned from now on in this process (call it before the
 * ActorSystem starts). Counted: each call needs its own disableActorTelemetry().
 */
export function enableActorTelemetry(): void {
  if (users++ > 0) return;
  REC = Symbol('mk.actorTelemetry');
  incarnation = randomUUID();
  seq = 0;
  dropped = 0;
  lastStatsAt = performance.now();
  patchNact(hooks);
}

/** Undoes one enableActorTelemetry(); the last one restores nact's own methods and forgets all. */
export function disableActorTelemetry(): void {
  if (users === 0 || --users > 0) return;
  unpatchNact();
  live.clear();
  dirty.clear();
  queued.clear();
  pending = [];
}

/** True while actors are recorded. */
export function actorTelemetryEnabled(): boolean {
  return nactPatched();
}

/** This recording's incarnation (a uuid per enable) and its last lifecycle seq. */
export function telemetryState(): { incarnation: string; seq: number; actors: number; dropped: number } {
  return { incarnation, seq, actors: live.size, dropped };
}

/**
 * Says what an actor is (its kind, whether it is mk's machinery, the object it keeps), from its
 * ref or its path (`/a/b`, or nact's `system://a/b`). Call it right after the spawn, before the
 * next collection. Unknown actors (or telemetry off) are ignored.
 */
export function describeActor(target: string | object, meta: ActorMeta): void {
  if (users === 0) return;
  const s = typeof target === 'string' ? target : String((target as { path?: unknown }).path);
  const r = live.get(s) ?? (s.includes('://') ? undefined : [...live.values()].find((x) => x.path === s));
  if (!r) return;
  r.meta = meta;
  r.info = undefined;
}

function info(r: ActorRecord): ActorInfo {
  if (r.info) return r.info;
  const i: ActorInfo = {
    path: r.path, name: r.name, kind: r.meta?.kind ?? kindFromName(r.name), system: r.meta?.system ?? true, since: new Date(r.since).toISOString(),
  };
  if (r.parent !== undefined) i.parent = r.parent;
  if (r.meta?.object) i.object = r.meta.object;
  return (r.info = i);
}

/** The lifecycle changes since the last call, in order (each `seq` one more than the last). */
export function collectLifecycle(): ActorLifecycle[] {
  const out: ActorLifecycle[] = [];
  const m = actorMetrics();
  for (const p of pending) {
    const at = new Date(p.at).toISOString();
    switch (p.type) {
      case 'spawned': {
        const i = info(p.r);
        out.push({ type: 'spawned', seq: p.seq, at, actor: i });
        if (p.r.countedKind === undefined) { p.r.countedKind = i.kind; m.spawned(i.kind); }
        break;
      }
      case 'stopped':
        out.push({ type: 'stopped', seq: p.seq, at, path: p.r.path });
        if (p.r.countedKind !== undefined) m.stopped(p.r.countedKind);
        break;
      case 'crashed':
        out.push({ type: 'crashed', seq: p.seq, at, path: p.r.path, crash: p.crash, restarts: p.restarts });
        m.restarted(info(p.r).kind);
        break;
      case 'restarted':
        out.push({ type: 'restarted', seq: p.seq, at, path: p.r.path, restarts: p.restarts });
        break;
    }
  }
  pending = [];
  return out;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** Timings a collection gives the duration histogram, all actors together (about). */
const HISTOGRAM_BUDGET = 2048;

/** The share by which a figure must move to be news (or the absolute amount, for small ones). */
const NEAR = 0.1;

/** Whether two readings of a figure are the same load, give or take NEAR (or `abs`). */
function near(a: number, b: number, abs: number): boolean {
  return Math.abs(a - b) <= Math.max(abs, NEAR * Math.max(Math.abs(a), Math.abs(b)));
}

/**
 * The figures of the actors that changed since the last call (handled messages, a mailbox depth
 * that moved, a crash), over the interval since then, leaving out those whose load is the same as
 * in the figures last returned for them (within 10 %); also feeds the Prometheus metrics.
 */
export function collectStats(now = performance.now()): ActorStats[] {
  const secs = Math.max((now - lastStatsAt) / 1000, 1e-3);
  lastStatsAt = now;
  const m = actorMetrics();
  const depth = new Map<string, { sum: number; max: number }>();
  for (const r of queued) {
    if (r.stopped) { queued.delete(r); r.queued = false; continue; }
    const d = r.actor.mailbox.length;
    if (d !== r.lastDepth) markDirty(r);
    if (d === 0) { queued.delete(r); r.queued = false; continue; }
    const k = info(r).kind;
    const agg = depth.get(k) ?? { sum: 0, max: 0 };
    agg.sum += d;
    agg.max = Math.max(agg.max, d);
    depth.set(k, agg);
  }
  m.mailboxes(depth);
  // Per kind: the count, and a sample of the timings for the histogram (prom-client observes one
  // value at a time, so 10,000 busy actors must not mean a million observations a second): each
  // actor gives `take` of its timings, or one with probability `take` when that is below one.
  const byKind = new Map<string, { count: number; sample: number[] }>();
  const take = HISTOGRAM_BUDGET / Math.max(1, dirty.size);
  const out: ActorStats[] = [];
  for (const r of dirty) {
    r.dirty = false;
    if (r.stopped) continue;
    const d = r.actor.mailbox.length;
    const n = r.samples.length;
    let p99 = 0;
    if (n > 0) {
      p99 = percentile99(r.samples);
      const k = info(r).kind;
      let agg = byKind.get(k);
      if (!agg) byKind.set(k, agg = { count: 0, sample: [] });
      agg.count += r.handled;
      if (take >= 1) {
        const step = Math.max(1, n / take);
        for (let i = 0; i < n; i += step) agg.sample.push(r.samples[Math.floor(i)]!);
      } else if (Math.random() < take) agg.sample.push(r.samples[0]!);
    }
    const rate = round(r.handled / secs);
    const meanMs = r.handled ? round(r.sumMs / r.handled) : 0;
    const restarts = restartsOf(r.key);
    const last = r.last;
    // A steady actor (the same load as last time, within NEAR, or within a millisecond for the
    // times) is no news: at 10,000 busy actors the delta would otherwise carry every one of them
    // every second.
    const steady = last !== undefined && last.mailbox === d && last.restarts === restarts && last.lastCrash === r.lastCrash
      && near(last.handled, r.handled, 1) && near(last.rate, rate, 0.5) && near(last.meanMs, meanMs, 0.5)
      && near(last.p99Ms, p99, 1) && near(last.maxWaitMs, r.maxWaitMs, 1);
    if (!steady) {
      const s: ActorStats = {
        path: r.path, mailbox: d, handled: r.handled, rate, meanMs, p99Ms: round(p99), maxWaitMs: round(r.maxWaitMs), restarts,
      };
      if (r.lastCrash) s.lastCrash = r.lastCrash;
      out.push(s);
      r.last = s;
    }
    r.lastDepth = d;
    r.handled = 0;
    r.sumMs = 0;
    r.maxWaitMs = 0;
    if (n > 64) r.samples = []; else r.samples.length = 0;
  }
  dirty.clear();
  for (const [k, agg] of byKind) m.handled(k, agg.count, agg.sample);
  return out;
}

/** Both at once: the lifecycle changes and the changed figures since the last collection. */
export function collectChanges(): { lifecycle: ActorLifecycle[]; stats: ActorStats[] } {
  return { lifecycle: collectLifecycle(), stats: collectStats() };
}

/** The live actors, `limit` of them from `offset`, with their latest figures. */
export function snapshot(offset = 0, limit = 1000): { seq: number; total: number; actors: (ActorInfo & { stats?: ActorStats })[] } {
  const actors: (ActorInfo & { stats?: ActorStats })[] = [];
  let i = 0;
  for (const r of live.values()) {
    if (i++ < offset) continue;
    if (actors.length >= limit) break;
    actors.push(r.last ? { ...info(r), stats: r.last } : info(r));
  }
  return { seq, total: live.size, actors };
}

/** The whole tree now, and the last lifecycle `seq` it includes. */
export function census(): { seq: number; actors: ActorInfo[] } {
  return { seq, actors: [...live.values()].map(info) };
}
