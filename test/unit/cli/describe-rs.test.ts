import { DESCRIBE_TABWRITER, tabwrite } from '../../../cli/output/tabwriter';
import { describeReplicaSet } from '../../../messages/printing/describe-replicaset';
import type { Pod, ReplicaSet } from '../../../messages';

const rs: ReplicaSet = {
  apiVersion: 'apps/v1', kind: 'ReplicaSet',
  metadata: { name: 'web', namespace: 'default', uid: 'u', labels: { app: 'web', tier: 'front' } },
  spec: {
    replicas: 3, selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'httpd', image: 'busybox:1.36', ports: [{ containerPort: 8080 }] }] } },
  },
  status: { replicas: 2, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota' }] },
};
const pod = (phase: 'Running' | 'Pending'): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] }, status: { phase } });

describe('mk describe rs', () => {
  it('prints what kubectl prints for a replica set', () => {
    const out = tabwrite(describeReplicaSet(rs, [pod('Running'), pod('Pending')], [], Date.now()), DESCRIBE_TABWRITER);
    expect(out).toMatch(/^Name: +web$/m);
    expect(out).toMatch(/^Selector: +app=web$/m);
    expect(out).toMatch(/^Labels: +app=web\n +tier=front$/m);
    expect(out).toMatch(/^Replicas: +2 current \/ 3 desired$/m);
    expect(out).toMatch(/^Pods Status: +1 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(out).toMatch(/^Pod Template:\n {2}Labels: +app=web\n {2}Containers:\n {4}httpd:\n {6}Image: +busybox:1\.36\n {6}Port: +8080\/TCP$/m);
    expect(out).toMatch(/^Conditions:\n {2}Type +Status +Reason\n {2}-+ +-+ +-+\n {2}ReplicaFailure +True +FailedCreate$/m);
  });
});
