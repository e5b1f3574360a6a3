/**
 * Payloads of the subject API. Every reply is an envelope: `{ ok: true, ... }` or
 * `{ ok: false, error: { code, message, issues? } }`.
 */
import type { Node, NodeCondition, NodeStatus } from './cluster';
import type { ValidateMode } from './manifest';
import type { KubeObject } from './meta';
import type { PodStatus } from './pod';

export interface ApiErrorBody { code: string; message: string; issues?: string[] }
export type Reply<T> = ({ ok: true } & T) | { ok: false; error: ApiErrorBody };

/** mk.api.apply: create or update one object from a manifest. */
export interface ApplyRequest { object: unknown; validate?: ValidateMode; namespace?: string; dryRun?: boolean }
export interface ApplyResult { object: KubeObject; result: 'created' | 'configured' | 'unchanged'; warnings: string[] }

/** mk.api.get */
export interface GetRequest { kind: string; namespace?: string; name: string }
export interface GetResult { object: KubeObject }

/**
 * mk.api.list: `namespace` absent means all namespaces. `fieldSelector`: comma-separated
 * `field=value`, `field==value` or `field!=value` over metadata.name, metadata.namespace and the
 * kind's own fields (pods: spec.nodeName, status.phase); for events involvedObject.kind, .name,
 * .namespace, .uid, .apiVersion, reason, type and source.
 */
export interface ListRequest { kind: string; namespace?: string; labelSelector?: string; fieldSelector?: string }
export interface ListResult { items: KubeObject[]; resourceVersion: string }

/**
 * How a deletion treats the objects that name the deleted one in their ownerReferences
 * (https://kubernetes.io/docs/concepts/architecture/garbage-collection/#cascading-deletion):
 * Background (the default) removes the owner at once and the garbage collector its dependents
 * after; Foreground removes the dependents first (those with blockOwnerDeletion are waited for);
 * Orphan leaves them, without the reference.
 */
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/**
 * mk.api.delete: marks the object for deletion (graceful for pods) and returns it. With `dryRun`
 * the policy is checked and the result answered, but nothing changes.
 */
export interface DeleteRequest { kind: string; namespace?: string; name: string; gracePeriodSeconds?: number; propagationPolicy?: PropagationPolicy; dryRun?: boolean }
export interface DeleteResult { object: KubeObject; result: 'deleted' | 'terminating' }

/** Published on mk.watch.<plural>.<ns>.<name> for every change. */
export interface WatchEvent { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; revision: number }

/**
 * mk.api.watch: streams the changes of one kind (in one namespace, or all; one name, or all;
 * matching the selectors) to `subject`, which the client subscribed to before asking (an inbox
 * of its own: `_INBOX.<user>.…`). With `resourceVersion`, every change after that revision;
 * without, an ADDED for every object there now, then every change. The reply says where the
 * stream starts; `Expired` when `resourceVersion` is older than the store keeps (list again and
 * watch from the listing's resourceVersion). Each message on `subject` is a WatchStreamMessage.
 * The stream ends when the client publishes mk.api.unwatch, or when nothing listens on `subject`
 * any more (checked with every heartbeat).
 */
export interface WatchRequest {
  kind: string; namespace?: string; name?: string; labelSelector?: string; fieldSelector?: string;
  resourceVersion?: string; subject: string;
  /**
   * The `epoch` of the watch whose revisions `resourceVersion` comes from, when the client asks
   * again: a watch of another incarnation of what is read (a stream made again since) is Expired,
   * though its revisions may have grown past the one asked for.
   */
  epoch?: string;
}
/** `epoch`: the incarnation of what the stream reads (events: when MK_EVENTS was made), if known. */
export interface WatchStarted { resourceVersion: string; epoch?: string }
/**
 * One message of a watch stream: a change, a BOOKMARK (a heartbeat every few seconds carrying the
 * last revision sent; a client that hears none for a while watches again from there), or an
 * ERROR that ends the stream (`Expired`: relist).
 */
export type WatchStreamMessage = (
  | WatchEvent
  | { type: 'BOOKMARK'; revision: number }
  | { type: 'ERROR'; error: ApiErrorBody }
) & WatchStreamPlace;
/**
 * `n`: the message's place in its stream (1, 2, 3, ...). A client that finds one missing (lost
 * while its connection was down) asks again from the last revision it received.
 */
export interface WatchStreamPlace { n?: number }
/** mk.api.unwatch: ends the watch streaming to `subject`. */
export interface UnwatchRequest { subject: string }

/** mk.node.<node>.logs */
export interface LogsRequest {
  namespace: string;
  pod: string;
  container?: string;
  previous?: boolean;
  tailLines?: number;
  /**
   * When set, the agent answers at once and then publishes the log's chunks on
   * `mk.node.<node>.logs.stream.<streamId>` until the container stops or the stream is cancelled;
   * the client subscribes there before asking.
   */
  follow?: { streamId: string };
}
/**
 * One reply (or, when following, one chunk; `eof` ends the stream). `data` is base64. `truncated`
 * says the log was longer than one reply carries and only its end was sent.
 */
export interface LogsChunk { data: string; eof?: boolean; truncated?: boolean }

/** The most log bytes one reply carries (NATS messages are bounded); older lines are left out. */
export const MAX_LOGS_REPLY_BYTES = 4 * 2 ** 20;

