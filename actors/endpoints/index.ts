/** The Endpoints and EndpointSlice kinds' control-plane side and the endpoints controller. */
export { endpointsModule, endpointSliceModule } from './kind';
export { endpointsController, type EndpointsControllerDeps } from './controller';
export * from './reconcile';
export { managedSelector, selects, type Service, type ServicePort } from './service';
