import { isValidation, type KubeObject, type StatefulSet } from '../../messages';
import { admitCreate, admitUpdate } from '../api/admission';
import { statefulSetModule } from './kind';

const sts = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web' },
  spec: {
    serviceName: 'nginx', selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } },
    ...spec,
  },
} as KubeObject);
const claims = { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] };
const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
};

describe('StatefulSet admission', () => {
  it('defaults a new set and starts its status at 0 replicas', () => {
    const made = admitCreate(statefulSetModule, sts(), 'default', new Date()) as unknown as StatefulSet;
    expect(made.spec).toMatchObject({ replicas: 1, podManagementPolicy: 'OrderedReady' });
    expect(made.status).toEqual({ replicas: 0 });
  });

  it('admits volumeClaimTemplates on create, and refuses them changed on update', () => {
    const made = admitCreate(statefulSetModule, sts(claims), 'default', new Date()) as unknown as StatefulSet;
    expect(made.spec.volumeClaimTemplates).toEqual(claims.volumeClaimTemplates);
    expect(made.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    const existing = admitCreate(statefulSetModule, sts(), 'default', new Date());
    const err = thrown(() => admitUpdate(statefulSetModule, existing, sts(claims)));
    expect(isValidation(err)).toBe(true);
    expect(err.message).toMatch(/spec: Forbidden: updates to statefulset spec for fields other than .* \(changed: volumeClaimTemplates\)/);
  });

  it('lets an update change replicas, template, strategy and retention, and nothing else', () => {
    const existing = admitCreate(statefulSetModule, sts(), 'default', new Date());
    const next = admitUpdate(statefulSetModule, existing, sts({
      replicas: 5, minReadySeconds: 3, updateStrategy: { type: 'OnDelete' }, ordinals: { start: 1 },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' }, revisionHistoryLimit: 2,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v2' }] } },
    })) as unknown as StatefulSet;
    expect(next.spec).toMatchObject({ replicas: 5, updateStrategy: { type: 'OnDelete' } });
    expect(() => admitUpdate(statefulSetModule, existing, sts({ serviceName: 'other', podManagementPolicy: 'Parallel' })))
      .toThrow(/spec: Forbidden: updates to statefulset spec for fields other than .* are forbidden \(changed: podManagementPolicy, serviceName\)/);
    expect(() => admitUpdate(statefulSetModule, existing, sts({ selector: { matchLabels: { app: 'web', x: 'y' } } })))
      .toThrow(/spec\.selector: Invalid value: .*field is immutable/);
  });
});
