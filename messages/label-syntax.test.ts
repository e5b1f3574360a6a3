import { isValidation, ValidationError } from './errors';
import { labelValueError, qualifiedNameError } from './label-syntax';
import { validateManifest } from './manifest';

const pod = (metadata: Record<string, unknown>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', ...metadata }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

describe('label and annotation syntax', () => {
  it.each(['app', 'app.kubernetes.io/name', 'a_b-c.d', 'example.com/X9'])('accepts the key %s', (k) => expect(qualifiedNameError(k)).toBeNull());
  it.each([['', '1 to 63'], ['-a', 'start and end'], ['a b', 'alphanumeric'], ['Ex_ample/x', 'prefix'], ['/x', 'prefix'], ['p/', '1 to 63'], ['x'.repeat(64), '1 to 63']])(
    'refuses the key %j', (k, why) => expect(qualifiedNameError(k)).toContain(why),
  );
  it('checks label values', () => {
    expect(labelValueError('')).toBeNull();
    expect(labelValueError('v1.2_3-x')).toBeNull();
    expect(labelValueError('has space')).toContain('alphanumeric');
    expect(labelValueError('v'.repeat(64))).toContain('at most 63');
  });

  it('is part of every manifest: bad labels and annotation keys are Invalid, naming them', () => {
    const err = (() => {
      try {
        validateManifest(pod({ labels: { ok: 'fine', 'bad key': 'x', app: 'no good' }, annotations: { 'a/b/c': 'x', note: 'any text at all' } }));
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('expected Invalid');
    })();
    expect(isValidation(err)).toBe(true);
    expect(err.issues).toEqual([
      expect.stringContaining('metadata.labels.bad key: invalid label "bad key=x"'),
      expect.stringContaining('metadata.labels.app: invalid label "app=no good"'),
      expect.stringContaining('metadata.annotations.a/b/c: invalid annotation key "a/b/c"'),
    ]);
    expect(() => validateManifest(pod({ annotations: { big: 'x'.repeat(256 * 1024) } }))).toThrow('at most 262144 are allowed');
    expect(validateManifest(pod({ labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a": 1}' } })).object.metadata.labels).toEqual({ app: 'web' });
  });
});
