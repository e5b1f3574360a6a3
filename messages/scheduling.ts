/**
 * What places pods on nodes: taints and tolerations
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/), node affinity,
 * and pod affinity and anti-affinity
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/). Schemas only; the
 * scheduler's plugins read them.
 */
import { z } from 'zod';

export const TaintEffect = z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).meta({
  title: 'TaintEffect',
  description: 'NoSchedule keeps new pods off the node, PreferNoSchedule makes the scheduler avoid it when it can, NoExecute also evicts '
    + 'running pods that do not tolerate the taint.',
});
export type TaintEffect = z.infer<typeof TaintEffect>;

/** A qualified name as labels and taints use them: an optional DNS prefix and a name of at most 63 characters. */
const QualifiedKey = z.string().regex(
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
  'must be a qualified name: an optional DNS prefix and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
);

export const Taint = z.strictObject({
  key: QualifiedKey.describe('The taint key, such as `dedicated` or `node.kubernetes.io/unreachable`.'),
  value: z.string().optional().describe('The taint value; a toleration with operator Equal must name it.'),
  effect: TaintEffect.describe('What the taint does to pods that do not tolerate it.'),
  timeAdded: z.string().optional().describe('When a NoExecute taint was added (RFC 3339), set by the server; tolerationSeconds count from it.'),
}).meta({ title: 'Taint' });
export type Taint = z.infer<typeof Taint>;

export const Toleration = z.strictObject({
  key: z.string().optional().describe('The taint key the toleration matches; empty with operator Exists matches every taint.'),
  operator: z.enum(['Exists', 'Equal']).optional().describe(
    'Equal (the default) matches a taint with the same key and value; Exists matches any value of the key.',
  ),
  value: z.string().optional().describe('The taint value to match with operator Equal; must be empty with Exists.'),
  effect: TaintEffect.optional().describe('The effect to match; every effect when empty.'),
  tolerationSeconds: z.number().int().optional().describe(
    'For NoExecute taints: how long the pod stays on a node after the taint appears before it is evicted; forever when omitted. '
    + 'Zero or less evicts at once.',
  ),
}).superRefine((t, ctx) => {
  if (t.operator === 'Exists' && t.value) ctx.addIssue({ code: 'custom', message: 'a toleration with operator Exists must not have a value' });
  if (!t.key && t.operator !== 'Exists') ctx.addIssue({ code: 'custom', message: 'a toleration with an empty key must have operator Exists' });
  if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
    ctx.addIssue({ code: 'custom', message: 'tolerationSeconds is only allowed with effect NoExecute' });
  }
}).meta({ title: 'Toleration' });
export type Toleration = z.infer<typeof Toleration>;

export const LabelSelectorRequirement = z.strictObject({
  key: z.string().min(1).describe('The label key the requirement is about.'),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe(
    "In and NotIn compare the label's value with values; Exists and DoesNotExist ask only whether the label is there.",
  ),
  values: z.array(z.string()).optional().describe('The values for In and NotIn (at least one); empty for Exists and DoesNotExist.'),
}).superRefine((r, ctx) => {
  const n = r.values?.length ?? 0;
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) ctx.addIssue({ code: 'custom', message: `operator ${r.operator} needs values` });
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) ctx.addIssue({ code: 'custom', message: `operator ${r.operator} takes no values` });
}).meta({ title: 'LabelSelectorRequirement' });

export const LabelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional().describe('Labels that must each be present with exactly this value.'),
  matchExpressions: z.array(LabelSelectorRequirement).optional().describe('Requirements that must all hold.'),
}).meta({ title: 'LabelSelector', description: 'Selects objects by label; an empty selector selects every object.' });
export type LabelSelector = z.infer<typeof LabelSelector>;

export const NodeSelectorRequirement = z.strictObject({
  key: z.string().min(1).describe('The node label key (or field) the requirement is about.'),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']).describe(
    'In and NotIn compare with values; Exists and DoesNotExist test presence; Gt and Lt compare the value as an integer with the one value given.',
  ),
  values: z.array(z.string()).optional().describe('The values: at least one for In and NotIn, exactly one integer for Gt and Lt, none for the others.'),
}).superRefine((r, ctx) => {
  const n = r.values?.length ?? 0;
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) ctx.addIssue({ code: 'custom', message: `operator ${r.operator} needs values` });
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) ctx.addIssue({ code: 'custom', message: `operator ${r.operator} takes no values` });
  if (r.operator === 'Gt' || r.operator === 'Lt') {
    if (n !== 1 || !/^-?\d+$/.test(r.values![0])) ctx.addIssue({ code: 'custom', message: `operator ${r.operator} needs exactly one integer value` });
  }
}).meta({ title: 'NodeSelectorRequirement' });
export type NodeSelectorRequirement = z.infer<typeof NodeSelectorRequirement>;

export const NodeSelectorTerm = z.strictObject({
  matchExpressions: z.array(NodeSelectorRequirement).optional().describe("Requirements on the node's labels, all of which must hold."),
  matchFields: z.array(NodeSelectorRequirement).optional().describe('Requirements on the node\'s fields; `metadata.name` is the one field supported.'),
}).meta({ title: 'NodeSelectorTerm' });
export type NodeSelectorTerm = z.infer<typeof NodeSelectorTerm>;

