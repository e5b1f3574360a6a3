/**
 * The scheduler's view of the cluster: informers on nodes and pods, so a decision reads memory
 * instead of listing the store, plus the bindings the scheduler itself wrote that the pod informer
 * has not delivered yet (kube-scheduler's "assumed" pods), so two quick decisions never give the
 * same room twice.
 */
import { startInformer, type Informer, type ObjectStore } from '../../bus';
import { keyFilter, NodeKind, PodKind, type Node, type Pod } from '../../messages';

/** The nodes and pods a decision sees. */
export class SchedulerCache {
  private readonly nodes = new Map<string, Node>();
  private readonly pods = new Map<string, Pod>();
  /** Pod key -> the pod as this scheduler bound it, until the informer shows the binding. */
  private readonly assumed = new Map<string, Pod>();
  private informers: Informer[] = [];

  /** Starts (or restarts) the informers; resolves once both have listed. Throws UnavailableError when the bus is down. */
  async start(store: ObjectStore): Promise<void> {
    await this.stop();
    this.nodes.clear();
    this.pods.clear();
    this.assumed.clear();
    this.informers = await Promise.all([
      startInformer<Node>(store, keyFilter(NodeKind.plural), (ev) => this.nodeChanged(ev.key, ev.object)),
      startInformer<Pod>(store, keyFilter(PodKind.plural), (ev) => this.podChanged(ev.key, ev.object)),
    ]);
  }

  /** A node as the informer reports it (null: deleted). */
  nodeChanged(key: string, node: Node | null): void {
    if (node) this.nodes.set(key, node); else this.nodes.delete(key);
  }

  /** A pod as the informer reports it (null: deleted); a bound or deleted pod is no longer assumed. */
  podChanged(key: string, pod: Pod | null): void {
    if (pod) this.pods.set(key, pod); else this.pods.delete(key);
    if (!pod || pod.spec.nodeName) this.assumed.delete(key);
  }

  /** Stops the informers. */
  async stop(): Promise<void> {
    const running = this.informers;
    this.informers = [];
    await Promise.all(running.map((i) => i.stop()));
  }

  /** Remembers a binding this scheduler wrote, until the informer delivers it. */
  assume(key: string, bound: Pod): void {
    this.assumed.set(key, bound);
  }

  /** Every node. */
  allNodes(): Node[] {
    return [...this.nodes.values()];
  }

  /** Every pod, with the bindings this scheduler made and has not seen come back yet. */
  allPods(): Pod[] {
    const out = new Map(this.pods);
    for (const [key, pod] of this.assumed) out.set(key, pod);
    return [...out.values()];
  }
}
