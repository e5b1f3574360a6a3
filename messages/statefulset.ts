/**
 * The apps/v1 StatefulSet kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/stateful-set-v1/ that mk
 * keeps. A StatefulSet keeps `replicas` pods with stable names (`<set>-<ordinal>`) and, through a
 * headless Service named by serviceName, stable DNS names; each replica may get its own claims
 * from volumeClaimTemplates. The selector is checked as a ReplicaSet's.
 */
import { z } from 'zod';
import { IntOrPercent } from './deployment';
import { dns1123LabelError } from './names';
import { LabelName, ObjectMeta, type ObjectMeta as Meta } from './meta';
import { defaultPod, podSpecIssues, UncheckedPodSpec, type Pod } from './pod';
import { PersistentVolumeClaimSpec } from './persistent-volume';
import { PodTemplateSpec, ReplicaSetSpec, replicaSetSpecErrors } from './replicaset';

export const RollingUpdateStatefulSetStrategy = z.strictObject({
  partition: z.number().int().min(0, 'must be 0 or more').optional().describe(
    'Only pods with an ordinal at or above this are updated to a new template; the others keep theirs. 0 when omitted.',
  ),
  maxUnavailable: IntOrPercent.optional().describe(
    'How many pods may be unavailable during an update. A beta feature (MaxUnavailableStatefulSet) that mk does not '
    + 'serve: only 1 (the behaviour without it) is accepted.',
  ),
}).meta({ title: 'RollingUpdateStatefulSetStrategy' });

export const StatefulSetUpdateStrategy = z.strictObject({
  type: z.enum(['RollingUpdate', 'OnDelete']).optional().describe(
    'RollingUpdate (the default) replaces the pods from the highest ordinal down after a template change; '
    + 'OnDelete gives the new template only to the pods a user deletes.',
  ),
  rollingUpdate: RollingUpdateStatefulSetStrategy.optional().describe('The partition of a RollingUpdate; only with that type.'),
}).meta({ title: 'StatefulSetUpdateStrategy' });
export type StatefulSetUpdateStrategy = z.infer<typeof StatefulSetUpdateStrategy>;

const RetentionValue = z.enum(['Retain', 'Delete']);

export const StatefulSetPersistentVolumeClaimRetentionPolicy = z.strictObject({
  whenDeleted: RetentionValue.optional().describe('What happens to the claims when the set is deleted: Retain (default) or Delete.'),
  whenScaled: RetentionValue.optional().describe(
    'What happens to the claims of the replicas a scale-down removes: Retain (default) or Delete.',
  ),
}).meta({ title: 'StatefulSetPersistentVolumeClaimRetentionPolicy' });
export type StatefulSetPersistentVolumeClaimRetentionPolicy = z.infer<typeof StatefulSetPersistentVolumeClaimRetentionPolicy>;

/** A claim template: the shape of a PersistentVolumeClaim that each replica gets a copy of. */
export const VolumeClaimTemplate = z.strictObject({
  metadata: z.strictObject({
    name: LabelName.describe('The name of the volume in the pods; each claim is named `<this>-<set>-<ordinal>`.'),
    labels: ObjectMeta.shape.labels,
    annotations: ObjectMeta.shape.annotations,
  }).meta({ title: 'PersistentVolumeClaimTemplateMeta' })
    .describe('The name of the template (and of the volume the pods mount), and labels and annotations for the claims.'),
  spec: PersistentVolumeClaimSpec.describe("The claim's spec, as a PersistentVolumeClaim's."),
}).meta({ title: 'PersistentVolumeClaimTemplate' });
export type VolumeClaimTemplate = z.infer<typeof VolumeClaimTemplate>;

/**
 * The set's pod template. Its spec is checked by statefulSetSpecErrors rather than by the pod
 * schema, because its containers may mount the claim templates' volumes, which the controller adds
 * to each pod.
 */
