/**
 * The pod actor: a thin nact shell around reconcilePod. It coalesces messages, observes the pod
 * through CRI, reconciles, performs the actions and publishes status. Its durable state is the
 * restart/pull backoff and the status it last wrote, journaled through nact persistence so an
 * agent restart continues a crash loop where it was and keeps the status (start time, transition
 * times, pod IP) rather than making it anew: the node's view of the pod carries no status. Unexpected faults (CRI timeouts, a failing status write) are thrown to
 * the supervisor; problems of the pod itself end up in its status.
 */
import {
  dispatch, spawn, spawnPersistent, stop,
  type ActorContext, type PersistentActorContext, type Ref, type SupervisionActorFunc,
} from 'nact';
import type { Logger } from 'pino';
import { ValidationError } from '../../messages/errors';
import { describeActor } from '../../common/actor-telemetry';
import type { EventType } from '../../messages/event';
import { actorName } from '../../messages/names';
import { POD_BACKOFF_KEY_PREFIX } from '../../messages/subjects';
import type { Pod, PodStatus } from '../../messages/pod';
import type { DNSConfig } from '../cri/types';
import type { ClusterDnsConfig } from './dns';
import {
  applyBackoffEvent, crashLoopPolicy, emptyBackoff, isBackoffEvent, type BackoffEvent, type CrashLoopPolicy, type BackoffState,
} from './backoff';
import { backoffEvents } from './events';
import { NO_OBJECTS, type EnvObjects } from './env';
import { executeActions } from './execute';
import { ObservationCache, observePod, type ObservationHints } from './observe';
import { reconcilePod, type ReconcileResult, type SyncFailures } from './reconcile';
import { sameStatus } from './status';
import type { ObservedPod, PodRuntime, StrayTasks, WarmPool } from './types';
import { PodProber, type RunningContainer } from './prober';
import { runProbe, type ProbeOutcome, type ProbeTarget } from './probe-run';
import { stopContainerGracefully } from './hooks';
import type { GpuAllocator } from '../gpu/allocation';
import { podVolumes, type PodVolumes } from '../volumes';
import type { LocalImageBuilder } from '../images/on-demand';
import { isFunctionInstance, pollReadiness, type FastReadiness } from '../functions/fast-readiness';

/** Messages a pod actor accepts. */
export type PodActorMessage =
  /** The desired pod changed (a deletion mark included); null = it is gone from the store. */
  | { type: 'pod/sync'; pod: Pod | null }
  /** Look again (periodic resync, or a supervisor's wake-up after a restart). */
  | { type: 'pod/resync' }
  /** Stop the actor, leaving the pod's containers running (agent shutdown; a new agent adopts them). */
  | { type: 'pod/stop' };

/** Journaled after each status write the control plane acknowledged. */
interface StatusWritten { type: 'status-written'; status: PodStatus }
const isStatusWritten = (msg: unknown): msg is StatusWritten => typeof msg === 'object' && msg !== null
  && (msg as { type?: string }).type === 'status-written';

type Internal = PodActorMessage | { type: 'pod/reconcile' } | BackoffEvent | StatusWritten;

/**
 * nact's onCrash for the pod actor (the lead's supervision policy). `ctx` is nact's
 * SupervisionContext; it is typed loosely so handlers typed against `symbol` or `Symbol` both fit.
 */
export type PodCrashHandler = (msg: unknown, err: Error | undefined, ctx: never, child?: never) => unknown;

