/**
 * The Endpoints and EndpointSlice kinds' control-plane side. Both are plain objects users may
 * write (for a Service without a selector); the Endpoints module carries the endpoints controller
 * (controller.ts), which keeps both kinds for every Service with a selector and runs under a
 * supervisor of services. Deleting a service deletes what the controller made for it: the
 * controller's last reconcile of the service, and the garbage collector by owner references.
 */
import { EndpointsKind, EndpointSliceKind } from '../../messages';
import type { KindModule } from '../kind-module';
import { endpointsController } from './controller';

/** The EndpointSlice kind module (actors/kinds.ts lists it). */
export const endpointSliceModule: KindModule = {
  info: EndpointSliceKind,
};

/** The Endpoints kind module, with the endpoints controller (actors/kinds.ts lists it). */
export const endpointsModule: KindModule = {
  info: EndpointsKind,
  controller: (ctx) => endpointsController({ store: ctx.store, endpoints: endpointsModule, endpointSlices: endpointSliceModule }),
};