const StatefulPodTemplateSpec = PodTemplateSpec.extend({
  spec: UncheckedPodSpec.meta({ title: 'PodSpec' })
    .describe("The spec of every replica, written as a pod's spec; its containers may mount the volumes named by volumeClaimTemplates."),
}).meta({ title: 'PodTemplateSpec' });

export const StatefulSetSpec = z.strictObject({
  serviceName: LabelName.optional().describe(
    'The headless Service that gives each replica its DNS name `<pod>.<serviceName>.<namespace>.svc.cluster.local`; '
    + "it becomes the pods' subdomain.",
  ),
  replicas: ReplicaSetSpec.shape.replicas,
  selector: ReplicaSetSpec.shape.selector.describe(
    "The labels of the set's pods. Required, not empty, the template's labels must satisfy it, and it cannot change.",
  ),
  template: StatefulPodTemplateSpec.describe('The pod each replica runs; a change makes a new revision that the update strategy rolls out.'),
  podManagementPolicy: z.enum(['OrderedReady', 'Parallel']).optional().describe(
    'OrderedReady (the default) makes replicas one at a time in ordinal order, each once the ones before are Running '
    + 'and Ready, and removes them from the highest down; Parallel makes and removes them all at once.',
  ),
  updateStrategy: StatefulSetUpdateStrategy.optional().describe('How a new template replaces the pods: RollingUpdate (default) or OnDelete.'),
  revisionHistoryLimit: z.number().int().min(0, 'must be 0 or more').optional().describe(
    'How many old ControllerRevisions to keep besides the current and update revisions and those a pod is at; 10 when omitted.',
  ),
  minReadySeconds: ReplicaSetSpec.shape.minReadySeconds,
  ordinals: z.strictObject({
    start: z.number().int().min(0, 'must be 0 or more').optional().describe('The first ordinal; 0 when omitted.'),
  }).meta({ title: 'StatefulSetOrdinals' }).optional().describe('Where the replicas\' ordinals start.'),
  persistentVolumeClaimRetentionPolicy: StatefulSetPersistentVolumeClaimRetentionPolicy.optional().describe(
    'Whether the claims made from volumeClaimTemplates are deleted with the set or on a scale-down; kept when omitted.',
  ),
  volumeClaimTemplates: z.array(VolumeClaimTemplate).optional().describe(
    'Claims every replica gets its own copy of (`<template>-<set>-<ordinal>`), mounted as the volume named by the template.',
  ),
}).meta({ title: 'StatefulSetSpec' });
export type StatefulSetSpec = z.infer<typeof StatefulSetSpec>;

/** The largest pod name a set makes: its hostname, so a DNS-1123 label of at most 63 characters. */
export function lastPodName(name: string, spec: Pick<StatefulSetSpec, 'replicas' | 'ordinals'>): string {
  const start = spec.ordinals?.start ?? 0;
  return `${name}-${start + Math.max(0, (spec.replicas ?? 1) - 1)}`;
}

/** Why `spec` is invalid as Kubernetes' validation says it, one message per problem. */
export function statefulSetSpecErrors(spec: StatefulSetSpec): { path: string[]; message: string }[] {
  const out = replicaSetSpecErrors({ ...spec, replicas: spec.replicas ?? 1 });
  const s = spec.updateStrategy;
  if (s?.type === 'OnDelete' && s.rollingUpdate) {
    out.push({ path: ['updateStrategy', 'rollingUpdate'], message: 'Forbidden: only allowed for updateStrategy \'RollingUpdate\'' });
  }
  const mu = s?.rollingUpdate?.maxUnavailable;
  if (mu !== undefined && mu !== 1) {
    out.push({
      path: ['updateStrategy', 'rollingUpdate', 'maxUnavailable'],
      message: `Forbidden: ${JSON.stringify(mu)}: maxUnavailable is a beta feature (MaxUnavailableStatefulSet) that mk does not serve; `
        + 'remove it (updates replace one pod at a time)',
    });
  }
  const names = new Set<string>();
  for (const [i, t] of (spec.volumeClaimTemplates ?? []).entries()) {
    if (names.has(t.metadata.name)) out.push({ path: ['volumeClaimTemplates', String(i), 'metadata', 'name'], message: `Duplicate value: "${t.metadata.name}"` });
    names.add(t.metadata.name);
  }
  for (const i of podSpecIssues(spec.template.spec, names)) out.push({ path: ['template', 'spec', ...i.path.map(String)], message: i.message });
  return out;
}

