/**
 * The dashboard's feed protocol: what the page and the control plane's `/feed` websocket say to
 * each other. Shared by the server (dashboard/server) and the page (dashboard/web), so it does no
 * I/O and imports nothing of mk's at run time (only types, which the page's bundle erases).
 *
 * Every frame is one JSON object with a `type`.
 *
 * Client -> server (validated with the zod schemas below): each carries an `id` the page chooses;
 * the server answers it with one `result` or one `error` of the same `id`.
 * - `subscribe` a topic (`tree`, `hot`, `objects`, `object`, `logs`, `nodes`, `usage`, `lag`,
 *   `subject`): the `result` carries a `sub` id; the server then sends one `snapshot` of it and
 *   `delta`s as it changes (never the whole table again). `update` changes a subscription's
 *   filters or page (a new `snapshot` follows); `unsubscribe` ends it.
 * - `at` (the time scrubber): the actor tree and an object as they were at a time; one `result`.
 * - writes `apply`, `delete`, `scale`: one `result`; refused on a read-only session by the bus.
 *
 * Server -> client: `hello` (first frame), `result`, `error`, `snapshot`, `delta`, `closed`.
 * Tables (tree, hot, objects, nodes, lag) are keyed rows: a delta upserts rows, removes keys, and
 * when the page's order changed gives `order`, the keys of the page in order.
 */
import { z } from 'zod';
import type { KubeObject } from '../messages/meta';
import type { ActorInfo, ActorStats, ProcessStats } from '../messages/telemetry';
import type { Usage, UsageSample } from '../messages/usage';

/** Version of this protocol, sent in `hello`; raised only for changes that are not additive. */
export const PROTOCOL_VERSION = 1;
/** The largest frame either side sends or accepts (the server closes on larger ones). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** The most rows one page of a table may ask for. */
export const MAX_PAGE_LIMIT = 500;
/** The page size when a subscription gives none. */
export const DEFAULT_PAGE_LIMIT = 100;
/** The most actors a `hot` subscription may ask for. */
export const MAX_HOT = 200;
/** Where the page opens its websocket, on the server that served it. */
export const FEED_PATH = '/feed';
/** Where the page POSTs a token (JSON `{ token }`) to open a write session (a cookie). */
export const SESSION_PATH = '/session';
/** The session cookie's name (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'mk_session';

// ---------------------------------------------------------------------------------------------
// Client -> server

/** The id of a request, chosen by the page; echoed in its `result` or `error`. */
export const RequestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
  .describe('Chosen by the page; the answer to this message carries the same id.');

/** The id of a subscription, chosen by the server and given in the subscribe's `result`. */
export const SubId = z.number().int().min(1).describe('A subscription id the server gave in its result.');

const Paging = {
  offset: z.number().int().min(0).default(0).describe('The first row of the page, from 0.'),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT)
    .describe(`The most rows of the page (at most ${MAX_PAGE_LIMIT}).`),
};

/** How the actor tree is sorted: by path (tree order), or by a figure, largest first. */
export const TreeSort = z.enum(['path', 'mailbox', 'rate', 'p99', 'restarts'])
  .describe('path: tree order; mailbox, rate, p99, restarts: largest first.');
export type TreeSort = z.infer<typeof TreeSort>;

/** `tree`: the actors of every process (or one), filtered, sorted and paged. */
export const TreeParams = z.strictObject({
  topic: z.literal('tree'),
  process: z.string().max(256).optional().describe('Only this process (`cp-<id>`, `node-<node>`).'),
  hideSystem: z.boolean().default(false).describe("Leave out mk's own machinery (system actors)."),
  search: z.string().max(256).optional()
    .describe('Only actors whose path, kind or kept object contains this text (case-insensitive).'),
  sort: TreeSort.default('path'),
  ...Paging,
});

/** `hot`: the top actors by backlog (mailbox) or by rate, for the heat map. */
export const HotParams = z.strictObject({
  topic: z.literal('hot'),
  by: z.enum(['mailbox', 'rate']).default('mailbox').describe('The figure that ranks actors.'),
  n: z.number().int().min(1).max(MAX_HOT).default(50).describe(`How many actors (at most ${MAX_HOT}).`),
  process: z.string().max(256).optional().describe('Only this process.'),
  hideSystem: z.boolean().default(false).describe("Leave out mk's own machinery."),
});

