/**
 * What each identity of an embedded cluster may do on the bus, enforced by nats-server
 * (https://docs.nats.io/running-a-nats-service/configuration/securing_nats/authorization):
 *
 * - the control plane may do everything: it owns the store, the streams and the api;
 * - the CLI (admin) may send api requests and talk to node agents, and listen to watches, events
 *   and its own replies; it may not write the store or the streams directly, nor act as a node;
 * - a node may only act for itself, like a kubelet under Kubernetes' NodeRestriction: it sends
 *   its requests to the control plane on its own name (register, heartbeat, the status of its own
 *   pods, their removal), reads only the pods bound to it (its prefix of the node-pods bucket),
 *   writes only its own events and journals, serves only its own subjects and reads only its own
 *   replies. Everything else it asks for is refused by the server. What the store holds for a node
 *   beyond its pods (its local-path volumes) it reads through the node api on its own name, where
 *   the control plane answers with that node's share only (actors/node/local-volumes-api.ts,
 *   actors/node/file-triggers-api.ts), and the changes its file triggers see it publishes only
 *   under its own name (`mk.trigger.file.<node>.>`, captured by the trigger events stream; the
 *   acks come to its inbox).
 *
 * Functions' code (FUNCTION_CODE_BUCKET, an object store) is the one part of JetStream outside
 * the control plane that others touch: the CLI uploads and downloads code, nodes only download
 * it (to run a function's instances), the dashboard does neither.
 */
import {
  EVENTS_STREAM, JOURNAL_STREAM, JOURNAL_SUBJECT_PREFIX, META_BUCKET, NODE_PODS_BUCKET, NODE_ROUTES_BUCKET, SNAPSHOT_BUCKET,
  eventSourceToken, inboxPrefix, nodeJournalOwner, encodeToken, JOIN_SUBJECT,
  actorSubject, actorWildcard, telemetryProcess, API, KINDS, SecretKind,
} from '../messages';
import {
  DASHBOARD_TOKEN_SUBJECT, FUNCTION_CODE_BUCKET, FUNCTION_INVOKE_WILDCARD, OBJECTS_BUCKET,
} from '../messages/subjects';
import {
  ASYNC_CONSUMER, ASYNC_INVOKE_WILDCARD, ASYNC_STREAM, DLQ_LIST_SUBJECT, DLQ_REPLAY_SUBJECT, DLQ_STREAM, RESULTS_BUCKET, RESULTS_GET_SUBJECT,
} from '../messages/function-async';
import { ACTOR_STREAM } from '../messages/telemetry';
import { TRIGGER_HTTP_WILDCARD, triggerFileNodeWildcard } from '../messages/trigger-subjects';
import { WORKFLOW_PAYLOAD_BUCKET } from '../messages/workflow/limits';
import { STATS_WILDCARD, statsSubject } from '../messages/usage';

/** A user's permissions in nats-server's terms. */
export interface Permissions {
  publish: { allow?: string[]; deny?: string[] };
  subscribe: { allow?: string[]; deny?: string[] };
  /** May answer requests it received (on their reply subjects), and nothing else there. */
  allowResponses?: boolean;
}

/** The component name of node agents on their events (kubelet's is `kubelet`). */
export const NODE_COMPONENT = 'mk-node';

/** The CLI: the api, the node agents' own subjects, and listening to what users watch. */
export function adminPermissions(user: string): Permissions {
  return {
    publish: {
      // `mk.api.*`: the api's verbs (mk.api.metrics among them); not `mk.api.node.>`, which only nodes send.
      allow: [
        'mk.api.*', 'mk.node.*.logs', 'mk.node.*.exec', 'mk.node.*.teardown', 'mk.node.*.ping', 'mk.node.*.logs.cancel.*',
        // `mk dashboard` asks for a single-use write token.
        DASHBOARD_TOKEN_SUBJECT,
        // `mk port-forward`: opening a stream (only the admin may), its frames to the node, the list.
        'mk.node.*.portforward', 'mk.node.*.portforward.*.up', 'mk.node.*.portforward.list',
        ...actorTelemetryRead().publish,
        ...functionCodeRead(), ...functionCodeWrite(),
        // `mk workflow run`: an input over the inline limit is put in the payload bucket, an output read from it.
        ...workflowPayloadAccess(),
        // `mk function invoke [--async]`, `result`, `dlq`: requests to a gateway, never the streams themselves.
        FUNCTION_INVOKE_WILDCARD, ASYNC_INVOKE_WILDCARD, RESULTS_GET_SUBJECT, DLQ_LIST_SUBJECT, DLQ_REPLAY_SUBJECT,
      ],
    },
    subscribe: {
      allow: [`${inboxPrefix(user)}.>`, 'mk.watch.>', 'mk.events.>', 'mk.node.*.progress', 'mk.node.*.logs.stream.*', ...actorTelemetryRead().subscribe,
        'mk.node.*.portforward.*.down'],
    },
  };
}

