/**
 * The node agent: a container runtime (runtime.ts), an actor system whose root is the node actor
 * (node/node-actor.ts) with one pod actor per pod bound here, and the node's own subjects
 * (serve.ts). It writes cluster state only through the control plane's node api, reads only its
 * own view of pods, and journals and records events only as itself: the bus enforces all three.
 */
import path from 'node:path';
import { configurePersistence, dispatch, start, stop as stopSystem } from 'nact';
import { connectBus, encode, EventRecorder, JetStreamPersistenceEngine, ObjectStore, type Bus, type BusOptions } from '../bus';
import { startActorFeed } from '../bus/actor-feed';
import { actorTelemetryWanted } from '../common/actor-telemetry';
import { backoffDelay, sleep } from '../common/backoff';
import { backoffOnCrash } from '../common/supervision';
import {
  NODE_PODS_BUCKET, NODE_ROUTES_BUCKET, nodeJournalOwner, nodeSubject, telemetryProcess, INGRESS_PORT_ANNOTATION, POD_NETWORK_ANNOTATION, VTEP_MAC_ANNOTATION,
  type Pod, type PodNetworkMode,
} from '../messages';
import { log } from './log';
import { clusterReverseCIDRs, EMPTY_SERVICE_NETWORK, startNodeDns, type Upstream } from './dns';
import { GpuAllocator } from './gpu/allocation';
import { discoverGpus } from './gpu/discovery';
import { readCapacity, hostIP, withExtendedResources } from './node/capacity';
import { measureNode } from './node/measure';
import { GPU_RESOURCE, pressureConditions } from './node/node-status';
import { ControlPlaneClient } from './node/control-plane';
import { spawnNodeActor, type NodeActor } from './node/node-actor';
import {
  DEFAULT_SERVICE_CIDR, ensureVxlanDevice, keepServiceRoute, removePodRoutes, removeServiceRoute, startRouteSync, type RouteSync,
} from './network';
import { startNodeServiceProxy } from './proxy/node';
import { startRuntime, type NodeRuntime } from './runtime';
import { strayTasksOf } from './containerd/stray-tasks';
import { readNodeResolvConf } from './pods/dns-file';
import { startChosenIngress, type IngressProxyMode, type NodeIngress } from './ingress';
import { startNodeServiceNetwork } from './service-network/node-view';
import type { ServiceNetworkSource } from './service-network/types';
import { serveNodeSubjects } from './serve';
import { sandboxIP, servePortForward } from './port-forward';
import { followConnection, publishOn, startStatsSampler, statsIntervalFromEnv } from './stats';
import { getCode, openCodeBucket, type CodeBucket } from '../bus/function-code';
import { FunctionCodeCache, PodVolumes } from './volumes';
import { RuntimeImageBuilder, type ImageProgress } from './images';
import { startLocalPathStorage } from './storage';
import { startFileTriggers } from './triggers';
import { adoptionOverlay, AdoptionStore, FunctionPool, parsePoolSize } from './functions';

