/**
 * Keeps ActorTrees up to date from the bus: subscribes every process's telemetry
 * (`mk.sys.actor.>`), and asks a process it does not know yet (or that restarted, or whose
 * lifecycle messages skipped a seq) for its tree, page by page, on `mk.sys.actor.<process>.snapshot`.
 * Processes silent for a while are forgotten.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decode } from '../../bus/core-client';
import {
  actorSubject, actorWildcard, type ActorLifecycleBatch, type ActorSnapshotReply, type ActorSnapshotRequest,
  type ActorStatsBatch,
} from '../../messages/telemetry';
import type { ActorTrees } from './actor-trees';
import { log } from './log';

/** A process not heard of for this long is dropped from the trees. */
export const PROCESS_SILENCE_MS = 30_000;
const SNAPSHOT_PAGE = 1_000;

/** Subscribes and feeds `trees`; `stop()` unsubscribes. */
export function watchActorTelemetry(nc: NatsConnection, trees: ActorTrees): { stop(): void } {
  const loading = new Set<string>();
  const warned = new Map<string, number>();

  const load = async (process: string, incarnation: string): Promise<void> => {
    if (loading.has(process)) return;
    loading.add(process);
    try {
      for (let offset = 0; ;) {
        const body: ActorSnapshotRequest = { offset, limit: SNAPSHOT_PAGE };
        // Telemetry replies are bare shapes, not api envelopes.
        const msg = await nc.request(actorSubject(process, 'snapshot'), new TextEncoder().encode(JSON.stringify(body)), { timeout: 10_000 });
        const reply = decode<ActorSnapshotReply>(msg.data);
        if (reply.incarnation !== incarnation) {
          // It restarted meanwhile: load the new one instead.
          loading.delete(process);
          if (trees.needsSnapshot(process, reply.incarnation)) void load(process, reply.incarnation);
          return;
        }
        offset += reply.actors.length;
        const last = reply.actors.length === 0 || offset >= reply.total;
        trees.applySnapshot(reply, last);
        if (last) break;
      }
    } catch (err) {
      // Asked again with the process's next message: say so once a minute, not every second.
      const last = warned.get(process) ?? 0;
      if (Date.now() - last > 60_000) {
        warned.set(process, Date.now());
        log.warn({ err, process }, 'could not read the actor tree of a process; asking again with its next message');
      }
      trees.forget(process);
    } finally {
      loading.delete(process);
    }
  };

  const seen = (process: string, incarnation: string): void => {
    if (trees.needsSnapshot(process, incarnation)) void load(process, incarnation);
  };

  const subs: Subscription[] = [];
  const on = (verb: 'lifecycle' | 'stats', fn: (data: Uint8Array) => void): void => {
    subs.push(nc.subscribe(actorWildcard(verb), {
      callback: (err, msg) => {
        if (err) {
          log.warn({ err }, 'actor telemetry subscription refused');
          return;
        }
        try {
          fn(msg.data);
        } catch (e) {
          log.debug({ err: e, subject: msg.subject }, 'malformed actor telemetry ignored');
        }
      },
    }));
  };
  on('lifecycle', (data) => {
    const b = decode<ActorLifecycleBatch>(data);
    if (!trees.applyLifecycle(b)) {
      trees.forget(b.process);
      seen(b.process, b.incarnation);
    }
  });
  on('stats', (data) => {
    const b = decode<ActorStatsBatch>(data);
    if (!trees.applyStats(b)) seen(b.process, b.incarnation);
  });
  const sweep = setInterval(() => {
    for (const p of trees.silentSince(Date.now() - PROCESS_SILENCE_MS)) if (!loading.has(p)) trees.forget(p);
  }, 5_000);
  sweep.unref();
  return {
    stop() {
      clearInterval(sweep);
      for (const s of subs) s.unsubscribe();
    },
  };
}