/** Status is the controller's: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const StatefulSetSchema = z.strictObject({
  apiVersion: z.literal('apps/v1').describe('The API version of the kind: `apps/v1`.'),
  kind: z.literal('StatefulSet').describe('The kind of object: `StatefulSet`.'),
  metadata: ObjectMeta.describe("The set's name, namespace, labels and the metadata the server keeps."),
  spec: StatefulSetSpec.superRefine((spec, ctx) => {
    for (const e of statefulSetSpecErrors(spec)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
  }).describe('How many replicas, which pods are the set\'s, their template and how a new template rolls out.'),
  status: z.unknown().optional().meta({
    title: 'StatefulSetStatus',
    description: 'What the controller last counted: replicas, readyReplicas, currentReplicas, updatedReplicas, availableReplicas, '
      + "currentRevision, updateRevision, observedGeneration, collisionCount and conditions. A manifest's status is ignored.",
  }),
}).superRefine((o, ctx) => {
  // Each pod's name is its hostname, so the last one must still be a DNS-1123 label.
  const last = lastPodName(o.metadata.name, o.spec);
  const bad = dns1123LabelError(last);
  if (bad) ctx.addIssue({ code: 'custom', path: ['metadata', 'name'], message: `Invalid value: "${o.metadata.name}": the pod name "${last}" would be invalid: ${bad}` });
}).meta({ title: 'StatefulSet' });

/** A StatefulSet condition (mk writes none yet; kept for manifests from Kubernetes). */
export interface StatefulSetCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/stateful-set-v1/#StatefulSetStatus */
export interface StatefulSetStatus {
  replicas: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  observedGeneration?: number;
  collisionCount?: number;
  conditions?: StatefulSetCondition[];
}

export interface StatefulSet {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet';
  metadata: Meta;
  spec: StatefulSetSpec;
  status?: StatefulSetStatus;
}

/**
 * Kubernetes' defaults (pkg/apis/apps/v1/defaults.go SetDefaults_StatefulSet): one replica,
 * OrderedReady, RollingUpdate with partition 0, 10 revisions, ordinals from 0, claims retained,
 * the template's pod defaults.
 */
export function defaultStatefulSet(sts: StatefulSet): StatefulSet {
  const asPod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: sts.metadata.name }, spec: sts.spec.template.spec } as Pod;
  const type = sts.spec.updateStrategy?.type ?? 'RollingUpdate';
  const updateStrategy: StatefulSetUpdateStrategy = type === 'OnDelete' ? { type } : {
    type, rollingUpdate: { ...sts.spec.updateStrategy?.rollingUpdate, partition: sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0 },
  };
  const retention = sts.spec.persistentVolumeClaimRetentionPolicy;
  return {
    ...sts,
    spec: {
      ...sts.spec,
      replicas: sts.spec.replicas ?? 1,
      podManagementPolicy: sts.spec.podManagementPolicy ?? 'OrderedReady',
      updateStrategy,
      revisionHistoryLimit: sts.spec.revisionHistoryLimit ?? 10,
      minReadySeconds: sts.spec.minReadySeconds ?? 0,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: retention?.whenDeleted ?? 'Retain', whenScaled: retention?.whenScaled ?? 'Retain' },
      template: { ...sts.spec.template, spec: defaultPod(asPod).spec },
    },
  };
}
