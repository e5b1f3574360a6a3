import { DESCRIBE_TABWRITER, tabwrite } from '../../../cli/output/tabwriter';
import { describeDeployment } from '../../../messages/printing/describe-deployment';
import type { Deployment, ReplicaSet } from '../../../messages';

const d: Deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', uid: 'u', annotations: { 'deployment.kubernetes.io/revision': '2' } },
  spec: {
    replicas: 3, selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'httpd', image: 'busybox:1.37' }] } },
  },
  status: {
    replicas: 4, updatedReplicas: 2, availableReplicas: 3, unavailableReplicas: 0,
    conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }],
  },
};
const rs = (name: string, revision: string, replicas: number): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet',
  metadata: { name, annotations: { 'deployment.kubernetes.io/revision': revision } },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } } },
  status: { replicas },
});

describe('mk describe deploy', () => {
  it('prints what kubectl prints for a deployment mid-rollout', () => {
    const out = tabwrite(describeDeployment(d, [rs('web-old', '1', 2), rs('web-new', '2', 2)], [], Date.now()), DESCRIBE_TABWRITER);
    expect(out).toMatch(/^Name: +web$/m);
    expect(out).toMatch(/^Selector: +app=web$/m);
    expect(out).toMatch(/^Replicas: +3 desired \| 2 updated \| 4 total \| 3 available \| 0 unavailable$/m);
    expect(out).toMatch(/^StrategyType: +RollingUpdate$/m);
    expect(out).toMatch(/^RollingUpdateStrategy: +25% max unavailable, 1 max surge$/m);
    expect(out).toMatch(/^ {2}Progressing +True +ReplicaSetUpdated$/m);
    expect(out).toMatch(/^OldReplicaSets: +web-old \(2\/2 replicas created\)$/m);
    expect(out).toMatch(/^NewReplicaSet: +web-new \(2\/2 replicas created\)$/m);
  });
});
