/**
 * Every NATS subject and bucket mk uses, in one place. This is the documented API (docs/api.md):
 * automation needs nothing but a NATS client and these names. The embedded cluster's permissions
 * (embedded/permissions.ts) are written in these terms, so each identity may touch only its own.
 */
import { encodeToken } from './names';

/** JetStream KV bucket holding every object, key `<plural>.<namespace>.<name>`. Only the control plane writes it. */
export const OBJECTS_BUCKET = 'mk-objects';
/**
 * JetStream KV bucket holding, per node, the pods bound to it: key `<node>.<namespace>.<name>`,
 * kept by the control plane. A node agent reads only its own prefix.
 */
export const NODE_PODS_BUCKET = 'mk-node-pods';
/** KV bucket of the object buckets' bookkeeping: `<bucket>.compacted` = the compacted revision. */
export const META_BUCKET = 'mk-meta';
/** JetStream stream holding nact journals; subjects `mk.journal.<owner>.<key token>`. */
export const JOURNAL_STREAM = 'MK_JOURNAL';
export const JOURNAL_SUBJECT_PREFIX = 'mk.journal';
/** Persistence keys of node pod actors' backoff journals: `pod-backoff-<pod uid>`. */
export const POD_BACKOFF_KEY_PREFIX = 'pod-backoff-';
/** KV bucket holding nact snapshots, key `<owner>.<key token>`. */
export const SNAPSHOT_BUCKET = 'mk-snapshots';
/** Stream of cluster events (`mk events`), subjects `mk.events.<namespace>.<kind>.<source>`. */
export const EVENTS_STREAM = 'MK_EVENTS';
/**
 * JetStream object store bucket holding functions' code, one object per packed tree named by its
 * digest (`sha256:<hex>`; stream `OBJ_mk-function-code`). The CLI puts and gets, nodes only get.
 */
export const FUNCTION_CODE_BUCKET = 'mk-function-code';

/** Request/reply subjects served by the control plane's api actor. */
export const API = {
  apply: 'mk.api.apply',
  get: 'mk.api.get',
  list: 'mk.api.list',
  delete: 'mk.api.delete',
  /** Change notifications for watchers: `mk.watch.<plural>.<namespace>.<name>`. */
  watchPrefix: 'mk.watch',
  ping: 'mk.api.ping',
  /** Starts a server-side watch streaming to the client's subject (WatchRequest). */
  watch: 'mk.api.watch',
  /** Ends a watch (UnwatchRequest). */
  unwatch: 'mk.api.unwatch',
  create: 'mk.api.create',
  update: 'mk.api.update',
  patch: 'mk.api.patch',
  updateStatus: 'mk.api.update-status',
  /**
   * The function gateway's only read (ListRequest): Functions, and pods labelled `mk.io/function`
   * (their instances); any other list is Forbidden, so the gateway's identity never reads Secrets.
   */
  gatewayList: 'mk.api.gateway.list',
} as const;

/** Subject a watcher subscribes to: every change of a kind, optionally in one namespace. */
export function watchSubject(plural: string, namespace?: string): string {
  return namespace ? `${API.watchPrefix}.${plural}.${encodeToken(namespace)}.>` : `${API.watchPrefix}.${plural}.>`;
}

/**
 * What a node agent asks of the control plane, on `mk.api.node.<node>.<verb>`: a node may send
 * only on its own name, so the control plane knows which node asks (Kubernetes' NodeRestriction).
 */
export type NodeApiVerb = 'register' | 'heartbeat' | 'pod-status' | 'pod-terminated' | 'pod-object'
  | 'local-volumes' | 'local-volume-cleaned' | 'file-triggers';

/** The subject a node agent sends a node api request on. */
export function nodeApiSubject(node: string, verb: NodeApiVerb): string {
  return `mk.api.node.${encodeToken(node)}.${verb}`;
}

/** What the control plane serves for every node: `mk.api.node.*.<verb>`. */
export function nodeApiWildcard(verb: NodeApiVerb): string {
  return `mk.api.node.*.${verb}`;
}