/** What a pod actor needs from the node agent. */
export interface PodActorDeps {
  cri: PodRuntime;
  nodeName: string;
  hostIP: string;
  /** Root of pod log directories (`<root>/<ns>_<name>_<uid>/<container>/<attempt>.log`). */
  podLogsRoot: string;
  /** The cluster DNS (servers, options, domain): the base of ClusterFirst pods' resolver. */
  dnsConfig?: ClusterDnsConfig;
  /** Where each pod's /etc/hosts is written (SandboxOptions.hostsRoot); none = the runtime's default file. */
  hostsRoot?: string;
  /** The node's resolv.conf, parsed (dns.ts parseResolvConf): what dnsPolicy Default adds a pod's dnsConfig to. */
  nodeResolvConf?: DNSConfig;
  /** The node's own cgroup above `/kubepods` (several nodes on one machine); default none. */
  cgroupRoot?: string;
  /** Where Localhost seccomp profiles are looked up; default /var/lib/mk/seccomp. */
  seccompProfileRoot?: string;
  /** Gives GPUs to containers asking for nvidia.com/gpu (node-agent/gpu); none on a node without. */
  gpu?: GpuAllocator;
  /**
   * The node's pod volumes: set up before containers are created, kept current on each sync,
   * removed once the pod is torn down. None: a pod with volumes waits in ContainerCreating.
   */
  volumes?: PodVolumes;
  /** Images the node builds instead of pulling (function runtime images); none: every image is pulled. */
  images?: LocalImageBuilder;
  /** The node's warm pool of function containers (node-agent/functions/pool.ts); none: every pod makes its own sandbox. */
  pool?: WarmPool;
  /** Deletes tasks containerd keeps for containers CRI reports not running (node-agent/containerd/stray-tasks.ts). */
  strayTasks?: StrayTasks;
  /** How often a running pod's configMap, secret and downwardAPI files are brought up to date (default 10 s). */
  volumeRefreshMs?: number;
  /** Publishes the pod's status; called only when it changed. A throw crashes the actor. */
  writeStatus(pod: Pod, status: PodStatus): Promise<void>;
  /** Called once deletion finished: nothing of the pod is left in the runtime. */
  onTerminated(pod: Pod): Promise<void>;
  /**
   * Records an event about the pod (Pulling, Pulled, Created, Started, Killing, BackOff, Failed).
   * Must return at once; a throw is logged and ignored.
   */
  recordEvent?(pod: Pod, type: EventType, reason: string, message: string): void;
  log: Logger;
  /** Supervision policy, passed to nact (default: nact's, which stops the actor). */
  onCrash?: PodCrashHandler;
  /** Journal the backoff through the system's persistence engine (needs configurePersistence). */
  persistent?: boolean;
  /** Snapshot the journal every N events (persistent only; default 20). */
  snapshotEvery?: number;
  /** Overrides of Kubernetes' 10 s / 5 min / 10 min backoff (tests). */
  backoff?: Partial<CrashLoopPolicy>;
  /** Periodic resync while nothing is due sooner (default 10 s). */
  resyncIntervalMs?: number;
  /** Clock (epoch ms). */
  now?: () => number;
  /** Reads the ConfigMaps and Secrets a pod refers to (env, envFrom, imagePullSecrets); none without it. */
  envObjects?(pod: Pod): EnvObjects;
  /** The node's allocatable cpu and memory: what resourceFieldRef gives for a limit not set. */
  allocatable?: { cpu?: string | number; memory?: string | number };
  /** Runs one probe (tests); default runProbe through `cri`. */
  runProbe?: (target: ProbeTarget) => Promise<ProbeOutcome>;
}

/** The actor's durable state. */
export interface PodActorState {
  backoff: BackoffState;
  /** The status this node last wrote (and the control plane stored); none before the first. */
  status?: PodStatus;
}

/**
 * How long the view may take to show this node's own status write; a write it has not shown by
 * then was overwritten before the control plane copied it, and the view's status is compared with.
 */
const VIEW_LAG_MS = 30_000;

// A fresh pod takes a few passes (sandbox, init containers, app containers): bounded per sync.
const MAX_PASSES = 6;

/** The pod's IPs by sandbox id, for fieldRefs to status.podIP(s). */
function sandboxIPs(observed: ObservedPod): Record<string, string[]> {
  return Object.fromEntries(observed.sandboxes.filter((s) => s.ip).map((s) => [s.id, [s.ip!, ...(s.additionalIps ?? [])]]));
}

/** The nact persistence key of a pod's backoff journal (per uid: a re-created pod starts afresh). */
export const podPersistenceKey = (uid: string): string => `${POD_BACKOFF_KEY_PREFIX}${uid}`;

/**
 * Spawns the actor for `pod` under `parent`, named by `actorName(namespace, name)`, and starts
 * reconciling at once. Throws ValidationError when the pod has no uid.
 */
