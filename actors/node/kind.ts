/**
 * The Node kind's control-plane side: a node's pod CIDR is assigned once and kept (its pods live
 * in it), and the controller assigns CIDRs and notices nodes that stop posting status.
 */
import { NodeKind, ValidationError, type KubeObject, type Node } from '../../messages';
import type { KindModule } from '../kind-module';
import { nodeController } from './controller';
import { NodeRoutes } from './routes';

/** A manifest may omit the pod CIDR but not change it. */
function keepPodCidr(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as Node;
  const next = nextObj as Node;
  const have = existing.spec?.podCIDR;
  if (!have) return next;
  const want = next.spec?.podCIDR;
  if (want && want !== have) throw new ValidationError(`node "${existing.metadata.name}" already has pod CIDR ${have}; spec.podCIDR cannot change`);
  return { ...next, spec: { ...next.spec, podCIDR: have, podCIDRs: existing.spec?.podCIDRs ?? [have] } } as KubeObject;
}

export const nodeModule: KindModule = {
  info: NodeKind,
  admitUpdate: keepPodCidr,
  controller: async (ctx) => nodeController(ctx.store, await NodeRoutes.open(ctx.bus, ctx.store)),
};
