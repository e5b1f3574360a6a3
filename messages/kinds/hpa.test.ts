import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { defaultHpa, type HorizontalPodAutoscaler } from '../hpa';
import { validateManifest } from '../manifest';
import type { KubeObject } from '../meta';
import { HorizontalPodAutoscalerKind } from './hpa';

const NOW = Date.parse('2026-01-01T01:00:00Z');
const manifest = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 10, ...spec },
});
const cpu = (averageUtilization: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } });
const problems = (doc: unknown): string => {
  try { validateManifest(doc); } catch (e) { return (e as Error).message; }
  return 'valid';
};
const row = (o: unknown) => Object.fromEntries(HorizontalPodAutoscalerKind.columns.map((c) => [c.name, c.value(o as KubeObject, NOW)]));

describe('the HorizontalPodAutoscaler kind', () => {
  it("defaults like Kubernetes: minReplicas 1, cpu at 80 %, the behavior's windows and policies", () => {
    const { object } = validateManifest(manifest());
    const d = defaultHpa(object as unknown as HorizontalPodAutoscaler);
    expect(d.spec.minReplicas).toBe(1);
    expect(d.spec.metrics).toEqual([cpu(80)]);
    expect(d.spec.behavior?.scaleUp).toEqual({ stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [
      { type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }] });
    expect(d.spec.behavior?.scaleDown).toEqual({ stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
    const kept = defaultHpa(validateManifest(manifest({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } })).object as unknown as HorizontalPodAutoscaler);
    expect(kept.spec.behavior?.scaleDown).toMatchObject({ stabilizationWindowSeconds: 60, selectPolicy: 'Max' });
  });

  it('refuses bad specs, naming the field', () => {
    expect(problems(manifest({ maxReplicas: undefined }))).toMatch(/spec\.maxReplicas/);
    expect(problems(manifest({ minReplicas: 5, maxReplicas: 2 }))).toMatch(/spec\.minReplicas: Invalid value: 5: must be less than or equal to maxReplicas \(2\)/);
    expect(problems(manifest({ minReplicas: 0 }))).toMatch(/spec\.minReplicas: must be greater than or equal to 1/);
    expect(problems(manifest({ metrics: [cpu(0)] }))).toMatch(/averageUtilization: must be greater than 0/);
    expect(problems(manifest({ metrics: [{ type: 'Resource', resource: { name: 'gpu', target: { type: 'Utilization', averageUtilization: 5 } } }] })))
      .toMatch(/spec\.metrics\[0\]\.resource\.name/);
    expect(problems(manifest({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] })))
      .toMatch(/averageUtilization: Required value/);
    expect(problems(manifest({ behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 3600 }] } } })))
      .toMatch(/periodSeconds: must be less than or equal to 1800/);
    expect(problems(manifest({ behavior: { scaleDown: { selectPolicy: 'Sometimes' } } }))).toMatch(/selectPolicy/);
    expect(problems(manifest({ scaleTargetRef: { kind: 'Deployment' } }))).toMatch(/scaleTargetRef\.name/);
    expect(problems(manifest({ bogus: 1 }))).toMatch(/unknown field "spec\.bogus"/);
  });

  it('refuses Pods, Object, External and ContainerResource metrics, saying mk does not serve them', () => {
    for (const type of ['Pods', 'Object', 'External', 'ContainerResource']) {
      const key = type[0].toLowerCase() + type.slice(1);
      expect(problems(manifest({ metrics: [{ type, [key]: { metric: { name: 'x' } } }] })))
        .toMatch(new RegExp(`spec\\.metrics\\[0\\]\\.type: Unsupported value: "${type}": mk does not serve ${type} metrics`));
    }
    expect(problems(manifest({ metrics: [{ type: 'Weather' }] }))).toMatch(/supported values: "Resource"/);
  });

  it('takes autoscaling/v1 manifests as v2, targetCPUUtilizationPercentage becoming a cpu metric', () => {
    const { kind, object } = validateManifest({
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 },
    });
    expect(kind).toBe(HorizontalPodAutoscalerKind);
    expect(object).toMatchObject({ apiVersion: 'autoscaling/v2', spec: { minReplicas: 2, maxReplicas: 5, metrics: [cpu(70)] } });
    expect(problems({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { maxReplicas: 3 } }))
      .toMatch(/scaleTargetRef/);
  });

  it("prints kubectl's columns: TARGETS as current/target, <unknown> without metrics", () => {
    const h = { ...manifest({ minReplicas: 2, metrics: [cpu(80)] }), metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' } };
    expect(row(h)).toEqual({ NAME: 'web', REFERENCE: 'Deployment/web', TARGETS: 'cpu: <unknown>/80%', MINPODS: '2', MAXPODS: '10', REPLICAS: '0', AGE: '60m' });
    const measured = { ...h, status: { currentReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '90m' } } }] } };
    expect(row(measured)).toMatchObject({ TARGETS: 'cpu: 45%/80%', REPLICAS: '3' });
    const avg = manifest({ metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }] });
    expect(row(avg).TARGETS).toBe('memory: <unknown>/100Mi');
  });

  it('describes the reference, metrics, bounds, behavior and conditions', () => {
    const h = defaultHpa({ ...manifest({ metrics: [cpu(80)] }), metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' } } as unknown as HorizontalPodAutoscaler);
    h.status = { currentReplicas: 2, desiredReplicas: 2, conditions: [{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'no metrics' }] };
    const text = HorizontalPodAutoscalerKind.describer!.describe(h as unknown as KubeObject, { related: [], events: [], now: NOW });
    expect(text).toMatch(/^Reference:\s+Deployment\/web$/m);
    expect(text).toMatch(/resource cpu on pods\s+\(as a percentage of request\):\s+<unknown> \/ 80%/);
    expect(text).toMatch(/^Max replicas:\s+10$/m);
    expect(text).toMatch(/Stabilization Window: 300 seconds/);
    expect(text).toMatch(/^Deployment pods:\s+2 current \/ 2 desired$/m);
    expect(text).toMatch(/ScalingActive\s+False\s+FailedGetResourceMetric\s+no metrics/);
  });
});

describe('examples/hpa.yaml', () => {
  it('is a valid HorizontalPodAutoscaler for the example Deployment', () => {
    const { object } = validateManifest(load(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'hpa.yaml'), 'utf8')));
    expect(object.spec).toMatchObject({ scaleTargetRef: { kind: 'Deployment', name: 'web-deploy' }, minReplicas: 2, maxReplicas: 6 });
  });
});
