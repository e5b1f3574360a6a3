/**
 * The Deployment kind's control-plane side: Kubernetes' defaults and the controller that rolls
 * each deployment out through its ReplicaSets (controller.ts). Deleting a deployment deletes its
 * sets, and their pods, through the garbage collector.
 */
import { defaultDeployment, DeploymentKind, type Deployment, type KubeObject } from '../../messages';
import { immutableSelector } from '../immutable-selector';
import type { KindModule } from '../kind-module';
import { deploymentController } from './controller';

/** The Deployment kind module (actors/kinds.ts lists it). */
export const deploymentModule: KindModule = {
  info: DeploymentKind,
  defaults: (o) => defaultDeployment(o as Deployment) as KubeObject,
  initialStatus: () => ({}),
  admitUpdate: immutableSelector('Deployment.apps', 'deployment'),
  controller: (ctx) => deploymentController({ store: ctx.store, replicaSets: ctx.modules.find((m) => m.info.plural === 'replicasets')! }),
};