/** `objects`: the objects of one kind, as `mk get` shows them, paged by name. */
export const ObjectsParams = z.strictObject({
  topic: z.literal('objects'),
  kind: z.string().min(1).max(253).describe('The kind: plural, singular, short name or Kind.'),
  namespace: z.string().max(63).optional().describe('Only this namespace; absent: all.'),
  labelSelector: z.string().max(1024).optional().describe('Only objects whose labels match.'),
  ...Paging,
});

/** Which object: a kind (as for `objects`), its namespace when namespaced, and its name. */
export const ObjectRef = z.strictObject({
  kind: z.string().min(1).max(253).describe('The kind: plural, singular, short name or Kind.'),
  namespace: z.string().max(63).optional().describe('Its namespace (namespaced kinds; default: default).'),
  name: z.string().min(1).max(253).describe('Its name.'),
});
export type ObjectRef = z.infer<typeof ObjectRef>;

/** `object`: one object with its conditions, events, owners, dependents and lag. */
export const ObjectParams = ObjectRef.extend({ topic: z.literal('object') });

/** `logs`: a pod container's log, its tail and then (following) what it writes. */
export const LogsParams = z.strictObject({
  topic: z.literal('logs'),
  namespace: z.string().min(1).max(63).default('default').describe("The pod's namespace."),
  pod: z.string().min(1).max(253).describe("The pod's name."),
  container: z.string().max(63).optional().describe('The container; default: the first.'),
  tailLines: z.number().int().min(0).max(100_000).optional().describe('Only the last lines.'),
  follow: z.boolean().default(true).describe('Keep sending what the container writes.'),
  previous: z.boolean().default(false).describe("The previous (crashed) instance's log."),
});

/** `nodes`: every node with capacity, allocatable, usage and its pods. */
export const NodesParams = z.strictObject({ topic: z.literal('nodes') });

/** `usage`: a live usage series of one pod or node: its recent history, then each new sample. */
export const UsageParams = z.strictObject({
  topic: z.literal('usage'),
  kind: z.enum(['pods', 'nodes']).describe('A pod or a node.'),
  namespace: z.string().max(63).optional().describe("The pod's namespace (default: default)."),
  name: z.string().min(1).max(253).describe('The pod or node.'),
  historySeconds: z.number().int().min(0).max(600).default(300).describe('Seconds of history first.'),
});

/** `lag`: objects whose status.observedGeneration is behind metadata.generation. */
export const LagParams = z.strictObject({
  topic: z.literal('lag'),
  kind: z.string().max(253).optional().describe('Only this kind; absent: every kind that has a status.'),
});

/**
 * `subject`: a raw NATS subject, subscribed as the session's identity, so the bus decides what
 * the page may read (a subject outside its permissions is an error naming it).
 */
export const SubjectParams = z.strictObject({
  topic: z.literal('subject'),
  subject: z.string().min(1).max(512).regex(/^[^\s]+$/, 'a subject has no white space')
    .describe('A NATS subject, wildcards allowed.'),
});

/** What a subscription asks for, by topic. */
export const TopicParams = z.discriminatedUnion('topic', [
  TreeParams, HotParams, ObjectsParams, ObjectParams, LogsParams, NodesParams, UsageParams,
  LagParams, SubjectParams,
]);
export type TopicParams = z.infer<typeof TopicParams>;
/** Every topic's name. */
export type Topic = TopicParams['topic'];
/** The topics, for error messages and menus. */
export const TOPICS: readonly Topic[] = [
  'tree', 'hot', 'objects', 'object', 'logs', 'nodes', 'usage', 'lag', 'subject',
];
/** The params of one topic. */
export type ParamsOf<T extends Topic> = Extract<TopicParams, { topic: T }>;

/** Starts a subscription: `result` gives its `sub`, then a `snapshot` and `delta`s follow. */
export const SubscribeMessage = z.strictObject({
  type: z.literal('subscribe'),
  id: RequestId,
  params: TopicParams.describe('The topic and its filters.'),
});

/** Changes a subscription's filters or page (same topic): a new `snapshot` follows the `result`. */
export const UpdateMessage = z.strictObject({
  type: z.literal('update'),
  id: RequestId,
  sub: SubId,
  params: TopicParams.describe('The new filters, of the same topic.'),
});

/** Ends a subscription. */
export const UnsubscribeMessage = z.strictObject({
  type: z.literal('unsubscribe'),
  id: RequestId,
  sub: SubId,
});

