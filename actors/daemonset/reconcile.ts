/**
 * The DaemonSet controller's decisions, as pure functions of a set, the nodes and the set's pods
 * (after Kubernetes' pkg/controller/daemon/daemon_controller.go and update.go,
 * https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/): which nodes should run
 * its pod, which pods to make and delete, which old pods a rolling update replaces next, and the
 * status it reports (rolling.ts: the rolling-update steps). controller.ts performs them.
 */
import {
  selectorMatches, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE,
  type DaemonSet, type DaemonSetStatus, type Node, type OwnerReference, type Pod, type Taint, type Toleration,
} from '../../messages';
import { podTemplateHash } from '../deployment/rollout';
import { msUntilAvailable } from '../replicaset/reconcile';
import { matchesNodeSelector, matchesNodeSelectorTerm } from '../scheduler/plugins/node-affinity';
import { conditionTaints } from '../scheduler/plugins/node-ready';
import { toleratesTaint } from '../scheduler/plugins/taint-toleration';

/** The label that names the template revision a pod was made from. */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/**
 * The tolerations Kubernetes adds to every daemon pod (pkg/controller/daemon/util
 * AddOrUpdateDaemonPodTolerations): a daemon stays on a node that is not ready or unreachable, and
 * goes to nodes under pressure or cordoned, since it often is what the node needs to recover.
 */
