/**
 * The scheduler's view of the cluster: informers on nodes and pods, so a decision reads memory
 * instead of listing the store, kept as per-node aggregates (what the bound pods request, the host
 * ports they hold, the pods themselves) updated as each pod changes, so a decision costs the
 * number of nodes, not the number of pods. It also holds the bindings the scheduler itself wrote
 * that the pod informer has not delivered yet (kube-scheduler's "assumed" pods), so two quick
 * decisions never give the same room twice, and it tells the scheduler which changes could make a
 * waiting pod fit (kube-scheduler's cluster events).
 */
import { startInformer, type Informer, type ObjectStore, type Stored } from '../../bus';
import {
  keyFilter, NodeKind, objectKey, PersistentVolumeClaimKind, PersistentVolumeKind, PodKind, podClaimNames, StorageClassKind,
  type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass,
} from '../../messages';
import type { ClusterView } from './plugins/inter-pod-affinity';
import type { VolumeView } from './plugins/volume-binding';
import { holdsResources, nodeAllocatable, podInfo } from './plugins/pod-info';
import type { NodeInfo, PodInfo, ResourceVector } from './plugins/types';

/**
 * A change that may let a waiting pod fit: a node added or changed in what scheduling reads, a
 * bound pod gone or finished (its room is free), a pod bound (pod affinity may now hold), or a
 * pod deleted or seen bound (it waits no more), a claim, volume or class changed.
 */
export type ClusterEvent =
  | { type: 'NodeAdd' | 'NodeUpdate'; node: string }
  | { type: 'PodFreed' | 'PodPlaced'; key: string; node: string }
  | { type: 'PodGone'; key: string }
  | { type: 'StorageChange'; key: string };

/** The nodes and pods decisions see. */
export class SchedulerCache implements ClusterView, VolumeView {
  private readonly nodeNames = new Map<string, string>();
  private readonly infos = new Map<string, NodeInfo>();
  /** Node name -> pods counted on a node that is not (or not yet) registered. */
  private readonly orphans = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, Pod>();
  /** Pod key -> the revision of the copy in `pods`, when the informer told it. */
  private readonly revisions = new Map<string, number>();
  private readonly assumed = new Map<string, Pod>();
  /** Pod key -> the contribution now counted on a node. */
  private readonly placed = new Map<string, PodInfo & { node: string }>();
  private readonly affinityPods = new Map<string, PodInfo>();
  private nodeList: NodeInfo[] | undefined;
  private affinityList: PodInfo[] | undefined;
  private informers: Informer[] = [];
  /** Claims, volumes and classes by store key. */
  private readonly claims = new Map<string, PersistentVolumeClaim>();
  private readonly pvs = new Map<string, PersistentVolume>();
  private pvList: PersistentVolume[] | undefined;
  private readonly classes = new Map<string, StorageClass>();
  /** Claim key -> the placed pods that use it (ReadWriteOncePod). */
  private readonly users = new Map<string, Set<string>>();

  /** `onEvent` hears every ClusterEvent (the scheduler's queue). */
  constructor(private readonly onEvent: (ev: ClusterEvent) => void = () => {}) {}

  /** Starts (or restarts) the informers; resolves once both have listed. Throws UnavailableError when the bus is down. */
  async start(store: ObjectStore): Promise<void> {
    await this.stop();
    for (const m of [
      this.nodeNames, this.infos, this.orphans, this.pods, this.revisions, this.assumed, this.placed, this.affinityPods,
      this.claims, this.pvs, this.classes, this.users,
    ]) m.clear();
    this.nodeList = undefined;
    this.affinityList = undefined;
    this.pvList = undefined;
    const storage = <T>(m: Map<string, T>, after?: () => void) => (ev: { key: string; object: T | null }) => {
      if (ev.object) m.set(ev.key, ev.object); else m.delete(ev.key);
      after?.();
      this.onEvent({ type: 'StorageChange', key: ev.key });
    };
    // Storage first: a pod the pod informer lists is decided with its claims known.
    this.informers = await Promise.all([
      startInformer<PersistentVolumeClaim>(store, keyFilter(PersistentVolumeClaimKind.plural), storage(this.claims)),
      startInformer<PersistentVolume>(store, keyFilter(PersistentVolumeKind.plural), storage(this.pvs, () => { this.pvList = undefined; })),
      startInformer<StorageClass>(store, keyFilter(StorageClassKind.plural), storage(this.classes)),
    ]);
    this.informers.push(...await Promise.all([
      startInformer<Node>(store, keyFilter(NodeKind.plural), (ev) => this.nodeChanged(ev.key, ev.object)),
      startInformer<Pod>(store, keyFilter(PodKind.plural), (ev) => this.podChanged(ev.key, ev.object, ev.revision)),
    ]));
  }

