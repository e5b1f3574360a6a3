/** The DaemonSet kind's control-plane side. */
export { daemonSetModule } from './kind';
export { daemonSetController, DAEMONSET_CONTROLLER_COMPONENT, type DaemonSetControllerDeps } from './controller';
export * from './reconcile';
export * from './rolling';
