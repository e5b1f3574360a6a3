/**
 * The Ingress kind's control-plane side: no defaults beyond the schema's, and the controller that
 * writes each Ingress's addresses and warns about the services it names that do not exist
 * (controller.ts). The routing itself is every node's ingress proxy (node-agent/ingress/).
 */
import { IngressKind } from '../../messages';
import type { KindModule } from '../kind-module';
import { ingressController } from './controller';

/** The Ingress kind module (actors/kinds.ts lists it). */
export const ingressModule: KindModule = {
  info: IngressKind,
  initialStatus: () => ({ loadBalancer: {} }),
  controller: (ctx) => ingressController({ store: ctx.store }),
};
