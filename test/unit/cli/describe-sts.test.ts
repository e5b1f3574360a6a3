import { DESCRIBE_TABWRITER, tabwrite } from '../../../cli/output/tabwriter';
import { describeStatefulSet } from '../../../messages/printing/describe-statefulset';
import { StatefulSetKind } from '../../../messages/kinds/statefulset';
import type { KubeObject, Pod, StatefulSet } from '../../../messages';

const sts: StatefulSet = {
  apiVersion: 'apps/v1', kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'prod', uid: 'u', labels: { app: 'web' }, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: {
    serviceName: 'nginx', replicas: 3, podManagementPolicy: 'OrderedReady',
    selector: { matchLabels: { app: 'web' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }, { name: 'side', image: 'busybox' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } }],
  },
  status: { replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 0, observedGeneration: 1 },
};
const pod = (phase: 'Running' | 'Pending'): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] }, status: { phase } });

describe('mk get sts and mk describe sts', () => {
  it("prints kubectl's columns: NAME READY AGE, and CONTAINERS IMAGES with -o wide", () => {
    const cols = StatefulSetKind.columns;
    expect(cols.map((c) => c.name)).toEqual(['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES']);
    expect(cols.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(['CONTAINERS', 'IMAGES']);
    const row = cols.map((c) => c.value(sts as unknown as KubeObject, Date.parse('2026-01-01T00:05:00Z')));
    expect(row).toEqual(['web', '2/3', '5m', 'nginx,side', 'nginx:1.27,busybox']);
    expect(StatefulSetKind).toMatchObject({ shortNames: ['sts'], scalable: true, apiVersion: 'apps/v1' });
  });

  it('describes what kubectl describes for a stateful set', () => {
    const out = tabwrite(describeStatefulSet(sts, [pod('Running'), pod('Running'), pod('Pending')], [], Date.now()), DESCRIBE_TABWRITER);
    expect(out).toMatch(/^Name: +web$/m);
    expect(out).toMatch(/^Namespace: +prod$/m);
    expect(out).toMatch(/^Selector: +app=web$/m);
    expect(out).toMatch(/^Replicas: +3 desired \| 2 total$/m);
    expect(out).toMatch(/^Update Strategy: +RollingUpdate\n {2}Partition: +1$/m);
    expect(out).toMatch(/^Pod Management Policy: +OrderedReady$/m);
    expect(out).toMatch(/^Pods Status: +2 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(out).toMatch(/^Pod Template:\n {2}Labels: +app=web\n {2}Containers:\n {4}nginx:\n {6}Image: +nginx:1\.27$/m);
    expect(out).toMatch(/^Volume Claims:\s*\n {2}Name: +www\n {2}StorageClass: +fast\n {2}Labels: +<none>\n {2}Capacity: +1Gi\n {2}Access Modes: +ReadWriteOnce$/m);
  });
});