export const DAEMON_TOLERATIONS: readonly Toleration[] = [
  { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute' },
  { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: TAINT_UNSCHEDULABLE, operator: 'Exists', effect: 'NoSchedule' },
];

/**
 * The template's tolerations with DAEMON_TOLERATIONS added or updated, as Kubernetes'
 * AddOrUpdateTolerationInPodSpec does: one of the template's with the same key, operator, value
 * and effect is replaced (so a `tolerationSeconds` there does not get the daemon evicted).
 */
export function daemonTolerations(own: readonly Toleration[] | undefined): Toleration[] {
  const out = [...(own ?? [])];
  for (const t of DAEMON_TOLERATIONS) {
    const same = (o: Toleration) => o.key === t.key && (o.operator ?? 'Equal') === t.operator && (o.value ?? '') === '' && o.effect === t.effect;
    const i = out.findIndex(same);
    if (i >= 0) out[i] = { ...t };
    else out.push({ ...t });
  }
  return out;
}

/** The revision of the set's template: the hash its pods carry in controller-revision-hash. */
export function templateHash(ds: DaemonSet): string {
  return podTemplateHash(ds.spec.template);
}

/** The reference a set writes into the pods it controls. */
export function daemonSetRef(ds: DaemonSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name, uid: ds.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** The pod with `ds` as its controller (an adoption). */
export function adoptedBy(pod: Pod, ds: DaemonSet): Pod {
  return { ...pod, metadata: { ...pod.metadata, ownerReferences: [...(pod.metadata.ownerReferences ?? []), daemonSetRef(ds)] } };
}

/**
 * A new pod of `ds` for `node`, before admission. It is bound with spec.nodeName rather than
 * through the scheduler with a node affinity on metadata.name (what Kubernetes does since 1.12):
 * the controller has already decided where it goes, mk's scheduler cannot preempt to make room, so
 * a full node would leave its daemon Pending forever, and a bound pod starts even while no
 * scheduler leads. The taint and selector checks the scheduler would make are made here.
 */
export function daemonPod(ds: DaemonSet, node: string, name: string, hash: string): Pod {
  const t = ds.spec.template;
  const metadata: Pod['metadata'] = {
    name, namespace: ds.metadata.namespace, ownerReferences: [daemonSetRef(ds)],
    labels: { ...(t.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
  };
  if (t.metadata?.annotations) metadata.annotations = { ...t.metadata.annotations };
  const spec = structuredClone(t.spec);
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: { ...spec, nodeName: node, tolerations: daemonTolerations(spec.tolerations) } };
}

/** Whether a node should run the set's pod, and whether a pod already there may stay. */
export interface NodeFit { shouldRun: boolean; shouldContinueRunning: boolean }

/**
 * Kubernetes' NodeShouldRunDaemonPod: the template's nodeName (if any), nodeSelector and required
 * node affinity must hold, else the node neither gets nor keeps a pod. A NoSchedule or NoExecute
 * taint the pod does not tolerate (with the daemon tolerations) keeps a new pod off; only an
 * untolerated NoExecute one removes a pod already there. The node's Ready condition counts as the
 * taints it stands for, as the scheduler reads it.
 */
export function nodeFit(ds: DaemonSet, node: Node): NodeFit {
  const spec = ds.spec.template.spec;
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return no;
  if (!matchesNodeSelector(spec.nodeSelector, node)) return no;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !required.nodeSelectorTerms.some((t) => matchesNodeSelectorTerm(t, node))) return no;
  const tolerations = daemonTolerations(spec.tolerations);
  const taints: Taint[] = [...(node.spec?.taints ?? []), ...conditionTaints(node)];
  if (node.spec?.unschedulable) taints.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  const untolerated = taints.filter((t) => t.effect !== 'PreferNoSchedule' && !toleratesTaint(tolerations, t));
  if (untolerated.length === 0) return { shouldRun: true, shouldContinueRunning: true };
  return { shouldRun: false, shouldContinueRunning: !untolerated.some((t) => t.effect === 'NoExecute') };
}

/** Oldest first (then by name), so the pod kept on a node with two is always the same one. */
function byAge(a: Pod, b: Pod): number {
  const ca = a.metadata.creationTimestamp ?? '';
  const cb = b.metadata.creationTimestamp ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** The set's pods by the node they are bound to ('' for none). */
export function podsByNode(pods: readonly Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const p of pods) {
    const n = p.spec.nodeName ?? '';
    const list = out.get(n);
    if (list) list.push(p);
    else out.set(n, [p]);
  }
  return out;
}

/** What one reconcile does about the set's pods. */
export interface NodePlan {
  /** Nodes that get a new pod. */
  create: string[];
  /** Pods to delete: on nodes that no longer fit or are gone, failed, or extra. */
  delete: Pod[];
}

/**
 * Kubernetes' podsShouldBeOnNode over every node. A node that should run the pod and has none
 * gets one; a node that has only pods being deleted waits for them to go (a new pod could clash
 * with the old one's host ports); failed pods are deleted (their replacement follows once they are
 * gone); a second pod on a node is deleted, the oldest stays; pods on a node that must not keep
 * them, or on a node that no longer exists, or bound to no node, are deleted. A set being deleted
 * makes nothing.
 */
export function planNodes(ds: DaemonSet, nodes: readonly Node[], pods: readonly Pod[], hash = templateHash(ds), now = Date.now()): NodePlan {
  const plan: NodePlan = { create: [], delete: [] };
  const minReady = ds.spec.minReadySeconds ?? 0;
  const byNode = podsByNode(pods);
  const live = (p: Pod) => !p.metadata.deletionTimestamp;
  for (const node of nodes) {
    const here = byNode.get(node.metadata.name) ?? [];
    byNode.delete(node.metadata.name);
    const fit = nodeFit(ds, node);
    if (!fit.shouldContinueRunning) {
      plan.delete.push(...here.filter(live));
      continue;
    }
    const failed = here.filter((p) => live(p) && p.status?.phase === 'Failed');
    const running = here.filter((p) => live(p) && p.status?.phase !== 'Failed').sort(byAge);
    plan.delete.push(...failed);
    if (running.length > 1 && surgeOf(ds) > 0) {
      // Surging: an old pod and a new one may share the node until the new one is available (or
      // the old one is not ready); any other pod goes (Kubernetes' podsShouldBeOnNode).
      const isNew = (p: Pod) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
      const firstNew = running.find(isNew);
      const firstOld = running.find((p) => !isNew(p));
      plan.delete.push(...running.filter((p) => p !== firstNew && p !== firstOld));
      if (firstNew && firstOld && (!isReadyPod(firstOld) || msUntilAvailable(firstNew, minReady, now) === 0)) plan.delete.push(firstOld);
    } else {
      plan.delete.push(...running.slice(1));
    }
    if (here.length === 0 && fit.shouldRun && !ds.metadata.deletionTimestamp) plan.create.push(node.metadata.name);
  }
  for (const rest of byNode.values()) plan.delete.push(...rest.filter(live));
  plan.create.sort();
  return plan;
}

/** The set's maxSurge as written (0 for OnDelete or when omitted); a number or a percentage above 0 means surging. */
export function surgeOf(ds: DaemonSet): number {
  const s = ds.spec.updateStrategy;
  if (s?.type === 'OnDelete') return 0;
  const v = s?.rollingUpdate?.maxSurge;
  return typeof v === 'string' ? parseInt(v, 10) : v ?? 0;
}

/** True when the pod's Ready condition is True. */
function isReadyPod(p: Pod): boolean {
  return !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The nodes that should run the set's pod (desiredNumberScheduled counts them). */
export function desiredNodes(ds: DaemonSet, nodes: readonly Node[]): Node[] {
  return nodes.filter((n) => nodeFit(ds, n).shouldRun);
}

/** The status and when to look again (a ready pod that becomes available later). */
export interface DaemonStatusResult { status: DaemonSetStatus; requeueAfterMs?: number }

/**
 * The status of `ds` (Kubernetes' updateDaemonSetStatus): over the nodes that should run the pod,
 * desiredNumberScheduled counts them, currentNumberScheduled those with a pod, numberReady and
 * numberAvailable those whose oldest pod is ready (for minReadySeconds), updatedNumberScheduled those
 * whose pod has the current revision, numberUnavailable the desired ones without an available pod;
 * numberMisscheduled counts the nodes with a pod that should not run it.
 */
export function daemonSetStatus(ds: DaemonSet, nodes: readonly Node[], pods: readonly Pod[], hash: string, now: number): DaemonStatusResult {
  const byNode = podsByNode(pods.filter((p) => !p.metadata.deletionTimestamp));
  const minReady = ds.spec.minReadySeconds ?? 0;
  let desired = 0;
  let current = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  let misscheduled = 0;
  let nextMs: number | undefined;
  for (const node of nodes) {
    const here = (byNode.get(node.metadata.name) ?? []).sort(byAge);
    if (!nodeFit(ds, node).shouldRun) {
      if (here.length > 0) misscheduled++;
      continue;
    }
    desired++;
    if (here.length === 0) continue;
    current++;
    const pod = here[0];
    const wait = msUntilAvailable(pod, minReady, now);
    if (wait !== undefined) {
      ready++;
      if (wait === 0) available++;
      else nextMs = Math.min(nextMs ?? wait, wait);
    }
    if (pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash) updated++;
  }
  const status: DaemonSetStatus = {
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    numberAvailable: available,
    numberUnavailable: desired - available,
    updatedNumberScheduled: updated,
    observedGeneration: ds.metadata.generation ?? 1,
  };
  return nextMs === undefined ? { status } : { status, requeueAfterMs: nextMs + 50 };
}

/** True when the pod's labels are selected by the set (for adoption and release). */
export function selects(ds: DaemonSet, pod: Pod): boolean {
  return selectorMatches(ds.spec.selector, pod.metadata.labels);
}

/**
 * How long a node waits before its daemon pod is made again after the `count`th failed one in a
 * row (Kubernetes' failedPodsBackoff: 1 s doubling to 15 min), so a pod that fails at once does
 * not make the controller and the node churn.
 */
export function failedPodBackoffMs(count: number): number {
  return Math.min(15 * 60_000, 1_000 * 2 ** Math.max(0, count - 1));
}
