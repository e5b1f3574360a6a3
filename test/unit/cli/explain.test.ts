import { explain } from '../../../cli/output/explain';
import { resolveKind } from '../../../messages';

const pod = resolveKind('pods')!;

describe('explain', () => {
  it('explains a kind with its top-level fields', () => {
    const out = explain(pod, []);
    expect(out.startsWith('KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n')).toBe(true);
    expect(out).toContain('FIELDS:\n');
    expect(out).toMatch(/^ {2}spec\t<[A-Za-z]+> -required-$/m);
    expect(out).toMatch(/^ {2}metadata\t<[A-Za-z]+> -required-$/m);
  });

  it('walks into arrays and shows a field with its type, enum and requiredness', () => {
    const out = explain(pod, ['spec', 'containers']);
    expect(out).toContain('FIELD: containers <[]');
    expect(out).toMatch(/^ {2}name\t<string> -required-$/m);
    expect(out).toMatch(/^ {2}imagePullPolicy\t<string>\n {2}enum: Always, IfNotPresent, Never$/m);
    const leaf = explain(pod, ['spec', 'restartPolicy']);
    expect(leaf).toContain('FIELD: restartPolicy <string>\nenum: Always, OnFailure, Never\n');
    expect(leaf).not.toContain('FIELDS:');
  });

  it('prints the tree without descriptions when recursive', () => {
    const out = explain(pod, ['spec'], { recursive: true });
    expect(out).toMatch(/^ {2}containers\t<\[\][A-Za-z]+> -required-\n {4}args\t<\[\]string>$/m);
  });

  it('names a field that does not exist and where', () => {
    expect(() => explain(pod, ['spec', 'bogus'])).toThrow(/field "bogus" does not exist in pod\.spec \(fields: containers, /);
  });
});