export function spawnPodActor(parent: Ref<unknown>, deps: PodActorDeps, pod: Pod): Ref<PodActorMessage> {
  const uid = pod.metadata.uid;
  const ns = pod.metadata.namespace ?? 'default';
  if (!uid) throw new ValidationError(`pod ${ns}/${pod.metadata.name} has no uid`, ['metadata.uid']);
  const log = deps.log.child({ pod: `${ns}/${pod.metadata.name}`, uid, node: deps.nodeName });
  const policy = crashLoopPolicy(deps.backoff);
  const resyncMs = deps.resyncIntervalMs ?? 10_000;
  const now = deps.now ?? Date.now;
  // Inputs and transient bookkeeping. Desired state survives a reset (it is input, not state);
  // what was written is forgotten, so a reset actor rewrites status if it differs.
  let desired: Pod | null = pod;
  let lastKnown: Pod = pod;
  // The status this actor last wrote, and whether the view has shown it since. Until it has, the
  // view's status may predate the write, so the write is what a new status is compared with; once
  // it has, a different status in the view was stored after it (the control plane marked the pod
  // not ready while the node was away) and the view's is compared with, so the true status is
  // written again. Nothing changed means no write either way.
  // Views carry no status (actors/pod/node-views.ts), so a write is taken as stored once it is
  // acknowledged; only a view that carries a status (one made by an earlier version, or the node
  // lifecycle's NodeNotReady mark) is compared with. `viewStatus` is the last status a view
  // carried; `adopted` says whether the status journaled by an earlier actor was taken up.
  let written: PodStatus | undefined;
  let writtenAt = 0;
  let writtenSeen = false;
  let viewStatus: PodStatus | undefined = pod.status;
  let adopted = false;
  // The warm container this pod took, until its first Ready status is written (pool metric).
  let warmTaken: { runtime: string; at: number; initMs: number } | undefined;
  let queued = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // When the running pod's volume files were last brought up to date, and its emptyDirs measured (epoch ms).
  let volumesRefreshedAt = 0;
  let usageCheckedAt = 0;
  // Why the node evicts the pod (an emptyDir over its sizeLimit); a fact kept across resets.
  let eviction: string | undefined;
  // Whether the finished pod's emptyDir, configMap, secret and downwardAPI volumes were given back.
  let ephemeralReleased = false;
  // The pod's IP as last observed: a preStop httpGet of a liveness kill connects to it.
  let lastPodIP: string | undefined;
  // Containers whose StartContainer missed its deadline: facts about the runtime, kept across
  // resets, forgotten once the container is gone.
  const abandonedStarts = new Set<string>();
  // What observations remember between passes (sandbox networks, settled container statuses).
  const cache = new ObservationCache();
  // Probes of the running containers; a changed result asks for a reconcile (and a status write).
  let self: Ref<Internal> | undefined;
  const probeRun = deps.runProbe ?? ((t: ProbeTarget) => runProbe(deps.cri, t));
  const prober = new PodProber({
    run: probeRun,
    onChange: () => { if (self) kick(self); },
    onKill: (containerId, container, graceSeconds) => {
      const timeout = graceSeconds ?? lastKnown.spec.terminationGracePeriodSeconds ?? 30;
      log.info({ container, containerId, gracePeriod: timeout }, 'killing container that failed its probe');
      const spec = lastKnown.spec.containers.find((c) => c.name === container);
      stopContainerGracefully({ cri: deps.cri, log, event, now }, { container: spec, containerId, name: container, podIP: lastPodIP }, timeout).catch((err: unknown) => {
        log.warn({ err, container, containerId }, 'could not stop container that failed its probe');
      }).finally(() => { if (self) kick(self); });
    },
    event: (type, reason, message) => event(type, reason, message),
    now,
  });

  const kick = (self: Ref<Internal>): void => {
    if (queued || stopped) return;
    queued = true;
    dispatch(self, { type: 'pod/reconcile' });
  };
  const schedule = (self: Ref<Internal>, ms: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = undefined; if (!stopped) dispatch(self, { type: 'pod/resync' }); }, ms);
    timer.unref();
  };
  // One reader per pod (it names the pod to the control plane, which checks the pod refers to what it reads).
  let envObjects: EnvObjects | undefined;
  const envContext = (desired: Pod | null, observed: ObservedPod) => {
    if (desired && deps.envObjects) envObjects ??= deps.envObjects(desired);
    return {
      ...(envObjects ? { objects: envObjects } : {}),
      ...(deps.allocatable ? { allocatable: deps.allocatable } : {}),
      hostIP: deps.hostIP,
      sandboxIPs: sandboxIPs(observed),
    };
  };
  const event = (type: EventType, reason: string, message: string): void => {
    if (!deps.recordEvent) return;
    try {
      deps.recordEvent(desired ?? lastKnown, type, reason, message);
    } catch (err) {
      log.warn({ err, reason }, 'could not record event');
    }
  };
  const forgetWritten = (): void => {
    log.debug('the stored status changed since this node wrote it; comparing with the stored one');
    written = undefined;
    writtenSeen = false;
  };
  // Function containers just started on the normal path whose loader is being probed quickly.
  const fastPolls = new Map<string, FastReadiness>();
  const stopFastPolls = (): void => { for (const p of fastPolls.values()) p.stop(); fastPolls.clear(); };
  /**
   * Probes the readiness of a function container just started quickly, so its pod turns Ready as
   * soon as its loader answers rather than at the next probe period (node-agent/functions/fast-readiness.ts).
   */
  const watchReadiness = (c: RunningContainer, podIP: string | undefined): void => {
    const probe = c.spec.readinessProbe;
    if (!probe || fastPolls.has(c.id)) return;
    const poll = pollReadiness({
      probe: () => probeRun({ probe, container: c.spec, containerId: c.id, ...(podIP ? { podIP } : {}) }),
      running: () => !stopped && prober.view(c.id) !== undefined,
      onReady: () => prober.probeNow(c.id),
      now,
    });
    fastPolls.set(c.id, poll);
    void poll.done.then((end) => {
      if (fastPolls.get(c.id) === poll) fastPolls.delete(c.id);
      const ms = now() - c.startedAtMs;
      if (end === 'ready') {
        log.info({ container: c.spec.name, containerId: c.id, ms }, 'function loader ready; readiness probed at once');
        event('Normal', 'LoaderReady', `Loader of container ${c.spec.name} ready ${ms} ms after it started`);
      } else {
        log.debug({ container: c.spec.name, containerId: c.id, ms, end }, 'fast readiness probing ended');
      }
    });
  };
  const finish = (self: Ref<Internal>): void => {
    stopped = true;
    clearTimeout(timer);
    stopFastPolls();
    prober.stop();
    stop(self);
  };

  /**
   * Brings the files of a running pod's configMap, secret and downwardAPI volumes up to date (the
   * atomic swap: containers see the new files without a restart), as kubelet does on each sync.
   * Failures are logged and tried again on the next sync; the containers keep running.
   */
  async function refreshVolumes(pod: Pod, observed: ObservedPod): Promise<void> {
    if (!deps.volumes || pod.metadata.deletionTimestamp || podVolumes(pod).length === 0) return;
    if (!observed.containers.some((c) => c.state === 'CONTAINER_RUNNING')) return;
    if (now() - volumesRefreshedAt < (deps.volumeRefreshMs ?? 10_000)) return;
    volumesRefreshedAt = now();
    try {
      const env = envContext(pod, observed);
      await deps.volumes.setUp(pod, { objects: env.objects ?? NO_OBJECTS, ...(env.allocatable ? { allocatable: env.allocatable } : {}) });
    } catch (err) {
      log.warn({ err: String(err) }, 'could not bring the pod\'s volumes up to date; trying again on the next sync');
    }
  }

  /**
   * Measures the pod's disk emptyDirs with a sizeLimit (at most every volumeRefreshMs, as kubelet's
   * eviction manager looks every 10 s) and marks the pod for eviction when one is over.
   */
  async function checkEviction(pod: Pod): Promise<void> {
    if (eviction !== undefined || !deps.volumes || pod.metadata.deletionTimestamp || podVolumes(pod).length === 0) return;
    if (now() - usageCheckedAt < (deps.volumeRefreshMs ?? 10_000)) return;
    usageCheckedAt = now();
    try {
      eviction = await deps.volumes.emptyDirOverLimit(pod);
    } catch (err) {
      log.warn({ err: String(err) }, 'could not measure the pod\'s emptyDir volumes; trying again on the next sync');
      return;
    }
    if (eviction === undefined) return;
    log.warn({ reason: eviction }, 'evicting the pod');
    event('Warning', 'Evicted', eviction);
  }

  /**
   * Gives back the node-local volumes of a pod that finished (Succeeded, Failed, Evicted) once none
   * of its containers runs, as kubelet does for terminated pods whose objects stay (a ReplicaSet
   * replaces an evicted pod without deleting it); persistent and hostPath volumes stay. A failure is
   * logged and tried again on the next sync.
   */
  async function releaseFinishedVolumes(pod: Pod, phase: PodStatus['phase'], observed: ObservedPod): Promise<void> {
    if (ephemeralReleased || !deps.volumes || pod.metadata.deletionTimestamp || podVolumes(pod).length === 0) return;
    if (phase !== 'Succeeded' && phase !== 'Failed') return;
    if (observed.containers.some((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_UNKNOWN')) return;
    try {
      await deps.volumes.releaseEphemeral(uid as string);
      ephemeralReleased = true;
    } catch (err) {
      log.warn({ err: String(err) }, 'could not release the volumes of the finished pod; trying again on the next sync');
    }
  }

  async function sync(state: PodActorState, ctx: ActorContext<Internal, Ref<unknown>>): Promise<PodActorState> {
    let backoff = state.backoff;
    let stored = state.status;
    if (!adopted) {
      adopted = true;
      // A view with a status is compared with as it is; one without trusts this node's journal.
      if (stored && !lastKnown.status) { written = stored; writtenSeen = true; }
    }
    const persist = (ctx as Partial<PersistentActorContext<Internal, Ref<unknown>>>).persist;
    const record = async (events: BackoffEvent[]): Promise<void> => {
      for (const e of events) {
        if (persist) await persist(e);
        backoff = applyBackoffEvent(backoff, e, policy);
      }
    };
    const images = desired ? [...(desired.spec.initContainers ?? []), ...desired.spec.containers].map((c) => c.image) : [];
    let failures: SyncFailures = {};
    let result: ReconcileResult | undefined;
    let hints: ObservationHints = {};
    let lastObserved: ObservedPod | undefined;
    // A warm container just became the pod's: its loader is ready now, so probe it at once.
    let probeSoon = false;
    // Containers this sync made on the normal path.
    const startedNow: string[] = [];
    const reconcileWith = (observed: ObservedPod): ReconcileResult => reconcilePod({
      probes: prober.views(),
      pod: desired, uid: uid as string, observed, backoff, policy, now: now(), hostIP: deps.hostIP,
      previous: written ?? viewStatus, failures, defaultGraceSeconds: lastKnown.spec.terminationGracePeriodSeconds,
      ...(eviction !== undefined ? { evicted: eviction } : {}),
    });
    self = ctx.self;
    if (desired) await checkEviction(desired);
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const observed = markAbandonedStarts(await observePod(deps.cri, uid as string, images, cache, hints), abandonedStarts);
      logUnexpected(log, observed, desired);
      lastObserved = observed;
      result = reconcileWith(observed);
      await record(result.events);
      if (result.terminated) {
        log.info('pod terminated; runtime objects removed');
        // A throw (a tmpfs still busy) crashes the actor; its restart comes back here and tries again.
        await deps.volumes?.tearDown(uid as string);
        await deps.onTerminated(lastKnown);
        finish(ctx.self);
        return { backoff, ...(stored ? { status: stored } : {}) };
      }
      if (result.actions.length === 0) break;
      log.debug({ actions: result.actions.map((a) => a.type) }, 'reconcile');
      const out = await executeActions(result.actions, {
        cri: deps.cri, pod: desired, sandbox: {
          podLogsRoot: deps.podLogsRoot, ...(deps.dnsConfig ? { dnsConfig: deps.dnsConfig } : {}), ...(deps.cgroupRoot ? { cgroupRoot: deps.cgroupRoot } : {}),
          ...(deps.seccompProfileRoot ? { seccompProfileRoot: deps.seccompProfileRoot } : {}),
          ...(deps.nodeResolvConf ? { nodeResolvConf: deps.nodeResolvConf } : {}), ...(deps.hostsRoot ? { hostsRoot: deps.hostsRoot } : {}),
        }, log, now, event, sandboxIPs: readySandboxIPs(observed), env: envContext(desired, observed),
          ...(deps.gpu ? { gpu: deps.gpu } : {}), ...(deps.volumes ? { volumes: deps.volumes } : {}),
          ...(deps.images ? { images: deps.images } : {}), ...(deps.pool ? { pool: deps.pool } : {}),
          ...(deps.strayTasks ? { strayTasks: deps.strayTasks } : {}),
      });
      if (out.adopted) { probeSoon = true; warmTaken = out.adopted; } else startedNow.push(...out.created.containers);
      await record(out.events);
      for (const id of out.abandonedStarts) abandonedStarts.add(id);
      hints = out.created;
      failures = mergeFailures(failures, out.failures);
    }
    if (desired && lastObserved) await refreshVolumes(desired, lastObserved);
    if (desired && lastObserved && result) await releaseFinishedVolumes(desired, result.status.phase, lastObserved);
    lastPodIP = result?.status.podIP ?? lastPodIP;
    const running = desired && !desired.metadata.deletionTimestamp && lastObserved ? runningContainers(desired, lastObserved) : [];
    prober.update(running, result?.status.podIP);
    if (desired && isFunctionInstance(desired)) {
      for (const c of running) if (startedNow.includes(c.id)) watchReadiness(c, result?.status.podIP);
    }
    if (!desired || desired.metadata.deletionTimestamp) stopFastPolls();
    if (probeSoon && result?.actions.length === 0 && lastObserved) {
      // Probed before the status is written, so the first status of a specialised warm container
      // is already Ready: one write instead of a not-ready one and a probe period later another.
      await prober.probeNow();
      result = reconcileWith(lastObserved);
      await record(result.events);
    }
    // A write the view never showed was overwritten before the control plane copied it there.
    if (written && !writtenSeen && now() - writtenAt > VIEW_LAG_MS) forgetWritten();
    const base = written ?? viewStatus;
    if (result && desired && !sameStoredStatus(result.status, base)) {
      if (result.status.phase !== base?.phase) log.info({ phase: result.status.phase }, 'pod phase');
      for (const e of backoffEvents(desired, base, result.status)) event(e.type, e.reason, e.message);
      const writing = now();
      await deps.writeStatus(desired, result.status);
      if (warmTaken && result.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
        const ms = now() - warmTaken.at;
        log.info({ runtime: warmTaken.runtime, ms, initMs: warmTaken.initMs, writeMs: now() - writing }, 'Ready after taking a warm container');
        deps.pool?.readyAfter(warmTaken.runtime, ms);
        warmTaken = undefined;
      }
      written = result.status;
      writtenAt = now();
      // A view without status will never show it: the acknowledgement is all there is.
      writtenSeen = !lastKnown.status;
      stored = result.status;
      if (persist) await persist({ type: 'status-written', status: stored } satisfies StatusWritten);
    } else if (base && !stored && persist) {
      // Taken from a view made by an earlier version: journaled, since later views carry none.
      stored = base;
      await persist({ type: 'status-written', status: stored } satisfies StatusWritten);
    }
    schedule(ctx.self, Math.min(result?.requeueAfterMs ?? resyncMs, resyncMs));
    return { backoff, ...(stored ? { status: stored } : {}) };
  }

  async function handle(state: PodActorState, msg: Internal, ctx: ActorContext<Internal, Ref<unknown>>): Promise<PodActorState> {
    // Replayed journal events while recovering (persistent actors only).
    if (isBackoffEvent(msg)) return { ...state, backoff: applyBackoffEvent(state.backoff, msg, policy) };
    if (isStatusWritten(msg)) return { ...state, status: msg.status };
    switch (msg.type) {
      case 'pod/sync':
        if (msg.pod && msg.pod.metadata.uid !== uid) {
          // Same name, new uid: our pod is gone; the agent spawns a new actor for the new one.
          log.warn({ newUid: msg.pod.metadata.uid }, 'pod re-created under the same name; tearing down the old one');
          desired = null;
        } else if (msg.pod) {
          desired = msg.pod;
          lastKnown = msg.pod;
          if (!msg.pod.status) {
            if (written) writtenSeen = true;
          } else {
            viewStatus = msg.pod.status;
            if (written && sameStoredStatus(msg.pod.status, written)) writtenSeen = true;
            else if (written && writtenSeen) forgetWritten();
          }
        } else {
          desired = null;
        }
        kick(ctx.self);
        return state;
      case 'pod/resync':
        kick(ctx.self);
        return state;
      case 'pod/stop':
        finish(ctx.self);
        return state;
      case 'pod/reconcile':
        queued = false;
        try {
          return await sync(state, ctx);
        } catch (e) {
          log.error({ err: e }, 'pod sync failed; the supervisor restarts the actor');
          throw e;
        }
    }
  }

  const props = {
    // Called at spawn and on every reset: start from a clean slate and reconcile at once.
    initialStateFunc: (ctx: ActorContext<Internal, Ref<unknown>>): PodActorState => {
      written = undefined;
      writtenSeen = false;
      adopted = false;
      cache.clear();
      queued = false;
      clearTimeout(timer);
      setImmediate(() => kick(ctx.self));
      return { backoff: emptyBackoff() };
    },
    afterStop: (): void => { stopped = true; clearTimeout(timer); stopFastPolls(); prober.stop(); },
    ...(deps.onCrash ? { onCrash: deps.onCrash as unknown as SupervisionActorFunc<Internal, Ref<unknown>, Ref<unknown>> } : {}),
  };
  const name = actorName(ns, pod.metadata.name);
  const ref = deps.persistent
    ? spawnPersistent(parent, handle, podPersistenceKey(uid), name, {
      ...props, snapshotEvery: deps.snapshotEvery ?? 20,
      snapshotEncoder: (s: PodActorState) => s,
      snapshotDecoder: (s: unknown) => ((s as PodActorState | undefined)?.backoff ? (s as PodActorState) : { backoff: emptyBackoff() }),
    })
    : spawn(parent, handle, name, props);
  describeActor(ref, { kind: 'pod', system: false, object: { kind: 'Pod', namespace: ns, name: pod.metadata.name, ...(uid ? { uid } : {}) } });
  return ref as unknown as Ref<PodActorMessage>;
}

/**
 * Statuses equal as stored: the control plane keeps the scheduler's PodScheduled condition over
 * the node's (actors/node/node-api.ts), so that one is left out of the comparison.
 */
function sameStoredStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  const strip = (s: PodStatus | undefined) => (s?.conditions ? { ...s, conditions: s.conditions.filter((c) => c.type !== 'PodScheduled') } : s);
  return sameStatus(strip(a), strip(b));
}