/** One node agent: only for itself (see the module comment). */
export function nodePermissions(node: string): Permissions {
  const n = encodeToken(node);
  const owner = nodeJournalOwner(node);
  const pods = `KV_${NODE_PODS_BUCKET}`;
  const snapshots = `KV_${SNAPSHOT_BUCKET}`;
  const meta = `KV_${META_BUCKET}`;
  return {
    publish: {
      allow: [
        `mk.api.node.${n}.*`,
        `mk.node.${n}.>`,
        // Its own usage reports (messages/usage.ts); the control plane hears every node's.
        statsSubject(node),
        // Changes its file triggers saw (node-agent/triggers), published to the trigger events stream.
        triggerFileNodeWildcard(node),
        `mk.events.*.*.${eventSourceToken({ component: NODE_COMPONENT, host: node })}`,
        `${JOURNAL_SUBJECT_PREFIX}.${owner}.*`,
        `$KV.${SNAPSHOT_BUCKET}.${owner}.*`,
        '$JS.API.INFO',
        ...[pods, JOURNAL_STREAM, EVENTS_STREAM, snapshots, meta].map((s) => `$JS.API.STREAM.INFO.${s}`),
        // Consumers are named by the client and carry their filter in the subject (nats-server 2.9+),
        // so a node can open them only on its own prefix of the node-pods bucket and its own journals.
        `$JS.API.CONSUMER.CREATE.${pods}.*.$KV.${NODE_PODS_BUCKET}.${n}.>`,
        `$JS.API.CONSUMER.CREATE.${JOURNAL_STREAM}.*.${JOURNAL_SUBJECT_PREFIX}.${owner}.*`,
        ...[pods, JOURNAL_STREAM].flatMap((s) => [
          `$JS.API.CONSUMER.MSG.NEXT.${s}.*`, `$JS.API.CONSUMER.INFO.${s}.*`, `$JS.API.CONSUMER.DELETE.${s}.*`,
        ]),
        ...[JOURNAL_STREAM, snapshots, meta].map((s) => `$JS.API.STREAM.MSG.GET.${s}`),
        // The pod network's routes (name, pod CIDR, InternalIP of every node): read-only, all keys.
        ...nodeRoutesRead(),
        // The service network (proxy, DNS, ingress): Services, EndpointSlices and Ingresses,
        // read-only; never the rest of the objects bucket (Secrets stay unreadable).
        ...serviceNetworkRead(),
        // Functions' code, to run their instances: read-only.
        ...functionCodeRead(),
        // Its own actor telemetry, as its own process only (MK_ACTORS captures the subjects).
        ...(['lifecycle', 'stats', 'census'] as const).map((v) => actorSubject(telemetryProcess('node', node), v)),
      ],
    },
    subscribe: { allow: [`${inboxPrefix(`node-${node}`)}.>`, `mk.node.${n}.>`, actorSubject(telemetryProcess('node', node), 'snapshot')] },
    allowResponses: true,
  };
}

/** Reading the node routes bucket (NODE_ROUTES_BUCKET), every key; writing it stays the control plane's. */
function nodeRoutesRead(): string[] {
  const routes = `KV_${NODE_ROUTES_BUCKET}`;
  return [
    `$JS.API.STREAM.INFO.${routes}`,
    `$JS.API.CONSUMER.CREATE.${routes}.*.$KV.${NODE_ROUTES_BUCKET}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${routes}.*`, `$JS.API.CONSUMER.INFO.${routes}.*`, `$JS.API.CONSUMER.DELETE.${routes}.*`,
  ];
}

/** The code bucket's stream. */
const CODE_STREAM = `OBJ_${FUNCTION_CODE_BUCKET}`;

/**
 * Reading functions' code (bus/function-code.ts getCode): an object's metadata (the last message
 * on its meta subject) and its chunks, by direct gets. No consumer: whoever may create one may
 * name its deliver subject, and the server would publish the stream's messages there.
 */
function functionCodeRead(): string[] {
  return [
    `$JS.API.STREAM.INFO.${CODE_STREAM}`,
    `$JS.API.STREAM.MSG.GET.${CODE_STREAM}`,
    `$JS.API.DIRECT.GET.${CODE_STREAM}`, `$JS.API.DIRECT.GET.${CODE_STREAM}.>`,
  ];
}

