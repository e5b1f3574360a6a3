import type { ControllerRevision, KubeObject } from '../../messages';
import { controllerRevisionModule } from './kind';

const rev = (image: string, revision: number): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'web-abc', namespace: 'default' },
  data: { spec: { template: { $patch: 'replace', spec: { containers: [{ name: 'c', image }] } } } }, revision,
} as ControllerRevision as unknown as KubeObject);

describe('controllerRevisionModule.admitUpdate', () => {
  const admit = controllerRevisionModule.admitUpdate!;
  it('lets metadata change', () => {
    const next = { ...rev('v1', 1), metadata: { name: 'web-abc', namespace: 'default', labels: { a: 'b' } } };
    expect(admit(rev('v1', 1), next)).toBe(next);
  });
  it('refuses a changed data or revision, naming the field', () => {
    expect(() => admit(rev('v1', 1), rev('v2', 1))).toThrow(/^ControllerRevision\.apps "web-abc" is invalid: data: Invalid value: .*"v2".*: field is immutable$/);
    expect(() => admit(rev('v1', 1), rev('v1', 2))).toThrow('ControllerRevision.apps "web-abc" is invalid: revision: Invalid value: 2: field is immutable');
  });
});
