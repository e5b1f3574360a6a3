/** The Deployment kind's control-plane side. */
export { deploymentModule } from './kind';
export { deploymentController, deploymentRef, newReplicaSet, DEPLOYMENT_CONTROLLER_COMPONENT, type DeploymentControllerDeps } from './controller';
export * from './rollout';
export * from './status';
