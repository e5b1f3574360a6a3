/**
 * The per-node views of pods: for every pod bound to a node, a copy under `<node>.<ns>.<name>` in
 * the NODE_PODS_BUCKET, so each node agent reads (and may read) only its own pods, and a thousand
 * nodes do not all receive every pod. The pod actors keep the views as part of reconciling; the
 * views are derived data with one writer (this control plane), so they are written with put.
 */
import { createHash } from 'node:crypto';
import { ObjectStore, type Bus } from '../../bus';
import { encodeToken, isNotFound, keyFilter, NODE_PODS_BUCKET, parseKey, PodKind, type Pod } from '../../messages';
import { log } from '../log';
import { NODE_NOT_READY_REASON } from '../node/pod-readiness';

/** The view key of pod `namespace/name` on `node`. */
export function viewKey(node: string, namespace: string, name: string): string {
  return `${encodeToken(node)}.${encodeToken(namespace)}.${encodeToken(name)}`;
}

/**
 * What a node's view of `pod` holds: metadata and spec, not status. The node keeps the status it
 * reported itself, so a status write makes no view write (and no delivery, and no observation on
 * the node). The one exception is a status the node did not write: while the node lifecycle's
 * NodeNotReady mark is on the Ready condition the view carries the stored status, so the node
 * sees it and writes its true status again; that write takes the status out of the view once more.
 */
export function viewOf(pod: Pod): Pod {
  const { status, ...rest } = pod;
  const marked = status?.conditions?.some((c) => c.type === 'Ready' && c.reason === NODE_NOT_READY_REASON);
  return { ...rest, ...(marked ? { status } : {}) } as Pod;
}

/** The digest of a view: what the node sees, the revision it was copied at left out. */
export const viewDigest = (view: Pod): string => createHash('sha1')
  .update(JSON.stringify({ ...view, metadata: { ...view.metadata, resourceVersion: undefined } })).digest('base64');

/** The views of one control plane. */
export class NodePodViews {
  /** pod key -> where its view is, what it holds, and the pod's revision it was made from. */
  private readonly known = new Map<string, { view: string; digest: string; revision?: number }>();

  private constructor(readonly views: ObjectStore, private readonly objects: ObjectStore) {}

  /**
   * Opens (making it when missing) the views bucket of the pods in `objects`. Throws
   * UnavailableError when the bus is down.
   */
  static async open(bus: Bus, objects: ObjectStore): Promise<NodePodViews> {
    return new NodePodViews(await ObjectStore.open(bus, {
      bucket: NODE_PODS_BUCKET, history: 1, description: 'mk: the pods bound to each node, <node>.<namespace>.<name> -> Pod',
      // Written by the leader only: fenced like the objects.
      fence: objects.fence,
    }), objects);
  }

  /**
   * Learns what the bucket holds and removes the views of pods that are gone or bound elsewhere
   * (left by an earlier control plane, or by deletions missed while the bus was away). Call
   * before reconciling, and whenever what this process remembers may be stale.
   */
  async start(): Promise<void> {
    const [views, pods] = await Promise.all([this.views.list<Pod>('>'), this.objects.list<Pod>(keyFilter(PodKind.plural))]);
    this.known.clear();
    const wanted = new Map(pods.items.filter((p) => p.object.spec.nodeName)
      .map((p) => [viewKey(p.object.spec.nodeName!, p.object.metadata.namespace ?? 'default', p.object.metadata.name), p.key]));
    const revisions = new Map(pods.items.map((p) => [p.key, p.revision]));
    let removed = 0;
    for (const v of views.items) {
      const podKey = wanted.get(v.key);
      if (podKey) this.known.set(podKey, { view: v.key, digest: viewDigest(v.object), revision: revisions.get(podKey) });
      else { await this.remove(v.key); removed++; }
    }
    if (removed > 0) log.info({ removed }, 'removed views of pods that are gone');
  }

  /**
   * After a reconnect: makes the bucket again if the server lost its store, then learns again what
   * it holds (a lost bucket holds nothing, so every view is written again on the next reconcile).
   */
  async ensure(): Promise<void> {
    await this.views.ensure();
    await this.start();
  }

  /**
   * Brings the view of the pod at `podKey` in line with `pod` (null: gone): written when bound and
   * changed, removed when gone or moved. With `revision` (the pod's, in the object store), a pod
   * older than the one the view was made from is ignored, so a copy that lags behind a binding
   * never takes a view away. Throws UnavailableError when the bus is down.
   */
  async sync(podKey: string, pod: Pod | null, revision?: number): Promise<void> {
    const prev = this.known.get(podKey);
    if (pod && revision !== undefined && prev?.revision !== undefined && revision < prev.revision) return;
    const node = pod?.spec.nodeName;
    const { namespace = 'default', name } = parseKey(podKey);
    const view = node ? viewKey(node, namespace, name) : undefined;
    if (prev && prev.view !== view) {
      await this.remove(prev.view);
      this.known.delete(podKey);
    }
    if (!pod || !view) return;
    const content = viewOf(pod);
    const d = viewDigest(content);
    if (prev?.view === view && prev.digest === d) {
      if (revision !== undefined) prev.revision = Math.max(prev.revision ?? 0, revision);
      return;
    }
    await this.views.put(view, content);
    this.known.set(podKey, { view, digest: d, revision });
  }

  /**
   * Removes the views of pods the pods informer does not hold (`present` asks it at the moment):
   * a pod deleted after start() listed the pods but before the informer did is never delivered
   * as deleted, so nothing else would remove its view, and its node would run it on.
   */
  async sweep(present: (podKey: string) => boolean): Promise<void> {
    let gone = 0;
    for (const podKey of [...this.known.keys()]) {
      // Asked again just before: a pod made again under the same name meanwhile keeps its view.
      if (present(podKey)) continue;
      await this.sync(podKey, null);
      gone++;
    }
    if (gone > 0) log.info({ removed: gone }, 'removed views of pods deleted while unwatched');
  }

  private async remove(view: string): Promise<void> {
    await this.views.delete(view).catch((err) => { if (!isNotFound(err)) throw err; });
  }
}
