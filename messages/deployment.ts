/**
 * The apps/v1 Deployment kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/ that mk
 * keeps. A Deployment rolls its pod template out through ReplicaSets it owns, one per template.
 */
import { z } from 'zod';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';
import { defaultPod, type Pod } from './pod';
import { PodTemplateSpec, ReplicaSetSpec, replicaSetSpecErrors } from './replicaset';

/** An int or a percentage such as `25%` (Kubernetes' IntOrString for maxSurge/maxUnavailable). */
export const IntOrPercent = z.union([
  z.number().int().min(0, 'must be 0 or more'),
  z.string().regex(/^\d+%$/, 'must be a whole number or a percentage such as "25%"'),
]).meta({ title: 'IntOrPercent', description: 'A whole number of pods, or a percentage of replicas such as "25%".' });
export type IntOrPercent = z.infer<typeof IntOrPercent>;

export const RollingUpdateDeployment = z.strictObject({
  maxSurge: IntOrPercent.optional().describe(
    'How many pods may exist above replicas during a rollout; a percentage rounds up. 25% when omitted.',
  ),
  maxUnavailable: IntOrPercent.optional().describe(
    'How many of replicas may be unavailable during a rollout; a percentage rounds down. 25% when omitted.',
  ),
}).meta({ title: 'RollingUpdateDeployment' });

export const DeploymentStrategy = z.strictObject({
  type: z.enum(['RollingUpdate', 'Recreate']).optional().describe(
    'RollingUpdate replaces pods gradually; Recreate removes every old pod before making new ones.',
  ),
  rollingUpdate: RollingUpdateDeployment.optional().describe('The limits of a RollingUpdate; only with that type.'),
}).meta({ title: 'DeploymentStrategy' });
export type DeploymentStrategy = z.infer<typeof DeploymentStrategy>;

export const DeploymentSpec = z.strictObject({
  ...ReplicaSetSpec.shape,
  replicas: ReplicaSetSpec.shape.replicas.describe('How many pods the deployment keeps: 1 when omitted.'),
  template: PodTemplateSpec.describe('The pod the deployment rolls out; a change starts a new revision.'),
  strategy: DeploymentStrategy.optional().describe('How a new template replaces the old: RollingUpdate (default) or Recreate.'),
  revisionHistoryLimit: z.number().int().min(0, 'must be 0 or more').optional().describe(
    'How many old ReplicaSets (scaled to 0) to keep for rollback; 10 when omitted.',
  ),
  progressDeadlineSeconds: z.number().int().min(1, 'must be 1 or more').optional().describe(
    'Seconds a rollout may go without progress before Progressing turns False with ProgressDeadlineExceeded; 600 when omitted.',
  ),
  paused: z.boolean().optional().describe('True stops the rollout where it is; template changes wait until it is false.'),
}).meta({ title: 'DeploymentSpec' });
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;

/** Why `spec` is invalid as Kubernetes' validation says it, one message per problem. */
export function deploymentSpecErrors(spec: DeploymentSpec): { path: string[]; message: string }[] {
  const out = replicaSetSpecErrors(spec);
  const s = spec.strategy;
  if (s?.type === 'Recreate' && s.rollingUpdate) {
    out.push({ path: ['strategy', 'rollingUpdate'], message: 'Forbidden: may not be specified when strategy `type` is \'Recreate\'' });
  }
  const ru = s?.rollingUpdate;
  if (ru) {
    const v = ru.maxUnavailable;
    if (typeof v === 'string' && parseInt(v, 10) > 100) {
      out.push({ path: ['strategy', 'rollingUpdate', 'maxUnavailable'], message: `Invalid value: "${v}": must not be greater than 100%` });
    }
    const zero = (v: IntOrPercent | undefined) => v !== undefined && (v === 0 || v === '0%');
    if (zero(ru.maxSurge) && zero(ru.maxUnavailable)) {
      out.push({ path: ['strategy', 'rollingUpdate', 'maxUnavailable'], message: 'Invalid value: 0: may not be 0 when `maxSurge` is 0' });
    }
  }
  return out;
}

/** Status is the controller's: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const DeploymentSchema = z.strictObject({
  apiVersion: z.literal('apps/v1').describe('The API version of the kind: `apps/v1`.'),
  kind: z.literal('Deployment').describe('The kind of object: `Deployment`.'),
  metadata: ObjectMeta.describe("The deployment's name, namespace, labels and the metadata the server keeps."),
  spec: DeploymentSpec.superRefine((spec, ctx) => {
    for (const e of deploymentSpecErrors(spec)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
  }).describe('How many pods, which pods are the deployment\'s, their template and how a new template rolls out.'),
  status: z.unknown().optional().meta({
    title: 'DeploymentStatus',
    description: 'What the controller last counted: replicas, updatedReplicas, readyReplicas, availableReplicas, '
      + "unavailableReplicas, observedGeneration, collisionCount and conditions Available and Progressing. A manifest's status is ignored.",
  }),
}).meta({ title: 'Deployment' });

/** A Deployment condition (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/#DeploymentStatus). */
export interface DeploymentCondition {
  type: 'Available' | 'Progressing' | 'ReplicaFailure';
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatus {
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  observedGeneration?: number;
  collisionCount?: number;
  conditions?: DeploymentCondition[];
}

export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: Meta;
  spec: DeploymentSpec;
  status?: DeploymentStatus;
}

/** Kubernetes' defaults (pkg/apis/apps/v1/defaults.go): 1 replica, RollingUpdate 25%/25%, 10 revisions, 600 s. */
export function defaultDeployment(d: Deployment): Deployment {
  const asPod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: d.metadata.name }, spec: d.spec.template.spec } as Pod;
  const type = d.spec.strategy?.type ?? 'RollingUpdate';
  const strategy: DeploymentStrategy = type === 'Recreate' ? { type } : {
    type,
    rollingUpdate: { maxSurge: d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', maxUnavailable: d.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%' },
  };
  return {
    ...d,
    spec: {
      ...d.spec,
      replicas: d.spec.replicas ?? 1,
      minReadySeconds: d.spec.minReadySeconds ?? 0,
      revisionHistoryLimit: d.spec.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: d.spec.progressDeadlineSeconds ?? 600,
      strategy,
      template: { ...d.spec.template, spec: defaultPod(asPod).spec },
    },
  };
}
