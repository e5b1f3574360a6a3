export { ingressController, INGRESS_CONTROLLER_COMPONENT, type IngressControllerDeps } from './controller';
export { ingressModule } from './kind';
export { ingressStatus, missingServices, readyNodeAddresses } from './reconcile';
