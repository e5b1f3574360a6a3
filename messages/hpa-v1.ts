/**
 * autoscaling/v1 HorizontalPodAutoscaler manifests, converted to autoscaling/v2 when applied (as
 * the Kubernetes API server serves both versions of one object): targetCPUUtilizationPercentage
 * becomes a cpu Utilization metric. No zod here: the converted object is validated as v2.
 */

/** True for an autoscaling/v1 HorizontalPodAutoscaler manifest. */
export function isHpaV1(doc: Record<string, unknown>): boolean {
  return doc.apiVersion === 'autoscaling/v1' && doc.kind === 'HorizontalPodAutoscaler';
}

/**
 * The v2 form of a v1 manifest. Fields v1 does not have are passed on, so that v2's validation
 * names them; a manifest's status is dropped (the controller writes its own).
 */
export function hpaV1ToV2(doc: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, spec, ...rest } = doc;
  const out: Record<string, unknown> = { ...rest, apiVersion: 'autoscaling/v2' };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return { ...out, spec };
  const { targetCPUUtilizationPercentage: cpu, ...others } = spec as Record<string, unknown>;
  const v2: Record<string, unknown> = { ...others };
  if (cpu !== undefined) v2.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }];
  return { ...out, spec: v2 };
}
