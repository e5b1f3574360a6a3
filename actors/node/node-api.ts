/**
 * What the control plane serves node agents, on `mk.api.node.<node>.<verb>`. The bus lets a node
 * send only on its own name (embedded/permissions.ts), so the name in the subject is who asks:
 * like Kubernetes' NodeRestriction, a node may create and update only its own Node and write only
 * the status of pods bound to it, and nothing else (the store itself is closed to nodes).
 * Requests are handled concurrently; the store's revisions order the writes.
 */
import type { Msg } from '@nats-io/transport-node';
import { serve, type Bus, type ObjectStore, type Served } from '../../bus';
import {
  dns1123LabelError, dns1123SubdomainError, ForbiddenError, isAlreadyExists, isNotFound, nodeApiWildcard, NotFoundError,
  objectKey, timestamp, ValidationError, NodeKind, PodKind, isConflict, LeaseKind, NODE_LEASE_NAMESPACE,
  INGRESS_PORT_ANNOTATION, isPortNumber, type KubeObject, type Lease, NODE_REPORTED_ANNOTATIONS, VTEP_MAC_ANNOTATION, POD_NETWORK_ANNOTATION, POD_NETWORK_MODES,
  isUnicastMac, PersistentVolumeClaimKind, PersistentVolumeKind, type PersistentVolumeClaim,
  type Node, type NodeCondition, type NodeHeartbeatRequest, type NodeRegisterRequest, type NodeResult, type Pod,
  type PodStatusRequest, type PodTerminatedRequest, type PodObjectRequest, type PodObjectResult,
} from '../../messages';
import { podReferences } from './pod-references';
import { finishDeletion } from '../deletion';
import { log } from '../log';
import { timed } from '../api/metrics';
import { observePodStart } from '../pod/metrics';
import { heartbeatConditions, renewedLease } from './heartbeat';

/** The node a request came from: the token after `mk.api.node.`. Throws ValidationError for a bad name. */
export function nodeOf(subject: string): string {
  const name = subject.split('.')[3] ?? '';
  const bad = dns1123LabelError(name);
  if (bad) throw new ValidationError(`invalid node name "${name}" in ${subject}: ${bad}`);
  return name;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the fields naming a pod; throws ValidationError naming the bad one. */
function podRef(req: { namespace?: unknown; name?: unknown; uid?: unknown }): { namespace: string; name: string; uid: string } {
  if (typeof req?.namespace !== 'string' || dns1123LabelError(req.namespace)) throw new ValidationError(`invalid pod namespace ${JSON.stringify(req?.namespace)}`);
  if (typeof req.name !== 'string' || dns1123SubdomainError(req.name)) throw new ValidationError(`invalid pod name ${JSON.stringify(req.name)}`);
  if (typeof req.uid !== 'string' || req.uid === '') throw new ValidationError('uid must be a non-empty string');
  return { namespace: req.namespace, name: req.name, uid: req.uid };
}

const nodeKey = (name: string): string => objectKey(NodeKind.plural, undefined, name);

/**
 * Checks the annotations a node reports: only NODE_REPORTED_ANNOTATIONS, each well formed.
 * Throws ValidationError naming the bad one.
 */
function reportedAnnotations(given: unknown): Record<string, string> {
  if (given === undefined) return {};
  if (!isRecord(given)) throw new ValidationError('register annotations must be an object of strings');
  for (const [k, v] of Object.entries(given)) {
    if (!NODE_REPORTED_ANNOTATIONS.includes(k)) throw new ForbiddenError(`a node may not set the annotation ${k} (only ${NODE_REPORTED_ANNOTATIONS.join(', ')})`);
    if (typeof v !== 'string') throw new ValidationError(`annotation ${k} must be a string`);
    if (k === VTEP_MAC_ANNOTATION && !isUnicastMac(v)) throw new ValidationError(`annotation ${k}: "${v}" is not a unicast MAC address such as 0e:6b:ac:1e:00:0b`);
    if (k === INGRESS_PORT_ANNOTATION && !isPortNumber(v)) throw new ValidationError(`annotation ${k}: "${v}" is not a port number (1-65535)`);
    if (k === POD_NETWORK_ANNOTATION && !(POD_NETWORK_MODES as readonly string[]).includes(v)) {
      throw new ValidationError(`annotation ${k}: "${v}" is not a pod network (${POD_NETWORK_MODES.join(' or ')})`);
    }
  }
  return given as Record<string, string>;
}

/** `annotations` with the node-reported ones replaced by `reported` (those left out removed). */
function withReported(annotations: Record<string, string> | undefined, reported: Record<string, string>): Record<string, string> | undefined {
  const out = Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !NODE_REPORTED_ANNOTATIONS.includes(k)));
  Object.assign(out, reported);
  return Object.keys(out).length ? out : undefined;
}

