/**
 * The actor feed of one process on the bus (messages/telemetry.ts): lifecycle batches as they
 * happen (coalesced per ~100 ms tick, so a burst of spawns is a few messages), the changed actors'
 * figures and the process's own once a second, a census at start, every 5 minutes and after each
 * reconnect (with the next stats), and paged snapshots on request. It drains common/actor-telemetry.
 *
 * Publishing never blocks nor throws into an actor: it happens on the feed's own timers with core
 * NATS publishes, and while the bus is down messages are dropped and counted (the census sent
 * after the reconnect makes the tree whole again for every reader).
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  census, collectLifecycle, collectStats, disableActorTelemetry, enableActorTelemetry, snapshot, telemetryState,
} from '../common/actor-telemetry';
import { ValidationError } from '../messages/errors';
import {
  actorSubject, type ActorCensus, type ActorLifecycle, type ActorLifecycleBatch, type ActorSnapshotReply, type ActorSnapshotRequest,
  type ActorStats, type ActorStatsBatch, type ProcessStats,
} from '../messages/telemetry';
import type { Bus } from './connection';
import { busLog } from './log';
import { encode, serve, type Served } from './request';

/** How a process's feed runs. */
export interface ActorFeedOptions {
  /** The process token (telemetryProcess()). */
  process: string;
  role: ProcessStats['role'];
  /** For a control plane: whether it leads now. */
  leading?: () => boolean;
  /** Lifecycle tick (default 100 ms). */
  lifecycleMs?: number;
  /** Stats interval (default 1 s). */
  statsMs?: number;
  /** Census interval (default 5 min). */
  censusMs?: number;
}

/** A running feed. */
export interface ActorFeed {
  /** The process token and this incarnation's uuid. */
  process: string;
  incarnation: string;
  /** Resolves once the snapshot subject is served. */
  ready: Promise<void>;
  /** Messages published, and dropped because the bus was down. */
  counters(): { published: number; dropped: number };
  /** Flushes the last changes, stops serving and turns telemetry off (if nothing else uses it). */
  stop(): Promise<void>;
}

/** Lifecycle events per message; a burst of 2,000 spawns is then 4 messages of about 150 KB. */
export const LIFECYCLE_BATCH = 500;
/** Actors per stats message. */
export const STATS_BATCH = 2000;
/** Actors per census message (a bigger tree is sent in parts). */
export const CENSUS_PART = 2000;
/** The most actors a snapshot page holds. */
export const MAX_SNAPSHOT_LIMIT = 5000;

/** The process token of the feed running in this process. */
let running: string | undefined;

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Turns actor telemetry on in this process and starts publishing it on
 * `mk.sys.actor.<process>.>`. Call it before the process's ActorSystem starts, so every actor is
 * seen from its spawn. Never throws for a bus that is down.
 */