/**
 * Reading and adding workflow payloads (bus/workflow-payloads.ts): objects' metadata and chunks by
 * direct get, and new objects' chunks and metadata. Never purging or deleting the stream.
 */
function workflowPayloadAccess(): string[] {
  const stream = `OBJ_${WORKFLOW_PAYLOAD_BUCKET}`;
  return [
    `$JS.API.STREAM.INFO.${stream}`, `$JS.API.STREAM.MSG.GET.${stream}`, `$JS.API.DIRECT.GET.${stream}`, `$JS.API.DIRECT.GET.${stream}.>`,
    `$O.${WORKFLOW_PAYLOAD_BUCKET}.C.>`, `$O.${WORKFLOW_PAYLOAD_BUCKET}.M.>`,
  ];
}

/** Uploading code: an object's chunks and its metadata. Never purging or deleting the stream. */
function functionCodeWrite(): string[] {
  return [`$O.${FUNCTION_CODE_BUCKET}.C.>`, `$O.${FUNCTION_CODE_BUCKET}.M.>`];
}

/** The kinds a node's service proxy, DNS and ingress proxy watch in the objects bucket. */
export const SERVICE_NETWORK_PLURALS = ['services', 'endpointslices', 'ingresses'] as const;

/** Read-only consumers on the objects bucket, filtered to SERVICE_NETWORK_PLURALS' keys. */
function serviceNetworkRead(): string[] {
  const objects = `KV_${OBJECTS_BUCKET}`;
  return [
    `$JS.API.STREAM.INFO.${objects}`,
    ...SERVICE_NETWORK_PLURALS.map((p) => `$JS.API.CONSUMER.CREATE.${objects}.*.$KV.${OBJECTS_BUCKET}.${p}.>`),
    `$JS.API.CONSUMER.MSG.NEXT.${objects}.*`, `$JS.API.CONSUMER.INFO.${objects}.*`, `$JS.API.CONSUMER.DELETE.${objects}.*`,
  ];
}

/** Watching every process's actor telemetry and asking any for a snapshot (the admin's). */
function actorTelemetryRead(): { publish: string[]; subscribe: string[] } {
  return { publish: [actorWildcard('snapshot')], subscribe: [actorWildcard()] };
}

/** Renders permissions as a nats-server config value. */
export function renderPermissions(p: Permissions): string {
  const list = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const rule = (r: { allow?: string[]; deny?: string[] }): string =>
    `{ ${[r.allow ? `allow: ${list(r.allow)}` : '', r.deny ? `deny: ${list(r.deny)}` : ''].filter(Boolean).join(', ')} }`;
  return `{ publish: ${rule(p.publish)}, subscribe: ${rule(p.subscribe)}${p.allowResponses ? ', allow_responses: true' : ''} }`;
}

/** The NATS user a joining machine uses before it has credentials of its own. */
export const JOIN_USER = 'join';
/**
 * Its password: public by design (joining needs a join token, sent over TLS in the request), as
 * kubeadm's cluster-info is readable anonymously. The identity may only ask mk.join and read the
 * answers, which carry no secret.
 */
export const JOIN_PASSWORD = 'join';

/** The join identity: one request subject, its own inbox. */
export function joinPermissions(): Permissions {
  return { publish: { allow: [JOIN_SUBJECT] }, subscribe: { allow: [`${inboxPrefix(JOIN_USER)}.>`] } };
}

/**
 * The dashboard's identities: `dashboard` reads (api reads, watches, events, logs, actor
 * telemetry, usage, and read-only consumers on the objects bucket and MK_ACTORS for the time
 * scrubber); `dashboard-write` adds the api's writes, for sessions opened with a token. Neither
 * may write the store or a stream directly, nor act as a node or the control plane, nor read a
 * Secret's values other than through the api (whose answers the dashboard strips of them).
 */