/** mk.node.<node>.exec: ExecSync in a running container. Outputs are base64. */
export interface ExecRequest { namespace: string; pod: string; container?: string; command: string[]; timeoutSeconds?: number }
export interface ExecResult { exitCode: number; stdout: string; stderr: string }

/**
 * mk.api.node.<node>.register: creates the node's own Node, or refreshes its status and labels
 * (keeping its pod CIDR and conditions). Reply: NodeResult.
 */
export interface NodeRegisterRequest {
  status: NodeStatus;
  labels: Record<string, string>;
  /**
   * The node-reported annotations (NODE_REPORTED_ANNOTATIONS: its pod network and VTEP MAC).
   * Each of those the request leaves out is removed from the Node; any other key is refused.
   */
  annotations?: Record<string, string>;
}
/** The node's Node as stored, for the node api's replies. */
export interface NodeResult { node: Node }

/**
 * mk.api.node.<node>.heartbeat: sets the node's Ready condition and heartbeat time. Reply:
 * NodeResult; NotFound when the Node was deleted (the agent registers again, as the kubelet does).
 */
export interface NodeHeartbeatRequest {
  ready: Pick<NodeCondition, 'status' | 'reason' | 'message'>;
  /**
   * The pressure conditions (MemoryPressure, DiskPressure, PIDPressure) as the node measured
   * them; each keeps its lastTransitionTime while its status stays. Optional: an agent that sends
   * none leaves them as they were.
   */
  conditions?: Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>[];
}

/**
 * mk.api.node.<node>.pod-status: writes the status of a pod bound to the node, only onto that
 * same pod (uid). NotFound when the pod is gone or is another pod now; Invalid when it is not
 * bound to this node.
 */
export interface PodStatusRequest { namespace: string; name: string; uid: string; status: PodStatus }

/**
 * mk.api.node.<node>.pod-terminated: the node removed everything of a pod marked for deletion (or
 * gone from its view): the pod object goes. A pod that is not marked is left alone.
 */
export interface PodTerminatedRequest { namespace: string; name: string; uid: string }

/**
 * mk.api.node.<node>.pod-object: a ConfigMap or Secret (`kind`: configmaps or secrets) named
 * `object` in the namespace of pod `name` (uid `uid`), which must be bound to the node and refer
 * to it (env, envFrom, imagePullSecrets, volumes); or a PersistentVolumeClaim the pod's volumes
 * name (persistentvolumeclaims), or the PersistentVolume one of those claims is bound to
 * (persistentvolumes). The reply is PodObjectResult; Forbidden otherwise.
 */
export interface PodObjectRequest {
  namespace: string; name: string; uid: string;
  kind: 'configmaps' | 'secrets' | 'persistentvolumeclaims' | 'persistentvolumes';
  object: string;
}

/** The reply to mk.api.node.<node>.pod-object: the object, or none when it does not exist. */
export interface PodObjectResult { object: KubeObject | null }

/**
 * mk.join: a machine asks to become node `nodeName`, presenting a join token (`id.secret`) and
 * the public nkey (U...) it will authenticate with; its private seed never leaves it.
 */
export interface JoinRequest { token: string; nodeName: string; publicKey: string }
/** mk.join's answer: the node may now connect with its nkey (within seconds: nats-server reloads). */
export interface JoinResult { nodeName: string }

/**
 * mk.api.create: creates one object; AlreadyExists when it is present. With `dryRun` the object
 * goes through validation and admission and is returned as it would be stored, but nothing is.
 */
export interface CreateRequest { object: unknown; validate?: ValidateMode; namespace?: string; dryRun?: boolean }
export interface CreateResult { object: KubeObject; warnings: string[] }

/**
 * mk.api.update: replaces one object with the one given (spec, labels, annotations; status is
 * kept). A `metadata.resourceVersion` in the object is a precondition: Conflict when the object
 * changed since; without one the update is unconditional. NotFound when it does not exist.
 */
export interface UpdateRequest { object: unknown; validate?: ValidateMode; namespace?: string; dryRun?: boolean }
export interface UpdateResult { object: KubeObject; result: 'replaced' | 'unchanged'; warnings: string[] }

/**
 * How a patch is read: RFC 7386 merge patch, RFC 6902 JSON patch, or a strategic merge patch (a
 * merge patch whose lists of named maps merge by key; messages/patch/strategic-patch.ts).
 */
export type PatchType = 'merge' | 'json' | 'strategic';

/**
 * mk.api.patch: patches one object. `resourceVersion` is an optional precondition (Conflict when
 * the object changed since). `subresource: "status"` patches the status only. The patched object
 * is validated like a manifest: an unknown field is Invalid, as is a JSON patch that does not
 * apply; nothing is written then.
 */
export interface PatchRequest {
  kind: string;
  namespace?: string;
  name: string;
  type: PatchType;
  patch: unknown;
  resourceVersion?: string;
  subresource?: 'status';
  dryRun?: boolean;
}
export interface PatchResult { object: KubeObject; result: 'patched' | 'unchanged' }

/**
 * mk.api.update-status: replaces the status of one object with the object's status (Kubernetes'
 * /status subresource): spec, labels and generation never change. Optional
 * `metadata.resourceVersion` precondition as for update.
 */
export interface UpdateStatusRequest { object: unknown; namespace?: string; dryRun?: boolean }
