/**
 * The node actor: the root of a node agent's actor tree. It registers the Node through the
 * control plane, waits for its pod CIDR and configures the network on it, posts heartbeats on its
 * own timer, and keeps one pod actor (a child) per pod bound here, fed by an informer on this
 * node's view of pods (NODE_PODS_BUCKET, `<node>.>`: this node's pods and no others).
 *
 * Everything it holds is rebuilt on (re)start from the control plane, the view and CRI: a crash of
 * the node actor stops its children (nact's reset) and the new pod actors adopt the sandboxes and
 * containers that run, restarting none. Transient faults (the control plane or the bus away) are
 * retried inside, never thrown, so they do not cost that restart.
 */
import { dispatch, spawn, stop, type Ref } from 'nact';
import { startInformer, type Informer, type ObjectStore } from '../../bus';
import { backoffDelay, sleep, type BackoffPolicy } from '../../common/backoff';
import { backoffOnCrash } from '../../common/supervision';
import { encodeToken, isNotFound, timestamp, type Node, type NodeCondition, type NodeRegisterRequest, type NodeStatus, type Pod } from '../../messages';
import type { CriClient } from '../cri';
import { log } from '../log';
import { describeActor } from '../../common/actor-telemetry';
import { LABEL_POD_UID, spawnPodActor, type PodActorDeps, type PodActorMessage } from '../pods';
import type { ControlPlaneClient } from './control-plane';
import type { PressureCondition } from './node-status';

/** What the node actor needs. */
export interface NodeActorDeps {
  nodeName: string;
  cp: ControlPlaneClient;
  /** This node's view of pods (opened without the right to make it). */
  views: ObjectStore;
  cri: CriClient;
  /** Capacity, allocatable, addresses and node info, as registered. */
  capacity: NodeStatus;
  labels: Record<string, string>;
  /** The annotations the node reports on its Node (its pod network, its VTEP MAC), when registering. */
  annotations?: Record<string, string>;
  /** Configures the pod network on the node's pod CIDR (idempotent). */
  configureNetwork(podCIDR: string): Promise<void>;
  /** Says why the container runtime cannot run pods, or undefined when it can. */
  runtimeProblem(): Promise<string | undefined>;
  /** Measures MemoryPressure, DiskPressure and PIDPressure for each heartbeat (none when absent). */
  pressure?(): Promise<PressureCondition[]>;
  /** The pod actors' dependencies, except the two the node actor provides. */
  podDeps: Omit<PodActorDeps, 'writeStatus' | 'onTerminated'>;
  /** Filled with the pods bound here, `namespace/name` -> pod (logs and exec read it). */
  pods: Map<string, Pod>;
  /** Between heartbeats (default 10 s). */
  heartbeatMs?: number;
}

export type NodeActorMessage =
  | { type: 'node/start' }
  | { type: 'node/heartbeat' }
  | { type: 'node/pod'; key: string; pod: Pod | null }
  | { type: 'node/pod-gone'; uid: string };

/** A running node actor. */
export interface NodeActor {
  ref: Ref<NodeActorMessage>;
  /** The Node as last registered or heartbeated. */
  node(): Node | undefined;
  /**
   * Stops the informer, the heartbeat and every pod actor, leaving their containers running (an
   * agent stop; the next agent adopts them), then the node actor.
   */
  stop(): Promise<void>;
}

const HEARTBEAT_MS = 10_000;
/** Retrying the control plane while it is away: 200 ms doubling to 5 s. */
const RETRY: BackoffPolicy = { initialMs: 200, maxMs: 5_000, jitter: 0.2 };