export function dashboardPermissions(user: string, write: boolean): Permissions {
  const objects = `KV_${OBJECTS_BUCKET}`;
  const reads = ['get', 'list', 'watch', 'unwatch', 'metrics'].map((v) => `mk.api.${v}`);
  const writes = write ? ['apply', 'create', 'update', 'patch', 'delete'].map((v) => `mk.api.${v}`) : [];
  return {
    publish: {
      allow: [
        ...reads, ...writes,
        'mk.node.*.logs', 'mk.node.*.logs.cancel.*',
        actorWildcard('snapshot'),
        '$JS.API.INFO',
        ...[objects, ACTOR_STREAM].flatMap((s) => [
          `$JS.API.STREAM.INFO.${s}`,
          `$JS.API.CONSUMER.MSG.NEXT.${s}.*`, `$JS.API.CONSUMER.INFO.${s}.*`, `$JS.API.CONSUMER.DELETE.${s}.*`,
        ]),
        // One filter per kind, never one that spans kinds: nats-server matches a wildcard in a
        // filter as a literal token, so `$KV.objects.>` or `$KV.objects.*.ns.name` would pass an
        // allow of the whole bucket and slip past a deny of the Secrets' prefix.
        ...KINDS.filter((k) => k.plural !== SecretKind.plural).map((k) => `$JS.API.CONSUMER.CREATE.${objects}.*.$KV.${OBJECTS_BUCKET}.${k.plural}.>`),
        `$JS.API.CONSUMER.CREATE.${ACTOR_STREAM}.*.${actorWildcard()}`,
        `$JS.API.CONSUMER.CREATE.${ACTOR_STREAM}.*`,
      ],
      // Never the Secrets' stored values (encrypted, but not the dashboard's to read at all): no
      // allow above names them; the deny stays as a guard should one ever be widened.
      deny: [`$JS.API.CONSUMER.CREATE.${objects}.*.$KV.${OBJECTS_BUCKET}.${SecretKind.plural}.>`],
    },
    subscribe: {
      allow: [
        `${inboxPrefix(user)}.>`, 'mk.watch.>', 'mk.events.>', 'mk.node.*.logs.stream.*', actorWildcard(), STATS_WILDCARD,
      ],
      // The watch publisher's Secret changes carry their values; the dashboard's own watches come
      // through the api to its inbox (dashboard/server/kind-feed.ts), which drops the values.
      deny: [`${API.watchPrefix}.${SecretKind.plural}.>`],
    },
  };
}

/**
 * The function gateway (`mk gateway`): lists functions, their instance pods and the HTTP triggers
 * through the api (mk.api.gateway.list, which refuses any other list and cuts triggers to their
 * HTTP source), publishes its load reports and demand signals, serves the invoke subjects in their
 * queue group and answers them, and publishes HTTP triggers' firings on their subjects of the
 * trigger events stream (the acks come to its inbox). Nothing else: no api writes, no store, no
 * other stream (not a subject trigger's subjects, nor dead letters), no node subjects, no other
 * identity's replies.
 */
export function gatewayPermissions(user: string): Permissions {
  return {
    publish: {
      // Its one read (API.gatewayList): functions and their instance pods, never Secrets or anything else.
      allow: ['mk.api.gateway.list', 'mk.fn.stats.*', 'mk.fn.demand.>', TRIGGER_HTTP_WILDCARD, ...asyncCallsAccess()],
    },
    subscribe: {
      allow: [`${inboxPrefix(user)}.>`, FUNCTION_INVOKE_WILDCARD, ASYNC_INVOKE_WILDCARD, RESULTS_GET_SUBJECT, DLQ_LIST_SUBJECT, DLQ_REPLAY_SUBJECT],
    },
    allowResponses: true,
  };
}

/**
 * A gateway's share of async calls (bus/function-async.ts, embedded/gateway/async.ts): publish
 * jobs and dead letters (their streams take them), pull from the one shared consumer and ack its
 * messages, read the queue's per-subject counts, read dead letters by direct get and delete one
 * (replay), read and write results. No stream or consumer is made, changed, purged or deleted
 * (the control plane makes them), and no other stream or bucket is touched.
 */
function asyncCallsAccess(): string[] {
  const results = `KV_${RESULTS_BUCKET}`;
  return [
    'mk.fn.async.*.*', 'mk.fn.dlq.*.*',
    `$JS.API.STREAM.INFO.${ASYNC_STREAM}`,
    `$JS.API.CONSUMER.INFO.${ASYNC_STREAM}.${ASYNC_CONSUMER}`,
    `$JS.API.CONSUMER.MSG.NEXT.${ASYNC_STREAM}.${ASYNC_CONSUMER}`,
    `$JS.ACK.${ASYNC_STREAM}.${ASYNC_CONSUMER}.>`,
    `$JS.API.DIRECT.GET.${DLQ_STREAM}`, `$JS.API.STREAM.MSG.DELETE.${DLQ_STREAM}`,
    `$KV.${RESULTS_BUCKET}.>`,
    `$JS.API.STREAM.INFO.${results}`, `$JS.API.DIRECT.GET.${results}.>`, `$JS.API.DIRECT.GET.${results}`,
  ];
}
