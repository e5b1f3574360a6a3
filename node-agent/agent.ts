/**
 * The node agent: registers its Node, runs a private containerd (or uses an existing socket),
 * builds the built-in images, configures the CNI bridge on the pod CIDR the control plane gives
 * it, heartbeats, runs one actor per pod bound here, and serves logs, exec and teardown.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { configurePersistence, start, stop as stopSystem } from 'nact';
import { connectBus, encode, EventRecorder, JetStreamPersistenceEngine, ObjectStore, type BusOptions } from '../bus';
import { isNotFound, nodeSubject, objectKey, type Node, type Pod } from '../messages';
import { backoffOnCrash } from '../common/supervision';
import { log } from './log';
import { assertCgroupControllers, connectOrStart, detectCgroups, purgeContainerd, type ContainerdHandle } from './containerd';
import { ensureBuiltinImages } from './images';
import { assertCniPlugins, writeCniConfig } from './network';
import { hostIP, readCapacity } from './node/capacity';
import { registerNode, setReady } from './node/registration';
import { serveNodeApi } from './node-api';
import { LABEL_POD_UID } from './pods';
import { startPodSync, type PodSync } from './pod-sync';

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
}

export interface NodeAgent {
  /** Stops the agent, leaving pods and containerd running for the next agent to adopt. */
  stop(): Promise<void>;
  /** Removes every pod sandbox, the CNI bridge, and stops containerd: the node is gone. */
  teardown(): Promise<void>;
}

const HEARTBEAT_MS = 10_000;

/** Starts the node agent. Throws with a clear message when containerd or the bus cannot start. */
export async function runNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const name = opts.nodeName;
  const dataDir = path.resolve(opts.dataDir);
  const ctrDir = path.join(dataDir, 'containerd');
  const socketPath = opts.containerdSocket ?? path.join(ctrDir, 'containerd.sock');
  const pidFile = path.join(ctrDir, 'containerd.pid');
  const bridge = opts.bridge ?? 'mk0';
  const podLogsRoot = path.join(dataDir, 'pods');
  fs.mkdirSync(podLogsRoot, { recursive: true });
  assertCniPlugins();
  // Pod resources need cpu and memory cgroups: say so now rather than through runc on the first pod.
  const cgroups = detectCgroups();
  assertCgroupControllers(cgroups);

  const bus = await connectBus({ ...opts.bus, name: opts.bus.name ?? `mk-node-${name}` });
  const store = await ObjectStore.open(bus);
  const progress = (e: { image: string; step: string; done?: boolean }) => {
    bus.nc.publish(nodeSubject(name, 'progress'), encode(e));
    log.info({ node: name, ...e }, 'image progress');
  };

  // A containerd left by a previous agent of this node still answers: adopt it (its containers live on).
  const ctr: ContainerdHandle = await connectOrStart({ dataDir: ctrDir, socketPath, cniConfDir: path.join(ctrDir, 'cni', 'net.d') });
  if (!ctr.external && ctr.pid) fs.writeFileSync(pidFile, String(ctr.pid));
  // A containerd the user pointed us at is theirs: teardown removes only mk's pods and stops nothing.
  const userContainerd = !!opts.containerdSocket;
  const cri = ctr.cri;
  const version = await cri.version({});
  await ensureBuiltinImages(cri, { socketPath, workDir: path.join(dataDir, 'images'), onProgress: progress });

  const capacity = await readCapacity(name, `${version.runtimeName}://${version.runtimeVersion}`);
  let node = await registerNode(store, name, capacity);
  const key = objectKey('nodes', undefined, name);
  node = await waitForCidr(store, key, node);
  await writeCniConfig({ confDir: path.join(ctrDir, 'cni', 'net.d'), podCIDR: node.spec!.podCIDR!, bridge, dataDir: path.join(dataDir, 'cni', 'ipam') });
  await setReady(store, name, 'True', 'NodeReady', 'the node agent is posting ready status');

  const engine = await JetStreamPersistenceEngine.open(bus);
  const system = start(`mk-node-${name}`, configurePersistence(engine));
  const ip = hostIP();
  // kubelet reports itself as `kubelet` on its host; mk's node agent as `mk-node`.
  const recorder = new EventRecorder(bus, { component: 'mk-node', host: name });
  const sync: PodSync = await startPodSync(system, store, cri, name, {
    cri, nodeName: name, hostIP: ip, podLogsRoot, log,
    persistent: true,
    // Like the kubelet's PLEG relist (1 s): how soon an exited container is noticed.
    resyncIntervalMs: 2_000,
    onCrash: backoffOnCrash({ type: 'pod/resync' }, (f, m) => log.warn({ node: name, ...f }, m)) as never,
    writeStatus: (pod, status) => writePodStatus(store, pod, status),
    onTerminated: (pod) => finalizeDeletion(store, pod),
    recordEvent: (pod, type, reason, message) => recorder.record(pod, type, reason, message),
  });

  const beat = async () => {
    const runtimeOk = await cri.version({}, { timeoutMs: 5_000 }).then(() => true, () => false);
    const post = () => (runtimeOk
      ? setReady(store, name, 'True', 'NodeReady', 'the node agent is posting ready status')
      : setReady(store, name, 'False', 'ContainerRuntimeDown', `containerd at ${socketPath} does not answer`));
    try {
      await post();
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // The Node was deleted (mk delete node): register again, as the kubelet does.
      await registerNode(store, name, capacity, node.spec?.podCIDR);
      await post();
    }
  };
  const heartbeat = setInterval(() => {
    beat().catch((err) => log.warn({ node: name, err: String(err) }, 'heartbeat failed'));
  }, opts.heartbeatMs ?? HEARTBEAT_MS);

  let tornDown = false;
  let stopped = false;
  const quiesce = async () => {
    clearInterval(heartbeat);
    await sync.stop();
    stopSystem(system);
  };
  // Teardown keeps the bus connection (its reply travels on it); stop() closes it later.
  // Every step runs even when an earlier one failed, so a teardown leaves as little as it can;
  // the first failure is reported after all of them.
  const teardown = async () => {
    if (tornDown) return;
    tornDown = true;
    const failures: unknown[] = [];
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try { await fn(); } catch (err) { failures.push(err); log.error({ node: name, step: what, err: String(err) }, 'teardown step failed'); }
    };
    await step('stop pod actors', quiesce);
    // A pod actor still finishing a pass may create a sandbox after the first listing: look again.
    await step('remove pods', async () => {
      for (let pass = 0; pass < 3; pass++) if ((await removeMkPods(cri)) === 0) break;
    });
    if (!userContainerd) {
      await step('stop containerd', () => stopContainerd(ctr, pidFile, path.join(ctrDir, 'config.toml')));
      await step('purge containerd', () => purgeContainerd({ dataDir: ctrDir, socketPath }));
    }
    await step('remove bridge', async () => { spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' }); });
    await step('post status', () => setReady(store, name, 'False', 'NodeShutdown', 'the node was torn down'));
    if (failures.length > 0) {
      tornDown = false;
      throw new Error(`node teardown incomplete: ${failures.map(String).join('; ')}`);
    }
    log.info({ node: name }, 'node torn down');
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await api.stop();
    if (!tornDown) { await quiesce(); ctr.cri.close(); }
    await recorder.flush();
    await bus.close();
    log.info({ node: name }, 'node agent stopped');
  };
  const api = serveNodeApi(bus, { nodeName: name, store, cri, sync, teardown });
  await api.ready;
  log.info({ node: name, podCIDR: node.spec?.podCIDR, containerd: socketPath, adopted: ctr.external, cgroup: `v${cgroups.version}` }, 'node agent ready');
  return { stop, teardown: async () => { await teardown(); await stop(); } };
}

