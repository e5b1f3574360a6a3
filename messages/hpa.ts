/**
 * The autoscaling/v2 HorizontalPodAutoscaler kind: the subset of
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v2/
 * that mk runs. Metrics are the pods' own usage (type Resource, cpu or memory); the other metric
 * types need adapters mk does not have, and are refused by name. Objects are strict: a field mk
 * does not support is reported by name, never dropped.
 */
import { z } from 'zod';
import { ObjectMeta, Quantity } from './meta';
import { parseQuantity } from './quantity';

/** The metric types Kubernetes knows that mk does not serve (they need custom or external metrics APIs). */
export const UNSERVED_METRIC_TYPES = ['Pods', 'Object', 'External', 'ContainerResource'] as const;

export const CrossVersionObjectReference = z.strictObject({
  apiVersion: z.string().optional().describe('The apiVersion of the target, such as `apps/v1`.'),
  kind: z.string().min(1, 'Required value').describe('The kind of the target: Deployment, ReplicaSet, or another kind with spec.replicas.'),
  name: z.string().min(1, 'Required value').describe('The name of the target, in the HPA\'s namespace.'),
}).meta({ title: 'CrossVersionObjectReference' });
export type CrossVersionObjectReference = z.infer<typeof CrossVersionObjectReference>;

export const MetricTarget = z.strictObject({
  type: z.enum(['Utilization', 'AverageValue', 'Value']).describe(
    'Utilization (averageUtilization, percent of the pods\' requests) or AverageValue (averageValue per pod). '
    + 'Value is not served for Resource metrics.',
  ),
  averageUtilization: z.number().int().min(1, 'must be greater than 0').optional().describe(
    'The target mean usage of the pods, as a percentage of what they request (type Utilization).',
  ),
  averageValue: Quantity.optional().describe('The target mean usage per pod, a quantity such as 200m or 64Mi (type AverageValue).'),
  value: Quantity.optional().describe('A total usage target; Resource metrics do not take it (Kubernetes refuses it too).'),
}).meta({ title: 'MetricTarget' });
export type MetricTarget = z.infer<typeof MetricTarget>;

export const ResourceMetricSource = z.strictObject({
  name: z.enum(['cpu', 'memory']).describe('The resource: cpu or memory.'),
  target: MetricTarget.describe('The value the autoscaler keeps the pods\' mean usage at.'),
}).meta({ title: 'ResourceMetricSource' });

export const MetricSpec = z.strictObject({
  type: z.string().describe('The metric type. mk serves Resource (the pods\' cpu or memory); Pods, Object, External and ContainerResource are refused.'),
  resource: ResourceMetricSource.optional().describe('The resource metric (type Resource).'),
  pods: z.unknown().optional().describe('A per-pod custom metric (type Pods): not served by mk.'),
  object: z.unknown().optional().describe('A metric of another object (type Object): not served by mk.'),
  external: z.unknown().optional().describe('A metric from outside the cluster (type External): not served by mk.'),
  containerResource: z.unknown().optional().describe('One container\'s resource (type ContainerResource): not served by mk.'),
}).meta({ title: 'MetricSpec' });
export type MetricSpec = z.infer<typeof MetricSpec>;

export const HPAScalingPolicy = z.strictObject({
  type: z.enum(['Pods', 'Percent']).describe('Pods: change by at most `value` pods; Percent: by at most `value` percent of the replicas.'),
  value: z.number().int().min(1, 'must be greater than 0').describe('How many pods, or what percentage, per period.'),
  periodSeconds: z.number().int().min(1, 'must be greater than 0').max(1800, 'must be less than or equal to 1800').describe(
    'The window (1 to 1800 s) over which the change is counted.',
  ),
}).meta({ title: 'HPAScalingPolicy' });
export type HPAScalingPolicy = z.infer<typeof HPAScalingPolicy>;

export const HPAScalingRules = z.strictObject({
  stabilizationWindowSeconds: z.number().int().min(0, 'must be greater than or equal to 0').max(3600, 'must be less than or equal to 3600')
    .optional().describe('Seconds of past recommendations considered before scaling (0 to 3600): up 0, down 300 when omitted.'),
  selectPolicy: z.enum(['Max', 'Min', 'Disabled']).optional().describe(
    'Which policy wins: Max (the largest change, the default), Min (the smallest), Disabled (no scaling this way).',
  ),
  policies: z.array(HPAScalingPolicy).optional().describe('How fast replicas may change; Kubernetes\' defaults when omitted.'),
}).meta({ title: 'HPAScalingRules' });
export type HPAScalingRules = z.infer<typeof HPAScalingRules>;