/** Spawns the node actor under `parent` (the node agent's actor system) and starts it. */
export function spawnNodeActor(parent: Ref<unknown>, deps: NodeActorDeps): NodeActor {
  const { nodeName, cp } = deps;
  const nlog = log.child({ node: nodeName });
  // Held outside nact's state: a reset re-runs 'node/start', which stops the old ones first.
  let informer: Informer | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let current: Node | undefined;
  let podCIDR: string | undefined;
  let stopped = false;
  const actors = new Map<string, { ref: Ref<PodActorMessage>; pod: Pod }>();
  const keyToUid = new Map<string, string>();

  /** Retries `fn` until it works or the actor stops (the control plane may be starting). */
  const persist = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt % 10 === 0) nlog.warn({ err: String(err), attempt }, `${what} failed; retrying`);
        await sleep(backoffDelay(RETRY, attempt));
      }
    }
    return undefined;
  };

  const registration = (): NodeRegisterRequest => ({
    status: deps.capacity, labels: deps.labels, ...(deps.annotations ? { annotations: deps.annotations } : {}),
  });
  const register = async (): Promise<Node | undefined> => persist('registration', () => cp.register(registration()));

  /** Posts Ready (or why not); registers again when the Node was deleted, as the kubelet does. */
  const beat = async (): Promise<void> => {
    const problem = await deps.runtimeProblem();
    const ready: Pick<NodeCondition, 'status' | 'reason' | 'message'> = problem
      ? { status: 'False', reason: 'ContainerRuntimeDown', message: problem }
      : { status: 'True', reason: 'NodeReady', message: 'the node agent is posting ready status' };
    const conditions = await deps.pressure?.().catch((err: unknown) => {
      nlog.warn({ err: String(err) }, 'cannot measure node pressure; leaving the pressure conditions as they were');
      return undefined;
    });
    try {
      current = await cp.heartbeat(ready, conditions);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      current = await cp.register(registration());
      current = await cp.heartbeat(ready, conditions);
    }
    // A node registered again (its Node was deleted, or the store lost) may get another CIDR.
    const cidr = current.spec?.podCIDR;
    if (cidr && cidr !== podCIDR) {
      await deps.configureNetwork(cidr);
      podCIDR = cidr;
    }
  };

  const spawnPod = (self: Ref<NodeActorMessage>, pod: Pod): Ref<PodActorMessage> => spawnPodActor(self, {
    envObjects: (p) => cp.envObjects(p),
    allocatable: deps.capacity.allocatable,
    ...deps.podDeps,
    writeStatus: (p, status) => cp.podStatus(p, status).catch((err) => { if (!isNotFound(err)) throw err; }),
    onTerminated: async (p) => {
      await cp.podTerminated(p).catch((err) => { if (!isNotFound(err)) throw err; });
      dispatch(self, { type: 'node/pod-gone', uid: p.metadata.uid! });
    },
  }, pod);

  const onPod = (self: Ref<NodeActorMessage>, key: string, pod: Pod | null): void => {
    const prevUid = keyToUid.get(key);
    if (prevUid && (!pod || pod.metadata.uid !== prevUid)) {
      // Gone from this node's view, or replaced by another pod of the same name: the old one goes.
      const a = actors.get(prevUid);
      if (a) dispatch(a.ref, { type: 'pod/sync', pod: null });
      keyToUid.delete(key);
      if (a) deps.pods.delete(podName(a.pod));
    }
    if (!pod?.metadata.uid) return;
    const uid = pod.metadata.uid;
    keyToUid.set(key, uid);
    deps.pods.set(podName(pod), pod);
    const cur = actors.get(uid);
    if (cur) {
      cur.pod = pod;
      dispatch(cur.ref, { type: 'pod/sync', pod });
      return;
    }
    try {
      actors.set(uid, { ref: spawnPod(self, pod), pod });
    } catch (err) {
      // The actor of an earlier pod of the same name is still tearing it down: look again shortly.
      nlog.debug({ key, err: String(err) }, 'pod actor name busy; retrying');
      setTimeout(() => { if (!stopped && keyToUid.get(key) === uid) dispatch(self, { type: 'node/pod', key, pod }); }, 500).unref();
    }
  };

  const start = async (self: Ref<NodeActorMessage>): Promise<void> => {
    await informer?.stop();
    informer = undefined;
    clearTimeout(heartbeat);
    // nact's reset stopped the children: they are rebuilt from the view and CRI below.
    actors.clear();
    keyToUid.clear();
    deps.pods.clear();
    current = await register();
    // Soon at first (a CIDR comes at once), then no more often than heartbeats: a cluster CIDR
    // with no range left may keep the node waiting until another node is deleted.
    const waitCidr: BackoffPolicy = { initialMs: 200, maxMs: deps.heartbeatMs ?? HEARTBEAT_MS, jitter: 0.2 };
    for (let attempt = 0; !stopped && !current?.spec?.podCIDR; attempt++) {
      if (attempt === 10) nlog.warn('no pod CIDR yet: the cluster CIDR may have no range left (see the node\'s CIDRNotAvailable event)');
      await sleep(backoffDelay(waitCidr, attempt));
      current = await persist('registration', () => cp.heartbeat({ status: 'False', reason: 'NodeStarting', message: 'waiting for a pod CIDR' }));
    }
    if (stopped || !current?.spec?.podCIDR) return;
    podCIDR = current.spec.podCIDR;
    await deps.configureNetwork(podCIDR);
    await persist('heartbeat', beat);
    const filter = `${encodeToken(nodeName)}.>`;
    const listed = await persist('listing this node\'s pods', () => deps.views.list<Pod>(filter));
    if (stopped || !listed) return;
    const known = new Set(listed.items.map((i) => i.object.metadata.uid!));
    await persist('cleaning up pods that are gone', () => cleanOrphans(deps.cri, known, (orphan) => {
      actors.set(orphan.metadata.uid!, { ref: spawnPod(self, orphan), pod: orphan });
    }));
    // Volumes of pods that are gone with nothing left in the runtime (the actors spawned above
    // remove those of the others once their sandboxes are gone). A failure is logged inside and
    // left for the next start: it must not keep the node from serving its pods.
    await deps.podDeps.volumes?.cleanOrphans(new Set([...known, ...actors.keys()])).catch((err: unknown) => {
      nlog.warn({ err: String(err) }, 'could not clean up the volumes of pods that are gone');
    });
    informer = await persist('watching this node\'s pods', () => startInformer<Pod>(deps.views, filter, (ev) => {
      dispatch(self, { type: 'node/pod', key: ev.key, pod: ev.object });
    }));
    if (stopped) { await informer?.stop(); return; }
    heartbeat = setTimeout(() => dispatch(self, { type: 'node/heartbeat' }), deps.heartbeatMs ?? HEARTBEAT_MS);
    nlog.info({ podCIDR, pods: listed.items.length }, 'node registered and ready');
  };

  const ref: Ref<NodeActorMessage> = spawn(
    parent,
    async (state: Record<string, never> = {}, msg: NodeActorMessage, ctx): Promise<Record<string, never>> => {
      if (stopped) return state;
      switch (msg.type) {
        case 'node/start':
          await start(ctx.self);
          return state;
        case 'node/heartbeat':
          // On the actor's own timer: a crashed and restarted actor starts its heartbeat again.
          if (!podCIDR) return state; // not registered yet: start() posts the first one
          try {
            await beat();
          } catch (err) {
            nlog.warn({ err: String(err) }, 'heartbeat failed');
          }
          // One timer: an extra heartbeat (the runtime changed) moves the next one, never adds one.
          clearTimeout(heartbeat);
          if (!stopped) heartbeat = setTimeout(() => dispatch(ctx.self, { type: 'node/heartbeat' }), deps.heartbeatMs ?? HEARTBEAT_MS);
          return state;
        case 'node/pod':
          onPod(ctx.self, msg.key, msg.pod);
          return state;
        case 'node/pod-gone': {
          const a = actors.get(msg.uid);
          if (a) {
            stop(a.ref);
            actors.delete(msg.uid);
            if (deps.pods.get(podName(a.pod))?.metadata.uid === msg.uid) deps.pods.delete(podName(a.pod));
          }
          return state;
        }
      }
    },
    'node',
    {
      onCrash: backoffOnCrash({ type: 'node/start' }, (f, m) => nlog.error(f, m)),
      afterStop: () => { clearTimeout(heartbeat); },
    },
  );
  describeActor(ref, { kind: 'node', system: false, object: { kind: 'Node', name: deps.nodeName } });
  dispatch(ref, { type: 'node/start' });

  return {
    ref,
    node: () => current,
    async stop() {
      stopped = true;
      clearTimeout(heartbeat);
      await informer?.stop();
      for (const a of actors.values()) dispatch(a.ref, { type: 'pod/stop' });
      actors.clear();
      stop(ref);
    },
  };
}

const podName = (pod: Pod): string => `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;

/**
 * Sandboxes labelled with a pod uid that is not bound here belong to pods deleted while the agent
 * was away: give each an actor with the pod marked gone, which stops and removes them.
 */
async function cleanOrphans(cri: CriClient, known: Set<string>, adopt: (pod: Pod) => void): Promise<void> {
  const res = await cri.listPodSandbox({});
  const seen = new Set<string>();
  for (const sb of res.items ?? []) {
    const uid = sb.labels?.[LABEL_POD_UID];
    if (!uid || known.has(uid) || seen.has(uid)) continue;
    seen.add(uid);
    const md = sb.metadata;
    // Named by uid: a live pod of the same name may already have an actor.
    log.info({ uid, pod: `${md?.namespace}/${md?.name}` }, 'removing the sandbox of a pod that no longer exists');
    adopt({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `orphan-${uid}`, namespace: md?.namespace ?? 'default', uid, deletionTimestamp: timestamp(), deletionGracePeriodSeconds: 0 },
      spec: { containers: [{ name: 'orphan', image: 'none' }], terminationGracePeriodSeconds: 0 },
    });
  }
}