export interface NodeAgentOptions {
  bus: BusOptions;
  nodeName: string;
  /** Holds containerd's state, CNI state and pod logs. */
  dataDir: string;
  /** Use this containerd instead of starting one. */
  containerdSocket?: string;
  /** CNI bridge name (default mk0); tests running two nodes on one machine give each its own. */
  bridge?: string;
  heartbeatMs?: number;
  /** The node's InternalIP (default: the first non-loopback IPv4 address). */
  nodeIP?: string;
  /**
   * The cluster DNS the node serves on its pod bridge's gateway (node-agent/dns): the cluster
   * domain (default cluster.local) and the resolvers for other names (default: the nameservers of
   * the node's resolv.conf; an empty list refuses them).
   */
  dns?: { domain?: string; upstreams?: Upstream[] };
  /** Where the built-in image archives are built and cached; nodes of one machine may share it. */
  imagesDir?: string;
  /** The node's own cgroup above `/kubepods`, so nodes sharing a machine keep their pods apart. */
  cgroupRoot?: string;
  /** Between usage reports on `mk.stats.<node>` (default: MK_STATS_INTERVAL, else 5 s). */
  statsIntervalMs?: number;
  /** Extended resources the node advertises (`example.com/dongle`: 4), in its capacity and allocatable. */
  extendedResources?: Record<string, number>;
  /** Where the GPU device nodes are (default /dev; tests give stand-ins): see node-agent/gpu. */
  gpuDevRoot?: string;
  /** Serve the ingress proxy on this port (node-agent/ingress); none without. */
  ingressPort?: number;
  /** The address the ingress proxy listens on (default all IPv4 addresses). */
  ingressAddress?: string;
  /** Which proxy serves the ingress: nginx, builtin, or auto (nginx when installed; the default). */
  ingressProxy?: IngressProxyMode;
  /** Services and EndpointSlices to read instead of watching the store (proxy, DNS, ingress). */
  serviceNetwork?: ServiceNetworkSource;
  /**
   * The pod network's backend, the same on every node of a cluster (default host-gw): routes via
   * the nodes' addresses (one L2 segment), or the vxlan overlay (node-agent/network/vxlan.ts).
   */
  podNetwork?: PodNetworkMode;
  /**
   * The service CIDR (default MK_SERVICE_CLUSTER_IP_RANGE, else 10.96.0.0/12): routed to a device
   * of its own on a node whose routes do not lead there (node-agent/network/service-route.ts), and
   * answered in reverse (PTR) by the cluster DNS.
   */
  serviceCIDR?: string;
  /** Program iptables for Services (node-agent/proxy; default: unless MK_SERVICE_PROXY=off). */
  serviceProxy?: boolean;
  /** The cluster CIDR the service proxy masquerades traffic from outside of (default MK_CLUSTER_CIDR, else 10.244.0.0/16). */
  clusterCIDR?: string;
  /**
   * Directories pods' hostPath volumes may be in (after resolving symlinks). Default none: a
   * hostPath reaches whatever the node can, so an operator allows roots explicitly.
   */
  hostPathRoots?: string[];
  /**
   * Build the function runtime images in the background once the agent has started, so the first
   * function call does not wait for them (default: unless MK_WARM_RUNTIME_IMAGES=off). Without, a
   * pod that needs one builds it.
   */
  warmRuntimeImages?: boolean;
  /**
   * Warm generic containers kept per function runtime (node-agent/functions/pool.ts), 0 to 16;
   * default MK_FUNCTION_POOL_SIZE, else 2. 0: no pool, every function pod makes its own sandbox.
   */
  functionPoolSize?: number;
}

export interface NodeAgent {
  /** Stops the agent, leaving pods and containerd running for the next agent to adopt. */
  stop(): Promise<void>;
  /** Removes every pod sandbox, the CNI bridge, and stops containerd: the node is gone. */
  teardown(): Promise<void>;
}

/** The component name on the node's events (the kubelet's is `kubelet`). */
const COMPONENT = 'mk-node';

/**
 * Retries `open` until it works: a node may not make the streams it uses, and waits for the
 * control plane to have made them (at a cluster's first start, or after the server lost its store).
 */
async function whenReady<T>(what: string, open: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open();
    } catch (err) {
      if (attempt % 10 === 0) log.warn({ err: String(err), attempt }, `${what} is not there yet; waiting for the control plane`);
      await sleep(backoffDelay({ initialMs: 200, maxMs: 5_000 }, attempt));
    }
  }
}