/** Request/reply subjects served by one node agent. */
export function nodeSubject(node: string, verb: 'logs' | 'exec' | 'ping' | 'progress' | 'teardown'): string {
  return `mk.node.${encodeToken(node)}.${verb}`;
}

/** Cancels a follow (`mk logs -f`) stream: `mk.node.<node>.logs.cancel.<streamId>`. */
export function logsCancelSubject(node: string, streamId: string): string {
  return `mk.node.${encodeToken(node)}.logs.cancel.${streamId}`;
}

/** Where a node agent publishes the chunks of a followed log: `mk.node.<node>.logs.stream.<streamId>`. */
export function logsStreamSubject(node: string, streamId: string): string {
  return `mk.node.${encodeToken(node)}.logs.stream.${streamId}`;
}

/** The subject token of an event's source: its component, and its host when it has one (`mk-node-n1`). */
export function eventSourceToken(source: { component: string; host?: string }): string {
  return encodeToken(source.host ? `${source.component}-${source.host}` : source.component);
}

/** Subject of one cluster event. */
export function eventSubject(namespace: string | undefined, kind: string, source: { component: string; host?: string }): string {
  return `mk.events.${namespace ? encodeToken(namespace) : '_cluster'}.${kind}.${eventSourceToken(source)}`;
}

/** The inbox prefix of one identity: replies to it never reach another identity's subscriptions. */
export function inboxPrefix(user: string): string {
  return `_INBOX.${encodeToken(user)}`;
}

/** The persistence owner token of a node agent's journals and snapshots. */
export function nodeJournalOwner(node: string): string {
  return `node-${encodeToken(node)}`;
}

/**
 * Where a machine asks to join the cluster as a node (request/reply, JoinRequest -> JoinResult),
 * as the public `join` identity that may send nothing else.
 */
export const JOIN_SUBJECT = 'mk.join';

/**
 * Request/reply: a single-use token that opens a dashboard write session (`{ token, expiresAt }`),
 * served by every control plane; the admin identity (`mk dashboard`) may ask.
 */
export const DASHBOARD_TOKEN_SUBJECT = 'mk.dashboard.token';

/**
 * KV bucket of the cluster IPs and node ports Services hold: `clusterip.<a-b-c-d>` and
 * `nodeport.<protocol>.<port>` -> the owning service `{ namespace, name, uid, at }`. A key is
 * created (never overwritten) to take one, so two writers can never take the same. Only the
 * control plane reads and writes it.
 */
export const SERVICE_ALLOCATIONS_BUCKET = 'mk-service-allocations';

/**
 * Request/reply: calls function `<ns>.<name>` through a gateway (queue group FUNCTION_INVOKE_QUEUE,
 * so gateways share the calls). The request is the event as JSON; the reply an InvokeReply.
 */
export function functionInvokeSubject(namespace: string, name: string): string {
  return `mk.fn.invoke.${encodeToken(namespace)}.${encodeToken(name)}`;
}
/** Every function's invoke subject, as a gateway serves them. */
export const FUNCTION_INVOKE_WILDCARD = 'mk.fn.invoke.>';
/** The queue group gateways serve FUNCTION_INVOKE_WILDCARD in. */
export const FUNCTION_INVOKE_QUEUE = 'mk-gateways';
/** Publication, every second from each gateway: its GatewayStats (messages/gateway.ts). */
export function functionStatsSubject(gateway: string): string {
  return `mk.fn.stats.${encodeToken(gateway)}`;
}
/** Every gateway's stats, as the function controller follows them. */
export const FUNCTION_STATS_WILDCARD = 'mk.fn.stats.>';
/** Publication from a gateway at once when a call of `<ns>.<name>` waits with no free slot: a FunctionDemand. */
export function functionDemandSubject(namespace: string, name: string): string {
  return `mk.fn.demand.${encodeToken(namespace)}.${encodeToken(name)}`;
}
/** Every function's demand signals. */
export const FUNCTION_DEMAND_WILDCARD = 'mk.fn.demand.>';