/** The pod's running app containers in its ready sandbox, which the prober watches. */
function runningContainers(pod: Pod, observed: ObservedPod): RunningContainer[] {
  const ready = new Set(observed.sandboxes.filter((s) => s.state === 'SANDBOX_READY').map((s) => s.id));
  const out: RunningContainer[] = [];
  for (const c of observed.containers) {
    if (c.state !== 'CONTAINER_RUNNING' || !ready.has(c.podSandboxId)) continue;
    const spec = pod.spec.containers.find((x) => x.name === c.name);
    if (!spec || (spec.image !== c.image && c.image !== '')) continue;
    out.push({ id: c.id, spec, startedAtMs: Math.floor((c.startedAt || c.createdAt) / 1e6) });
  }
  return out;
}

/** The IP of each ready sandbox, by id: for /etc/hosts and the hooks' httpGet. */
function readySandboxIPs(observed: ObservedPod): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of observed.sandboxes) if (s.state === 'SANDBOX_READY' && s.ip) out[s.id] = s.ip;
  return out;
}

/** Marks the containers whose start this agent gave up on, and forgets those no longer there. */
function markAbandonedStarts(observed: ObservedPod, abandoned: Set<string>): ObservedPod {
  if (abandoned.size === 0) return observed;
  const present = new Set(observed.containers.map((c) => c.id));
  for (const id of abandoned) if (!present.has(id)) abandoned.delete(id);
  return { ...observed, containers: observed.containers.map((c) => (abandoned.has(c.id) ? { ...c, startAbandoned: true } : c)) };
}

function mergeFailures(a: SyncFailures, b: SyncFailures): SyncFailures {
  return {
    images: { ...a.images, ...b.images },
    containers: { ...a.containers, ...b.containers },
    ...(b.sandbox ?? a.sandbox ? { sandbox: b.sandbox ?? a.sandbox } : {}),
  };
}

/** Logs what should not be there, with enough context to act on it. */
function logUnexpected(log: Logger, observed: ObservedPod, pod: Pod | null): void {
  const ready = observed.sandboxes.filter((s) => s.state === 'SANDBOX_READY');
  if (ready.length > 1) log.warn({ sandboxes: ready.map((s) => s.id) }, 'more than one ready sandbox; stopping the older ones');
  const names = new Set(pod ? [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name) : []);
  for (const c of observed.containers) {
    if (c.state === 'CONTAINER_UNKNOWN') log.warn({ container: c.name, containerId: c.id }, 'container in unknown state; stopping it');
    if (pod && !names.has(c.name)) log.warn({ container: c.name, containerId: c.id }, 'container not in the pod spec; removing it');
  }
}