export const HorizontalPodAutoscalerBehavior = z.strictObject({
  scaleUp: HPAScalingRules.optional().describe('Rules for scaling up: no window; 100 % or 4 pods per 15 s, whichever is more.'),
  scaleDown: HPAScalingRules.optional().describe('Rules for scaling down: a 300 s window; up to 100 % per 15 s.'),
}).meta({ title: 'HorizontalPodAutoscalerBehavior' });
export type HorizontalPodAutoscalerBehavior = z.infer<typeof HorizontalPodAutoscalerBehavior>;

export const HorizontalPodAutoscalerSpec = z.strictObject({
  scaleTargetRef: CrossVersionObjectReference.describe('What is scaled: a Deployment, a ReplicaSet or another kind with spec.replicas.'),
  minReplicas: z.number().int().min(1, 'must be greater than or equal to 1').optional().describe('The fewest replicas: 1 when omitted.'),
  maxReplicas: z.number().int().min(1, 'must be greater than or equal to 1').describe('The most replicas (required).'),
  metrics: z.array(MetricSpec).optional().describe('What is measured; cpu at 80 % of the requests when omitted. The largest proposal wins.'),
  behavior: HorizontalPodAutoscalerBehavior.optional().describe('How fast it scales up and down; Kubernetes\' defaults when omitted.'),
}).meta({ title: 'HorizontalPodAutoscalerSpec' });
export type HorizontalPodAutoscalerSpec = z.infer<typeof HorizontalPodAutoscalerSpec>;

/** Why `spec` is invalid, one message per problem (Kubernetes' validation, and what mk does not serve). */
export function hpaSpecErrors(spec: HorizontalPodAutoscalerSpec): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  if (spec.minReplicas !== undefined && spec.minReplicas > spec.maxReplicas) {
    out.push({ path: ['minReplicas'], message: `Invalid value: ${spec.minReplicas}: must be less than or equal to maxReplicas (${spec.maxReplicas})` });
  }
  (spec.metrics ?? []).forEach((m, i) => {
    if ((UNSERVED_METRIC_TYPES as readonly string[]).includes(m.type)) {
      out.push({ path: ['metrics', i, 'type'], message: `Unsupported value: "${m.type}": mk does not serve ${m.type} metrics, only Resource (the pods' cpu or memory)` });
      return;
    }
    if (m.type !== 'Resource') {
      out.push({ path: ['metrics', i, 'type'], message: `Unsupported value: "${m.type}": supported values: "Resource"` });
      return;
    }
    for (const other of ['pods', 'object', 'external', 'containerResource'] as const) {
      if (m[other] !== undefined) out.push({ path: ['metrics', i, other], message: 'Forbidden: must be empty for a metric of type Resource' });
    }
    const r = m.resource;
    if (!r) { out.push({ path: ['metrics', i, 'resource'], message: 'Required value: must be set for a metric of type Resource' }); return; }
    const t = r.target;
    const at = ['metrics', i, 'resource', 'target'];
    if (t.type === 'Value' || t.value !== undefined) {
      out.push({ path: [...at, 'value'], message: 'Forbidden: a Resource metric targets averageUtilization or averageValue, not value' });
    }
    if (t.type === 'Utilization' && t.averageUtilization === undefined) out.push({ path: [...at, 'averageUtilization'], message: 'Required value: must be set for type Utilization' });
    if (t.type === 'AverageValue' && t.averageValue === undefined) out.push({ path: [...at, 'averageValue'], message: 'Required value: must be set for type AverageValue' });
    if (t.type === 'AverageValue' && t.averageValue !== undefined && !(parseQuantity(t.averageValue)! > 0)) {
      out.push({ path: [...at, 'averageValue'], message: `Invalid value: "${t.averageValue}": must be positive` });
    }
    if (t.averageUtilization !== undefined && t.averageValue !== undefined) {
      out.push({ path: at, message: 'Invalid value: may not set both averageUtilization and averageValue' });
    }
  });
  for (const dir of ['scaleUp', 'scaleDown'] as const) {
    const rules = spec.behavior?.[dir];
    if (rules?.policies && rules.policies.length === 0) {
      out.push({ path: ['behavior', dir, 'policies'], message: 'Required value: must specify at least one Policy' });
    }
  }
  return out;
}

