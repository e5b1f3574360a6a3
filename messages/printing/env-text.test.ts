import { describePod } from './describe-pod';
import { envFromLines, envValueText } from './env-text';
import type { Pod } from '../pod';

describe('describing env sources', () => {
  it('says where each value comes from, as kubectl does', () => {
    expect(envValueText({ value: 'x' })).toBe('x');
    expect(envValueText({ valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } })).toBe('(v1:metadata.name)');
    expect(envValueText({ valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } })).toBe('(limits.cpu)');
    expect(envValueText({ valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } })).toBe("<set to the key 'k' of config map 'cfg'>\tOptional: false");
    expect(envValueText({ valueFrom: { secretKeyRef: { name: 's', key: 'pw', optional: true } } })).toBe("<set to the key 'pw' in secret 's'>\tOptional: true");
    expect(envFromLines([{ configMapRef: { name: 'cfg' } }, { secretRef: { name: 's' }, prefix: 'S_' }]))
      .toEqual(['cfg\tConfigMap\tOptional: false', "s\tSecret with prefix 'S_'\tOptional: false"]);
  });

  it('never shows a secret value in mk describe pod', () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'busybox', envFrom: [{ secretRef: { name: 'creds' } }], env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'pw' } } }] }] },
    };
    const text = describePod(pod, []);
    expect(text).toContain("PW:\t<set to the key 'pw' in secret 'creds'>");
    expect(text).toContain('Environment Variables from:');
  });
});
