/** The ReplicaSet kind's control-plane side. */
export { replicaSetModule } from './kind';
export { replicaSetController, REPLICASET_CONTROLLER_COMPONENT, type ReplicaSetControllerDeps } from './controller';
export * from './reconcile';
