/**
 * Hollow nodes for the scheduling benchmark, after Kubernetes' kubemark: node agents without a
 * container runtime, so a thousand of them fit in a few processes while the control plane sees
 * what a thousand real ones would send it. A hollow node is a lightweight loop, not the node
 * agent's actor tree: it uses the real node api client (node-agent/node/control-plane.ts) to
 * register and to post heartbeats every 10 s, watches its own view of pods (`mk-node-pods`,
 * `<node>.>`) with the same informer the node agent uses, and hands every new pod to a fake
 * runtime that reports it Running at once through `pod-status` (and a pod marked for deletion
 * gone through `pod-terminated`). No CRI, no network, no pod CIDR: a hollow node is Ready as soon
 * as it has registered. This is the only fake runtime in the project; nothing else may use it.
 */
import { connectBus, ObjectStore, startInformer, type Bus, type Informer } from '../../bus';
import {
  encodeToken, isNotFound, NODE_PODS_BUCKET, timestamp,
  type NodeHeartbeatRequest, type NodeStatus, type Pod, type PodStatus,
} from '../../messages';
import { ControlPlaneClient } from '../../node-agent/node/control-plane';

/** The Ready condition every hollow node posts. */
const READY: NodeHeartbeatRequest['ready'] = { status: 'True', reason: 'NodeReady', message: 'hollow node: no container runtime behind it' };

/** The name of hollow node `index`. */
export const hollowNodeName = (index: number): string => `hollow-${index}`;

/** A fake address of the hollow node `index` (never used for traffic). */
function hollowIp(index: number): string {
  return `10.255.${(index >> 8) & 255}.${index & 255}`;
}

/**
 * What hollow node `index` registers: a modest machine (4 CPUs, 16 GiB) that takes 110 pods, as a
 * kubelet allows by default, so the scheduler's filters and scores have real numbers to work on.
 */
export function hollowNodeStatus(index: number): NodeStatus {
  const res = { cpu: '4', memory: '16Gi', pods: '110' };
  return {
    capacity: res, allocatable: res,
    addresses: [{ type: 'InternalIP', address: hollowIp(index) }, { type: 'Hostname', address: hollowNodeName(index) }],
    nodeInfo: { kernelVersion: 'hollow', osImage: 'hollow', architecture: 'amd64', containerRuntimeVersion: 'hollow://0', kubeletVersion: 'mk-hollow' },
  };
}

/**
 * The fake runtime's answer for `pod`: Running at once, every container started and ready, the
 * `serial`-th pod address of node `index` (fake, never used for traffic).
 */
export function hollowRunningStatus(pod: Pod, index: number, serial: number, now: string): PodStatus {
  const ready = (type: 'Initialized' | 'ContainersReady' | 'Ready') => ({ type, status: 'True' as const, lastTransitionTime: now });
  const podIP = `10.254.${index & 255}.${(serial % 254) + 1}`;
  return {
    phase: 'Running', hostIP: hollowIp(index), podIP, podIPs: [{ ip: podIP }], startTime: now,
    conditions: [ready('Initialized'), ready('ContainersReady'), ready('Ready')],
    containerStatuses: pod.spec.containers.map((c) => ({
      name: c.name, image: c.image, imageID: '', containerID: `hollow://${pod.metadata.uid}/${c.name}`,
      ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } }, lastState: {},
    })),
  };
}

/** One hollow node: registered, beating, reporting its pods Running. */
export class HollowNode {
  private readonly cp: ControlPlaneClient;
  private informer?: Informer;
  private timer?: NodeJS.Timeout;
  /** Pods (uid) reported Running or gone, so each is reported once. */
  private readonly reported = new Set<string>();
  private serial = 0;
  /** Requests the control plane refused or timed out (other than NotFound: a pod deleted meanwhile). */
  errors = 0;

  constructor(bus: Bus, private readonly views: ObjectStore, readonly index: number, private readonly heartbeatMs = 10_000) {
    this.cp = new ControlPlaneClient(bus, hollowNodeName(index));
  }

  /** Registers, posts Ready, starts watching its pods and beating. Throws what the node api throws. */
  async start(): Promise<void> {
    await this.cp.register({ status: hollowNodeStatus(this.index), labels: { 'kubernetes.io/hostname': hollowNodeName(this.index), 'mk.hollow': 'true' } });
    await this.cp.heartbeat(READY);
    this.informer = await startInformer<Pod>(this.views, `${encodeToken(hollowNodeName(this.index))}.>`, (ev) => { this.onPod(ev.object); });
    // Spread over the period, as real agents started at different moments are.
    const first = Math.floor(Math.random() * this.heartbeatMs);
    this.timer = setTimeout(() => { this.beat(); }, first);
  }

  private beat(): void {
    this.cp.heartbeat(READY).catch(() => { this.errors++; }).finally(() => {
      if (this.informer) this.timer = setTimeout(() => { this.beat(); }, this.heartbeatMs);
    });
  }

  /** The fake runtime: Running at once; a pod marked for deletion is gone at once. Never blocks the informer. */
  private onPod(pod: Pod | null): void {
    const uid = pod?.metadata.uid;
    if (!pod || !uid) return;
    const gone = !!pod.metadata.deletionTimestamp;
    const key = gone ? `gone/${uid}` : uid;
    if (this.reported.has(key) || (!gone && pod.status?.phase === 'Running')) return;
    this.reported.add(key);
    const sent = gone ? this.cp.podTerminated(pod) : this.cp.podStatus(pod, hollowRunningStatus(pod, this.index, this.serial++, timestamp()));
    sent.catch((err: unknown) => {
      if (isNotFound(err)) return;
      this.reported.delete(key);
      this.errors++;
    });
  }

  /** Stops beating and watching; the Node stays (it goes NotReady once its heartbeats are missed). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    const inf = this.informer;
    this.informer = undefined;
    await inf?.stop();
  }
}

/** Options of runHollowNodes. */
export interface HollowNodesOptions {
  servers: string[];
  user: string;
  pass: string;
  /** Index of the first node; nodes `first` .. `first + count - 1` run here. */
  first: number;
  count: number;
  heartbeatMs?: number;
}

/**
 * Runs `count` hollow nodes on one connection until SIGTERM or SIGINT. Prints `ready <count>` on
 * stdout once every one has registered and watches its pods; on a signal, prints `errors <n>`
 * and exits. Throws when a node cannot register.
 */
export async function runHollowNodes(opts: HollowNodesOptions): Promise<void> {
  const bus = await connectBus({ servers: opts.servers, user: opts.user, pass: opts.pass, name: `mk-hollow-${opts.first}` });
  const views = await ObjectStore.open(bus, { bucket: NODE_PODS_BUCKET, create: false });
  const nodes = Array.from({ length: opts.count }, (_, i) => new HollowNode(bus, views, opts.first + i, opts.heartbeatMs));
  // A few at a time: a thousand registrations at once would only queue at the control plane.
  for (let i = 0; i < nodes.length; i += 20) await Promise.all(nodes.slice(i, i + 20).map((n) => n.start()));
  console.log(`ready ${nodes.length}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await Promise.all(nodes.map((n) => n.stop()));
  console.log(`errors ${nodes.reduce((a, n) => a + n.errors, 0)}`);
  await bus.close();
}
