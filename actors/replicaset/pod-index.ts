/**
 * The ReplicaSet controller's view of pods: an informer on every pod, kept per namespace, with the
 * controller's own writes applied at once (a pod it made counts before its event arrives, a pod it
 * deleted stops counting), so that reconciles in quick succession never make or delete twice.
 * It also says which sets a pod's change concerns: its controller (before and after the change)
 * or, for a pod without one, every set whose selector takes it.
 */
import { startInformer, type Informer, type InformerEvent, type ObjectStore } from '../../bus';
import { objectKey, parseKey, selectorMatches, type Pod, type ReplicaSet } from '../../messages';
import { controllerOf } from './reconcile';

interface Entry { pod: Pod; revision: number; ours: boolean }

/** The pods of every namespace as the ReplicaSet controller sees them (see above). */
export class PodIndex {
  private readonly byNamespace = new Map<string, Map<string, Entry>>();
  /** Pods this controller deleted (key -> uid) whose deletion the informer has not shown yet. */
  private readonly gone = new Map<string, string>();
  private informer: Informer | undefined;

  /**
   * `concerns(keys)`: the sets a change should reconcile. `owner` is the kind of controller whose
   * pods these are (a DaemonSet's controller keeps an index of its own).
   */
  constructor(
    private readonly store: ObjectStore,
    private readonly sets: () => Iterable<Pick<ReplicaSet, 'metadata'> & { spec: Pick<ReplicaSet['spec'], 'selector'> }>,
    private readonly concerns: (rsKeys: string[]) => void,
    private readonly owner: { kind: string; plural: string } = { kind: 'ReplicaSet', plural: 'replicasets' },
  ) {}

  /** Lists every pod and follows their changes; resolves once the listing is in. Stops any earlier informer. */
  async start(): Promise<void> {
    await this.stop();
    this.byNamespace.clear();
    this.gone.clear();
    this.informer = await startInformer<Pod>(this.store, 'pods.>', (ev) => this.onEvent(ev));
  }

  async stop(): Promise<void> {
    const i = this.informer;
    this.informer = undefined;
    await i?.stop();
  }

  /** The pods of `namespace` as far as the controller knows, without those it deleted. */
  pods(namespace: string): Pod[] {
    const out: Pod[] = [];
    for (const [key, e] of this.byNamespace.get(namespace) ?? []) if (this.gone.get(key) !== e.pod.metadata.uid) out.push(e.pod);
    return out;
  }

  /** Records a pod the controller wrote (created, adopted, released) at `revision`. */
  wrote(pod: Pod, revision: number): void {
    const ns = pod.metadata.namespace ?? 'default';
    this.namespace(ns).set(objectKey('pods', ns, pod.metadata.name), { pod, revision, ours: true });
  }

  /** Records a pod the controller deleted (or marked for deletion). */
  deleted(pod: Pod): void {
    this.gone.set(objectKey('pods', pod.metadata.namespace ?? 'default', pod.metadata.name), pod.metadata.uid ?? '');
  }

  private namespace(ns: string): Map<string, Entry> {
    let m = this.byNamespace.get(ns);
    if (!m) this.byNamespace.set(ns, (m = new Map()));
    return m;
  }

  private onEvent(ev: InformerEvent<Pod>): void {
    const ns = parseKey(ev.key).namespace ?? 'default';
    const m = this.namespace(ns);
    const before = m.get(ev.key);
    if (ev.type === 'DELETE' || !ev.object) {
      m.delete(ev.key);
      this.gone.delete(ev.key);
    } else {
      // A change older than the controller's own write of the key is stale: the write's own event follows.
      if (before?.ours && ev.revision < before.revision && before.pod.metadata.uid === ev.object.metadata.uid) return;
      const tomb = this.gone.get(ev.key);
      if (tomb !== undefined && (tomb !== ev.object.metadata.uid || ev.object.metadata.deletionTimestamp)) this.gone.delete(ev.key);
      m.set(ev.key, { pod: ev.object, revision: ev.revision, ours: false });
    }
    this.concerns([...new Set([...this.ownersOf(before?.pod), ...this.ownersOf(ev.object ?? undefined)])]);
  }

  /** The sets a pod's state concerns: its controller, or the sets that would adopt it. */
  private ownersOf(pod: Pod | undefined): string[] {
    if (!pod) return [];
    const ns = pod.metadata.namespace ?? 'default';
    const ref = controllerOf(pod);
    if (ref) return ref.kind === this.owner.kind && ref.apiVersion.startsWith('apps/') ? [objectKey(this.owner.plural, ns, ref.name)] : [];
    const out: string[] = [];
    for (const rs of this.sets()) {
      if ((rs.metadata.namespace ?? 'default') === ns && selectorMatches(rs.spec.selector, pod.metadata.labels)) {
        out.push(objectKey(this.owner.plural, ns, rs.metadata.name));
      }
    }
    return out;
  }
}