/**
 * mk.api.node.<node>.register: creates the node's Node or refreshes its status, labels and the
 * annotations it reports (NODE_REPORTED_ANNOTATIONS).
 */
async function register(store: ObjectStore, node: string, req: NodeRegisterRequest): Promise<NodeResult> {
  if (!isRecord(req?.status) || !isRecord(req.labels) || !Object.values(req.labels).every((v) => typeof v === 'string')) {
    throw new ValidationError('register needs status (an object) and labels (strings)');
  }
  const reported = reportedAnnotations(req.annotations);
  const now = timestamp();
  const starting: NodeCondition = { type: 'Ready', status: 'False', reason: 'NodeStarting', message: 'waiting for a pod CIDR', lastHeartbeatTime: now, lastTransitionTime: now };
  const fresh: Node = {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: node, labels: req.labels, creationTimestamp: now, uid: crypto.randomUUID(), generation: 1,
      ...(Object.keys(reported).length ? { annotations: reported } : {}),
    },
    spec: {},
    status: { ...req.status, conditions: [starting] },
  };
  try {
    await store.create(nodeKey(node), fresh);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    await store.mutate<Node>(nodeKey(node), (n) => {
      n.metadata.labels = { ...n.metadata.labels, ...req.labels };
      const annotations = withReported(n.metadata.annotations, reported);
      if (annotations) n.metadata.annotations = annotations; else delete n.metadata.annotations;
      n.status = { ...n.status, ...keepExtendedResources(n.status, req.status), conditions: n.status?.conditions ?? [starting] };
      return n;
    });
  }
  const out = (await store.get<Node>(nodeKey(node)))!.object;
  await renewLease(store, out, Date.now());
  return { node: out };
}

/**
 * Extended resources the node agent finds itself (its GPUs): what it reports is the whole truth,
 * so one it no longer reports is gone (a GPU whose driver did not load after a reboot), as the
 * kubelet zeroes device-plugin resources when it starts.
 */
const AGENT_FOUND_RESOURCES = new Set(['nvidia.com/gpu']);

/**
 * The status a node registers, with the extended resources (names with a domain, `example.com/dongle`)
 * that the stored Node advertises and the agent does not report kept, so that what a user patched
 * into the node's status capacity outlives the agent's restart, as with the kubelet; those the
 * agent finds itself (AGENT_FOUND_RESOURCES) are never kept.
 */
export function keepExtendedResources(stored: Node['status'], reported: Node['status']): Node['status'] {
  const out = { ...reported };
  for (const field of ['capacity', 'allocatable'] as const) {
    const kept = Object.entries(stored?.[field] ?? {})
      .filter(([name]) => name.includes('/') && !AGENT_FOUND_RESOURCES.has(name) && !(name in (reported?.[field] ?? {})));
    if (kept.length) out[field] = { ...reported?.[field], ...Object.fromEntries(kept) };
  }
  return out;
}

const PRESSURE_TYPES = new Set(['MemoryPressure', 'DiskPressure', 'PIDPressure']);

/** Checks a heartbeat's conditions; throws ValidationError naming what is wrong. */
function checkHeartbeat(req: NodeHeartbeatRequest): void {
  const r = req?.ready;
  if (!isRecord(r) || (r.status !== 'True' && r.status !== 'False') || typeof r.reason !== 'string' || typeof r.message !== 'string') {
    throw new ValidationError('heartbeat needs ready: { status: "True" | "False", reason, message }');
  }
  if (req.conditions === undefined) return;
  if (!Array.isArray(req.conditions)) throw new ValidationError('heartbeat conditions must be a list');
  for (const c of req.conditions as unknown[]) {
    if (!isRecord(c) || !PRESSURE_TYPES.has(c.type as string) || (c.status !== 'True' && c.status !== 'False')
      || typeof c.reason !== 'string' || typeof c.message !== 'string') {
      throw new ValidationError(`heartbeat condition ${JSON.stringify(c)}: needs type MemoryPressure, DiskPressure or PIDPressure, status "True" | "False", reason and message`);
    }
  }
}

/**
 * mk.api.node.<node>.heartbeat: renews the node's Lease in kube-node-lease and writes the Ready
 * and pressure conditions onto the Node only when they changed in anything but heartbeat times,
 * or when the Node's last heartbeat is older than NODE_STATUS_REPORT_MS (heartbeat.ts). Each
 * condition's lastTransitionTime moves only when its status changes.
 */
