/**
 * A DaemonSet's rolling update, as pure functions of the set, the nodes and its pods (after
 * Kubernetes' pkg/controller/daemon/update.go): which old pods go next and, when surging, which
 * nodes get their new pod beside the old one. controller.ts performs them.
 */
import type { DaemonSet, IntOrPercent, Node, Pod } from '../../messages';
import { msUntilAvailable } from '../replicaset/reconcile';
import { CONTROLLER_REVISION_HASH_LABEL, desiredNodes, podsByNode, surgeOf } from './reconcile';

/** An int or a percentage of `total`, rounded up (Kubernetes' GetScaledValueFromIntOrPercent). */
export function scaledValue(v: IntOrPercent | undefined, total: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return v;
  return Math.ceil((parseInt(v, 10) * total) / 100);
}

/**
 * The old pods a rolling update deletes now (Kubernetes' rollingUpdate with maxSurge 0): over the
 * nodes that should run the pod, a node counts as unavailable when its pod is new and not yet
 * available, when its old pod is not available (that pod is replaced at once), or when it has no
 * pod, several, or only ones being deleted. Available old pods are replaced,
 * by node name, only while fewer than maxUnavailable nodes are unavailable. maxUnavailable is a number or a percentage of
 * those nodes rounded up, and at least 1.
 */
export function rollingUpdateVictims(ds: DaemonSet, nodes: readonly Node[], pods: readonly Pod[], hash: string, now: number): Pod[] {
  const strategy = ds.spec.updateStrategy;
  if (strategy?.type === 'OnDelete' || ds.metadata.deletionTimestamp) return [];
  const desired = desiredNodes(ds, nodes);
  const maxUnavailable = Math.max(1, scaledValue(strategy?.rollingUpdate?.maxUnavailable, desired.length, 1));
  const minReady = ds.spec.minReadySeconds ?? 0;
  const available = (p: Pod) => msUntilAvailable(p, minReady, now) === 0;
  const byNode = podsByNode(pods);
  let unavailable = 0;
  const replaceNow: Pod[] = [];
  const candidates: Pod[] = [];
  for (const node of [...desired].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    // A node with no pod yet counts as unavailable: its old pod may be gone a moment before the
    // new one is made, and the budget must not be spent twice on it.
    const live = (byNode.get(node.metadata.name) ?? []).filter((p) => !p.metadata.deletionTimestamp);
    if (live.length !== 1) {
      unavailable++;
      continue;
    }
    const pod = live[0];
    const isNew = pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
    if (isNew) {
      if (!available(pod)) unavailable++;
    } else if (!available(pod)) {
      // Replaced at once, and its node counts as unavailable: it already is.
      replaceNow.push(pod);
      unavailable++;
    } else {
      candidates.push(pod);
    }
  }
  const room = Math.max(0, maxUnavailable - unavailable);
  return [...replaceNow, ...candidates.slice(0, room)];
}

/** One rolling-update step: old pods to delete and nodes that get a new pod beside their old one. */
export interface RollingStep { delete: Pod[]; create: string[] }

/**
 * One rolling-update step. With maxSurge 0 it is rollingUpdateVictims. With maxSurge above 0
 * (Kubernetes' surging rollingUpdate; maxUnavailable is not used): over the nodes that should run
 * the pod, a node whose only pod is old gets a new pod beside it at once when the old one is not
 * available, else while fewer than maxSurge nodes (a number or a percentage rounded up) have a new
 * pod that is not available yet; a node whose new pod is available loses its old one.
 */
export function rollingUpdateStep(ds: DaemonSet, nodes: readonly Node[], pods: readonly Pod[], hash: string, now: number): RollingStep {
  const surge = surgeOf(ds);
  if (surge <= 0 || ds.metadata.deletionTimestamp) return { delete: rollingUpdateVictims(ds, nodes, pods, hash, now), create: [] };
  const desired = [...desiredNodes(ds, nodes)].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const maxSurge = scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxSurge, desired.length, 0);
  const minReady = ds.spec.minReadySeconds ?? 0;
  const available = (p: Pod) => msUntilAvailable(p, minReady, now) === 0;
  const byNode = podsByNode(pods);
  let surging = 0;
  const step: RollingStep = { delete: [], create: [] };
  const candidates: string[] = [];
  for (const node of desired) {
    const live = (byNode.get(node.metadata.name) ?? []).filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed');
    const fresh = live.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash);
    const old = live.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== hash);
    // Several of either kind, or no old pod: the node plan sorts it out.
    if (fresh.length > 1 || old.length !== 1) continue;
    if (fresh.length === 0) {
      if (!available(old[0])) step.create.push(node.metadata.name);
      else candidates.push(node.metadata.name);
    } else if (!available(fresh[0])) {
      surging++;
    } else {
      step.delete.push(old[0]);
    }
  }
  step.create.push(...candidates.slice(0, Math.max(0, maxSurge - surging)));
  return step;
}