/** The time scrubber: the actor tree and (optionally) one object as they were at `time`. */
export const AtMessage = z.strictObject({
  type: z.literal('at'),
  id: RequestId,
  time: z.iso.datetime({ offset: true }).describe('The moment (RFC 3339).'),
  process: z.string().max(256).optional().describe('Only this process\'s tree; absent: every process.'),
  object: ObjectRef.optional().describe('The object to read as it was then.'),
  ...Paging,
});

/**
 * Writes (a write session only; a read-only session's write is sent as the read-only identity
 * and refused by the bus with Forbidden).
 */
export const ApplyMessage = z.strictObject({
  type: z.literal('apply'),
  id: RequestId,
  text: z.string().min(1).max(512 * 1024).describe('One object as YAML or JSON.'),
  namespace: z.string().max(63).optional().describe('The namespace when the manifest has none.'),
  resourceVersion: z.string().max(32).optional()
    .describe('The revision the page read: Conflict when the object changed since.'),
});

export const DeleteMessage = ObjectRef.extend({
  type: z.literal('delete'),
  id: RequestId,
  resourceVersion: z.string().max(32).optional().describe('Reserved: the revision the page read.'),
});

/** Sets spec.replicas of a scalable object. */
export const ScaleMessage = ObjectRef.extend({
  type: z.literal('scale'),
  id: RequestId,
  replicas: z.number().int().min(0).max(100_000).describe('The new spec.replicas.'),
  resourceVersion: z.string().max(32).optional().describe('The revision the page read.'),
});

