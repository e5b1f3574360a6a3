/**
 * The Deployment controller's view of ReplicaSets: an informer on every set, with the
 * controller's own writes applied at once (so reconciles in quick succession never make or scale
 * twice), and the owning deployment of each change asked to reconcile.
 */
import { startInformer, type Informer, type InformerEvent, type ObjectStore, type Stored } from '../../bus';
import { objectKey, parseKey, type ReplicaSet } from '../../messages';
import { controllerOf } from '../replicaset/reconcile';

/** The ReplicaSets of every namespace, keyed by store key. */
export class ReplicaSetIndex {
  private readonly sets = new Map<string, Stored<ReplicaSet> & { ours: boolean }>();
  private informer: Informer | undefined;

  /**
   * `concerns(key)`: the deployment a set's change should reconcile; `orphanConcerns(rs)`: the
   * deployments that might adopt a set without a controller.
   */
  constructor(
    private readonly store: ObjectStore,
    private readonly concerns: (deploymentKey: string) => void,
    private readonly orphanConcerns: (rs: ReplicaSet) => void = () => undefined,
  ) {}

  /** Lists every set and follows their changes; resolves once the listing is in. */
  async start(): Promise<void> {
    await this.stop();
    this.sets.clear();
    this.informer = await startInformer<ReplicaSet>(this.store, 'replicasets.>', (ev) => this.onEvent(ev));
  }

  async stop(): Promise<void> {
    const i = this.informer;
    this.informer = undefined;
    await i?.stop();
  }

  /** The sets of `namespace` whose controller is the object with `uid`. */
  owned(namespace: string, uid: string | undefined): Stored<ReplicaSet>[] {
    const out: Stored<ReplicaSet>[] = [];
    for (const s of this.sets.values()) {
      if ((s.object.metadata.namespace ?? 'default') === namespace && controllerOf(s.object)?.uid === uid) out.push(s);
    }
    return out;
  }

  /** The sets of `namespace` without a controller and not being deleted: candidates for adoption. */
  orphans(namespace: string): Stored<ReplicaSet>[] {
    const out: Stored<ReplicaSet>[] = [];
    for (const s of this.sets.values()) {
      const rs = s.object;
      if ((rs.metadata.namespace ?? 'default') === namespace && !controllerOf(rs) && !rs.metadata.deletionTimestamp) out.push(s);
    }
    return out;
  }

  /** Records a set the controller wrote at `revision`. */
  wrote(rs: ReplicaSet, revision: number): void {
    const key = objectKey('replicasets', rs.metadata.namespace ?? 'default', rs.metadata.name);
    this.sets.set(key, { key, object: rs, revision, ours: true });
  }

  /** Records a set the controller deleted. */
  deleted(rs: ReplicaSet): void {
    this.sets.delete(objectKey('replicasets', rs.metadata.namespace ?? 'default', rs.metadata.name));
  }

  private onEvent(ev: InformerEvent<ReplicaSet>): void {
    const before = this.sets.get(ev.key);
    if (ev.type === 'DELETE' || !ev.object) {
      this.sets.delete(ev.key);
    } else {
      // Older than the controller's own write: stale, the write's own event follows.
      if (before?.ours && ev.revision < before.revision && before.object.metadata.uid === ev.object.metadata.uid) return;
      this.sets.set(ev.key, { key: ev.key, object: ev.object, revision: ev.revision, ours: false });
    }
    const ns = parseKey(ev.key).namespace ?? 'default';
    for (const rs of [before?.object, ev.object ?? undefined]) {
      const ref = rs && controllerOf(rs);
      if (ref?.kind === 'Deployment') this.concerns(objectKey('deployments', ns, ref.name));
      else if (rs && !ref && rs === ev.object) this.orphanConcerns(rs);
    }
  }
}
