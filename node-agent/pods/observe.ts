/**
 * Reads what the runtime holds for one pod: its sandboxes and containers (found by the pod-uid
 * label, so a restarted agent finds what an earlier one made) and whether its images are present.
 */
import { isNotFound } from '../../messages/errors';
import { ANNOTATION_CONTAINER_IMAGE, ANNOTATION_RESTART_COUNT, LABEL_CONTAINER_NAME, LABEL_POD_UID } from './cri-spec';
import type { ContainerStatus } from '../cri/types';
import type { ObservedContainer, ObservedImage, ObservedPod, ObservedSandbox, PodRuntime } from './types';

/** Resolves to undefined when the object vanished between list and status (NotFoundError). */
async function unlessGone<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The restart count an instance was created with; its attempt for containers made before it was recorded. */
function restartCountOf(annotation: string | undefined, attempt: number): number {
  const n = Number(annotation);
  return annotation !== undefined && Number.isInteger(n) && n >= 0 ? n : attempt;
}

/**
 * What a pod actor remembers between observations so that each one costs two list calls rather
 * than a status call per object: a ready sandbox's network (an IP never changes), the status of a
 * container in a final state (exited) or unchanged since it was read running, and the images found
 * present (an image a pod uses is not removed under it; a missing one is looked up every time).
 * Entries of objects that no longer exist are dropped. A cache belongs to one pod actor.
 */
export class ObservationCache {
  readonly sandboxNets = new Map<string, { ip?: string; additionalIps?: string[] }>();
  readonly containers = new Map<string, ObservedContainer>();
  readonly presentImages = new Map<string, ObservedImage>();

  /** Forgets everything (an actor reset, or a runtime that may have restarted). */
  clear(): void {
    this.sandboxNets.clear();
    this.containers.clear();
    this.presentImages.clear();
  }
}

/** Objects just made, whose status the observation asks for along with its lists. */
export interface ObservationHints { sandboxes?: string[]; containers?: string[] }

/**
 * One consistent-enough snapshot of the pod in the runtime. The two lists, the image lookups and
 * the status of what `hints` names (just made, so certainly not cached) go out together; other
 * status calls follow only for what `cache` cannot answer. Throws what the CRI client throws
 * (TimeoutError, UnavailableError, ...) except NotFound for objects removed meanwhile.
 */
export async function observePod(
  cri: PodRuntime, uid: string, images: string[], cache: ObservationCache = new ObservationCache(), hints: ObservationHints = {},
): Promise<ObservedPod> {
  const selector = { labelSelector: { [LABEL_POD_UID]: uid } };
  const present: Record<string, ObservedImage> = {};
  const sandboxStatus = new Map((hints.sandboxes ?? []).map((id) => [id, unlessGone(cri.podSandboxStatus({ podSandboxId: id }))]));
  const containerStatus = new Map((hints.containers ?? []).map((id) => [id, unlessGone(cri.containerStatus({ containerId: id }))]));
  // Settled below or not needed (the object vanished): never an unhandled rejection meanwhile.
  for (const p of [...sandboxStatus.values(), ...containerStatus.values()]) p.catch(() => undefined);
  const [sbList, ctList] = await Promise.all([
    cri.listPodSandbox({ filter: selector }),
    cri.listContainers({ filter: selector }),
    ...[...new Set(images)].map(async (image) => {
      const known = cache.presentImages.get(image);
      if (known) { present[image] = known; return; }
      const st = await cri.imageStatus({ image: { image } });
      present[image] = st.image ? { present: true, id: st.image.id } : { present: false };
      if (st.image) cache.presentImages.set(image, present[image]);
    }),
  ]);
  const sandboxes = await Promise.all(sbList.items.map(async (s): Promise<ObservedSandbox> => {
    const base: ObservedSandbox = { id: s.id, state: s.state, attempt: s.metadata?.attempt ?? 0, createdAt: s.createdAt };
    if (s.state !== 'SANDBOX_READY') return base;
    let net = cache.sandboxNets.get(s.id);
    if (!net) {
      const n = (await (sandboxStatus.get(s.id) ?? unlessGone(cri.podSandboxStatus({ podSandboxId: s.id }))))?.status?.network;
      net = n?.ip ? { ip: n.ip, additionalIps: n.additionalIps.map((a) => a.ip).filter((ip) => ip !== '') } : {};
      if (net.ip) cache.sandboxNets.set(s.id, net);
    }
    return net.ip ? { ...base, ip: net.ip, additionalIps: net.additionalIps ?? [] } : base;
  }));
  const containers = (await Promise.all(ctList.containers.map(async (c): Promise<ObservedContainer | undefined> => {
    const known = cache.containers.get(c.id);
    // Exited is final; running stays as read until the list says otherwise.
    if (known && known.state === c.state && (c.state === 'CONTAINER_EXITED' || c.state === 'CONTAINER_RUNNING')) return known;
    const st = (await (containerStatus.get(c.id) ?? unlessGone(cri.containerStatus({ containerId: c.id }))))?.status;
    if (!st) return undefined;
    const o: ObservedContainer = {
      id: c.id,
      podSandboxId: c.podSandboxId,
      name: c.labels[LABEL_CONTAINER_NAME] ?? st.metadata?.name ?? '',
      attempt: st.metadata?.attempt ?? 0,
      restartCount: restartCountOf(st.annotations[ANNOTATION_RESTART_COUNT] ?? c.annotations[ANNOTATION_RESTART_COUNT], st.metadata?.attempt ?? 0),
      state: st.state,
      createdAt: st.createdAt,
      startedAt: st.startedAt,
      finishedAt: st.finishedAt,
      exitCode: st.exitCode,
      reason: st.reason,
      message: st.message,
      image: st.annotations[ANNOTATION_CONTAINER_IMAGE] ?? c.annotations[ANNOTATION_CONTAINER_IMAGE] ?? '',
      imageRef: st.imageRef,
      logPath: st.logPath,
    };
    if (o.state === 'CONTAINER_EXITED' || o.state === 'CONTAINER_RUNNING') cache.containers.set(c.id, o);
    return o;
  }))).filter((c): c is ObservedContainer => c !== undefined);
  // Forget what is gone, so the cache stays the size of the pod.
  const liveSandboxes = new Set(sbList.items.map((s) => s.id));
  for (const id of cache.sandboxNets.keys()) if (!liveSandboxes.has(id)) cache.sandboxNets.delete(id);
  const liveContainers = new Set(ctList.containers.map((c) => c.id));
  for (const id of cache.containers.keys()) if (!liveContainers.has(id)) cache.containers.delete(id);
  return { sandboxes, containers, images: present };
}

/**
 * Every instance of one container of the pod with its status, newest first. Used by logs and
 * exec; throws what the CRI client throws.
 */
export async function containerInstances(cri: PodRuntime, uid: string, name: string): Promise<ContainerStatus[]> {
  const { containers } = await cri.listContainers({ filter: { labelSelector: { [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: name } } });
  const statuses = await Promise.all(containers.map(async (c) => (await unlessGone(cri.containerStatus({ containerId: c.id })))?.status ?? undefined));
  return statuses
    .filter((s): s is ContainerStatus => s !== undefined)
    .sort((a, b) => b.createdAt - a.createdAt || (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0));
}
