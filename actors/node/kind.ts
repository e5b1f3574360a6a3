/**
 * The Node kind's control-plane side: a node's pod CIDR is assigned once and kept (its pods live
 * in it), NoExecute taints are stamped with the time they were added, and the controller assigns
 * CIDRs, notices nodes that stop posting status, taints them and evicts their pods.
 */
import { NodeKind, timestamp, ValidationError, type KubeObject, type Node, type Taint } from '../../messages';
import type { KindModule } from '../kind-module';
import { currentSettings } from '../settings';
import { nodeController } from './controller';
import { NodeRoutes } from './routes';
import { MANAGED_TAINT_KEYS } from './taints';

/** NoExecute taints get timeAdded when they first appear: tolerationSeconds count from it. */
function stampTaints(obj: KubeObject): KubeObject {
  const node = obj as Node;
  const taints = node.spec?.taints;
  if (!taints?.some((t) => t.effect === 'NoExecute' && !t.timeAdded)) return obj;
  const now = timestamp();
  return { ...node, spec: { ...node.spec, taints: taints.map((t) => (t.effect === 'NoExecute' && !t.timeAdded ? { ...t, timeAdded: now } : t)) } } as KubeObject;
}

/**
 * The taints of an update: the node.kubernetes.io/* taints the control plane keeps (taints.ts)
 * stay as they are, whatever the manifest says, so a writer that read the node before the
 * controller tainted it cannot undo that (nor restart an eviction deadline); the others are the
 * manifest's, and one that was there already keeps the time it was first added. The existing
 * order is kept, so an unchanged manifest stays unchanged.
 */
function keepTaints(existing: Node, next: Node): Node {
  const old = existing.spec?.taints ?? [];
  const incoming = (next.spec?.taints ?? []).filter((t) => !MANAGED_TAINT_KEYS.has(t.key));
  const same = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;
  const carry = (t: Taint): Taint => {
    const was = old.find((o) => same(o, t) && (o.value ?? '') === (t.value ?? ''));
    return was?.timeAdded ? { ...t, timeAdded: was.timeAdded } : t;
  };
  const taints: Taint[] = [];
  for (const o of old) {
    if (MANAGED_TAINT_KEYS.has(o.key)) { taints.push(o); continue; }
    const mine = incoming.find((t) => same(t, o));
    if (mine) taints.push(carry(mine));
  }
  for (const t of incoming) if (!old.some((o) => same(o, t))) taints.push(carry(t));
  const { taints: _drop, ...rest } = next.spec ?? {};
  return { ...next, spec: taints.length ? { ...rest, taints } : rest };
}

/** A manifest may omit the pod CIDR but not change it; taints as keepTaints says. */
function keepPodCidr(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as Node;
  const next = keepTaints(existing, nextObj as Node);
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
  controller: async (ctx) => nodeController({
    store: ctx.store,
    bus: ctx.bus,
    pods: ctx.modules.find((m) => m.info.plural === 'pods')!,
    gracePeriodMs: () => currentSettings().nodeMonitorGracePeriodMs,
    cidr: () => currentSettings(),
    routes: await NodeRoutes.open(ctx.bus, ctx.store),
  }),
};
