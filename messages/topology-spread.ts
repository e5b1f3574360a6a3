/**
 * Pod scheduling readiness and topology spread: scheduling gates hold a pod back from the
 * scheduler until every gate is removed
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/pod-scheduling-readiness/), and
 * topology spread constraints keep matching pods evenly spread over the domains of a node label
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/).
 * Schemas and their rules only; the scheduler's PodTopologySpread plugin reads them.
 */
import { z } from 'zod';
import { qualifiedNameError } from './label-syntax';
import { LabelSelector } from './scheduling';

/** A label-style key: `[prefix/]name`, checked as Kubernetes checks label keys. */
const QualifiedName = z.string().superRefine((key, ctx) => {
  const bad = qualifiedNameError(key);
  if (bad) ctx.addIssue({ code: 'custom', message: `"${key}" is not a qualified name: ${bad}` });
});

export const PodSchedulingGate = z.strictObject({
  name: QualifiedName.describe(
    'The name of the gate, a qualified name such as `example.com/quota-check`. Unique among the pod\'s gates.',
  ),
}).meta({ title: 'PodSchedulingGate' });
export type PodSchedulingGate = z.infer<typeof PodSchedulingGate>;

export const SchedulingGates = z.array(PodSchedulingGate).superRefine((gates, ctx) => {
  const seen = new Set<string>();
  gates.forEach((g, i) => {
    if (seen.has(g.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate scheduling gate "${g.name}"` });
    seen.add(g.name);
  });
}).meta({
  title: 'SchedulingGates',
  description: 'Gates that hold the pod back from scheduling: while any is listed the pod stays Pending with '
    + 'STATUS SchedulingGated. Gates are set when the pod is created and may only be removed later '
    + '(update, apply or patch); the pod is scheduled once none is left.',
});

/** The PodScheduled reason and message of a pod held by its gates (as Kubernetes words them). */
export const REASON_SCHEDULING_GATED = 'SchedulingGated';
export const MESSAGE_SCHEDULING_GATED = 'Scheduling is blocked due to non-empty scheduling gates';

/** True when the pod has scheduling gates left. */
export function isSchedulingGated(spec: { schedulingGates?: PodSchedulingGate[] }): boolean {
  return (spec.schedulingGates?.length ?? 0) > 0;
}

export const NodeInclusionPolicy = z.enum(['Honor', 'Ignore']);
export type NodeInclusionPolicy = z.infer<typeof NodeInclusionPolicy>;

export const TopologySpreadConstraint = z.strictObject({
  maxSkew: z.number().int().min(1, 'maxSkew must be at least 1').describe(
    'How unevenly the matching pods may be spread: the most by which the count in one domain may exceed the '
    + 'lowest count among the eligible domains (0 when there are fewer than minDomains). At least 1.',
  ),
  topologyKey: QualifiedName.describe(
    'The node label whose values are the domains, such as `topology.kubernetes.io/zone`, or `kubernetes.io/hostname` '
    + "for one domain per node (the node's name when it lacks the label). A node without the label is in no domain.",
  ),
  whenUnsatisfiable: z.enum(['DoNotSchedule', 'ScheduleAnyway']).describe(
    'DoNotSchedule keeps the pod off nodes where it would exceed maxSkew; ScheduleAnyway only prefers the nodes '
    + 'that lower the skew.',
  ),
  labelSelector: LabelSelector.optional().describe(
    "The pods counted in each domain, in the pod's namespace; none when omitted.",
  ),
  matchLabelKeys: z.array(QualifiedName).optional().describe(
    "Label keys whose values are taken from the incoming pod's labels and added to labelSelector, so that only pods "
    + 'with the same values (such as the same pod-template-hash) are counted. A key the pod lacks is ignored.',
  ),
  minDomains: z.number().int().min(1, 'minDomains must be at least 1').optional().describe(
    'With DoNotSchedule: the fewest eligible domains there should be. While there are fewer, the lowest count is '
    + 'taken as 0, so at most maxSkew matching pods go to each domain. Default 1.',
  ),
  nodeAffinityPolicy: NodeInclusionPolicy.optional().describe(
    "Honor (the default) counts pods only on nodes that match the pod's nodeSelector and required node affinity; "
    + 'Ignore counts every node.',
  ),
  nodeTaintsPolicy: NodeInclusionPolicy.optional().describe(
    'Honor counts pods only on nodes whose NoSchedule and NoExecute taints the pod tolerates; Ignore (the default) '
    + 'counts every node.',
  ),
}).superRefine((c, ctx) => {
  if (c.minDomains !== undefined && c.whenUnsatisfiable !== 'DoNotSchedule') {
    ctx.addIssue({ code: 'custom', path: ['minDomains'], message: 'minDomains may only be set with whenUnsatisfiable DoNotSchedule' });
  }
  if (c.matchLabelKeys?.length) {
    if (!c.labelSelector) {
      ctx.addIssue({ code: 'custom', path: ['matchLabelKeys'], message: 'matchLabelKeys needs a labelSelector' });
    }
    const inSelector = new Set([
      ...Object.keys(c.labelSelector?.matchLabels ?? {}),
      ...(c.labelSelector?.matchExpressions ?? []).map((e) => e.key),
    ]);
    c.matchLabelKeys.forEach((k, i) => {
      if (inSelector.has(k)) {
        ctx.addIssue({ code: 'custom', path: ['matchLabelKeys', i], message: `"${k}" is in labelSelector already; it may not be in matchLabelKeys too` });
      }
    });
  }
}).meta({ title: 'TopologySpreadConstraint' });
export type TopologySpreadConstraint = z.infer<typeof TopologySpreadConstraint>;

export const TopologySpreadConstraints = z.array(TopologySpreadConstraint).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const k = `${c.topologyKey} ${c.whenUnsatisfiable}`;
    if (seen.has(k)) {
      ctx.addIssue({
        code: 'custom', path: [i],
        message: `duplicate topology spread constraint for topologyKey "${c.topologyKey}" and whenUnsatisfiable ${c.whenUnsatisfiable}`,
      });
    }
    seen.add(k);
  });
}).meta({
  title: 'TopologySpreadConstraints',
  description: 'How the pod is spread with its peers over topology domains (zones, nodes); each constraint '
    + 'is either a rule (DoNotSchedule) or a preference (ScheduleAnyway). At most one per topologyKey and whenUnsatisfiable.',
});
