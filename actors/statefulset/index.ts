/** The StatefulSet kind's control-plane side. */
export { statefulSetModule } from './kind';
export { statefulSetController, STATEFULSET_CONTROLLER_COMPONENT, type StatefulSetControllerDeps } from './controller';
export * from './reconcile';
export * from './claims';
