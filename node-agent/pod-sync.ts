/**
 * Feeds the pod actors of this node: lists and watches the pods bound here, spawns one actor per
 * pod, forwards every change, and cleans up what the runtime holds for pods that no longer exist
 * (an agent that was down while a pod was force-deleted).
 */
import { dispatch, stop, type Ref } from 'nact';
import type { ObjectStore } from '../bus';
import { keyFilter, timestamp, type Pod } from '../messages';
import { log } from './log';
import type { CriClient } from './cri';
import { LABEL_POD_UID, spawnPodActor, type PodActorDeps, type PodActorMessage } from './pods';

export interface PodSync {
  /** The actor of a pod by uid (for logs/exec lookups). */
  actors: Map<string, { ref: Ref<PodActorMessage>; pod: Pod }>;
  stop(): Promise<void>;
}

/** Starts syncing the pods bound to `nodeName`. */
export async function startPodSync(parent: Ref<unknown>, store: ObjectStore, cri: CriClient, nodeName: string, deps: PodActorDeps): Promise<PodSync> {
  const actors = new Map<string, { ref: Ref<PodActorMessage>; pod: Pod }>();
  const keyToUid = new Map<string, string>();

  const onPod = (key: string, pod: Pod | null) => {
    const prevUid = keyToUid.get(key);
    if (prevUid && (!pod || pod.metadata.uid !== prevUid || pod.spec.nodeName !== nodeName)) {
      // Gone from the store, or replaced by another pod of the same name: the old one must go.
      const a = actors.get(prevUid);
      if (a) dispatch(a.ref, { type: 'pod/sync', pod: null });
      keyToUid.delete(key);
    }
    if (!pod || pod.spec.nodeName !== nodeName || !pod.metadata.uid) return;
    const uid = pod.metadata.uid;
    keyToUid.set(key, uid);
    const cur = actors.get(uid);
    if (cur) {
      cur.pod = pod;
      dispatch(cur.ref, { type: 'pod/sync', pod });
      return;
    }
    try {
      actors.set(uid, { ref: spawnActor(pod), pod });
    } catch (err) {
      // The actor of an earlier pod of the same name is still tearing it down: try again shortly.
      log.debug({ key, err: String(err) }, 'pod actor name busy; retrying');
      setTimeout(() => { if (!stopped && keyToUid.get(key) === uid) onPod(key, pod); }, 500);
    }
  };
  let stopped = false;

  const spawnActor = (pod: Pod): Ref<PodActorMessage> => spawnPodActor(parent, {
    ...deps,
    onTerminated: async (p) => {
      await deps.onTerminated(p);
      const a = actors.get(p.metadata.uid!);
      if (a) { stop(a.ref); actors.delete(p.metadata.uid!); }
    },
  }, pod);

  const { items, revision } = await store.list<Pod>(keyFilter('pods'));
  for (const i of items) onPod(i.key, i.object);
  await cleanOrphans(cri, new Set(items.filter((i) => i.object.spec.nodeName === nodeName).map((i) => i.object.metadata.uid!)), (pod) => {
    actors.set(pod.metadata.uid!, { ref: spawnActor(pod), pod });
  });
  const watch = await store.watch<Pod>(keyFilter('pods'), { fromRevision: revision + 1 }, (ev) => onPod(ev.key, ev.object));
  return {
    actors,
    async stop() {
      stopped = true;
      await watch.stop();
      for (const a of actors.values()) dispatch(a.ref, { type: 'pod/stop' });
    },
  };
}

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