/** A metric's current value as status reports it. */
export interface MetricValueStatus { averageUtilization?: number; averageValue?: string }

/** One entry of status.currentMetrics. */
export interface MetricStatus { type: 'Resource'; resource: { name: 'cpu' | 'memory'; current: MetricValueStatus } }

/** An HPA condition: AbleToScale, ScalingActive, ScalingLimited. */
export interface HorizontalPodAutoscalerCondition {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface HorizontalPodAutoscalerStatus {
  observedGeneration?: number;
  /** When the target was last scaled (RFC 3339). */
  lastScaleTime?: string;
  currentReplicas?: number;
  desiredReplicas?: number;
  currentMetrics?: MetricStatus[];
  conditions?: HorizontalPodAutoscalerCondition[];
}

export const HorizontalPodAutoscalerSchema = z.strictObject({
  apiVersion: z.literal('autoscaling/v2').describe('The API version of the kind: `autoscaling/v2`.'),
  kind: z.literal('HorizontalPodAutoscaler').describe('The kind of object: `HorizontalPodAutoscaler`.'),
  metadata: ObjectMeta.describe("The autoscaler's name, namespace, labels and the metadata the server keeps."),
  spec: HorizontalPodAutoscalerSpec.superRefine((spec, ctx) => {
    for (const e of hpaSpecErrors(spec)) ctx.addIssue({ code: 'custom', path: e.path, message: e.message });
  }).describe('What is scaled, between how many replicas, on which metrics and how fast.'),
  status: z.unknown().optional().meta({
    title: 'HorizontalPodAutoscalerStatus',
    description: 'What the autoscaler last observed: currentReplicas, desiredReplicas, lastScaleTime, currentMetrics and '
      + "conditions AbleToScale, ScalingActive and ScalingLimited. A manifest's status is ignored.",
  }),
}).meta({ title: 'HorizontalPodAutoscaler' });

export interface HorizontalPodAutoscaler {
  apiVersion: 'autoscaling/v2';
  kind: 'HorizontalPodAutoscaler';
  metadata: ObjectMeta;
  spec: HorizontalPodAutoscalerSpec;
  status?: HorizontalPodAutoscalerStatus;
}

/** Kubernetes' scaling rules when none are given (pkg/apis/autoscaling/v2/defaults.go). */
export const DEFAULT_SCALE_UP: Required<HPAScalingRules> = {
  stabilizationWindowSeconds: 0, selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }],
};
export const DEFAULT_SCALE_DOWN: Required<HPAScalingRules> = {
  stabilizationWindowSeconds: 300, selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** The utilization target when an HPA names no metric (Kubernetes' default: cpu at 80 %). */
export const DEFAULT_CPU_UTILIZATION = 80;

/**
 * Kubernetes' defaulting of autoscaling/v2: minReplicas 1, a cpu 80 % metric when none is given,
 * and each side of behavior filled field by field.
 */
export function defaultHpa(hpa: HorizontalPodAutoscaler): HorizontalPodAutoscaler {
  const spec = { ...hpa.spec };
  spec.minReplicas ??= 1;
  if (!spec.metrics || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  const fill = (r: HPAScalingRules | undefined, d: Required<HPAScalingRules>): Required<HPAScalingRules> => ({
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: r?.selectPolicy ?? d.selectPolicy,
    policies: r?.policies ?? d.policies.map((p) => ({ ...p })),
  });
  spec.behavior = { scaleUp: fill(spec.behavior?.scaleUp, DEFAULT_SCALE_UP), scaleDown: fill(spec.behavior?.scaleDown, DEFAULT_SCALE_DOWN) };
  return { ...hpa, spec };
}

/** `cpu resource utilization (percentage of request)`, the words Kubernetes' events and conditions use for a metric. */
export function metricDescription(m: MetricSpec): string {
  const r = m.resource;
  if (!r) return `${m.type} metric`;
  return r.target.type === 'Utilization' ? `${r.name} resource utilization (percentage of request)` : `${r.name} resource`;
}
