/**
 * The control plane's kind modules, one per kind of messages/' registry (a unit test checks the
 * two lists match). The api, the supervisors and the namespace cascade take their kinds from here.
 */
import { NotFoundError, ValidationError, KINDS, resolveKind, type KindInfo } from '../messages';
import { configMapModule, secretModule } from './config-data/kind';
import { controllerRevisionModule } from './controller-revision/kind';
import { cronJobModule } from './cronjob/kind';
import { daemonSetModule } from './daemonset/kind';
import { deploymentModule } from './deployment/kind';
import { endpointsModule, endpointSliceModule } from './endpoints/kind';
import { eventModule } from './event/kind';
import { functionModule } from './function/kind';
import { hpaModule } from './hpa/kind';
import { ingressModule } from './ingress/kind';
import { jobModule } from './job/kind';
import type { KindModule } from './kind-module';
import { leaseModule } from './lease/kind';
import { namespaceModule } from './namespace/kind';
import { nodeModule } from './node/kind';
import { podModule } from './pod/kind';
import { replicaSetModule } from './replicaset/kind';
import { serviceModule } from './service/kind';
import { statefulSetModule } from './statefulset/kind';
import { triggerModule } from './trigger/kind';
import { persistentVolumeClaimModule, persistentVolumeModule, storageClassModule } from './volume/kind';
import { workflowModule, workflowRunModule } from './workflow/kind';

/** Every kind module. */
export const KIND_MODULES: readonly KindModule[] = [
  configMapModule, controllerRevisionModule, cronJobModule, daemonSetModule, deploymentModule, endpointsModule, endpointSliceModule, eventModule, functionModule, hpaModule, ingressModule, jobModule, leaseModule,
  namespaceModule, nodeModule, persistentVolumeModule, persistentVolumeClaimModule, podModule, replicaSetModule, secretModule,
  serviceModule, statefulSetModule, storageClassModule, triggerModule, workflowModule, workflowRunModule,
];

/** The module of a kind; throws NotFoundError when the kind has none (a registry mismatch). */
export function moduleOf(kind: KindInfo): KindModule {
  const m = KIND_MODULES.find((x) => x.info === kind);
  if (!m) throw new NotFoundError(`kind ${kind.kind} has no control-plane module`);
  return m;
}

/**
 * The module for a kind as a request names it (`pods`, `po`, `Pod`). Throws ValidationError
 * naming the kinds mk serves when the name is unknown; never falls back to another kind.
 */
export function moduleFor(name: unknown): KindModule {
  if (typeof name !== 'string') throw new ValidationError('kind must be a string such as "pods"');
  const kind = resolveKind(name);
  if (!kind) throw new ValidationError(`the server doesn't have a resource type "${name}" (mk serves: ${KINDS.map((k) => k.plural).join(', ')})`);
  return moduleOf(kind);
}
