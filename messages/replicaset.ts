/**
 * The apps/v1 ReplicaSet kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/replica-set-v1/ that mk
 * keeps. The selector is checked as Kubernetes checks it: required, not empty, and matching the
 * template's labels, so that the set's own pods are always selected by it.
 */
import { z } from 'zod';
import { labelValueError, qualifiedNameError } from './label-syntax';
import { selectorEmpty, selectorMatches } from './label-selector';
import { ObjectMeta, type ObjectMeta as Meta } from './meta';
import { defaultPod, PodSpec, type Pod } from './pod';
import { LabelSelector } from './scheduling';

/** The metadata of a pod template: what every pod made from it carries. */
export const PodTemplateMeta = ObjectMeta.pick({ name: true, labels: true, annotations: true }).partial()
  .meta({ title: 'PodTemplateMeta' });

export const PodTemplateSpec = z.strictObject({
  metadata: PodTemplateMeta.optional().describe(
    "The labels and annotations every pod made from the template gets; the labels must satisfy the selector. "
    + 'A name here is ignored: pods are named after their owner and a random suffix.',
  ),
  spec: PodSpec.describe('The spec of every pod made from the template, written as a pod\'s spec.'),
}).meta({ title: 'PodTemplateSpec' });
export type PodTemplateSpec = z.infer<typeof PodTemplateSpec>;

/** LabelSelector, with Kubernetes' wording when it is missing. */
const RequiredSelector = z.strictObject(LabelSelector.shape, {
  error: (iss) => (iss.input === undefined ? 'Required value: give matchLabels or matchExpressions that the template\'s labels satisfy' : undefined),
}).meta({ title: 'LabelSelector', description: 'Selects objects by label; an empty selector selects every object.' });

export const ReplicaSetSpec = z.strictObject({
  replicas: z.number().int().min(0, 'replicas must be 0 or more').optional().describe(
    'How many pods the set keeps running: 1 when omitted. `mk scale` changes it.',
  ),
  minReadySeconds: z.number().int().min(0).optional().describe(
    'How long a pod must have been ready, in seconds, before it counts as available; 0 when omitted.',
  ),
  selector: RequiredSelector.describe(
    "The labels of the set's pods: it counts, adopts and keeps the pods this selects. "
    + "Required, not empty, and the template's labels must satisfy it.",
  ),
  template: PodTemplateSpec.describe('The pod the set makes whenever it has fewer than replicas.'),
}).meta({ title: 'ReplicaSetSpec' });
export type ReplicaSetSpec = z.infer<typeof ReplicaSetSpec>;

/** Why `spec` is invalid as Kubernetes' validation says it, one message per problem. */
export function replicaSetSpecErrors(spec: ReplicaSetSpec): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  const sel = spec.selector;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    const bad = qualifiedNameError(k) ?? labelValueError(v);
    if (bad) out.push({ path: ['selector', 'matchLabels', k], message: `invalid label ${JSON.stringify(`${k}=${v}`)}: ${bad}` });
  }
  for (const [i, r] of (sel.matchExpressions ?? []).entries()) {
    const bad = qualifiedNameError(r.key) ?? (r.values ?? []).map(labelValueError).find((e) => e);
    if (bad) out.push({ path: ['selector', 'matchExpressions', String(i)], message: bad });
  }
  if (selectorEmpty(sel)) {
    out.push({ path: ['selector'], message: 'Required value: an empty selector would select every pod; give matchLabels or matchExpressions' });
  } else if (!selectorMatches(sel, spec.template.metadata?.labels)) {
    out.push({
      path: ['template', 'metadata', 'labels'],
      message: `Invalid value: ${JSON.stringify(spec.template.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\``,
    });
  }
  const policy = spec.template.spec.restartPolicy;
  if (policy && policy !== 'Always') {
    out.push({ path: ['template', 'spec', 'restartPolicy'], message: `Unsupported value: "${policy}": supported values: "Always"` });
  }
  return out;
}

/** Status is the controller's: a manifest may carry one (from `get -o yaml`), and it is ignored. */
export const ReplicaSetSchema = z.strictObject({
  apiVersion: z.literal('apps/v1').describe('The API version of the kind: `apps/v1`.'),
  kind: z.literal('ReplicaSet').describe('The kind of object: `ReplicaSet`.'),
  metadata: ObjectMeta.describe("The set's name, namespace, labels and the metadata the server keeps."),
  spec: ReplicaSetSpec.superRefine((spec, ctx) => {
    for (const e of replicaSetSpecErrors(spec)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
  }).describe('How many pods to keep, which pods are the set\'s, and the template new ones are made from.'),
  status: z.unknown().optional().meta({
    title: 'ReplicaSetStatus',
    description: 'What the controller last counted: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas, '
      + "observedGeneration and conditions (ReplicaFailure when pods cannot be made). A manifest's status is ignored.",
  }),
}).meta({ title: 'ReplicaSet' });

/** A ReplicaSet condition (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/replica-set-v1/#ReplicaSetStatus). */
export interface ReplicaSetCondition {
  type: 'ReplicaFailure';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaSetCondition[];
}

export interface ReplicaSet {
  apiVersion: 'apps/v1';
  kind: 'ReplicaSet';
  metadata: Meta;
  spec: ReplicaSetSpec;
  status?: ReplicaSetStatus;
}

/** Kubernetes' defaults: one replica, no minReadySeconds, and the template's pod defaults. */
export function defaultReplicaSet(rs: ReplicaSet): ReplicaSet {
  const asPod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: rs.metadata.name }, spec: rs.spec.template.spec } as Pod;
  return {
    ...rs,
    spec: {
      ...rs.spec,
      replicas: rs.spec.replicas ?? 1,
      minReadySeconds: rs.spec.minReadySeconds ?? 0,
      template: { ...rs.spec.template, spec: defaultPod(asPod).spec },
    },
  };
}