async function heartbeat(store: ObjectStore, node: string, req: NodeHeartbeatRequest): Promise<NodeResult> {
  checkHeartbeat(req);
  const now = Date.now();
  const reported = [{ type: 'Ready' as const, ...req.ready }, ...(req.conditions ?? [])];
  let unchanged: Node | undefined;
  let out: Node;
  try {
    const written = await store.mutate<Node>(nodeKey(node), (n) => {
      const conditions = heartbeatConditions(n.status?.conditions ?? [], reported, now);
      if (!conditions) { unchanged = n; return null; }
      n.status = { ...n.status, conditions };
      return n;
    });
    out = written?.object ?? unchanged!;
  } catch (err) {
    if (isNotFound(err)) throw new NotFoundError(`nodes "${node}" not found: register again`);
    throw err;
  }
  await renewLease(store, out, now);
  return { node: out };
}

/** Renews (or creates) the node's Lease; a lost race is retried with a fresh read. */
async function renewLease(store: ObjectStore, node: Node, now: number): Promise<void> {
  const key = objectKey(LeaseKind.plural, NODE_LEASE_NAMESPACE, node.metadata.name);
  for (let attempt = 0; ; attempt++) {
    const cur = await store.get<Lease>(key);
    const next = renewedLease(node, cur?.object, now);
    try {
      if (cur) {
        await store.update(key, next, cur.revision);
      } else {
        next.metadata = { ...next.metadata, uid: crypto.randomUUID(), creationTimestamp: timestamp() };
        await store.create(key, next);
      }
      return;
    } catch (err) {
      if (attempt >= 3 || !(isConflict(err) || isAlreadyExists(err))) throw err;
    }
  }
}

/** The pod a node asks about, checked to be that pod (uid) and bound to that node. */
function checkPod(pod: Pod | undefined, node: string, ref: { namespace: string; name: string; uid: string }): Pod {
  if (!pod || pod.metadata.uid !== ref.uid) throw new NotFoundError(`pods "${ref.name}" (uid ${ref.uid}) not found in namespace ${ref.namespace}`);
  if (pod.spec.nodeName !== node) {
    throw new ForbiddenError(`node ${node} may not act for pod ${ref.namespace}/${ref.name}: it is bound to ${pod.spec.nodeName ?? 'no node'}`);
  }
  return pod;
}

/** mk.api.node.<node>.pod-status: the status, keeping the scheduler's PodScheduled condition. */
async function podStatus(store: ObjectStore, node: string, req: PodStatusRequest): Promise<Record<string, never>> {
  const ref = podRef(req);
  if (!isRecord(req.status)) throw new ValidationError('status must be an object');
  const key = objectKey(PodKind.plural, ref.namespace, ref.name);
  // The stored phase before this write, and the pod (its metadata is not changed by the write).
  let before: { pod: Pod; phase?: string } | undefined;
  try {
    await store.mutate<Pod>(key, (cur) => {
      checkPod(cur, node, ref);
      before = { pod: cur, phase: cur.status?.phase };
      const scheduled = cur.status?.conditions?.find((c) => c.type === 'PodScheduled');
      const conditions = [...(scheduled ? [scheduled] : []), ...(req.status.conditions ?? []).filter((c) => c.type !== 'PodScheduled')];
      cur.status = { ...req.status, conditions };
      return cur;
    });
  } catch (err) {
    if (isNotFound(err)) checkPod(undefined, node, ref);
    throw err;
  }
  if (before) observePodStart(before.pod, before.phase, typeof req.status.phase === 'string' ? req.status.phase : undefined);
  return {};
}

/** mk.api.node.<node>.pod-terminated: removes a pod marked for deletion once its node is done with it. */
async function podTerminated(store: ObjectStore, node: string, req: PodTerminatedRequest): Promise<Record<string, never>> {
  const ref = podRef(req);
  const key = objectKey(PodKind.plural, ref.namespace, ref.name);
  const cur = await store.get<Pod>(key);
  // Gone already, or another pod of that name now: nothing of the terminated one is left to remove.
  if (!cur || cur.object.metadata.uid !== ref.uid) return {};
  checkPod(cur.object, node, ref);
  if (!cur.object.metadata.deletionTimestamp) {
    throw new ValidationError(`pod ${ref.namespace}/${ref.name} is not marked for deletion; a node removes only pods being deleted`);
  }
  // Finalizers keep it (Terminating) until emptied; the garbage collector removes it then.
  const done = await finishDeletion(store, key, ref.uid);
  log.info({ key, node, done }, 'pod deleted after its node stopped it');
  return {};
}