export function startActorFeed(bus: Bus, opts: ActorFeedOptions): ActorFeed {
  // One feed drains a process's telemetry; a second (two control planes in one test process)
  // would split the changes between two process tokens, so it publishes nothing.
  if (running) {
    busLog.debug({ process: opts.process, running }, 'an actor feed already runs in this process; this one stays idle');
    return { process: opts.process, incarnation: '', ready: Promise.resolve(), counters: () => ({ published: 0, dropped: 0 }), stop: async () => undefined };
  }
  running = opts.process;
  enableActorTelemetry();
  const { process: proc, role } = opts;
  const incarnation = telemetryState().incarnation || randomUUID();
  let published = 0;
  let dropped = 0;
  let down = false;
  let stopped = false;
  let censusDue = false;
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();

  const send = (subject: string, body: unknown): void => {
    if (down || bus.nc.isClosed()) { dropped++; return; }
    try {
      bus.nc.publish(subject, encode(body));
      published++;
    } catch (err) {
      dropped++;
      busLog.debug({ subject, err }, 'actor telemetry not published');
    }
  };

  const self = (resetLag: boolean): ProcessStats => {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const lagMs = Number.isFinite(lag.mean) ? lag.mean / 1e6 : 0;
    if (resetLag) lag.reset();
    const s: ProcessStats = {
      pid: process.pid, role, actors: telemetryState().actors, cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, eventLoopLagMs: Math.round(lagMs * 1000) / 1000,
    };
    if (opts.leading) s.leading = opts.leading();
    return s;
  };

  const flushLifecycle = (): void => {
    const events: ActorLifecycle[] = collectLifecycle();
    if (events.length === 0) return;
    for (const part of chunks(events, LIFECYCLE_BATCH)) {
      const batch: ActorLifecycleBatch = { process: proc, incarnation, events: part };
      send(actorSubject(proc, 'lifecycle'), batch);
    }
  };

  const sendStats = (): void => {
    if (censusDue) { censusDue = false; sendCensus(); }
    // Lifecycle first: a reader then knows every actor the stats name.
    flushLifecycle();
    const actors: ActorStats[] = collectStats();
    const at = new Date().toISOString();
    const s = self(true);
    for (const part of actors.length ? chunks(actors, STATS_BATCH) : [[]]) {
      const batch: ActorStatsBatch = { process: proc, incarnation, at, self: s, actors: part };
      send(actorSubject(proc, 'stats'), batch);
    }
  };

  const sendCensus = (): void => {
    // Changes up to the census's seq go out before it, so no reader sees them after it.
    flushLifecycle();
    const c = census();
    const at = new Date().toISOString();
    const parts = chunks(c.actors, CENSUS_PART);
    if (parts.length <= 1) {
      const whole: ActorCensus = { process: proc, incarnation, at, seq: c.seq, actors: c.actors };
      send(actorSubject(proc, 'census'), whole);
      return;
    }
    parts.forEach((actors, i) => {
      const part: ActorCensus = { process: proc, incarnation, at, seq: c.seq, actors, part: i + 1, parts: parts.length };
      send(actorSubject(proc, 'census'), part);
    });
  };

  const guard = (what: string, fn: () => void) => (): void => {
    try { fn(); } catch (err) { busLog.error({ process: proc, err }, `actor telemetry ${what} failed`); }
  };
  const timers = [
    setInterval(guard('lifecycle', flushLifecycle), opts.lifecycleMs ?? 100),
    setInterval(guard('stats', sendStats), opts.statsMs ?? 1000),
    setInterval(guard('census', sendCensus), opts.censusMs ?? 5 * 60_000),
  ];
  for (const t of timers) t.unref();

  const status = bus.nc.status();
  void (async () => {
    for await (const s of status) {
      if (s.type === 'disconnect') down = true;
      else if (s.type === 'reconnect') {
        down = false;
        // With the next stats, not at once: readers reconnecting at the same time then get it too.
        censusDue = true;
      }
    }
  })().catch((err: unknown) => busLog.debug({ err }, 'actor feed status loop ended'));

  const served: Served = serve<ActorSnapshotRequest, ActorSnapshotReply>(bus, actorSubject(proc, 'snapshot'), async (req) => {
    const offset = req?.offset ?? 0;
    const limit = req?.limit ?? 1000;
    if (!Number.isInteger(offset) || offset < 0) throw new ValidationError(`snapshot offset must be a whole number >= 0, not ${JSON.stringify(offset)}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SNAPSHOT_LIMIT) {
      throw new ValidationError(`snapshot limit must be a whole number from 1 to ${MAX_SNAPSHOT_LIMIT}, not ${JSON.stringify(limit)}`);
    }
    const page = snapshot(offset, limit);
    return { process: proc, incarnation, seq: page.seq, total: page.total, actors: page.actors, self: self(false) };
  });
  served.ready.catch(() => undefined);
  guard('census', sendCensus)();

  return {
    process: proc,
    incarnation,
    ready: served.ready,
    counters: () => ({ published, dropped }),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      guard('lifecycle', flushLifecycle)();
      // nats.js's status iterator has stop(), though its type does not say so.
      (status as { stop?: () => void }).stop?.();
      lag.disable();
      await served.stop();
      disableActorTelemetry();
      running = undefined;
    },
  };
}
