/**
 * The bus side of triggers: the stream that keeps subject, HTTP and file firings until the
 * trigger engine has recorded them, the stream of dead letters, the bucket of firings in
 * progress, the subjects a gateway publishes an HTTP firing and a node a file firing on, what a
 * node is told of its file triggers, the ids firings get and what a dead letter holds. No I/O.
 */
import { decodeToken, encodeToken } from './names';
import type { FileEvent } from './trigger-names';

/**
 * The stream that captures every subject trigger's subject and the HTTP firing subjects (limits
 * retention, file storage). The trigger engine sets its subjects: JetStream refuses subjects that
 * overlap within a stream or across streams, so overlapping trigger subjects are captured by one
 * subject that covers them, and each trigger's durable consumer filters its own subject.
 */
export const TRIGGER_EVENTS_STREAM = 'MK_TRIGGER_EVENTS';
/** How long the events stream keeps a message (ms): a trigger whose engine is down that long loses the oldest. */
export const TRIGGER_EVENTS_MAX_AGE_MS = 24 * 3600_000;
/** How long the events stream drops a second publish of the same Nats-Msg-Id (ms). */
export const TRIGGER_EVENTS_DUPLICATE_WINDOW_MS = 2 * 60_000;

/** The subject a gateway publishes a firing of HTTP trigger `<ns>/<name>` on (captured by TRIGGER_EVENTS_STREAM). */
export function triggerHttpSubject(namespace: string, name: string): string {
  return `mk.trigger.http.${encodeToken(namespace)}.${encodeToken(name)}`;
}
/** Every HTTP firing subject. */
export const TRIGGER_HTTP_WILDCARD = 'mk.trigger.http.*.*';

/**
 * The subject node `node` publishes a change seen by file trigger `<ns>/<name>` on (captured by
 * TRIGGER_EVENTS_STREAM); a node may publish only under its own name (embedded/permissions.ts).
 */
export function triggerFileSubject(node: string, namespace: string, name: string): string {
  return `mk.trigger.file.${encodeToken(node)}.${encodeToken(namespace)}.${encodeToken(name)}`;
}
/** Every file firing subject. */
export const TRIGGER_FILE_WILDCARD = 'mk.trigger.file.>';
/** Every file firing subject of node `node`: what that node may publish. */
export function triggerFileNodeWildcard(node: string): string {
  return `mk.trigger.file.${encodeToken(node)}.>`;
}
/** The node a file firing subject names (its fourth token), or undefined for another subject. */
export function triggerFileNodeOf(subject: string): string | undefined {
  const t = subject.split('.');
  return t.length === 6 && t[0] === 'mk' && t[1] === 'trigger' && t[2] === 'file' ? decodeToken(t[3]) : undefined;
}

/** The body of a file firing (JSON): what changed, where and when. */
export interface FileTriggerEvent {
  /** The node that saw the change. */
  node: string;
  /** The file that changed (the trigger's path, or a file under it when that is a directory). */
  path: string;
  event: FileEvent;
  /** When the change was seen (RFC 3339, milliseconds). */
  time: string;
}

/** One file trigger of a node, as the control plane tells that node (mk.api.node.<node>.file-triggers). */
export interface NodeFileTrigger {
  namespace: string;
  name: string;
  uid: string;
  /** The absolute path to watch: a file, or a directory and every file under it. */
  path: string;
  events: FileEvent[];
  debounceMs: number;
}

/** The reply of mk.api.node.<node>.file-triggers: the file triggers whose spec.source.file.node is the node. */
export interface FileTriggersResult {
  triggers: NodeFileTrigger[];
}

/** What the control plane publishes to a node when its file triggers changed: `mk.node.<node>.file-triggers`. */
export function fileTriggersNudgeSubject(node: string): string {
  return `mk.node.${encodeToken(node)}.file-triggers`;
}

/** HTTP firings' headers on the bus: the method and path of the request (its own headers are kept too). */
export const TRIGGER_HTTP_HEADERS = { method: 'Mk-Trigger-Method', path: 'Mk-Trigger-Path' } as const;

/** The stream of dead letters published under mk.trigger.dlq. (limits retention, kept 7 days). */
export const TRIGGER_DLQ_STREAM = 'MK_TRIGGER_DLQ';
/** What TRIGGER_DLQ_STREAM captures: every default dead-letter subject. */
export const TRIGGER_DLQ_CAPTURE = 'mk.trigger.dlq.>';
/** How long a dead letter is kept (ms). */
export const TRIGGER_DLQ_MAX_AGE_MS = 7 * 24 * 3600_000;

/**
 * KV bucket of firings (key `open.<trigger uid>.<firing id>` while a firing runs or waits for its
 * next try, `done.<trigger uid>.<firing id>` once it ended), kept a day: a firing handed on again
 * after a restart finds its record and is not fired twice.
 */
export const TRIGGER_FIRINGS_BUCKET = 'mk-trigger-firings';
/** How long a firing's record is kept (ms). */
export const TRIGGER_FIRINGS_TTL_MS = 24 * 3600_000;

/** The longest firing id: room for `-<attempt>` within an async call id's 128 characters and a run name's 63. */
export const MAX_FIRING_ID = 56;

/**
 * The stem of trigger `name`'s firing ids: the name with its dots as dashes, cut to 40
 * characters, lower case (a WorkflowRun name and an async call id both take it).
 */
export function firingStem(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40).replace(/-+$/, '') || 'trigger';
}

/** The id of the firing of trigger `name` scheduled at `scheduledMs`: `<stem>-<epoch seconds>`, the same after any restart. */
export function scheduleFiringId(name: string, scheduledMs: number): string {
  return `${firingStem(name)}-${Math.floor(scheduledMs / 1000)}`;
}

/** The id of the firing of trigger `name` by the message at `seq` of TRIGGER_EVENTS_STREAM: `<stem>-m<seq>`. */
export function messageFiringId(name: string, seq: number): string {
  return `${firingStem(name)}-m${seq}`;
}

/** The id of try `attempt` (1-based) of `firing`: the firing's own id for the first, `<firing>-<attempt>` after. */
export function attemptId(firing: string, attempt: number): string {
  return attempt <= 1 ? firing : `${firing}-${attempt}`;
}

/** What a firing that failed every try publishes on the trigger's dead-letter subject (JSON). */
export interface TriggerDeadLetter {
  /** `<namespace>/<name>` of the trigger. */
  trigger: string;
  firing: string;
  /** What the target was given. */
  input: unknown;
  /** The last try's error. */
  error: string;
  attempts: number;
  /** The target: `function/<name>` or `workflow/<name>`. */
  target: string;
  /** When the firing went to the dead-letter subject (RFC 3339). */
  time: string;
}