async function waitForCidr(store: ObjectStore, key: string, node: Node): Promise<Node> {
  const deadline = Date.now() + 60_000;
  while (!node.spec?.podCIDR) {
    if (Date.now() > deadline) throw new Error(`node ${node.metadata.name} got no pod CIDR within 60 s: is the control plane running?`);
    await new Promise((r) => setTimeout(r, 200));
    node = (await store.get<Node>(key))?.object ?? node;
  }
  return node;
}

/** Writes a pod's status, only onto the same pod (uid) and never resurrecting a deleted one. */
async function writePodStatus(store: ObjectStore, pod: Pod, status: Pod['status']): Promise<void> {
  await store.mutate<Pod>(objectKey('pods', pod.metadata.namespace, pod.metadata.name), (cur) => {
    if (cur.metadata.uid !== pod.metadata.uid) return null;
    const scheduled = cur.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const conditions = [...(scheduled ? [scheduled] : []), ...(status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled')];
    cur.status = { ...status, conditions };
    return cur;
  }).catch((err) => { if (!isNotFound(err)) throw err; });
}

/** The last step of a graceful deletion: the pod's containers are gone, so the object goes. */
async function finalizeDeletion(store: ObjectStore, pod: Pod): Promise<void> {
  const key = objectKey('pods', pod.metadata.namespace, pod.metadata.name);
  const cur = await store.get<Pod>(key);
  if (cur && cur.object.metadata.uid === pod.metadata.uid) {
    await store.delete(key, cur.revision).catch((err) => { if (!isNotFound(err)) throw err; });
  }
}

/**
 * Stops and removes every sandbox and container mk made on this containerd (those labelled with a
 * pod uid), never anything else a shared containerd runs.
 */
async function removeMkPods(cri: ContainerdHandle['cri']): Promise<number> {
  const mine = <T extends { labels?: Record<string, string> | null }>(xs: T[] | null | undefined): T[] =>
    (xs ?? []).filter((x) => !!x.labels?.[LABEL_POD_UID]);
  const containers = mine((await cri.listContainers({})).containers);
  await Promise.all(containers.map((c) => cri.stopContainer({ containerId: c.id, timeout: 5 }).catch(() => undefined)));
  for (const c of containers) await cri.removeContainer({ containerId: c.id }).catch(() => undefined);
  const sandboxes = mine((await cri.listPodSandbox({})).items);
  for (const sb of sandboxes) {
    await cri.stopPodSandbox({ podSandboxId: sb.id }).catch((err) => log.warn({ sandbox: sb.id, err: String(err) }, 'stop sandbox failed'));
    await cri.removePodSandbox({ podSandboxId: sb.id }).catch((err) => log.warn({ sandbox: sb.id, err: String(err) }, 'remove sandbox failed'));
  }
  return containers.length + sandboxes.length;
}

/**
 * Stops containerd whether this agent started it or adopted it from a previous agent of this node
 * (pid file). An adopted pid is signalled only while its command line still names our config, so
 * a stale pid file never hits another process.
 */
async function stopContainerd(ctr: ContainerdHandle, pidFile: string, configPath: string): Promise<void> {
  if (!ctr.external) { await ctr.stop({ timeoutMs: 10_000 }); return; }
  ctr.cri.close();
  const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : 0;
  if (!pid) return;
  const cmdline = (() => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } })();
  if (!cmdline.includes(configPath)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try { process.kill(pid, 0); } catch { return; }
    await new Promise((r) => setTimeout(r, 100));
  }
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}