/** Every client message, by type. */
export const ClientMessage = z.discriminatedUnion('type', [
  SubscribeMessage, UpdateMessage, UnsubscribeMessage, AtMessage, ApplyMessage, DeleteMessage,
  ScaleMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
/** What a client message's type may be. */
export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = [
  'subscribe', 'update', 'unsubscribe', 'at', 'apply', 'delete', 'scale',
];
/** The write types: only a write session's identity may do them. */
export const WRITE_TYPES: readonly ClientMessageType[] = ['apply', 'delete', 'scale'];

/** The outcome of reading a frame: the message, or the error frame to send back. */
export type ParsedClientMessage =
  | { ok: true; message: ClientMessage }
  | { ok: false; error: ErrorFrame };

/**
 * Reads one frame from the page: too large, not JSON, not an object, an unknown type or topic,
 * or a field that breaks the schema each give an `error` frame naming the problem (with the
 * message's `id` when it had a readable one). Pure: the server and the page's tests use it.
 */
export function parseClientMessage(frame: string | Uint8Array): ParsedClientMessage {
  const size = typeof frame === 'string' ? new TextEncoder().encode(frame).length : frame.length;
  const fail = (code: FeedErrorCode, message: string, id?: number, issues?: string[]): ParsedClientMessage =>
    ({ ok: false, error: { type: 'error', id, error: { code, message, ...(issues ? { issues } : {}) } } });
  if (size > MAX_FRAME_BYTES) return fail('TooLarge', `frame of ${size} bytes: at most ${MAX_FRAME_BYTES} are allowed`);
  let raw: unknown;
  try {
    raw = JSON.parse(typeof frame === 'string' ? frame : new TextDecoder().decode(frame));
  } catch (err) {
    return fail('BadRequest', `frame is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('BadRequest', 'frame is not a JSON object');
  }
  const obj = raw as Record<string, unknown>;
  const id = RequestId.safeParse(obj.id).success ? obj.id as number : undefined;
  if (typeof obj.type !== 'string') return fail('BadRequest', 'message has no "type"', id);
  if (!(CLIENT_MESSAGE_TYPES as readonly string[]).includes(obj.type)) {
    return fail('UnknownType', `unknown message type "${obj.type}": expected one of ${CLIENT_MESSAGE_TYPES.join(', ')}`, id);
  }
  const params = obj.params as Record<string, unknown> | undefined;
  if ((obj.type === 'subscribe' || obj.type === 'update') && params && typeof params === 'object'
    && typeof params.topic === 'string' && !(TOPICS as readonly string[]).includes(params.topic)) {
    return fail('UnknownTopic', `unknown topic "${params.topic}": expected one of ${TOPICS.join(', ')}`, id);
  }
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(message)'}: ${i.message}`);
    return fail('BadRequest', `invalid ${obj.type} message: ${issues.join('; ')}`, id, issues);
  }
  return { ok: true, message: parsed.data };
}

// ---------------------------------------------------------------------------------------------
// Server -> client

/**
 * Error codes of the feed: the api's (Invalid, NotFound, Conflict, Forbidden, ...) as they come
 * from the cluster, and the feed's own for frames it cannot take.
 */
export type FeedErrorCode =
  | 'Invalid' | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Timeout' | 'Unavailable' | 'Internal'
  | 'BadRequest' | 'Expired' | 'Forbidden'
  /** The frame was larger than MAX_FRAME_BYTES. */
  | 'TooLarge'
  /** An unknown message `type`. */
  | 'UnknownType'
  /** An unknown subscription `topic`. */
  | 'UnknownTopic'
  /** An unknown kind (the message names it). */
  | 'UnknownKind'
  /** An unknown `sub`. */
  | 'UnknownSubscription'
  /** The session sent requests faster than its rate limit. */
  | 'TooManyRequests';

/** What went wrong. */
export interface FeedError {
  code: FeedErrorCode;
  message: string;
  issues?: string[];
  /** A refused `subject` subscription or a permission violation: the subject the bus refused. */
  subject?: string;
  /** A Conflict: the object's current resourceVersion, to read again from. */
  resourceVersion?: string;
}

/** The first frame: what this session may do. */
export interface HelloFrame {
  type: 'hello';
  protocol: number;
  /** True on a write session (a redeemed token's cookie): apply, delete and scale may pass. */
  writable: boolean;
  /** The NATS identity the session reads (and writes) as: `dashboard` or `dashboard-write`. */
  identity: string;
  /** The control plane process serving the feed. */
  server: string;
  /** The kinds the cluster serves, for the page's menus (added after the first cut; optional). */
  kinds?: KindSummary[];
}

/** One kind as `mk api-resources` lists it. */
export interface KindSummary {
  plural: string;
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  shortNames: string[];
  /** Kept in the object bucket (`store`) or the events stream (`stream`). */
  storage: 'store' | 'stream';
}

/** The answer to a request. `sub` answers subscribe; `value` the others (see ResultValues). */
export interface ResultFrame {
  type: 'result';
  id: number;
  sub?: number;
  value?: AtResult | WriteResult;
}

/** A refusal or failure: of a request (`id`), of a subscription after it started (`sub`), or of a frame. */
export interface ErrorFrame {
  type: 'error';
  id?: number;
  sub?: number;
  error: FeedError;
}

/** A subscription ended by the server (its source went away); the page may subscribe again. */
export interface ClosedFrame { type: 'closed'; sub: number; reason: string }

/** The `at` request's answer. */
export interface AtResult {
  time: string;
  /** The actor tree at `time`, paged like `tree` (path order). */
  tree: { total: number; offset: number; rows: TreeRow[] };
  /**
   * The object at `time` (a deleted one: its last value before the deletion), with the revision
   * and the time it was written; absent object: it did not exist then (or the history kept no
   * revision that old).
   */
  object?: { object?: KubeObject; revision?: number; written?: string; deleted: boolean };
}

/** The answer to apply, delete and scale. */
export interface WriteResult {
  object: KubeObject;
  result: 'created' | 'configured' | 'unchanged' | 'deleted' | 'terminating' | 'patched';
  warnings?: string[];
}

/** One actor: its facts, its latest figures and its process. `key` = `<process> <path>`. */
export interface TreeRow extends ActorInfo, Partial<Omit<ActorStats, 'path'>> {
  key: string;
  process: string;
  /** Levels below the process's top actors (0 for them), for indenting. */
  depth: number;
}

/** One process of the cluster with its figures. `key` = the process. */
export interface ProcessRow {
  key: string;
  process: string;
  incarnation: string;
  self?: ProcessStats;
  /** When its last telemetry arrived. */
  lastSeen: string;
}

/** One column header of an `objects` table (messages/kind.ts PrinterColumn). */
export interface ColumnInfo { name: string; priority: 0 | 1 }

/**
 * One object in an `objects` table: the kind's printer columns' cells as `mk get` shows them
 * (computed when sent: the page recomputes ages from `created`) and its identity. `key` = uid.
 */
export interface ObjectRow {
  key: string;
  name: string;
  namespace?: string;
  uid: string;
  created?: string;
  resourceVersion: string;
  cells: string[];
}

/** A node with its resources, its latest usage and its pods. `key` = its name. */
export interface NodeRow {
  key: string;
  name: string;
  ready: boolean;
  unschedulable: boolean;
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  usage?: Usage;
  pods: { namespace: string; name: string; phase?: string; usage?: Usage }[];
}

/** An object whose controller has not caught up with its spec. `key` = `<plural>/<ns>/<name>`. */
export interface LagRow {
  key: string;
  kind: string;
  namespace?: string;
  name: string;
  generation: number;
  observedGeneration?: number;
}

/** An object's involvement: owner or dependent. */
export interface RelatedRef { kind: string; namespace?: string; name: string; uid: string }

/** A condition of an object's status. */
export interface ConditionRow {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** An event about an object. `key` = the event's name. */
export interface EventRow {
  key: string;
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  source?: string;
}

/** `object`: the object (null once deleted) and what is around it. */
export interface ObjectDetail {
  object: KubeObject | null;
  conditions: ConditionRow[];
  owners: RelatedRef[];
  dependents: RelatedRef[];
  events: EventRow[];
  /** metadata.generation vs status.observedGeneration (absent when the kind has none). */
  lag?: { generation: number; observedGeneration?: number; behind: boolean };
}

/** A message seen on a `subject` subscription. `data` is UTF-8 text, or base64 when `binary`. */
export interface SubjectMessage { subject: string; data: string; binary?: boolean; received: string }

/** The rows of each table topic. */
export interface TableRows {
  tree: TreeRow;
  hot: TreeRow;
  objects: ObjectRow;
  nodes: NodeRow;
  lag: LagRow;
}
export type TableTopic = keyof TableRows;

/** A table's snapshot: the page of rows and the total matching. */
export interface TableSnapshot<T extends TableTopic = TableTopic> {
  type: 'snapshot';
  sub: number;
  topic: T;
  total: number;
  offset: number;
  rows: TableRows[T][];
  /** `objects`: the kind's columns, and its canonical plural. */
  columns?: ColumnInfo[];
  kind?: string;
  /** `tree`: every process (all of them, whatever the filter). */
  processes?: ProcessRow[];
}

/** A table's delta: rows added or changed, keys gone, the page's order when it changed. */
export interface TableDelta<T extends TableTopic = TableTopic> {
  type: 'delta';
  sub: number;
  topic: T;
  upsert?: TableRows[T][];
  remove?: string[];
  /** The keys of the page, in order, when the order or the set changed. */
  order?: string[];
  total?: number;
  /** `tree`: processes that appeared or changed, and those gone. */
  processes?: { upsert?: ProcessRow[]; remove?: string[] };
}

/** Non-table snapshots. */
export type OtherSnapshot =
  | { type: 'snapshot'; sub: number; topic: 'object'; detail: ObjectDetail }
  | { type: 'snapshot'; sub: number; topic: 'logs'; data: string; truncated?: boolean; eof?: boolean }
  | { type: 'snapshot'; sub: number; topic: 'usage'; samples: UsageSample[]; capacity?: Usage }
  | { type: 'snapshot'; sub: number; topic: 'subject'; subject: string };

/** Non-table deltas: replaced parts of an object detail, appended log text, samples, messages. */
export type OtherDelta =
  | {
    type: 'delta'; sub: number; topic: 'object';
    object?: KubeObject | null; conditions?: ConditionRow[]; owners?: RelatedRef[];
    dependents?: RelatedRef[]; lag?: ObjectDetail['lag'];
    events?: { upsert?: EventRow[]; remove?: string[] };
  }
  | { type: 'delta'; sub: number; topic: 'logs'; append: string; eof?: boolean }
  | { type: 'delta'; sub: number; topic: 'usage'; append: UsageSample[] }
  | { type: 'delta'; sub: number; topic: 'subject'; messages: SubjectMessage[] };

export type SnapshotFrame = TableSnapshot<'tree'> | TableSnapshot<'hot'> | TableSnapshot<'objects'>
  | TableSnapshot<'nodes'> | TableSnapshot<'lag'> | OtherSnapshot;
export type DeltaFrame = TableDelta<'tree'> | TableDelta<'hot'> | TableDelta<'objects'>
  | TableDelta<'nodes'> | TableDelta<'lag'> | OtherDelta;

/** Every frame the server sends. */
export type ServerMessage = HelloFrame | ResultFrame | ErrorFrame | ClosedFrame | SnapshotFrame | DeltaFrame;

/** The `/session` POST body. */
export const SessionRequest = z.strictObject({
  token: z.string().min(1).max(256).describe('The single-use token `mk dashboard` printed.'),
});
/** The `/session` answer (with the cookie on success). */
export interface SessionResponse { ok: boolean; writable: boolean; error?: string }