export const NodeAffinity = z.strictObject({
  requiredDuringSchedulingIgnoredDuringExecution: z.strictObject({
    nodeSelectorTerms: z.array(NodeSelectorTerm).min(1).describe('Terms of which at least one must hold.'),
  }).meta({ title: 'NodeSelector' }).optional().describe('Nodes the pod may be placed on; a pod already running stays when labels change later.'),
  preferredDuringSchedulingIgnoredDuringExecution: z.array(z.strictObject({
    weight: z.number().int().min(1).max(100).describe('How much a node matching the term is preferred, 1 to 100.'),
    preference: NodeSelectorTerm.describe('The term a preferred node matches.'),
  }).meta({ title: 'PreferredSchedulingTerm' })).optional().describe('Nodes the scheduler prefers, by weight, among those that fit.'),
}).meta({ title: 'NodeAffinity' });
export type NodeAffinity = z.infer<typeof NodeAffinity>;

export const PodAffinityTerm = z.strictObject({
  labelSelector: LabelSelector.optional().describe('The pods this term is about; no pods when omitted.'),
  namespaces: z.array(z.string()).optional().describe("The namespaces those pods are looked for in; the pod's own when omitted."),
  topologyKey: z.string().min(1).describe(
    'The node label that defines "together": pods on nodes with the same value are in the same domain. '
    + '`kubernetes.io/hostname` means the same node (its name, should the node lack the label); a node without the label '
    + 'is in no domain: required affinity cannot be met there, and anti-affinity does not keep pods off it.',
  ),
}).meta({ title: 'PodAffinityTerm' });
export type PodAffinityTerm = z.infer<typeof PodAffinityTerm>;

const WeightedPodAffinityTerm = z.strictObject({
  weight: z.number().int().min(1).max(100).describe('How much the preference weighs, 1 to 100.'),
  podAffinityTerm: PodAffinityTerm.describe('The term that is preferred.'),
}).meta({ title: 'WeightedPodAffinityTerm' });
export type WeightedPodAffinityTerm = z.infer<typeof WeightedPodAffinityTerm>;

const podAffinityFields = (what: string) => ({
  requiredDuringSchedulingIgnoredDuringExecution: z.array(PodAffinityTerm).optional().describe(
    `Terms that must all hold: the pod goes only where it is ${what} the pods each term selects.`,
  ),
  preferredDuringSchedulingIgnoredDuringExecution: z.array(WeightedPodAffinityTerm).optional().describe(
    `Terms the scheduler prefers, by weight: being ${what} the pods they select.`,
  ),
});

export const PodAffinity = z.strictObject(podAffinityFields('together with')).meta({ title: 'PodAffinity' });
export type PodAffinity = z.infer<typeof PodAffinity>;
export const PodAntiAffinity = z.strictObject(podAffinityFields('apart from')).meta({ title: 'PodAntiAffinity' });
export type PodAntiAffinity = z.infer<typeof PodAntiAffinity>;

export const Affinity = z.strictObject({
  nodeAffinity: NodeAffinity.optional().describe('Which nodes the pod may go to, or prefers, by their labels.'),
  podAffinity: PodAffinity.optional().describe('Pods this pod should run next to.'),
  podAntiAffinity: PodAntiAffinity.optional().describe('Pods this pod should run away from.'),
}).meta({ title: 'Affinity' });
export type Affinity = z.infer<typeof Affinity>;

/** The taints the node lifecycle sets (https://kubernetes.io/docs/reference/labels-annotations-taints/). */
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/**
 * Whether a toleration matches a taint: the effect (any when empty), the key (an empty key with
 * Exists matches every taint), then the value by operator (Equal is the default).
 */
export function tolerationMatches(tol: Toleration, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (!tol.key) return tol.operator === 'Exists';
  if (tol.key !== taint.key) return false;
  if (tol.operator === 'Exists') return true;
  return (tol.value ?? '') === (taint.value ?? '');
}

const INTEGER = /^[+-]?\d+$/;

/**
 * One requirement against a value (undefined: the label is absent). Gt and Lt compare integers:
 * a label that is no integer, or a requirement without exactly one integer, matches nothing.
 */
export function matchesRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !INTEGER.test(value) || !INTEGER.test(values[0])) return false;
      const have = BigInt(value);
      const want = BigInt(values[0]);
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default: return false;
  }
}

/**
 * One term against a node: every matchExpressions requirement on its labels and every matchFields
 * requirement on its fields (only `metadata.name`, with In or NotIn, as Kubernetes allows). An
 * empty term matches no node.
 */
export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: { metadata: { name: string; labels?: Record<string, string> } }): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of exprs) {
    const value = Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined;
    if (!matchesRequirement(r, value)) return false;
  }
  for (const r of fields) {
    if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
    if (!matchesRequirement(r, node.metadata.name)) return false;
  }
  return true;
}
