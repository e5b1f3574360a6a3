/**
 * The one place the feed reads the actor trees of the past. bus/actor-history.ts `actorTreeAt`
 * (the telemetry's own reader of MK_ACTORS) is meant to serve here once it is part of this build;
 * until then this file rebuilds the trees itself, from the same contract (messages/telemetry.ts):
 * MK_ACTORS keeps every process's lifecycle batches and periodic censuses for an hour, so the tree
 * of a process at T is its latest census before T with the lifecycle events after it, up to T.
 */
import type { Bus } from '../../bus';
import { translateError } from '../../bus';
import {
  ACTOR_STREAM, actorWildcard, type ActorCensus, type ActorInfo, type ActorLifecycleBatch,
} from '../../messages/telemetry';
import { FeedError } from './feed-error';

/** Every process's tree (or one process's) as it was at `at`. */
export type ActorTreeAt = (bus: Bus, at: Date, process?: string) => Promise<{ process: string; actors: ActorInfo[] }[]>;

interface Rebuilt { incarnation: string; seq: number; actors: Map<string, ActorInfo> }

/** Applies one message of MK_ACTORS to the trees being rebuilt. Pure, for tests. */
export function replay(trees: Map<string, Rebuilt>, verb: string, body: ActorCensus | ActorLifecycleBatch): void {
  if (verb === 'census') {
    const c = body as ActorCensus;
    trees.set(c.process, { incarnation: c.incarnation, seq: c.seq, actors: new Map(c.actors.map((a) => [a.path, a])) });
    return;
  }
  if (verb !== 'lifecycle') return;
  const b = body as ActorLifecycleBatch;
  let t = trees.get(b.process);
  // A new incarnation starts from nothing: its spawns build it.
  if (!t || t.incarnation !== b.incarnation) {
    t = { incarnation: b.incarnation, seq: 0, actors: new Map() };
    trees.set(b.process, t);
  }
  for (const e of b.events) {
    if (e.seq <= t.seq) continue;
    t.seq = e.seq;
    if (e.type === 'spawned') t.actors.set(e.actor.path, e.actor);
    else if (e.type === 'stopped') {
      for (const p of [...t.actors.keys()]) if (p === e.path || p.startsWith(`${e.path}/`)) t.actors.delete(p);
    }
  }
}

/** Reads MK_ACTORS from its start up to `at`. Throws FeedError Unavailable when there is no such stream. */
export const actorTreeAt: ActorTreeAt = async (bus, at, process) => {
  const trees = new Map<string, Rebuilt>();
  let consumer;
  try {
    consumer = await bus.js.consumers.get(ACTOR_STREAM, { filter_subjects: actorWildcard() });
  } catch (err) {
    const e = translateError(err, { action: `read ${ACTOR_STREAM}` });
    if (e.code === 'NotFound') throw new FeedError('Unavailable', `no actor history: the ${ACTOR_STREAM} stream does not exist`);
    throw e;
  }
  const td = new TextDecoder();
  try {
    for (let done = false; !done;) {
      let got = 0;
      for await (const m of await consumer.fetch({ max_messages: 1_000, expires: 2_000 })) {
        got++;
        if (m.time.getTime() > at.getTime()) {
          done = true;
          break;
        }
        const [, , , proc, verb] = m.subject.split('.');
        if (!process || proc === process) {
          try {
            replay(trees, verb, JSON.parse(td.decode(m.data)) as ActorCensus | ActorLifecycleBatch);
          } catch {
            // A malformed message changes nothing.
          }
        }
        if (m.info.pending === 0) {
          done = true;
          break;
        }
      }
      if (got === 0) done = true;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return [...trees].map(([p, t]) => ({ process: p, actors: [...t.actors.values()] }));
};
