/**
 * The actor telemetry contract: every mk process (each control plane, each node agent) publishes
 * its actors' lives and load on `mk.sys.actor.<process>.>`, so the dashboard, `mk` and any NATS
 * client can watch the supervision trees of the whole cluster. No I/O here: subjects and shapes.
 *
 * - `lifecycle`: one message per change of the tree (spawned, stopped, crashed, restarted), in the
 *   order they happened in the process. They are kept in the MK_ACTORS stream for an hour, with a
 *   `census` of the whole tree every few minutes, so the tree at a past moment can be rebuilt.
 * - `stats`: about once a second, the load of the actors whose figures changed (deltas, never the
 *   whole tree), and the process's own counters.
 * - `snapshot`: a request a process answers with its whole tree and the latest figures (paged).
 */
import { encodeToken } from './names';

/** Root of every telemetry subject. */
export const ACTOR_TELEMETRY_PREFIX = 'mk.sys.actor';
/** JetStream stream of lifecycle messages and censuses (the time scrubber's source). */
export const ACTOR_STREAM = 'MK_ACTORS';

/** What a telemetry subject carries. */
export type ActorSubjectVerb = 'lifecycle' | 'stats' | 'census' | 'snapshot';

/**
 * The process token: `cp-<id>` for a control plane, `node-<node>` for a node agent. Dots in the
 * id are encoded like names in keys.
 */
export function telemetryProcess(role: 'control-plane' | 'node', id: string): string {
  return `${role === 'control-plane' ? 'cp' : 'node'}-${encodeToken(id)}`;
}

/** `mk.sys.actor.<process>.<verb>`. */
export function actorSubject(process: string, verb: ActorSubjectVerb): string {
  return `${ACTOR_TELEMETRY_PREFIX}.${process}.${verb}`;
}

/** Every process's messages of one verb (`mk.sys.actor.*.stats`), or all of them. */
export function actorWildcard(verb?: ActorSubjectVerb): string {
  return verb ? `${ACTOR_TELEMETRY_PREFIX}.*.${verb}` : `${ACTOR_TELEMETRY_PREFIX}.>`;
}

/** What an actor keeps, when it keeps an object: a pod actor keeps its pod. */
export interface KeptObject { kind: string; namespace?: string; name: string; uid?: string }

/**
 * The static facts of one actor. `path` is nact's path (`/leader-3/pods/default$demo`), unique in
 * its process; `parent` is the parent's path (absent for the process's top actors). `kind` names
 * the actor's role (`api`, `scheduler`, `pod-supervisor`, `pod`, `node`, ...); `system` is true
 * for mk's own machinery (supervisors, api, scheduler, informers), which the dashboard may hide.
 */
export interface ActorInfo {
  path: string;
  parent?: string;
  name: string;
  kind: string;
  system: boolean;
  object?: KeptObject;
  /** When it was spawned (ISO 8601). */
  since: string;
}

/** The last crash of an actor: the error, and a summary of the message it was handling. */
export interface ActorCrash {
  at: string;
  error: string;
  /** The message's `type` when it has one, else its JSON, cut to 200 characters. */
  message?: string;
}

/**
 * The load of one actor over the last sampling interval. `handled` counts messages finished in
 * the interval; `rate` is messages per second; `meanMs` and `p99Ms` are the handling times of the
 * interval's messages (sampled: p99 of at most a few hundred timings); `mailbox` is the queue
 * depth when sampled; `maxWaitMs` the longest time a message of the interval waited in the mailbox.
 */
export interface ActorStats {
  path: string;
  mailbox: number;
  handled: number;
  rate: number;
  meanMs: number;
  p99Ms: number;
  maxWaitMs: number;
  restarts: number;
  lastCrash?: ActorCrash;
}

/** One change of the tree, in the order it happened in its process (`seq` counts up from 1 per incarnation). */
export type ActorLifecycle =
  | { type: 'spawned'; seq: number; at: string; actor: ActorInfo }
  | { type: 'stopped'; seq: number; at: string; path: string }
  | { type: 'crashed'; seq: number; at: string; path: string; crash: ActorCrash; restarts: number }
  | { type: 'restarted'; seq: number; at: string; path: string; restarts: number };

/** A lifecycle message: a batch of changes from one process incarnation (`incarnation` = its start, a uuid). */
export interface ActorLifecycleBatch { process: string; incarnation: string; events: ActorLifecycle[] }

/** The figures of the process itself, sent with every stats message. */
export interface ProcessStats {
  pid: number;
  role: 'control-plane' | 'node';
  /** The leader's term for a leading control plane, absent otherwise. */
  leading?: boolean;
  actors: number;
  cpuSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  eventLoopLagMs: number;
}

/** A stats message: the changed actors since the previous one, and the process's figures. */
export interface ActorStatsBatch { process: string; incarnation: string; at: string; self: ProcessStats; actors: ActorStats[] }

/**
 * A census: the whole tree of one process at `at`, with the last lifecycle `seq` it includes. A
 * tree too large for one message comes in `parts` messages (same `at` and `seq`, `part` from 1);
 * without them the census is whole.
 */
export interface ActorCensus { process: string; incarnation: string; at: string; seq: number; actors: ActorInfo[]; part?: number; parts?: number }

/** The snapshot request: a page of the tree, `offset` from 0, at most `limit` actors (default 1,000). */
export interface ActorSnapshotRequest { offset?: number; limit?: number }
/** Its reply: the page, the total, and the lifecycle `seq` it is consistent with. */
export interface ActorSnapshotReply {
  process: string;
  incarnation: string;
  seq: number;
  total: number;
  actors: (ActorInfo & { stats?: ActorStats })[];
  self: ProcessStats;
}
