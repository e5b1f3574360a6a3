/**
 * Every NATS subject and bucket mk uses, in one place. This is the documented API (docs/api.md):
 * automation needs nothing but a NATS client and these names.
 */
import { encodeToken } from './names';

/** JetStream KV bucket holding every object, key `<plural>.<namespace>.<name>`. */
export const OBJECTS_BUCKET = 'mk-objects';
/** KV bucket for leases (control-plane leadership). */
export const LEASES_BUCKET = 'mk-leases';
/** JetStream stream holding nact journals; subjects `mk.journal.<key>`. */
export const JOURNAL_STREAM = 'MK_JOURNAL';
export const JOURNAL_SUBJECT_PREFIX = 'mk.journal';
/** Persistence keys of node pod actors' backoff journals: `pod-backoff-<pod uid>`. */
export const POD_BACKOFF_KEY_PREFIX = 'pod-backoff-';
/** KV bucket holding nact snapshots. */
export const SNAPSHOT_BUCKET = 'mk-snapshots';
/** Stream of cluster events (`mk events`), subjects `mk.events.<namespace>.<kind>`. */
export const EVENTS_STREAM = 'MK_EVENTS';

/** Request/reply subjects served by the control plane's api actor. */
export const API = {
  apply: 'mk.api.apply',
  get: 'mk.api.get',
  list: 'mk.api.list',
  delete: 'mk.api.delete',
  /** Change notifications for watchers: `mk.watch.<plural>.<namespace>.<name>`. */
  watchPrefix: 'mk.watch',
  ping: 'mk.api.ping',
} as const;

/** Subject a watcher subscribes to: every change of a kind, optionally in one namespace. */
export function watchSubject(plural: string, namespace?: string): string {
  return namespace ? `${API.watchPrefix}.${plural}.${encodeToken(namespace)}.>` : `${API.watchPrefix}.${plural}.>`;
}

/** Request/reply subjects served by one node agent. */
export function nodeSubject(node: string, verb: 'logs' | 'exec' | 'ping' | 'progress' | 'teardown'): string {
  return `mk.node.${encodeToken(node)}.${verb}`;
}

/** Cancels a follow (`mk logs -f`) stream: `mk.node.<node>.logs.cancel.<streamId>`. */
export function logsCancelSubject(node: string, streamId: string): string {
  return `mk.node.${encodeToken(node)}.logs.cancel.${streamId}`;
}

/** Subjects for actor refs that live in another process: `mk.actor.<process>.<path>`. */
export function actorSubject(process: string, path: string): string {
  return `mk.actor.${encodeToken(process)}.${path.replace(/[./]/g, '_')}`;
}

/** Subject of one cluster event. */
export function eventSubject(namespace: string | undefined, kind: string): string {
  return `mk.events.${namespace ? encodeToken(namespace) : '_cluster'}.${kind}`;
}
