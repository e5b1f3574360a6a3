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
 * One consistent-enough snapshot of the pod in the runtime. Throws what the CRI client throws
 * (TimeoutError, UnavailableError, ...) except NotFound for objects removed meanwhile.
 */
export async function observePod(cri: PodRuntime, uid: string, images: string[]): Promise<ObservedPod> {
  const selector = { labelSelector: { [LABEL_POD_UID]: uid } };
  const [sbList, ctList] = await Promise.all([
    cri.listPodSandbox({ filter: selector }),
    cri.listContainers({ filter: selector }),
  ]);
  const sandboxes = await Promise.all(sbList.items.map(async (s): Promise<ObservedSandbox> => {
    const base: ObservedSandbox = { id: s.id, state: s.state, attempt: s.metadata?.attempt ?? 0, createdAt: s.createdAt };
    if (s.state !== 'SANDBOX_READY') return base;
    const st = await unlessGone(cri.podSandboxStatus({ podSandboxId: s.id }));
    const net = st?.status?.network;
    if (!net?.ip) return base;
    return { ...base, ip: net.ip, additionalIps: net.additionalIps.map((a) => a.ip).filter((ip) => ip !== '') };
  }));
  const containers = (await Promise.all(ctList.containers.map(async (c): Promise<ObservedContainer | undefined> => {
    const st = (await unlessGone(cri.containerStatus({ containerId: c.id })))?.status;
    if (!st) return undefined;
    return {
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
  }))).filter((c): c is ObservedContainer => c !== undefined);
  const present: Record<string, ObservedImage> = {};
  await Promise.all([...new Set(images)].map(async (image) => {
    const st = await cri.imageStatus({ image: { image } });
    present[image] = st.image ? { present: true, id: st.image.id } : { present: false };
  }));
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
