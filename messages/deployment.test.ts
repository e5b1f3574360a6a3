import { defaultDeployment, DeploymentSchema, type Deployment } from './deployment';

const manifest = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    ...spec,
  },
});
const problems = (m: unknown) => {
  const r = DeploymentSchema.safeParse(m);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('Deployment schema', () => {
  it('takes ints and percentages for maxSurge and maxUnavailable', () => {
    expect(problems(manifest({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%', maxUnavailable: 1 } } }))).toEqual([]);
    expect(problems(manifest({ strategy: { rollingUpdate: { maxSurge: 'lots' } } })).join()).toMatch(/maxSurge/);
  });
  it('refuses what Kubernetes refuses', () => {
    expect(problems(manifest({ selector: { matchLabels: { app: 'other' } } })).join()).toMatch(/`selector` does not match template `labels`/);
    expect(problems(manifest({ replicas: -1 })).join()).toMatch(/replicas must be 0 or more/);
    expect(problems(manifest({ strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } })).join()).toMatch(/may not be 0 when `maxSurge` is 0/);
    expect(problems(manifest({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } })).join()).toMatch(/may not be specified when strategy `type` is 'Recreate'/);
    expect(problems(manifest({ strategy: { rollingUpdate: { maxUnavailable: '150%' } } })).join()).toMatch(/must not be greater than 100%/);
    expect(problems(manifest({ revisionHistoryLimit: -1 })).join()).toMatch(/revisionHistoryLimit/);
  });
  it('defaults as Kubernetes does', () => {
    const d = defaultDeployment(DeploymentSchema.parse(manifest()) as Deployment);
    expect(d.spec).toMatchObject({
      replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, minReadySeconds: 0,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    });
    const r = defaultDeployment(DeploymentSchema.parse(manifest({ strategy: { type: 'Recreate' } })) as Deployment);
    expect(r.spec.strategy).toEqual({ type: 'Recreate' });
  });
});
