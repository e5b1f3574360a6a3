/**
 * The Pod kind's control-plane side: Kubernetes' defaults (default tolerations included), the
 * initial status, the update rules (a pod's spec is immutable but for container images and added
 * tolerations), graceful deletion of bound pods, and the controller that schedules pods.
 */
import {
  defaultPod, isSchedulingGated, MESSAGE_SCHEDULING_GATED, PodKind, REASON_SCHEDULING_GATED, timestamp, qosClass, TAINT_NOT_READY, TAINT_UNREACHABLE, ValidationError,
  type KubeObject, type Pod, type Toleration,
} from '../../messages';
import { stableJson } from '../api/stable-json';
import type { KindModule } from '../kind-module';
import { currentSettings, type ControlPlaneSettings } from '../settings';
import { podController } from './controller';
import { gatedPlacementError, withoutGatedPlacement } from './gated-update';
import { NodePodViews } from './node-views';

/** Default grace period (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination). */
const DEFAULT_GRACE_SECONDS = 30;

/**
 * Kubernetes' DefaultTolerationSeconds admission
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions):
 * a pod that tolerates neither node.kubernetes.io/not-ready:NoExecute nor
 * node.kubernetes.io/unreachable:NoExecute gets a toleration for each, for the control plane's
 * default seconds (300 unless configured, actors/settings.ts), so its pods leave a lost node after
 * five minutes rather than at once.
 */
export function withDefaultTolerations(pod: Pod, settings: ControlPlaneSettings = currentSettings()): Pod {
  const have = pod.spec.tolerations ?? [];
  const covers = (key: string): boolean => have.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
  const add: Toleration[] = [];
  for (const [key, seconds] of [
    [TAINT_NOT_READY, settings.defaultNotReadyTolerationSeconds],
    [TAINT_UNREACHABLE, settings.defaultUnreachableTolerationSeconds],
  ] as const) {
    if (!covers(key)) add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
  return add.length ? { ...pod, spec: { ...pod.spec, tolerations: [...have, ...add] } } : pod;
}

/**
 * Only container images may change, tolerations may be added (not removed), scheduling gates
 * removed (not added), and nodeName only from unset to set (the scheduler binds); a manifest
 * without nodeName does not unbind. While the pod is gated, its nodeSelector and node affinity
 * may also narrow (gated-update.ts).
 */
function admitPodUpdate(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as Pod;
  const next = nextObj as Pod;
  if (next.spec.nodeName && existing.spec.nodeName && next.spec.nodeName !== existing.spec.nodeName) {
    throw new ValidationError(`pod "${existing.metadata.name}" is already bound to node "${existing.spec.nodeName}"; spec.nodeName cannot change`);
  }
  const gated = isSchedulingGated(existing.spec);
  const placement = gated ? gatedPlacementError(existing, next) : null;
  if (placement) throw new ValidationError(`pod "${existing.metadata.name}": ${placement}`);
  const strip = (p: Pod) => ({
    ...(gated ? withoutGatedPlacement(p.spec) : p.spec),
    containers: p.spec.containers.map((c) => ({ ...c, image: '' })),
    initContainers: p.spec.initContainers?.map((c) => ({ ...c, image: '' })),
    nodeName: undefined,
    tolerations: undefined,
    schedulingGates: undefined,
  });
  const hadGates = new Set((existing.spec.schedulingGates ?? []).map((g) => g.name));
  const addedGate = (next.spec.schedulingGates ?? []).find((g) => !hadGates.has(g.name));
  if (addedGate) {
    throw new ValidationError(
      `pod "${existing.metadata.name}": spec.schedulingGates: scheduling gates may only be removed after creation, not added ("${addedGate.name}")`,
    );
  }
  const kept = new Set((next.spec.tolerations ?? []).map((t) => stableJson(t)));
  const dropped = (existing.spec.tolerations ?? []).find((t) => !kept.has(stableJson(t)));
  if (dropped) {
    throw new ValidationError(`pod "${existing.metadata.name}": tolerations may be added but not removed or changed (${stableJson(dropped)})`);
  }
  if (stableJson(strip(existing)) !== stableJson(strip(next))) {
    throw new ValidationError(
      `pod "${existing.metadata.name}": pod updates may not change fields other than container images; delete the pod and create it again`,
    );
  }
  if (!next.spec.nodeName && existing.spec.nodeName) return { ...next, spec: { ...next.spec, nodeName: existing.spec.nodeName } } as KubeObject;
  return next;
}

export const podModule: KindModule = {
  info: PodKind,
  defaults: (o) => withDefaultTolerations(defaultPod(o as Pod)) as KubeObject,
  initialStatus: (o) => ({
    phase: 'Pending',
    qosClass: qosClass((o as Pod).spec),
    // A gated pod says why it waits from the start, as Kubernetes' API server sets it.
    ...(isSchedulingGated((o as Pod).spec) ? {
      conditions: [{
        type: 'PodScheduled', status: 'False', reason: REASON_SCHEDULING_GATED, message: MESSAGE_SCHEDULING_GATED, lastTransitionTime: timestamp(),
      }],
    } : {}),
  }),
  admitUpdate: admitPodUpdate,
  deletion: {
    // A pod on a node stops gracefully: its node agent stops the containers and removes the object.
    // Grace 0 is a forced deletion; a pod never bound has nothing to stop.
    graceSeconds: (o, requested) => {
      const pod = o as Pod;
      if (!pod.spec.nodeName || requested === 0) return undefined;
      return requested ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    },
  },
  controller: async (ctx) => {
    // The supervisor prepares the views (prepare: learn them, sweep what is stale) before it lists.
    const views = await NodePodViews.open(ctx.bus, ctx.store);
    return podController(ctx.store, ctx.scheduler, views);
  },
};
