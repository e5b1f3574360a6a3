/**
 * The Node kind's control-plane side: a node's pod CIDR is assigned once and kept (its pods live
 * in it), NoExecute taints are stamped with the time they were added, and the controller assigns
 * CIDRs, notices nodes that stop posting status, taints them and evicts their pods.
 */
import { NodeKind, timestamp, ValidationError, type KubeObject, type Node } from '../../messages';
import type { KindModule } from '../kind-module';
import { currentSettings } from '../settings';
import { nodeController } from './controller';

/** NoExecute taints get timeAdded when they first appear: tolerationSeconds count from it. */
function stampTaints(obj: KubeObject): KubeObject {
  const node = obj as Node;
  const taints = node.spec?.taints;
  if (!taints?.some((t) => t.effect === 'NoExecute' && !t.timeAdded)) return obj;
  const now = timestamp();
  return { ...node, spec: { ...node.spec, taints: taints.map((t) => (t.effect === 'NoExecute' && !t.timeAdded ? { ...t, timeAdded: now } : t)) } } as KubeObject;
}

/** A NoExecute taint that was there already keeps the time it was first added. */
function keepTimeAdded(existing: Node, next: Node): Node {
  const old = existing.spec?.taints ?? [];
  const taints = next.spec?.taints;
  if (!taints) return next;
  return {
    ...next,
    spec: {
      ...next.spec,
      taints: taints.map((t) => {
        const was = old.find((o) => o.key === t.key && o.effect === t.effect && (o.value ?? '') === (t.value ?? ''));
        return was?.timeAdded ? { ...t, timeAdded: was.timeAdded } : t;
      }),
    },
  };
}

/** A manifest may omit the pod CIDR but not change it; taints keep their timeAdded. */
function keepPodCidr(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as Node;
  const next = keepTimeAdded(existing, nextObj as Node);
  const have = existing.spec?.podCIDR;
  if (!have) return next as KubeObject;
  const want = next.spec?.podCIDR;
  if (want && want !== have) throw new ValidationError(`node "${existing.metadata.name}" already has pod CIDR ${have}; spec.podCIDR cannot change`);
  return { ...next, spec: { ...next.spec, podCIDR: have, podCIDRs: existing.spec?.podCIDRs ?? [have] } } as KubeObject;
}

export const nodeModule: KindModule = {
  info: NodeKind,
  defaults: stampTaints,
  admitUpdate: keepPodCidr,
  controller: (ctx) => nodeController({
    store: ctx.store,
    bus: ctx.bus,
    pods: ctx.modules.find((m) => m.info.plural === 'pods')!,
    gracePeriodMs: () => currentSettings().nodeMonitorGracePeriodMs,
  }),
};
