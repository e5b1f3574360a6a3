import { DESCRIBE_TABWRITER, tabwrite } from '../../../cli/output/tabwriter';
import { describeDaemonSet } from '../../../messages/printing/describe-daemonset';
import type { DaemonSet, Pod } from '../../../messages';

const ds: DaemonSet = {
  apiVersion: 'apps/v1', kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'kube-system', uid: 'u', labels: { app: 'agent' } },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } },
    template: {
      metadata: { labels: { app: 'agent' } },
      spec: { nodeSelector: { role: 'edge' }, containers: [{ name: 'agent', image: 'busybox:1.36', ports: [{ containerPort: 9100 }] }] },
    },
  },
  status: {
    desiredNumberScheduled: 3, currentNumberScheduled: 2, numberMisscheduled: 1, numberReady: 2,
    numberAvailable: 1, updatedNumberScheduled: 2, observedGeneration: 1,
  },
};
const pod = (phase: 'Running' | 'Failed'): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] }, status: { phase } });

describe('mk describe ds', () => {
  it('prints what kubectl prints for a daemon set', () => {
    const out = tabwrite(describeDaemonSet(ds, [pod('Running'), pod('Running'), pod('Failed')], [], Date.now()), DESCRIBE_TABWRITER);
    expect(out).toMatch(/^Name: +agent$/m);
    expect(out).toMatch(/^Namespace: +kube-system$/m);
    expect(out).toMatch(/^Selector: +app=agent$/m);
    expect(out).toMatch(/^Node-Selector: +role=edge$/m);
    expect(out).toMatch(/^Desired Number of Nodes Scheduled: +3$/m);
    expect(out).toMatch(/^Current Number of Nodes Scheduled: +2$/m);
    expect(out).toMatch(/^Number of Nodes Scheduled with Up-to-date Pods: +2$/m);
    expect(out).toMatch(/^Number of Nodes Scheduled with Available Pods: +1$/m);
    expect(out).toMatch(/^Number of Nodes Misscheduled: +1$/m);
    expect(out).toMatch(/^Pods Status: +2 Running \/ 0 Waiting \/ 0 Succeeded \/ 1 Failed$/m);
    expect(out).toMatch(/^Update Strategy: +RollingUpdate \(max unavailable 25%, max surge 0\)$/m);
    expect(out).toMatch(/^Pod Template:\n {2}Labels: +app=agent\n {2}Containers:\n {4}agent:\n {6}Image: +busybox:1\.36\n {6}Port: +9100\/TCP$/m);
  });
});