  /** Stops the informers. */
  async stop(): Promise<void> {
    const running = this.informers;
    this.informers = [];
    await Promise.all(running.map((i) => i.stop()));
  }

  /** The schedulable candidates: every registered node with its aggregates. */
  get nodes(): readonly NodeInfo[] {
    return (this.nodeList ??= [...this.infos.values()]);
  }

  get byName(): ReadonlyMap<string, NodeInfo> {
    return this.infos;
  }

  /** Bound pods, still holding their node, that carry affinity or anti-affinity terms. */
  get withAffinity(): readonly PodInfo[] {
    return (this.affinityList ??= [...this.affinityPods.values()]);
  }

  claim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.claims.get(objectKey(PersistentVolumeClaimKind.plural, namespace, name));
  }

  volume(name: string): PersistentVolume | undefined {
    return this.pvs.get(objectKey(PersistentVolumeKind.plural, undefined, name));
  }

  volumes(): readonly PersistentVolume[] {
    return (this.pvList ??= [...this.pvs.values()]);
  }

  storageClass(name: string): StorageClass | undefined {
    return name ? this.classes.get(objectKey(StorageClassKind.plural, undefined, name)) : undefined;
  }

  claimUsers(namespace: string, name: string): ReadonlySet<string> {
    return this.users.get(objectKey(PersistentVolumeClaimKind.plural, namespace, name)) ?? EMPTY;
  }

  /** The storage reads of decisions: this cache. */
  get storage(): VolumeView {
    return this;
  }

  /** A claim, volume or class as the caller knows it now (the bind step's own writes, tests), ahead of its informer. */
  storageChanged(key: string, object: PersistentVolumeClaim | PersistentVolume | StorageClass): void {
    if (object.kind === 'PersistentVolume') { this.pvs.set(key, object); this.pvList = undefined; } else if (object.kind === 'StorageClass') this.classes.set(key, object);
    else this.claims.set(key, object);
  }

  /** A pod as the informer last reported it (not the assumed binding). */
  pod(key: string): Pod | undefined {
    return this.pods.get(key);
  }

  /** A node as the informer reports it (null: deleted). */
  nodeChanged(key: string, node: Node | null): void {
    const oldName = this.nodeNames.get(key);
    if (!node) {
      if (oldName === undefined) return;
      this.nodeNames.delete(key);
      const info = this.infos.get(oldName);
      this.infos.delete(oldName);
      this.nodeList = undefined;
      // Its pods stay counted, should the node come back.
      if (info && info.pods.size) this.orphans.set(oldName, info);
      return;
    }
    const name = node.metadata.name;
    const prev = this.infos.get(name);
    if (prev) {
      const changed = schedulingChanged(prev.node, node);
      prev.node = node;
      if (changed) {
        prev.allocatable = nodeAllocatable(node);
        this.onEvent({ type: 'NodeUpdate', node: name });
      }
      return;
    }
    this.nodeNames.set(key, name);
    const info = this.orphans.get(name) ?? emptyInfo(name, node);
    this.orphans.delete(name);
    info.node = node;
    info.allocatable = nodeAllocatable(node);
    this.infos.set(name, info);
    this.nodeList = undefined;
    this.onEvent({ type: 'NodeAdd', node: name });
  }

  /**
   * The pod as the informer last reported it, with its revision, for a write checked against that
   * revision; undefined when the cache has no copy or does not know its revision.
   */
  stored(key: string): Stored<Pod> | undefined {
    const pod = this.pods.get(key);
    const revision = this.revisions.get(key);
    return pod && revision !== undefined ? { key, object: pod, revision } : undefined;
  }

  /**
   * A pod as the informer reports it (null: deleted), with its revision when known; a bound or
   * deleted pod is no longer assumed.
   */
  podChanged(key: string, pod: Pod | null, revision?: number): void {
    if (pod) this.pods.set(key, pod); else this.pods.delete(key);
    if (pod && revision !== undefined) this.revisions.set(key, revision); else this.revisions.delete(key);
    if (!pod || pod.spec.nodeName) this.assumed.delete(key);
    this.account(key);
    if (!pod || pod.spec.nodeName) this.onEvent({ type: 'PodGone', key });
  }

  /** Counts a binding this scheduler is writing, until the informer delivers it. */
  assume(key: string, bound: Pod): void {
    this.assumed.set(key, bound);
    this.account(key);
  }

  /** Forgets an assumed binding (its write failed): its room is free again. */
  forget(key: string): void {
    if (!this.assumed.delete(key)) return;
    this.account(key);
  }

  /** Moves the pod's contribution to where its current (assumed or reported) object says. */
  private account(key: string): void {
    const pod = this.assumed.get(key) ?? this.pods.get(key);
    const node = pod?.spec.nodeName && holdsResources(pod) ? pod.spec.nodeName : undefined;
    const old = this.placed.get(key);
    if (old && pod && node === old.node && pod.metadata.uid === old.pod.metadata.uid) {
      old.pod = pod; // the same pod on the same node (a status change): what it takes is unchanged
      return;
    }
    if (old) {
      this.remove(old);
      this.placed.delete(key);
    }
    if (pod && node) {
      const info = { ...podInfo(key, pod), node };
      this.add(info);
      this.placed.set(key, info);
    }
    if (old && (!node || node !== old.node)) this.onEvent({ type: 'PodFreed', key, node: old.node });
    if (node && (!old || node !== old.node)) this.onEvent({ type: 'PodPlaced', key, node });
  }

  private infoFor(name: string): NodeInfo {
    let info = this.infos.get(name) ?? this.orphans.get(name);
    if (!info) this.orphans.set(name, (info = emptyInfo(name)));
    return info;
  }

  private add(p: PodInfo & { node: string }): void {
    const info = this.infoFor(p.node);
    addInto(info.requested, p.requests, 1);
    info.requested.pods = (info.requested.pods ?? 0) + 1;
    info.nonZeroRequested.cpu += p.nonZero.cpu;
    info.nonZeroRequested.memory += p.nonZero.memory;
    if (p.ports.length) info.ports = [...info.ports, ...p.ports];
    info.pods.set(p.key, p);
    for (const c of this.claimKeys(p)) this.users.set(c, (this.users.get(c) ?? new Set()).add(p.key));
    if (p.hasAffinity) { this.affinityPods.set(p.key, p); this.affinityList = undefined; }
  }

  private remove(p: PodInfo & { node: string }): void {
    const info = this.infoFor(p.node);
    addInto(info.requested, p.requests, -1);
    info.requested.pods = (info.requested.pods ?? 0) - 1;
    info.nonZeroRequested.cpu -= p.nonZero.cpu;
    info.nonZeroRequested.memory -= p.nonZero.memory;
    if (p.ports.length) {
      const ports = [...info.ports];
      for (const port of p.ports) {
        const i = ports.findIndex((q) => q.port === port.port && q.protocol === port.protocol && q.ip === port.ip);
        if (i >= 0) ports.splice(i, 1);
      }
      info.ports = ports;
    }
    info.pods.delete(p.key);
    for (const c of this.claimKeys(p)) {
      const u = this.users.get(c);
      u?.delete(p.key);
      if (u?.size === 0) this.users.delete(c);
    }
    if (this.affinityPods.delete(p.key)) this.affinityList = undefined;
    if (!this.infos.has(p.node) && info.pods.size === 0) this.orphans.delete(p.node);
  }

  private claimKeys(p: PodInfo): string[] {
    const ns = p.pod.metadata.namespace ?? 'default';
    return podClaimNames(p.pod).map((n) => objectKey(PersistentVolumeClaimKind.plural, ns, n));
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function emptyInfo(name: string, node?: Node): NodeInfo {
  return {
    name,
    node: node ?? { apiVersion: 'v1', kind: 'Node', metadata: { name } },
    allocatable: {},
    requested: { pods: 0 },
    nonZeroRequested: { cpu: 0, memory: 0 },
    ports: [],
    pods: new Map(),
  };
}

function addInto(into: ResourceVector, what: ResourceVector, sign: 1 | -1): void {
  for (const [k, v] of Object.entries(what)) into[k] = (into[k] ?? 0) + sign * v;
}

/** True when the change touches what scheduling reads: labels, taints, unschedulable, allocatable, capacity, readiness. */
export function schedulingChanged(a: Node, b: Node): boolean {
  const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return ready(a) !== ready(b)
    || !!a.spec?.unschedulable !== !!b.spec?.unschedulable
    || JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {})
    || JSON.stringify(a.spec?.taints ?? []) !== JSON.stringify(b.spec?.taints ?? [])
    || JSON.stringify(a.status?.allocatable ?? {}) !== JSON.stringify(b.status?.allocatable ?? {})
    || JSON.stringify(a.status?.capacity ?? {}) !== JSON.stringify(b.status?.capacity ?? {});
}
