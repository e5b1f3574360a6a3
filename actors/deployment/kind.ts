/**
 * The Deployment kind's control-plane side: Kubernetes' defaults and the controller that rolls
 * each deployment out through its ReplicaSets (controller.ts). Deleting a deployment deletes its
 * sets, and their pods, through the garbage collector.
 */
import { defaultDeployment, DeploymentKind, ValidationError, type Deployment, type KubeObject } from '../../messages';
import { stableJson } from '../api/stable-json';
import type { KindModule } from '../kind-module';
import { deploymentController } from './controller';

/** apps/v1 makes a deployment's selector immutable, as a ReplicaSet's. */
function admitDeploymentUpdate(existing: KubeObject, next: KubeObject): KubeObject {
  const was = (existing as Deployment).spec.selector;
  const now = (next as Deployment).spec.selector;
  if (stableJson(was) !== stableJson(now)) {
    throw new ValidationError(
      `Deployment.apps "${existing.metadata.name}" is invalid: spec.selector: Invalid value: ${stableJson(now)}: field is immutable; `
      + 'delete the deployment and create it again to change its selector',
      ['spec.selector: field is immutable'],
    );
  }
  return next;
}

/** The Deployment kind module (actors/kinds.ts lists it). */
export const deploymentModule: KindModule = {
  info: DeploymentKind,
  defaults: (o) => defaultDeployment(o as Deployment) as KubeObject,
  initialStatus: () => ({}),
  admitUpdate: admitDeploymentUpdate,
  controller: (ctx) => deploymentController({ store: ctx.store, replicaSets: ctx.modules.find((m) => m.info.plural === 'replicasets')! }),
};
