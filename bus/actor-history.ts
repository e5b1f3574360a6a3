/**
 * The actor trees at a past moment, rebuilt from the MK_ACTORS stream: the latest census of each
 * process at or before that moment, plus the lifecycle changes after it up to the moment. The
 * dashboard's time scrubber asks for it. `treeAt` is the pure part; `actorTreeAt` reads the stream.
 */
import { DeliverPolicy } from '@nats-io/jetstream';
import {
  ACTOR_STREAM, actorSubject, type ActorCensus, type ActorInfo, type ActorLifecycleBatch,
} from '../messages/telemetry';
import type { Bus } from './connection';
import { withConsumer } from './consumers';
import { JsApiCodes, jsApiCode, translateError } from './errors';
import { busLog } from './log';
import { decode } from './request';

/** One process's tree at a moment: its actors, and the last lifecycle `seq` applied. */
export interface ActorTree { process: string; incarnation: string; at: string; seq: number; actors: ActorInfo[] }

const ms = (t: Date | number | string): number => (t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t));

/** The whole censuses among `censuses` (parts merged; a census missing a part is left out). */
function wholeCensuses(censuses: readonly ActorCensus[]): ActorCensus[] {
  const out: ActorCensus[] = [];
  const parts = new Map<string, ActorCensus[]>();
  for (const c of censuses) {
    if (!c.parts || c.parts <= 1) { out.push(c); continue; }
    const key = `${c.process}\u0000${c.incarnation}\u0000${c.at}\u0000${c.seq}`;
    const got = parts.get(key) ?? [];
    if (!got.some((p) => p.part === c.part)) got.push(c);
    parts.set(key, got);
    if (got.length === c.parts) {
      got.sort((a, b) => (a.part ?? 0) - (b.part ?? 0));
      const { part: _p, parts: _n, ...head } = got[0]!;
      out.push({ ...head, actors: got.flatMap((p) => p.actors) });
    }
  }
  return out;
}

/**
 * The trees at `time`, one per process that had a census at or before it (only `process` when
 * given), sorted by process. From each process's latest census at or before `time`, the
 * lifecycle changes of the same incarnation with a later `seq` and an `at` not after `time` are
 * applied in `seq` order (repeats ignored); a stopped actor takes its descendants with it.
 */
export function treeAt(
  censuses: readonly ActorCensus[], batches: readonly ActorLifecycleBatch[], time: Date | number | string, process?: string,
): ActorTree[] {
  const t = ms(time);
  const latest = new Map<string, ActorCensus>();
  for (const c of wholeCensuses(censuses)) {
    if (process !== undefined && c.process !== process) continue;
    if (ms(c.at) > t) continue;
    const prev = latest.get(c.process);
    if (!prev || ms(c.at) > ms(prev.at) || (ms(c.at) === ms(prev.at) && c.incarnation === prev.incarnation && c.seq > prev.seq)) latest.set(c.process, c);
  }
  const trees: ActorTree[] = [];
  for (const [proc, c] of [...latest].sort(([a], [b]) => a.localeCompare(b))) {
    const actors = new Map<string, ActorInfo>(c.actors.map((a) => [a.path, a]));
    const events = batches
      .filter((b) => b.process === proc && b.incarnation === c.incarnation)
      .flatMap((b) => b.events)
      .filter((e) => e.seq > c.seq && ms(e.at) <= t)
      .sort((a, b) => a.seq - b.seq);
    let seq = c.seq;
    for (const e of events) {
      if (e.seq <= seq) continue;
      seq = e.seq;
      if (e.type === 'spawned') actors.set(e.actor.path, e.actor);
      else if (e.type === 'stopped') {
        const below = `${e.path}/`;
        for (const p of [...actors.keys()]) if (p === e.path || p.startsWith(below)) actors.delete(p);
      }
    }
    trees.push({ process: proc, incarnation: c.incarnation, at: new Date(t).toISOString(), seq, actors: [...actors.values()] });
  }
  return trees;
}

/** How far before the moment the stream is read: two census intervals and a minute. */
export const HISTORY_LOOKBACK_MS = 11 * 60_000;
/** Read past the moment by this much: a change is published up to a tick after it happened. */
const PUBLISH_SLACK_MS = 5_000;

/**
 * The trees at `time` (of `process` only, when given) from the MK_ACTORS stream: reads the
 * censuses and lifecycle batches from `lookbackMs` before it to a little after it, then treeAt.
 * Returns [] when the stream does not exist; throws UnavailableError when the bus is down.
 */
export async function actorTreeAt(
  bus: Bus, time: Date | number | string, process?: string, opts: { lookbackMs?: number } = {},
): Promise<ActorTree[]> {
  const t = ms(time);
  if (!Number.isFinite(t)) throw new TypeError(`not a time: ${String(time)}`);
  const censuses: ActorCensus[] = [];
  const batches: ActorLifecycleBatch[] = [];
  try {
    let last: number;
    try {
      last = (await bus.jsm.streams.info(ACTOR_STREAM)).state.last_seq;
    } catch (err) {
      if (jsApiCode(err) === JsApiCodes.StreamNotFound) return [];
      throw err;
    }
    if (last === 0) return [];
    const until = t + PUBLISH_SLACK_MS;
    const since = new Date(t - (opts.lookbackMs ?? HISTORY_LOOKBACK_MS)).toISOString();
    // nats-server 2.9 takes one filter per consumer, a subset of the stream's subjects: one read
    // of everything, or two of one process's subjects.
    const filters = process === undefined ? [undefined] : [actorSubject(process, 'census'), actorSubject(process, 'lifecycle')];
    for (const filter of filters) {
      await withConsumer(bus, 'read actor history', async (js) => {
        const c: ActorCensus[] = [];
        const b: ActorLifecycleBatch[] = [];
        const consumer = await js.consumers.get(ACTOR_STREAM, {
          ...(filter !== undefined ? { filter_subjects: filter } : {}),
          deliver_policy: DeliverPolicy.StartTime,
          opt_start_time: since,
        });
        try {
          if ((await consumer.info(true)).num_pending === 0) return;
          const iter = await consumer.consume({ max_messages: 256 });
          for await (const m of iter) {
            if (m.info.timestampNanos / 1e6 > until) break;
            try {
              if (m.subject.endsWith('.census')) c.push(decode<ActorCensus>(m.data));
              else if (m.subject.endsWith('.lifecycle')) b.push(decode<ActorLifecycleBatch>(m.data));
            } catch {
              busLog.warn({ subject: m.subject, seq: m.seq }, 'undecodable message in the actor stream; skipped');
            }
            if (m.info.pending === 0 || m.seq >= last) break;
          }
        } finally {
          await consumer.delete().catch(() => false);
        }
        censuses.push(...c);
        batches.push(...b);
      });
    }
  } catch (err) {
    throw translateError(err, { action: 'read the actor history' });
  }
  return treeAt(censuses, batches, t, process);
}