/** Starts the node agent. Throws with a clear message when containerd or the bus cannot start. */
export async function runNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const name = opts.nodeName;
  // Checked before anything starts: a bad size is the operator's to fix.
  const poolSize = parsePoolSize(opts.functionPoolSize ?? process.env.MK_FUNCTION_POOL_SIZE);
  const statsIntervalMs = opts.statsIntervalMs ?? statsIntervalFromEnv();
  // Set once the node actor exists; the runtime may report a change before that.
  const nodeRef: { actor?: NodeActor } = {};
  const bus: Bus = await connectBus({ ...opts.bus, name: opts.bus.name ?? `mk-node-${name}` });
  const imageProgress = (e: ImageProgress): void => {
    bus.nc.publish(nodeSubject(name, 'progress'), encode(e));
    log.info({ node: name, ...e }, 'image progress');
  };
  const runtime: NodeRuntime = await startRuntime({
    nodeName: name,
    dataDir: opts.dataDir,
    ...(opts.containerdSocket ? { containerdSocket: opts.containerdSocket } : {}),
    ...(opts.bridge ? { bridge: opts.bridge } : {}),
    ...(opts.imagesDir ? { imagesDir: opts.imagesDir } : {}),
    onProgress: imageProgress,
    // Post the node's status as soon as its runtime goes or comes back.
    onRuntimeChange: () => { if (nodeRef.actor) dispatch(nodeRef.actor.ref, { type: 'node/heartbeat' }); },
  });
  // The GPUs a container can be given are those whose device nodes are found: they are the count.
  const inventory = await discoverGpus(opts.gpuDevRoot ? { devRoot: opts.gpuDevRoot } : {});
  if (inventory.gpus.length > 0) log.info({ node: name, gpus: inventory.gpus.map((g) => g.hostPath), libraries: inventory.libraries.length }, 'GPUs found');
  const gpuAllocator = inventory.gpus.length > 0 ? new GpuAllocator(inventory, runtime.cri) : undefined;
  const capacity = withExtendedResources(await readCapacity(name, runtime.version, opts.dataDir, inventory.gpus.length, opts.nodeIP), opts.extendedResources);
  const gpus = Number(capacity.capacity?.[GPU_RESOURCE] ?? 0);
  const labels = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': capacity.nodeInfo?.architecture ?? 'amd64' };
  // Pod volumes live in each pod's directory (<pods>/<uid>/volumes), beside the pods' logs.
  // Functions' code (functions.mk.io csi volumes), from the code bucket, which nodes may read.
  let codeBucket: Promise<CodeBucket> | undefined;
  const functionCode = new FunctionCodeCache({
    root: path.join(opts.dataDir, 'function-code'),
    fetch: async (digest) => {
      const opening = codeBucket ??= openCodeBucket(bus.nc);
      try {
        return await getCode(await opening, digest);
      } catch (err) {
        // A bucket that could not be opened is opened again next time.
        if (codeBucket === opening) await opening.catch(() => { codeBucket = undefined; });
        throw err;
      }
    },
    log: log.child({ node: name }),
  });
  const podVolumes = new PodVolumes({
    podsRoot: runtime.podLogsRoot, hostPathRoots: opts.hostPathRoots ?? [], node: { metadata: { name, labels } }, log: log.child({ node: name }),
    functionCode,
  });
  // Before any pod actor: code no pod uses is left from an earlier run.
  await podVolumes.collectFunctionCode(true);
  // Function runtime images: built from the node's interpreters when a pod names one.
  const runtimeImages = new RuntimeImageBuilder(runtime.cri, {
    socketPath: runtime.socketPath, workDir: opts.imagesDir ?? path.join(opts.dataDir, 'images'), log: log.child({ node: name }),
    onProgress: imageProgress,
  });
  // The warm pool of function containers. Adoption records are read before any pod actor looks,
  // so a pod that took a warm container finds it as its own; everything pods, logs, exec and
  // stats see goes through the overlay (adopted members as their pods', other members hidden).
  const poolRoot = path.join(opts.dataDir, 'function-pool');
  const adoptions = new AdoptionStore(path.join(poolRoot, 'adoptions'), log.child({ node: name }));
  await adoptions.load();
  // Called only once an adopted sandbox is removed, long after the pool below exists.
  const cri = adoptionOverlay(runtime.cri, adoptions, async (r) => { await pool.released(r); });
  const podNetwork = opts.podNetwork ?? 'host-gw';
  const serviceCIDR = opts.serviceCIDR ?? process.env.MK_SERVICE_CLUSTER_IP_RANGE ?? DEFAULT_SERVICE_CIDR;
  let serviceRoute: { stop(): void } | undefined;
  const internalIP = capacity.addresses?.find((a) => a.type === 'InternalIP')?.address;
  // The vxlan device comes before registering: the Node reports its MAC for the other nodes.
  const vtep = podNetwork !== 'vxlan' ? undefined : await (async () => {
    if (!internalIP) throw new Error('the node has no InternalIP (--node-ip) to send the tunnel from');
    return ensureVxlanDevice(internalIP);
  })().catch(async (err: Error) => {
    await runtime.close().catch(() => undefined);
    await bus.close().catch(() => undefined);
    throw new Error(`node ${name}: cannot make the vxlan device of the pod network: ${err.message}`);
  });
  const annotations: Record<string, string> = vtep ? { [POD_NETWORK_ANNOTATION]: 'vxlan', [VTEP_MAC_ANNOTATION]: vtep.mac } : {};
  // The ingress port, so LoadBalancer services keep off it (actors/service/controller.ts).
  if (opts.ingressPort !== undefined) annotations[INGRESS_PORT_ANNOTATION] = String(opts.ingressPort);
  if (vtep) log.info({ node: name, mac: vtep.mac, mtu: vtep.mtu, parent: vtep.parent, local: internalIP }, 'vxlan device ready');
  const views = await whenReady('the node-pods bucket', () => ObjectStore.open(bus, { bucket: NODE_PODS_BUCKET, create: false }));
  const engine = await whenReady('the journal stream', () => JetStreamPersistenceEngine.open(bus, { owner: nodeJournalOwner(name), create: false }));
  const unlisten = bus.onReconnect(() => engine.forgetPositions());
  const nodeResolv = readNodeResolvConf(log);
  // One view of Services and EndpointSlices for the proxy, the DNS and the ingress proxy.
  const serviceNetwork = startNodeServiceNetwork({
    bus, log, whenReady: (what, open) => whenReady(what, open), ...(opts.serviceNetwork ? { given: opts.serviceNetwork } : {}),
  });
  const nodeDns = startNodeDns({
    // Empty until the view has its first listing; pods' names resolve meanwhile.
    source: EMPTY_SERVICE_NETWORK,
    ...(opts.dns?.domain ? { domain: opts.dns.domain } : {}),
    upstreams: opts.dns?.upstreams ?? (nodeResolv.nodeResolvConf?.servers ?? []).map((host) => ({ host, port: 53 })),
    reverseCIDRs: clusterReverseCIDRs(opts),
    log,
  });
  void serviceNetwork.ready.then(({ source }) => nodeDns.setSource(source));
  // Before the ActorSystem, so every actor is seen from its spawn (MK_ACTOR_TELEMETRY=off: none).
  const feed = actorTelemetryWanted() ? startActorFeed(bus, { process: telemetryProcess('node', name), role: 'node' }) : undefined;
  const system = start(`mk-node-${name}`, configurePersistence(engine));
  const recorder = new EventRecorder(bus, { component: COMPONENT, host: name }, Date.now, { create: false });
  const pods = new Map<string, Pod>();
  // Services on this node, once it has its pod CIDR (the proxy's rules name it).
  const serviceProxyEnabled = opts.serviceProxy ?? process.env.MK_SERVICE_PROXY !== 'off';
  const serviceProxy = startNodeServiceProxy({
    network: serviceNetwork.ready, nodeName: name, log, enabled: serviceProxyEnabled,
    ...(opts.clusterCIDR ? { clusterCIDR: opts.clusterCIDR } : {}),
  });
  const pool = new FunctionPool({
    cri: runtime.cri, store: adoptions, root: poolRoot, size: poolSize, log: log.child({ node: name }),
    seccompProfileRoot: runtime.seccompProfileRoot,
    // Members need the pod network, which comes with the node's pod CIDR.
    canStart: () => !!nodeRef.actor?.node()?.spec?.podCIDR,
    sandbox: () => ({
      podLogsRoot: runtime.podLogsRoot, ...nodeResolv,
      ...(opts.cgroupRoot ? { cgroupRoot: opts.cgroupRoot } : {}), seccompProfileRoot: runtime.seccompProfileRoot,
      ...((dns) => (dns ? { dnsConfig: dns } : {}))(nodeDns.podDnsFor(nodeRef.actor?.node()?.spec?.podCIDR)),
    }),
  });
  const node = nodeRef.actor = spawnNodeActor(system, {
    nodeName: name,
    cp: new ControlPlaneClient(bus, name),
    views,
    cri,
    capacity,
    annotations,
    labels,
    // Over vxlan, pods get the device's MTU, so what they send fits in the tunnel (as flannel does).
    configureNetwork: async (cidr) => {
      await runtime.configureNetwork(cidr, vtep?.mtu);
      // The proxy's rules catch cluster IPs only once a route leads there (none on a node without a default route).
      if (serviceProxyEnabled && !serviceRoute) {
        try {
          serviceRoute = keepServiceRoute({ serviceCIDR, log });
        } catch (err) {
          serviceRoute = { stop: () => undefined };
          log.warn({ node: name, err: String(err) }, 'no route to the cluster IPs is kept');
        }
      }
      serviceProxy.start(cidr);
    },
    runtimeProblem: () => runtime.problem(),
    pressure: async () => pressureConditions(await measureNode(opts.dataDir, gpus)),
    pods,
    ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    podDeps: {
      volumes: podVolumes,
      images: runtimeImages,
      pool,
      strayTasks: strayTasksOf(runtime.socketPath),
      cri, nodeName: name, hostIP: opts.nodeIP ?? hostIP(), podLogsRoot: runtime.podLogsRoot, log,
      seccompProfileRoot: runtime.seccompProfileRoot,
      ...(gpuAllocator ? { gpu: gpuAllocator } : {}),
      persistent: true,
      ...nodeResolv,
      // Read at each pod actor's spawn, which comes after the node has its pod CIDR (and network):
      // the DNS serves on that CIDR's gateway from the first pod on.
      get dnsConfig() { return nodeDns.podDnsFor(nodeRef.actor?.node()?.spec?.podCIDR); },
      // Each pod's hosts file sits in its directory beside its logs, as kubelet keeps it in its pod directory.
      hostsRoot: runtime.podLogsRoot,
      ...(opts.cgroupRoot ? { cgroupRoot: opts.cgroupRoot } : {}),
      // Like the kubelet's PLEG relist (1 s): how soon an exited container is noticed.
      resyncIntervalMs: 2_000,
      onCrash: backoffOnCrash({ type: 'pod/resync' }, (f, m) => log.warn({ node: name, ...f }, m)) as never,
      recordEvent: (pod, type, reason, message) => recorder.record(pod, type, reason, message),
    },
  });

  // Routes to the other nodes' pods, in the background: the bucket may not exist yet.
  let routeSync: RouteSync | undefined;
  let routesStopped = false;
  void whenReady('the node-routes bucket', async () => {
    if (routesStopped) return undefined;
    const routes = await ObjectStore.open(bus, { bucket: NODE_ROUTES_BUCKET, create: false });
    return startRouteSync({
      routes, nodeName: name, podCIDR: () => node.node()?.spec?.podCIDR, log, mode: podNetwork, ...(internalIP ? { localIP: internalIP } : {}),
    });
  }).then((s) => { if (routesStopped) void s?.stop(); else routeSync = s; }, (err) => log.warn({ node: name, err: String(err) }, 'pod routes are not kept'));
  const stopRoutes = async (): Promise<void> => {
    routesStopped = true;
    // Not waited for when the bucket was never reached: the pending start sees the flag and stops.
    await routeSync?.stop();
  };

  // The ingress proxy, once the view of Services is open (which never happens when the agent
  // stops first). A stop during its start waits for the start and stops what it made: an nginx
  // spawned meanwhile must not outlive the agent.
  let ingress: NodeIngress | undefined;
  let ingressStopped = false;
  let ingressStart: Promise<void> | undefined;
  if (opts.ingressPort !== undefined) {
    const port = opts.ingressPort;
    void serviceNetwork.ready.then(({ store, source }) => {
      if (ingressStopped) return;
      ingressStart = (async () => {
        const i = await startChosenIngress({
          store, source, port, ...(opts.ingressAddress ? { host: opts.ingressAddress } : {}), log,
          mode: opts.ingressProxy ?? 'auto', dataDir: opts.dataDir,
        });
        if (ingressStopped) await i.stop();
        else ingress = i;
      })().catch((err) => log.error({ node: name, port, err: String(err) }, 'the ingress proxy is not served'));
    });
  }
  const stopIngress = async (): Promise<void> => {
    ingressStopped = true;
    await ingressStart;
    await ingress?.stop();
  };

  // Usage reports beside the actor tree: they read CRI and the machine, and hold no cluster state.
  const link = followConnection(bus.nc);
  const sampler = startStatsSampler({
    nodeName: name, cri, capacity, publish: publishOn(bus.nc, name), connected: link.up, intervalMs: statsIntervalMs,
  });

  // The directories of the node's local-path volumes (node-agent/storage).
  const localPath = startLocalPathStorage({ bus, nodeName: name, log });
  // The paths of the node's file triggers, watched; their changes go to the trigger events stream (node-agent/triggers).
  const fileTriggers = startFileTriggers({ bus, nodeName: name, log, recordEvent: (obj, type, reason, message) => recorder.record(obj, type, reason, message) });

  let quiesced = false;
  let tornDown = false;
  let stopped = false;
  const quiesce = async (): Promise<void> => {
    if (quiesced) return;
    quiesced = true;
    await localPath.stop();
    await fileTriggers.stop();
    await nodeDns.stop();
    await sampler.stop();
    link.stop();
    await stopRoutes();
    serviceRoute?.stop();
    await stopIngress();
    await serviceProxy.stop();
    await serviceNetwork.stop();
    await node.stop();
    pool.stop();
    stopSystem(system);
  };
  // Teardown keeps the bus connection (its reply travels on it); stop() closes it later.
  const teardown = async (): Promise<void> => {
    if (tornDown) return;
    await quiesce();
    // Unadopted members first (the runtime's teardown removes the adopted ones with the pods).
    await pool.teardown().catch((err) => log.warn({ node: name, err: String(err) }, 'could not remove the warm pool'));
    await runtime.teardown();
    await podVolumes.cleanOrphans(new Set()).catch((err) => log.warn({ node: name, err: String(err) }, 'could not remove the pod volumes'));
    await removePodRoutes().catch((err) => log.warn({ node: name, err: String(err) }, 'could not remove the pod routes'));
    await removeServiceRoute().catch((err) => log.warn({ node: name, err: String(err) }, 'could not remove the route to the cluster IPs'));
    await serviceProxy.removeRules().catch((err) => log.warn({ node: name, err: String(err) }, 'could not remove the service proxy rules'));
    tornDown = true;
    await new ControlPlaneClient(bus, name).heartbeat({ status: 'False', reason: 'NodeShutdown', message: 'the node was torn down' })
      .catch((err) => log.warn({ node: name, err: String(err) }, 'could not post the shutdown status'));
    log.info({ node: name }, 'node torn down');
  };
  const subjects = serveNodeSubjects(bus, { nodeName: name, cri, pods, teardown });
  await subjects.ready;
  const portForward = servePortForward(bus, { nodeName: name, pods, podIP: (pod) => sandboxIP(cri, pod) });
  await portForward.ready;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await subjects.stop();
    await portForward.stop();
    await quiesce();
    if (!tornDown) await runtime.close();
    unlisten();
    await feed?.stop();
    await recorder.flush();
    await bus.close();
    log.info({ node: name }, 'node agent stopped');
  };
  log.info({ node: name, containerd: runtime.socketPath, functionPoolSize: poolSize }, 'node agent started');
  // Recovers the members an earlier agent left, then keeps the pool filled in the background.
  void pool.start().catch((err) => log.error({ node: name, err: String(err) }, 'the warm pool of function containers is not kept'));
  // Last and in the background: the node is ready without them, and a pod needing one shares the build.
  if (opts.warmRuntimeImages ?? process.env.MK_WARM_RUNTIME_IMAGES !== 'off') {
    setImmediate(() => {
      if (stopped) return;
      log.info({ node: name }, 'building the function runtime images in the background');
      void runtimeImages.warm();
    });
  }
  return { stop, teardown: async () => { await teardown(); await stop(); } };
}
