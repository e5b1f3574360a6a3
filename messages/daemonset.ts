/**
 * The apps/v1 DaemonSet kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/daemon-set-v1/ that mk
 * keeps. A DaemonSet runs one pod of its template on every node the template fits. The selector is
 * checked as a ReplicaSet's: required, not empty, matching the template's labels.
 */
import { z } from 'zod';
import { IntOrPercent } from './deployment';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';
import { defaultPod, type Pod } from './pod';
import { PodTemplateSpec, ReplicaSetSpec, replicaSetSpecErrors } from './replicaset';

export const RollingUpdateDaemonSet = z.strictObject({
  maxUnavailable: IntOrPercent.optional().describe(
    'How many nodes may be without an available pod of the set during an update; a percentage of the '
    + 'nodes that should run it, rounded up. 1 when omitted.',
  ),
  maxSurge: IntOrPercent.optional().describe(
    'How many nodes may run an old and a new pod at once during an update; a percentage of the nodes '
    + 'that should run it, rounded up. 0 (the default): an old pod goes before its replacement is made. '
    + 'Above 0: the new pod is made first and the old one goes once it is available; maxUnavailable is unused.',
  ),
}).meta({ title: 'RollingUpdateDaemonSet' });

export const DaemonSetUpdateStrategy = z.strictObject({
  type: z.enum(['RollingUpdate', 'OnDelete']).optional().describe(
    'RollingUpdate (the default) replaces old pods node by node after a template change; OnDelete '
    + 'replaces only the pods a user deletes.',
  ),
  rollingUpdate: RollingUpdateDaemonSet.optional().describe('The limits of a RollingUpdate; only with that type.'),
}).meta({ title: 'DaemonSetUpdateStrategy' });
export type DaemonSetUpdateStrategy = z.infer<typeof DaemonSetUpdateStrategy>;

export const DaemonSetSpec = z.strictObject({
  selector: ReplicaSetSpec.shape.selector.describe(
    "The labels of the set's pods: it counts, adopts and keeps the pods this selects. "
    + "Required, not empty, and the template's labels must satisfy it.",
  ),
  template: PodTemplateSpec.describe(
    'The pod run on every eligible node; a change makes a new revision that the update strategy rolls out.',
  ),
  minReadySeconds: ReplicaSetSpec.shape.minReadySeconds,
  updateStrategy: DaemonSetUpdateStrategy.optional().describe(
    'How a new template replaces the running pods: RollingUpdate (default) or OnDelete.',
  ),
  revisionHistoryLimit: z.number().int().min(0, 'must be 0 or more').optional().describe(
    'How many old ControllerRevisions to keep for rollback besides the current one and those a pod is at; 10 when omitted.',
  ),
}).meta({ title: 'DaemonSetSpec' });
export type DaemonSetSpec = z.infer<typeof DaemonSetSpec>;

/** Why `spec` is invalid as Kubernetes' validation says it, one message per problem. */
export function daemonSetSpecErrors(spec: DaemonSetSpec): { path: string[]; message: string }[] {
  const out = replicaSetSpecErrors({ ...spec, replicas: 1 });
  const s = spec.updateStrategy;
  if (s?.type === 'OnDelete' && s.rollingUpdate) {
    out.push({ path: ['updateStrategy', 'rollingUpdate'], message: 'Forbidden: may not be specified when strategy `type` is \'OnDelete\'' });
  }
  const ru = s?.rollingUpdate;
  if (ru) {
    const zero = (v: IntOrPercent | undefined) => v === 0 || v === '0%';
    for (const field of ['maxUnavailable', 'maxSurge'] as const) {
      const v = ru[field];
      if (typeof v === 'string' && parseInt(v, 10) > 100) {
        out.push({ path: ['updateStrategy', 'rollingUpdate', field], message: `Invalid value: "${v}": must not be greater than 100%` });
      }
    }
    if (zero(ru.maxUnavailable) && (ru.maxSurge === undefined || zero(ru.maxSurge))) {
      out.push({ path: ['updateStrategy', 'rollingUpdate', 'maxUnavailable'], message: 'Invalid value: 0: may not be 0 when `maxSurge` is 0' });
    }
  }
  return out;
}

/** Status is the controller's: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const DaemonSetSchema = z.strictObject({
  apiVersion: z.literal('apps/v1').describe('The API version of the kind: `apps/v1`.'),
  kind: z.literal('DaemonSet').describe('The kind of object: `DaemonSet`.'),
  metadata: ObjectMeta.describe("The set's name, namespace, labels and the metadata the server keeps."),
  spec: DaemonSetSpec.superRefine((spec, ctx) => {
    for (const e of daemonSetSpecErrors(spec)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
  }).describe("Which pods are the set's, their template and how a new template rolls out."),
  status: z.unknown().optional().meta({
    title: 'DaemonSetStatus',
    description: 'What the controller last counted: desiredNumberScheduled, currentNumberScheduled, numberReady, '
      + 'numberAvailable, numberUnavailable, numberMisscheduled, updatedNumberScheduled and observedGeneration. '
      + "A manifest's status is ignored.",
  }),
}).meta({ title: 'DaemonSet' });

/** https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/daemon-set-v1/#DaemonSetStatus */
export interface DaemonSetStatus {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  updatedNumberScheduled?: number;
  observedGeneration?: number;
}

export interface DaemonSet {
  apiVersion: 'apps/v1';
  kind: 'DaemonSet';
  metadata: Meta;
  spec: DaemonSetSpec;
  status?: DaemonSetStatus;
}

/**
 * Kubernetes' defaults (pkg/apis/apps/v1/defaults.go SetDefaults_DaemonSet): RollingUpdate with
 * maxUnavailable 1 and maxSurge 0, 10 revisions, no minReadySeconds, the template's pod defaults.
 */
export function defaultDaemonSet(ds: DaemonSet): DaemonSet {
  const asPod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: ds.metadata.name }, spec: ds.spec.template.spec } as Pod;
  const type = ds.spec.updateStrategy?.type ?? 'RollingUpdate';
  const updateStrategy: DaemonSetUpdateStrategy = type === 'OnDelete' ? { type } : {
    type,
    rollingUpdate: {
      maxUnavailable: ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1,
      maxSurge: ds.spec.updateStrategy?.rollingUpdate?.maxSurge ?? 0,
    },
  };
  return {
    ...ds,
    spec: {
      ...ds.spec,
      minReadySeconds: ds.spec.minReadySeconds ?? 0,
      revisionHistoryLimit: ds.spec.revisionHistoryLimit ?? 10,
      updateStrategy,
      template: { ...ds.spec.template, spec: defaultPod(asPod).spec },
    },
  };
}