/** The kinds a node may read for its pods, as the object each names. */
const POD_OBJECT_KINDS = {
  configmaps: 'configmap', secrets: 'secret', persistentvolumeclaims: 'persistentvolumeclaim', persistentvolumes: 'persistentvolume',
} as const;

/**
 * mk.api.node.<node>.pod-object: a ConfigMap, Secret or PersistentVolumeClaim that a pod bound to
 * the node refers to, or the PersistentVolume one of its claims is bound to, read for its
 * containers' environment, image pulls or volumes. Anything else is Forbidden, like Kubernetes'
 * node authorizer (its graph: pod -> claim -> volume); a missing object is `object: null` (the pod
 * waits for it).
 */
async function podObject(store: ObjectStore, node: string, req: PodObjectRequest): Promise<PodObjectResult> {
  const ref = podRef(req);
  if (typeof req.kind !== 'string' || !Object.hasOwn(POD_OBJECT_KINDS, req.kind)) {
    throw new ValidationError(`kind must be one of ${Object.keys(POD_OBJECT_KINDS).map((k) => `"${k}"`).join(', ')}`);
  }
  if (typeof req.object !== 'string' || dns1123SubdomainError(req.object)) throw new ValidationError(`invalid object name ${JSON.stringify(req.object)}`);
  const cur = await store.get<Pod>(objectKey(PodKind.plural, ref.namespace, ref.name));
  const pod = checkPod(cur?.object, node, ref);
  const what = POD_OBJECT_KINDS[req.kind];
  if (req.kind === 'persistentvolumes') {
    // Only through a claim of the pod that is bound to it.
    for (const claimName of podReferences(pod).persistentvolumeclaims) {
      const claim = await store.get<PersistentVolumeClaim>(objectKey(PersistentVolumeClaimKind.plural, ref.namespace, claimName));
      if (claim?.object.spec.volumeName !== req.object) continue;
      const got = await store.get<KubeObject>(objectKey(PersistentVolumeKind.plural, undefined, req.object));
      return { object: got?.object ?? null };
    }
    throw new ForbiddenError(`node ${node} may not read ${what} ${req.object}: no claim of pod ${ref.namespace}/${ref.name} is bound to it`);
  }
  if (!podReferences(pod)[req.kind].has(req.object)) {
    throw new ForbiddenError(`node ${node} may not read ${what} ${ref.namespace}/${req.object}: pod ${ref.name} does not refer to it`);
  }
  const got = await store.get<KubeObject>(objectKey(req.kind, ref.namespace, req.object));
  return { object: got?.object ?? null };
}

/** The kind each node verb writes, for the api's metrics. */
const NODE_VERB_KINDS: Record<Parameters<typeof nodeApiWildcard>[0], string> = {
  register: NodeKind.plural, heartbeat: NodeKind.plural, 'pod-status': PodKind.plural, 'pod-terminated': PodKind.plural,
  'pod-object': PodKind.plural,
  'local-volumes': PersistentVolumeKind.plural, 'local-volume-cleaned': PersistentVolumeKind.plural,
  'file-triggers': 'triggers',
};

/** Serves the node api for every node; `stop()` unsubscribes and waits for the requests in flight. */
export function serveNodeApi(bus: Bus, store: ObjectStore): { ready: Promise<void>; stop(): Promise<void> } {
  const on = <Req>(verb: Parameters<typeof nodeApiWildcard>[0], fn: (node: string, req: Req) => Promise<unknown>): Served =>
    serve<Req, unknown>(bus, nodeApiWildcard(verb), timed(verb, (req: Req, msg: Msg) => fn(nodeOf(msg.subject), req), () => NODE_VERB_KINDS[verb]), { queue: 'mk-api' });
  const subs = [
    on<NodeRegisterRequest>('register', (n, r) => register(store, n, r)),
    on<NodeHeartbeatRequest>('heartbeat', (n, r) => heartbeat(store, n, r)),
    on<PodStatusRequest>('pod-status', (n, r) => podStatus(store, n, r)),
    on<PodTerminatedRequest>('pod-terminated', (n, r) => podTerminated(store, n, r)),
    on<PodObjectRequest>('pod-object', (n, r) => podObject(store, n, r)),
  ];
  return {
    ready: Promise.all(subs.map((s) => s.ready)).then(() => undefined),
    stop: async () => { await Promise.all(subs.map((s) => s.stop())); },
  };
}
